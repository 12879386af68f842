"""``bekal.v1`` monitoring messages <-> the plain types of :mod:`.logic` and :mod:`bekal.store.monitoring`.

Every input check that needs no stored data is here (ids, texts, real dates, enum values,
ratings 1-5), each bad field named with its index (``attendance[3].session_date``), so the
logic and the store only see well-formed batches. Enum values travel as their short names
(``present`` for ``ATTENDANCE_STATUS_PRESENT``, :mod:`bekal.client.enums`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import date

from google.protobuf.timestamp_pb2 import Timestamp
from google.type.date_pb2 import Date

from bekal.client.enums import short_name
from bekal.services.codec import localized
from bekal.services.errors import Violations, invalid
from bekal.services.limits import check_client_id, check_id, check_text, date_from_pb, date_pb, one_id, timestamp_pb
from bekal.services.monitoring.logic import (
    AlertQuery,
    DirectEnrolment,
    EndRequest,
    EnrolmentRecord,
    EnrolmentsRequest,
    JobPlacement,
    ListQuery,
)
from bekal.store.jobs import ResultChunk
from bekal.store.monitoring import (
    COMPLETED,
    DROPPED_OUT,
    AlertRow,
    AttendanceRow,
    Batch,
    ConductRow,
    EnrolmentRow,
    OutcomeRow,
    Recorded,
)
from bekal.v1 import matching_pb2, monitoring_pb2

MAX_BATCH = 100_000  # records in one RecordTraining batch
MAX_ENROLMENTS = 10_000  # enrolments in one CreateEnrolments
MAX_NOTE = 256

_ATTENDANCE = monitoring_pb2.AttendanceStatus.DESCRIPTOR
_STATUS = monitoring_pb2.EnrolmentStatus.DESCRIPTOR
_KIND = monitoring_pb2.OutcomeKind.DESCRIPTOR
_FOLLOW_UP = monitoring_pb2.FollowUp.DESCRIPTOR
_SEVERITY = monitoring_pb2.AlertSeverity.DESCRIPTOR


def date_from(msg: Date, field: str, violations: Violations, required: bool = True) -> date | None:
    """A ``google.type.Date`` as a date (unset: None, a violation if ``required``; partial or impossible: a
    violation, as everywhere in bekal.v1)."""
    if msg.year == 0 and msg.month == 0 and msg.day == 0:
        if required:
            violations.append((field, "required"))
        return None
    return date_from_pb(msg, field, violations)


def _time(text: str | None) -> Timestamp | None:
    return timestamp_pb(text) if text else None


def _enum(descriptor: object, number: int, field: str, violations: Violations) -> str | None:
    values = descriptor.values_by_number  # type: ignore[attr-defined]
    if number == 0 or number not in values:
        violations.append((field, "required" if number == 0 else f"unknown value {number}"))
        return None
    return short_name(descriptor, number)  # type: ignore[arg-type]


def _number(descriptor: object, short: str) -> int:
    prefix = descriptor.values_by_number[0].name[: -len("UNSPECIFIED")]  # type: ignore[attr-defined]
    return int(descriptor.values_by_name[prefix + short.upper()].number)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ requests


def enrolments_request(request: monitoring_pb2.CreateEnrolmentsRequest) -> EnrolmentsRequest:
    violations: Violations = []
    check_id(request.request_id, "request_id", violations)
    if bool(request.job_id) == bool(request.enrolments):
        violations.append(("job_id", "give either job_id or enrolments"))
    if request.job_id:
        check_id(request.job_id, "job_id", violations)
    if len(request.enrolments) > MAX_ENROLMENTS:
        violations.append(("enrolments", f"at most {MAX_ENROLMENTS} in one request"))
        raise invalid(violations)
    direct = []
    for k, e in enumerate(request.enrolments):
        where = f"enrolments[{k}]"
        check_client_id(e.client_id, f"{where}.client_id", violations)
        check_id(e.course_code, f"{where}.course_code", violations)
        start = date_from(e.start_date, f"{where}.start_date", violations, required=False)
        waiting = e.status == monitoring_pb2.ENROLMENT_STATUS_WAITING
        if e.status not in (0, monitoring_pb2.ENROLMENT_STATUS_ENROLLED, monitoring_pb2.ENROLMENT_STATUS_WAITING):
            violations.append((f"{where}.status", "ENROLLED or WAITING (or unset: ENROLLED)"))
        direct.append(DirectEnrolment(e.client_id, e.course_code, start, waiting))
    if violations:
        raise invalid(violations)
    return EnrolmentsRequest(request.request_id, request.job_id, direct)


def end_request(request: monitoring_pb2.EndEnrolmentRequest) -> EndRequest:
    violations: Violations = []
    check_id(request.enrolment_id, "enrolment_id", violations)
    status = {monitoring_pb2.ENROLMENT_STATUS_COMPLETED: COMPLETED,
              monitoring_pb2.ENROLMENT_STATUS_DROPPED_OUT: DROPPED_OUT}.get(request.status)
    if status is None:
        violations.append(("status", "COMPLETED or DROPPED_OUT"))
    end = date_from(request.end_date, "end_date", violations)
    check_text(request.reason, "reason", violations)
    if violations:
        raise invalid(violations)
    assert status is not None and end is not None
    return EndRequest(request.enrolment_id, status, end, request.reason, request.reason_shareable)


def list_query(request: monitoring_pb2.ListEnrolmentsRequest) -> ListQuery:
    violations: Violations = []
    if request.course_code:
        check_id(request.course_code, "course_code", violations)
    check_text(request.page_token, "page_token", violations, 1024)
    if violations:
        raise invalid(violations)
    return ListQuery(request.course_code or None, request.page_size, request.page_token)


def alert_query(request: monitoring_pb2.ListAlertsRequest) -> AlertQuery:
    violations: Violations = []
    check_text(request.page_token, "page_token", violations, 1024)
    if violations:
        raise invalid(violations)
    return AlertQuery(request.page_size, request.page_token, request.unacknowledged_only)


def batch(request: monitoring_pb2.RecordTrainingRequest) -> Batch:
    """A RecordTraining batch, every field checked; INVALID_ARGUMENT naming every bad one."""
    violations: Violations = []
    total = len(request.attendance) + len(request.conduct) + len(request.outcomes)
    if total == 0:
        raise invalid([("attendance", "the batch is empty")])
    if total > MAX_BATCH:
        raise invalid([("attendance", f"at most {MAX_BATCH} records in one batch, got {total}")])
    attendance = []
    for k, a in enumerate(request.attendance):
        where = f"attendance[{k}]"
        check_id(a.record_id, f"{where}.record_id", violations)
        check_id(a.enrolment_id, f"{where}.enrolment_id", violations)
        day = date_from(a.session_date, f"{where}.session_date", violations)
        status = _enum(_ATTENDANCE, a.status, f"{where}.status", violations)
        if day is not None and status is not None:
            attendance.append(AttendanceRow(a.record_id, a.enrolment_id, day, status))
    conduct = []
    for k, c in enumerate(request.conduct):
        where = f"conduct[{k}]"
        check_id(c.record_id, f"{where}.record_id", violations)
        check_id(c.enrolment_id, f"{where}.enrolment_id", violations)
        day = date_from(c.assessment_date, f"{where}.assessment_date", violations)
        if not 1 <= c.rating <= 5:
            violations.append((f"{where}.rating", f"a rating is 1 to 5, got {c.rating}"))
        check_text(c.note, f"{where}.note", violations, MAX_NOTE)
        if c.note and not c.note.isprintable():
            violations.append((f"{where}.note", "must not contain control characters"))
        if day is not None:
            conduct.append(ConductRow(c.record_id, c.enrolment_id, day, c.rating, c.note, c.note_shareable))
    outcomes = []
    for k, o in enumerate(request.outcomes):
        where = f"outcomes[{k}]"
        check_id(o.record_id, f"{where}.record_id", violations)
        check_id(o.enrolment_id, f"{where}.enrolment_id", violations)
        day = date_from(o.outcome_date, f"{where}.outcome_date", violations)
        kind = _enum(_KIND, o.kind, f"{where}.kind", violations)
        follow = _enum(_FOLLOW_UP, o.follow_up, f"{where}.follow_up", violations)
        if day is not None and kind is not None and follow is not None:
            outcomes.append(OutcomeRow(o.record_id, o.enrolment_id, kind, day, follow))
    if violations:
        raise invalid(violations)
    return Batch(attendance, conduct, outcomes)


def job_placements(chunks: Iterable[ResultChunk]) -> list[JobPlacement]:
    """A finished job's stored placements, as enrolments need them (the waiting lists from FULL why-nots)."""
    out = []
    full = matching_pb2.NOT_PLACED_REASON_FULL
    for chunk in chunks:
        msg = matching_pb2.StreamPlacementsResponse.FromString(zlib.decompress(chunk.payload))
        for p in msg.placements:
            waits = []
            for why in p.why_not:
                if why.reason == full:
                    s = why.standing
                    key = (float(s.rank) if s.HasField("rank") else float("inf"),
                           -float(s.priority) if s.HasField("priority") else 0.0, float(s.lottery))
                    waits.append((why.course_code, key))
            out.append(JobPlacement(p.client_id, p.course_code, waits))
    return out


