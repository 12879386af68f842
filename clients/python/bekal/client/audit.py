"""Audit calls: the decision log and the audit trail, read page by page (an auditor's certificate;
a BNN office's reads its own checks)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from google.rpc import code_pb2

from bekal.client.calls import Calls
from bekal.client.convert import date_from
from bekal.v1 import audit_pb2, audit_pb2_grpc, decision_pb2, eligibility_pb2


@dataclass(frozen=True)
class LoggedDecision:
    course_code: str
    outcome: str  # "ELIGIBLE", "INELIGIBLE", "PENDING"
    priority: int
    rule_ids: tuple[str, ...]  # "ruleset/rule"


_AUDIENCE = {eligibility_pb2.AUDIENCE_BNN: "bnn", eligibility_pb2.AUDIENCE_BLK: "blk"}


def _time(message: Any, name: str) -> datetime | None:
    return getattr(message, name).ToDatetime(UTC) if message.HasField(name) else None


@dataclass(frozen=True)
class LoggedCheck:
    """One answered eligibility check, as the decision log keeps it: ids and outcomes, no facts."""

    request_id: str
    client_id: str
    caller: str
    audience: str  # "bnn" or "blk"
    ruleset_version: str
    as_of: date | None
    record_time: datetime | None
    decisions: tuple[LoggedDecision, ...]


@dataclass(frozen=True)
class AuditEntry:
    """One call to the server, as the audit trail keeps it."""

    sequence: int
    event_time: datetime | None
    principal: str
    role: str  # "referrer", "training_provider", "rule_author", "auditor", "operator" or "public"
    method: str
    subjects: tuple[str, ...]
    code: str  # "OK", "PERMISSION_DENIED", ...


class AuditCalls(Calls):
    _audit: audit_pb2_grpc.AuditServiceStub

    def decision_log(self, *, client_id: str = "", caller: str = "", page_size: int = 500,
                     timeout: float | None = None) -> Iterator[LoggedCheck]:
        """Every decision log entry (oldest first) matching the filters, fetched a page at a time."""
        token = ""
        while True:
            request = audit_pb2.ListDecisionsRequest(page_size=page_size, page_token=token, client_id=client_id,
                                                     caller=caller)
            page = self.unary(self._audit.ListDecisions, request, timeout)
            for e in page.entries:
                yield LoggedCheck(e.request_id, e.client_id, e.caller, _AUDIENCE.get(e.audience, ""),
                                  e.ruleset_version, date_from(e.as_of_date), _time(e, "record_time"), tuple(
                                      LoggedDecision(d.course_code, decision_pb2.Outcome.Name(d.outcome)[8:],
                                                     d.priority, tuple(d.rule_ids)) for d in e.decisions))
            token = page.next_page_token
            if not token:
                return

    def audit_trail(self, *, principal: str = "", subject: str = "", page_size: int = 500,
                    timeout: float | None = None) -> Iterator[AuditEntry]:
        """Every audit trail event (oldest first) matching the filters, fetched a page at a time."""
        token = ""
        while True:
            request = audit_pb2.ListAuditEventsRequest(page_size=page_size, page_token=token, principal=principal,
                                                       subject=subject)
            page = self.unary(self._audit.ListAuditEvents, request, timeout)
            for e in page.events:
                yield AuditEntry(e.sequence, _time(e, "event_time"), e.principal,
                                 audit_pb2.Role.Name(e.role)[len("ROLE_"):].lower(), e.method, tuple(e.subjects),
                                 code_pb2.Code.Name(e.code))
            token = page.next_page_token
            if not token:
                return
