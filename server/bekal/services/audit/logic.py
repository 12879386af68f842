"""Reading the decision log and the audit trail, page by page (https://google.aip.dev/158), on plain types.

Who reads what is decided here, per record, after :data:`bekal.access.POLICY` let the call
in: an auditor reads everything; a BNN office reads the decision log entries of its own
checks only, whatever filter it sends. Page tokens are opaque to callers: the position of
the last item returned and a digest of the filters, so a token used with other filters is
refused rather than silently paging through something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bekal.access import Principal, Role
from bekal.services.errors import ServiceError, invalid, storage_unavailable
from bekal.store import AuditEvent, AuditLog, DecisionLog, LoggedRequest, StoreUnavailable

DEFAULT_PAGE = 100
MAX_PAGE = 500  # the stores return up to 1000: one more than a page tells whether another follows
T = TypeVar("T")


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


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_page_token: str  # "" on the last page


def _size(requested: int) -> int:
    if requested < 0:
        raise invalid([("page_size", "must not be negative")])
    return DEFAULT_PAGE if requested == 0 else min(requested, MAX_PAGE)


def _filters_digest(filters: Sequence[str | None]) -> str:
    return hashlib.sha256(json.dumps(list(filters)).encode()).hexdigest()[:16]


def _token(position: Any, filters: Sequence[str | None]) -> str:
    raw = json.dumps({"p": position, "f": _filters_digest(filters)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(token: str, filters: Sequence[str | None]) -> Any:
    """The position a page token holds (None for the first page); INVALID_ARGUMENT if it is not ours."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position, digest = data["p"], data["f"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise invalid([("page_token", "not a page token this server gave out")]) from None
    if digest != _filters_digest(filters):
        raise invalid([("page_token", "made for other filters; send the same filters as for the first page")])
    return position


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
        size = _size(query.page_size)
        filters = [query.client_id, caller]
        position = _position(query.page_token, filters)
        if position is not None and not (isinstance(position, list) and len(position) == 2
                                         and all(isinstance(p, str) for p in position)):
            raise invalid([("page_token", "not a page token this server gave out")])
        try:
            rows = self.decisions_log.list(tuple(position) if position else None, size + 1, query.client_id, caller)
        except StoreUnavailable as exc:
            raise storage_unavailable("the decision log", exc.retry_after) from None
        more = len(rows) > size
        rows = rows[:size]
        token = _token([rows[-1].created_at, rows[-1].request_id], filters) if more else ""
        return Page(rows, token)

    def events(self, query: EventQuery, principal: Principal) -> Page[tuple[int, AuditEvent]]:
        """Audit trail events, oldest first (an auditor's only)."""
        if principal.role is not Role.AUDITOR:
            raise ServiceError("PERMISSION_DENIED", "only an auditor reads the audit trail")
        size = _size(query.page_size)
        filters = [query.principal, query.subject]
        position = _position(query.page_token, filters)
        if position is not None and (not isinstance(position, int) or position < 0):
            raise invalid([("page_token", "not a page token this server gave out")])
        try:
            rows = self.trail.events(position or 0, size + 1, query.principal, query.subject)
        except StoreUnavailable as exc:
            raise storage_unavailable("the audit trail", exc.retry_after) from None
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, _token(rows[-1][0], filters) if more else "")
