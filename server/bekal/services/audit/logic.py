"""Reading the decision log and the audit trail, page by page (https://google.aip.dev/158), on plain types.

Who reads what is decided here, per record, after :data:`bekal.access.POLICY` let the call
in: an auditor reads everything; a BNN office reads the decision log entries of its own
checks only, whatever filter it sends. Pages and their tokens: :mod:`bekal.services.pages`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bekal.access import Principal, Role
from bekal.services.errors import ServiceError, storage_unavailable
from bekal.services.pages import Page, not_ours, page_position, page_size, page_token
from bekal.store import AuditEvent, AuditLog, DecisionLog, LoggedRequest, StoreUnavailable


@dataclass(frozen=True)
class DecisionQuery:
    """ListDecisions, read: the filters (None: any) and where to go on from."""

    page_size: int = 0
    page_token: str = ""
    client_id: str | None = None
    caller: str | None = None


@dataclass(frozen=True)
class EventQuery:
    """ListAuditEvents, read."""

    page_size: int = 0
    page_token: str = ""
    principal: str | None = None
    subject: str | None = None


class Audit:
    """The auditors' reading of the stores."""

    def __init__(self, decisions: DecisionLog, trail: AuditLog):
        self.decisions_log = decisions
        self.trail = trail

    def decisions(self, query: DecisionQuery, principal: Principal) -> Page[LoggedRequest]:
        """Decision log entries, oldest first: everyone's for an auditor, a BNN office's own for it."""
        caller = query.caller
        if principal.role is not Role.AUDITOR:
            if principal.role is not Role.REFERRER:  # the policy lets no one else in; fail closed anyway
                raise ServiceError("PERMISSION_DENIED", "only an auditor or a BNN office reads the decision log",
                                   reason="ROLE_NOT_ALLOWED")
            caller = principal.name
        size = page_size(query.page_size)
        filters = [query.client_id, caller]
        position = page_position(query.page_token, filters)
        if position is not None and not (isinstance(position, list) and len(position) == 2
                                         and all(isinstance(p, str) for p in position)):
            raise not_ours()
        try:
            rows = self.decisions_log.list(tuple(position) if position else None, size + 1, query.client_id, caller)
        except StoreUnavailable as exc:
            raise storage_unavailable("the decision log", exc.retry_after) from None
        more = len(rows) > size
        rows = rows[:size]
        token = page_token([rows[-1].created_at, rows[-1].request_id], filters) if more else ""
        return Page(rows, token)

    def events(self, query: EventQuery, principal: Principal) -> Page[tuple[int, AuditEvent]]:
        """Audit trail events, oldest first (an auditor's only)."""
        if principal.role is not Role.AUDITOR:
            raise ServiceError("PERMISSION_DENIED", "only an auditor reads the audit trail")
        size = page_size(query.page_size)
        filters = [query.principal, query.subject]
        position = page_position(query.page_token, filters)
        if position is not None and (not isinstance(position, int) or position < 0):
            raise not_ours()
        try:
            rows = self.trail.events(position or 0, size + 1, query.principal, query.subject)
        except StoreUnavailable as exc:
            raise storage_unavailable("the audit trail", exc.retry_after) from None
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, page_token(rows[-1][0], filters) if more else "")
