"""``bekal.v1`` audit messages <-> :mod:`.logic` types."""

from __future__ import annotations

from datetime import date

from google.rpc import code_pb2

from bekal.services.audit.logic import DecisionQuery, EventQuery
from bekal.services.codec import AUDIENCE_PB
from bekal.services.errors import Violations, invalid
from bekal.services.limits import MAX_ID, check_client_id, check_text, date_pb, timestamp_pb
from bekal.services.pages import Page
from bekal.store import AuditEvent, LoggedRequest
from bekal.v1 import audit_pb2, decision_pb2

_OUTCOME = {"ELIGIBLE": decision_pb2.OUTCOME_ELIGIBLE, "INELIGIBLE": decision_pb2.OUTCOME_INELIGIBLE,
            "PENDING": decision_pb2.OUTCOME_PENDING}
ROLE_PB = {"referrer": audit_pb2.ROLE_REFERRER, "training_provider": audit_pb2.ROLE_TRAINING_PROVIDER,
           "rule_author": audit_pb2.ROLE_RULE_AUTHOR, "auditor": audit_pb2.ROLE_AUDITOR,
           "operator": audit_pb2.ROLE_OPERATOR, "public": audit_pb2.ROLE_PUBLIC}


def _filter(value: str, field: str, violations: Violations) -> str | None:
    check_text(value, field, violations, MAX_ID)
    return value or None


def _token(value: str, violations: Violations) -> str:
    check_text(value, "page_token", violations, 512)
    return value


def decision_query(request: audit_pb2.ListDecisionsRequest) -> DecisionQuery:
    violations: Violations = []
    if request.client_id:
        check_client_id(request.client_id, "client_id", violations)
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
                                audience=AUDIENCE_PB.get(req.audience, 0), ruleset_version=req.ruleset_version,
                                as_of_date=date_pb(date.fromisoformat(req.as_of)),
                                record_time=timestamp_pb(req.created_at))
        for d in req.decisions:
            entry.decisions.add(course_code=d.course_code, outcome=_OUTCOME.get(d.outcome, 0), priority=d.priority,
                                rule_ids=d.rule_ids)
    return out


def events_response(page: Page[tuple[int, AuditEvent]]) -> audit_pb2.ListAuditEventsResponse:
    out = audit_pb2.ListAuditEventsResponse(next_page_token=page.next_page_token)
    for seq, e in page.items:
        out.events.add(sequence=seq, event_time=timestamp_pb(e.time), principal=e.principal,
                       role=ROLE_PB.get(e.role, audit_pb2.ROLE_UNSPECIFIED), method=e.method, subjects=e.subjects,
                       code=code_pb2.Code.Value(e.code) if e.code in code_pb2.Code.keys() else code_pb2.UNKNOWN)
    return out
