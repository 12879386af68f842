"""Monitoring calls: enrolments, training records (attendance, conduct, outcomes) and alerts.

Writes are idempotent by their ids (a CreateEnrolments request id, each record's record id), so
every call here is retried on UNAVAILABLE without ever recording anything twice.
:meth:`MonitoringCalls.watch_alerts` keeps the last alert's ``sequence`` and reconnects from it,
so a watcher sees every alert exactly once across disconnections and server restarts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import grpc

from bekal.client.calls import Calls
from bekal.client.enums import number_of, short_name
from bekal.v1 import monitoring_pb2, monitoring_pb2_grpc


@dataclass(frozen=True)
class Enrolment:
    enrolment_id: str
    client_id: str
    course_code: str
    referring_office: str  # "" in the training centre's view
    provider: str
    status: str  # enrolled, waiting, completed, dropped_out, withdrawn
    start_date: date | None
    end_date: date | None
    end_reason: str
    waiting_position: int
    job_id: str


@dataclass(frozen=True)
class Alert:
    sequence: int  # the cursor: watch_alerts(after=sequence) resumes after this alert
    alert_id: str
    enrolment_id: str
    client_id: str
    course_code: str
    referring_office: str
    severity: str  # warning, alert
    rule_id: str
    message_id: str
    message_en: str
    source: str
    ruleset_version: str
    raise_time: str
    acknowledge_time: str  # "" until acknowledged


@dataclass(frozen=True)
class Recorded:
    recorded: int
    duplicates: int
    alerts_raised: int


def _day(value: Any) -> dict[str, int] | None:
    if value is None or value == "":
        return None
    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return {"year": d.year, "month": d.month, "day": d.day}


def _from_day(msg: Any) -> date | None:
    return date(msg.year, msg.month, msg.day) if msg.year else None


def _enum(descriptor: Any, value: Any) -> Any:
    """An enum value written short (``present``), in full or as its number; unset: 0."""
    return number_of(descriptor, value) if value not in (None, "") else 0


def enrolment_from(pb: monitoring_pb2.Enrolment) -> Enrolment:
    status = short_name(monitoring_pb2.EnrolmentStatus.DESCRIPTOR, pb.status) if pb.status else ""
    return Enrolment(pb.enrolment_id, pb.client_id, pb.course_code, pb.referring_office, pb.provider, status,
                     _from_day(pb.start_date) if pb.HasField("start_date") else None,
                     _from_day(pb.end_date) if pb.HasField("end_date") else None, pb.end_reason,
                     pb.waiting_position, pb.job_id)


def alert_from(pb: monitoring_pb2.Alert) -> Alert:
    texts = {t.locale: t.text for t in pb.reason.messages}
    severity = short_name(monitoring_pb2.AlertSeverity.DESCRIPTOR, pb.severity) if pb.severity else ""
    return Alert(pb.sequence, pb.alert_id, pb.enrolment_id, pb.client_id, pb.course_code, pb.referring_office,
                 severity, pb.reason.rule_id, texts.get("id", ""), texts.get("en", ""), pb.reason.source,
                 pb.ruleset_version, pb.raise_time.ToJsonString() if pb.HasField("raise_time") else "",
                 pb.acknowledge_time.ToJsonString() if pb.HasField("acknowledge_time") else "")


class MonitoringCalls(Calls):
    _monitoring: monitoring_pb2_grpc.MonitoringServiceStub

    def create_enrolments(self, *, job_id: str = "", enrolments: Iterable[Mapping[str, Any]] = (),
                          request_id: str | None = None, timeout: float | None = None) -> list[Enrolment]:
        """Enrol a finished matching job's placements (``job_id``), or ``enrolments`` given directly
        (``client_id``, ``course_code``, optional ``start_date`` and ``status``: enrolled or waiting)."""
        items = [monitoring_pb2.NewEnrolment(
            client_id=e["client_id"], course_code=e["course_code"], start_date=_day(e.get("start_date")),
            status=_enum(monitoring_pb2.EnrolmentStatus.DESCRIPTOR, e.get("status"))) for e in enrolments]
        request = monitoring_pb2.CreateEnrolmentsRequest(request_id=request_id or str(uuid.uuid4()), job_id=job_id,
                                                         enrolments=items)
        pb = self.unary(self._monitoring.CreateEnrolments, request, timeout)
        return [enrolment_from(e) for e in pb.enrolments]

    def end_enrolment(self, enrolment_id: str, status: str, end_date: date | str, *, reason: str = "",
                      reason_shareable: bool = False,
                      timeout: float | None = None) -> tuple[Enrolment, Enrolment | None]:
        """End an enrolment (``completed`` or ``dropped_out``); the waiting client promoted to the seat, if any."""
        request = monitoring_pb2.EndEnrolmentRequest(
            enrolment_id=enrolment_id, status=_enum(monitoring_pb2.EnrolmentStatus.DESCRIPTOR, status),
            end_date=_day(end_date), reason=reason, reason_shareable=reason_shareable)
        pb = self.unary(self._monitoring.EndEnrolment, request, timeout)
        return enrolment_from(pb.enrolment), enrolment_from(pb.promoted) if pb.HasField("promoted") else None

    def enrolments(self, course_code: str = "", *, page_size: int = 500,
                   timeout: float | None = None) -> Iterator[Enrolment]:
        """A course's enrolments (every course the caller may see): the admitted, then the waiting list."""
        token = ""
        while True:
            request = monitoring_pb2.ListEnrolmentsRequest(course_code=course_code, page_size=page_size,
                                                           page_token=token)
            page = self.unary(self._monitoring.ListEnrolments, request, timeout)
            yield from (enrolment_from(e) for e in page.enrolments)
            token = page.next_page_token
            if not token:
                return

    def enrolment_record(self, enrolment_id: str, *,
                         timeout: float | None = None) -> monitoring_pb2.GetEnrolmentRecordResponse:
        """An enrolment's whole record (the message: attendance, conduct, outcomes, alerts)."""
        request = monitoring_pb2.GetEnrolmentRecordRequest(enrolment_id=enrolment_id)
        record: monitoring_pb2.GetEnrolmentRecordResponse = self.unary(self._monitoring.GetEnrolmentRecord, request,
                                                                       timeout)
        return record

    def record_training(self, *, attendance: Iterable[Mapping[str, Any]] = (),
                        conduct: Iterable[Mapping[str, Any]] = (), outcomes: Iterable[Mapping[str, Any]] = (),
                        timeout: float | None = None) -> Recorded:
        """Record one batch, all or nothing. Attendance: ``record_id``, ``enrolment_id``, ``session_date``,
        ``status`` (present, absent, excused, late); conduct: ``record_id``, ``enrolment_id``,
        ``assessment_date``, ``rating``, ``note``, ``note_shareable``; outcomes: ``record_id``,
        ``enrolment_id``, ``kind``, ``outcome_date``, ``follow_up`` (at_completion, month_3, ...)."""
        request = monitoring_pb2.RecordTrainingRequest(
            attendance=[monitoring_pb2.Attendance(
                record_id=a["record_id"], enrolment_id=a["enrolment_id"], session_date=_day(a["session_date"]),
                status=_enum(monitoring_pb2.AttendanceStatus.DESCRIPTOR, a.get("status"))) for a in attendance],
            conduct=[monitoring_pb2.ConductAssessment(
                record_id=c["record_id"], enrolment_id=c["enrolment_id"],
                assessment_date=_day(c["assessment_date"]), rating=int(c["rating"]), note=c.get("note", ""),
                note_shareable=bool(c.get("note_shareable", False))) for c in conduct],
            outcomes=[monitoring_pb2.TrainingOutcome(
                record_id=o["record_id"], enrolment_id=o["enrolment_id"],
                kind=_enum(monitoring_pb2.OutcomeKind.DESCRIPTOR, o.get("kind")), outcome_date=_day(o["outcome_date"]),
                follow_up=_enum(monitoring_pb2.FollowUp.DESCRIPTOR, o.get("follow_up"))) for o in outcomes])
        pb = self.unary(self._monitoring.RecordTraining, request, timeout)
        return Recorded(pb.recorded, pb.duplicates, pb.alerts_raised)

    def alerts(self, *, unacknowledged_only: bool = False, page_size: int = 500,
               timeout: float | None = None) -> Iterator[Alert]:
        """The caller's alerts, oldest first."""
        token = ""
        while True:
            request = monitoring_pb2.ListAlertsRequest(page_size=page_size, page_token=token,
                                                       unacknowledged_only=unacknowledged_only)
            page = self.unary(self._monitoring.ListAlerts, request, timeout)
            yield from (alert_from(a) for a in page.alerts)
            token = page.next_page_token
            if not token:
                return

    def acknowledge_alert(self, alert_id: str, *, timeout: float | None = None) -> Alert:
        request = monitoring_pb2.AcknowledgeAlertRequest(alert_id=alert_id)
        return alert_from(self.unary(self._monitoring.AcknowledgeAlert, request, timeout).alert)

    def watch_alerts(self, after: int = 0, *, follow: bool = True, reconnect: bool = True) -> Iterator[Alert]:
        """The caller's alerts after sequence ``after``, in order, each once; with ``follow``, new ones as
        they are raised, for as long as the caller iterates. The stream is opened again from the last
        sequence received whenever the server is unavailable (restarting, draining), with the client's
        retry policy counted afresh after every alert; with ``follow`` and ``reconnect``, a stream the
        server ended (it drains) is opened again too."""
        cursor = after
        attempts = self.attempts(None)
        attempts.deadline = None
        while True:
            try:
                stream = self._monitoring.WatchAlerts(
                    monitoring_pb2.WatchAlertsRequest(after_sequence=cursor, follow=follow))
                try:
                    for item in stream:
                        if item.alert.sequence <= cursor:
                            continue  # never twice, whatever a server sends
                        cursor = item.alert.sequence
                        attempts.progressed()
                        yield alert_from(item.alert)
                finally:
                    stream.cancel()
            except grpc.RpcError as exc:
                if not reconnect:
                    raise
                attempts.failed(exc)
                continue
            if not (follow and reconnect):
                return
            time.sleep(self.retry.backoff)
