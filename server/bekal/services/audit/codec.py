"""``bekal.v1`` audit messages <-> :mod:`.logic` types."""

from __future__ import annotations

from bekal.services.audit.logic import DecisionQuery, EventQuery, Page
from bekal.services.errors import Violations, invalid
from bekal.services.limits import MAX_ID, check_text
from bekal.store import AuditEvent, LoggedRequest
from bekal.v1 import audit_pb2, decision_pb2

_OUTCOME = {"ELIGIBLE": decision_pb2.OUTCOME_ELIGIBLE, "INELIGIBLE": decision_pb2.OUTCOME_INELIGIBLE,
            "PENDING": decision_pb2.OUTCOME_PENDING}


def _filter(value: str, field: str, violations: Violations) -> str | None:
    check_text(value, field, violations, MAX_ID)
    return value or None


def _token(value: str, violations: Violations) -> str:
    check_text(value, "page_token", violations, 512)
    return value


def decision_query(request: audit_pb2.ListDecisionsRequest) -> DecisionQuery:
    violations: Violations = []
    query = DecisionQuery(request.page_size, _token(request.page_token, violations),
                          _filter(request.client_id, "client_id", violations),
                          _filter(request.caller, "caller", violations))
    if violations:
        raise invalid(violations)
    return query


def event_query(request: audit_pb2.ListAuditEventsRequest) -> EventQuery:
    violations: Violations = []
    query = EventQuery(request.page_size, _token(request.page_token, violations),
                       _filter(request.principal, "principal", violations),
                       _filter(request.subject, "subject", violations))
    if violations:
        raise invalid(violations)
    return query


def decisions_response(page: Page[LoggedRequest]) -> audit_pb2.ListDecisionsResponse:
    out = audit_pb2.ListDecisionsResponse(next_page_token=page.next_page_token)
    for req in page.items:
        entry = out.entries.add(request_id=req.request_id, client_id=req.client_id, caller=req.caller,
                                audience=req.audience, ruleset_version=req.ruleset_version, as_of_date=req.as_of,
                                recorded_time=req.created_at)
        for d in req.decisions:
            entry.decisions.add(course_code=d.course_code, outcome=_OUTCOME.get(d.outcome, 0), priority=d.priority,
                                rule_ids=d.rule_ids)
    return out


def events_response(page: Page[tuple[int, AuditEvent]]) -> audit_pb2.ListAuditEventsResponse:
    out = audit_pb2.ListAuditEventsResponse(next_page_token=page.next_page_token)
    for seq, e in page.items:
        out.events.add(sequence=seq, time=e.time, principal=e.principal, role=e.role, method=e.method,
                       subjects=e.subjects, code=e.code)
    return out