def enrolment_id(request: monitoring_pb2.GetEnrolmentRecordRequest) -> str:
    return one_id(request.enrolment_id, "enrolment_id")


def alert_id(request: monitoring_pb2.AcknowledgeAlertRequest) -> str:
    return one_id(request.alert_id, "alert_id")


# ------------------------------------------------------------------------------ responses


def enrolment_pb(row: EnrolmentRow, out: monitoring_pb2.Enrolment | None = None) -> monitoring_pb2.Enrolment:
    msg = out if out is not None else monitoring_pb2.Enrolment()
    msg.enrolment_id = row.enrolment_id
    msg.client_id = row.client_id
    msg.course_code = row.course_code
    msg.referring_office = row.referring_office
    msg.provider = row.provider
    msg.status = _number(_STATUS, row.status)  # type: ignore[assignment]
    msg.start_date.CopyFrom(date_pb(row.start_date))
    if row.end_date is not None:
        msg.end_date.CopyFrom(date_pb(row.end_date))
    msg.end_reason = row.end_reason
    msg.end_reason_shareable = row.end_reason_shareable
    msg.waiting_position = row.waiting_position
    msg.job_id = row.job_id
    for name, text in (("create_time", row.created_at), ("update_time", row.updated_at)):
        stamp = _time(text)
        if stamp is not None:
            getattr(msg, name).CopyFrom(stamp)
    return msg


