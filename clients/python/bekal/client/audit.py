"""Audit calls: the decision log and the audit trail, read page by page (an auditor's certificate;
a BNN office's reads its own checks)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bekal.client.calls import Calls
from bekal.v1 import audit_pb2, audit_pb2_grpc, decision_pb2


@dataclass(frozen=True)
class LoggedDecision:
    course_code: str
    outcome: str  # "ELIGIBLE", "INELIGIBLE", "PENDING"
    priority: int
    rule_ids: tuple[str, ...]  # "ruleset/rule"


@dataclass(frozen=True)
class LoggedCheck:
    """One answered eligibility check, as the decision log keeps it: ids and outcomes, no facts."""

    request_id: str
    client_id: str
    caller: str
    audience: str
    ruleset_version: str
    as_of_date: str
    recorded_time: str
    decisions: tuple[LoggedDecision, ...]


@dataclass(frozen=True)
class AuditEntry:
    """One call to the server, as the audit trail keeps it."""

    sequence: int
    time: str
    principal: str
    role: str
    method: str
    subjects: tuple[str, ...]
    code: str


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
                yield LoggedCheck(e.request_id, e.client_id, e.caller, e.audience, e.ruleset_version, e.as_of_date,
                                  e.recorded_time, tuple(
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
                yield AuditEntry(e.sequence, e.time, e.principal, e.role, e.method, tuple(e.subjects), e.code)
            token = page.next_page_token
            if not token:
                return
