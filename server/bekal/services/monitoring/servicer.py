"""``bekal.v1.MonitoringService``: messages in, :class:`.logic.Monitoring` call, messages out.

``WatchAlerts`` reads the store from the caller's cursor (the last ``sequence`` it received)
on: first what is there, then, with ``follow``, every alert as it is committed. It polls the
store (every :data:`POLL_S` seconds, an indexed read), so alerts raised by another worker
process reach it too; a stream ends when the server drains, and the client resumes from its
cursor on the next connection: no alert is lost or sent twice by the server.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import date

import grpc

from bekal.services.matching.logic import Matching
from bekal.services.monitoring import codec
from bekal.services.monitoring.logic import Checked, Checks, JobPlacement, Monitoring
from bekal.services.registration import Call, Gate, register
from bekal.services.snapshots import ServedRules
from bekal.store.decisionlog import MAX_PAGE, DecisionLog
from bekal.store.monitoring import MonitoringStore
from bekal.v1 import monitoring_pb2

SERVICE = monitoring_pb2.DESCRIPTOR.services_by_name["MonitoringService"]
POLL_S = 0.1


class MonitoringServicer:
    """bekal.v1.MonitoringService."""

    def __init__(self, monitoring: Monitoring, draining: threading.Event | None = None):
        self.monitoring = monitoring
        self.draining = draining or threading.Event()

    async def CreateEnrolments(self, request: monitoring_pb2.CreateEnrolmentsRequest,
                               call: Call) -> monitoring_pb2.CreateEnrolmentsResponse:
        query = codec.enrolments_request(request)
        call.about(query.job_id, *(d.client_id for d in query.direct[:100]))
        rows = await call.run(self.monitoring.create_enrolments, query, call.principal)
        return codec.enrolments_response(rows)

    async def EndEnrolment(self, request: monitoring_pb2.EndEnrolmentRequest,
                           call: Call) -> monitoring_pb2.EndEnrolmentResponse:
        query = codec.end_request(request)
        call.about(query.enrolment_id)
        ended = await call.run(self.monitoring.end_enrolment, query, call.principal)
        out = monitoring_pb2.EndEnrolmentResponse(enrolment=codec.enrolment_pb(ended.enrolment))
        if ended.promoted is not None:
            out.promoted.CopyFrom(codec.enrolment_pb(ended.promoted))
        return out

    async def ListEnrolments(self, request: monitoring_pb2.ListEnrolmentsRequest,
                             call: Call) -> monitoring_pb2.ListEnrolmentsResponse:
        page = await call.run(self.monitoring.list_enrolments, codec.list_query(request), call.principal)
        out = monitoring_pb2.ListEnrolmentsResponse(next_page_token=page.next_page_token)
        for row in page.items:
            codec.enrolment_pb(row, out.enrolments.add())
        return out

    async def GetEnrolmentRecord(self, request: monitoring_pb2.GetEnrolmentRecordRequest,
                                 call: Call) -> monitoring_pb2.GetEnrolmentRecordResponse:
        enrolment_id = codec.enrolment_id(request)
        call.about(enrolment_id)
        record = await call.run(self.monitoring.record_of, enrolment_id, call.principal)
        return codec.record_pb(record)

    async def RecordTraining(self, request: monitoring_pb2.RecordTrainingRequest,
                             call: Call) -> monitoring_pb2.RecordTrainingResponse:
        batch = codec.batch(request)
        result = await call.run(self.monitoring.record, batch, call.principal)
        return codec.recorded_pb(result)

    async def ListAlerts(self, request: monitoring_pb2.ListAlertsRequest,
                         call: Call) -> monitoring_pb2.ListAlertsResponse:
        page = await call.run(self.monitoring.list_alerts, codec.alert_query(request), call.principal)
        out = monitoring_pb2.ListAlertsResponse(next_page_token=page.next_page_token)
        for row in page.items:
            codec.alert_pb(row, out.alerts.add())
        return out

    async def AcknowledgeAlert(self, request: monitoring_pb2.AcknowledgeAlertRequest,
                               call: Call) -> monitoring_pb2.AcknowledgeAlertResponse:
        alert_id = codec.alert_id(request)
        call.about(alert_id)
        row = await call.run(self.monitoring.acknowledge, alert_id, call.principal)
        return monitoring_pb2.AcknowledgeAlertResponse(alert=codec.alert_pb(row))

    async def WatchAlerts(self, request: monitoring_pb2.WatchAlertsRequest,
                          call: Call) -> AsyncIterator[monitoring_pb2.WatchAlertsResponse]:
        cursor = request.after_sequence
        while True:
            rows = await call.run(self.monitoring.alerts_after, cursor, call.principal)
            for row in rows:
                yield monitoring_pb2.WatchAlertsResponse(alert=codec.alert_pb(row))
                cursor = row.sequence
            if rows:
                continue  # there may be more than one read's worth
            if not request.follow or self.draining.is_set():
                return
            await asyncio.sleep(POLL_S)


def logged_checks(decisions: DecisionLog) -> Checks:
    """The decision log's checks of a client by one office, oldest first: what proves a direct enrolment."""

    def checks(client_id: str, caller: str) -> list[Checked]:
        out: list[Checked] = []
        after: tuple[str, str] | None = None
        while True:
            page = decisions.list(after, MAX_PAGE, client_id=client_id, caller=caller)
            out += [Checked(d.course_code, d.outcome, date.fromisoformat(r.as_of), r.created_at)
                    for r in page for d in r.decisions]
            if len(page) < MAX_PAGE:
                return out
            after = (page[-1].created_at, page[-1].request_id)

    return checks


def add_to(server: grpc.aio.Server, gate: Gate, rules: ServedRules, store: MonitoringStore,
           matching: Matching | None = None, draining: threading.Event | None = None,
           decisions: DecisionLog | None = None) -> Monitoring:
    """Serve monitoring on ``server``; the :class:`Monitoring` (its rules follow the served rules folder).
    Without ``decisions`` (the decision log) direct enrolments are refused: nothing proves them."""

    def courses() -> dict[str, dict[str, object]]:
        snap = rules.current
        return {} if snap is None else {k: dict(v) for k, v in snap.rulebook.courses.items()}

    def placements(job_id: str, viewer: str) -> list[JobPlacement]:
        assert matching is not None
        return codec.job_placements(matching.results(job_id, 0, viewer))

    monitoring = Monitoring(store, courses, placements if matching is not None else None,
                            checks=logged_checks(decisions) if decisions is not None else None)
    current = rules.current
    if current is not None:
        monitoring.use_rules(current.rulebook.monitoring)
    rules.on_change(lambda snapshot: monitoring.use_rules(snapshot.rulebook.monitoring))
    register(server, SERVICE, MonitoringServicer(monitoring, draining), gate)
    return monitoring