def enrolments_response(rows: Sequence[EnrolmentRow]) -> monitoring_pb2.CreateEnrolmentsResponse:
    out = monitoring_pb2.CreateEnrolmentsResponse()
    for row in rows:
        enrolment_pb(row, out.enrolments.add())
    return out


def alert_pb(row: AlertRow, out: monitoring_pb2.Alert | None = None) -> monitoring_pb2.Alert:
    msg = out if out is not None else monitoring_pb2.Alert()
    msg.sequence = row.sequence
    msg.alert_id = row.alert_id
    msg.enrolment_id = row.enrolment_id
    msg.client_id = row.client_id
    msg.course_code = row.course_code
    msg.referring_office = row.referring_office
    msg.severity = _number(_SEVERITY, row.severity)  # type: ignore[assignment]
    msg.reason.rule_id = row.rule_id
    msg.reason.messages.extend(localized(row.reason_id, row.reason_en))
    msg.reason.source = row.source
    msg.ruleset_version = row.ruleset_version
    raised = _time(row.raised_at)
    if raised is not None:
        msg.raise_time.CopyFrom(raised)
    acked = _time(row.acknowledged_at)
    if acked is not None:
        msg.acknowledge_time.CopyFrom(acked)
    msg.acknowledged_by = row.acknowledged_by
    return msg


def recorded_pb(result: Recorded) -> monitoring_pb2.RecordTrainingResponse:
    return monitoring_pb2.RecordTrainingResponse(recorded=result.recorded, duplicates=result.duplicates,
                                                 alerts_raised=len(result.alerts))


def record_pb(record: EnrolmentRecord) -> monitoring_pb2.GetEnrolmentRecordResponse:
    out = monitoring_pb2.GetEnrolmentRecordResponse()
    enrolment_pb(record.enrolment, out.enrolment)
    for a in record.attendance:
        out.attendance.add(record_id=a.record_id, enrolment_id=a.enrolment_id, session_date=date_pb(a.session_date),
                           status=_number(_ATTENDANCE, a.status))
    for c in record.conduct:
        out.conduct.add(record_id=c.record_id, enrolment_id=c.enrolment_id, assessment_date=date_pb(c.assessment_date),
                        rating=c.rating, note=c.note, note_shareable=c.note_shareable)
    for o in record.outcomes:
        out.outcomes.add(record_id=o.record_id, enrolment_id=o.enrolment_id, kind=_number(_KIND, o.kind),
                         outcome_date=date_pb(o.outcome_date), follow_up=_number(_FOLLOW_UP, o.follow_up))
    for alert in record.alerts:
        alert_pb(alert, out.alerts.add())
    return out
