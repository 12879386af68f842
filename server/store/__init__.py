"""Storage behind one small interface (DESIGN §3).

The embedded SQLite implementation (:mod:`bekal.store.sqlite`) is the default
and needs no setup; a PostgreSQL implementation of the same interface can serve
several server replicas later. The store keeps no personal data: decisions are
logged by request id with the pseudonymous client id, the course, the outcome,
the ids of the rules behind it and the ruleset version — never the facts.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class Recorded(str, enum.Enum):
    """What happened to one request handed to :meth:`Store.record`."""

    NEW = "new"  # first time: its decisions are now durable
    DUPLICATE = "duplicate"  # the same request id with the same fingerprint was recorded before
    CONFLICT = "conflict"  # the request id was used before for a different request


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One decision as the decision log keeps it: identifiers and outcome, no facts."""

    client_id: str  # pseudonymous id, never a name or national id number
    course_code: str
    outcome: str  # ELIGIBLE / INELIGIBLE / PENDING
    priority: int
    rule_ids: tuple[str, ...]  # "ruleset/rule" of every reason
    ruleset_version: str
    as_of: str  # YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One answered request: the unit of idempotency."""

    request_id: str
    fingerprint: str  # hex digest of the request (see bekal.service.core.fingerprint)
    audience: str
    ruleset_version: str
    decisions: tuple[LoggedDecision, ...]
    created_at: str = ""  # ISO timestamp (UTC), set by the store


class Store(abc.ABC):
    """What the service needs from storage. Implementations must be safe to call from many threads."""

    @abc.abstractmethod
    def record(self, requests: Sequence[LoggedRequest]) -> list[Recorded]:
        """Durably record answered requests, in one transaction; one status per request.

        A request id already recorded is not recorded again: the result says whether
        the earlier request had the same fingerprint (a retry) or not (a conflict).
        When this returns, every NEW request survives a crash of the process.
        """

    @abc.abstractmethod
    def get(self, request_id: str) -> LoggedRequest | None:
        """The recorded request with this id, or None."""

    @abc.abstractmethod
    def count(self) -> int:
        """Number of recorded requests (for tests and status)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection(s)."""


def open_store(location: str | Path) -> Store:
    """Open the store named by ``--db``: a file path (SQLite), ``:memory:``, or ``sqlite:///path``."""
    text = str(location)
    if text.startswith(("postgres://", "postgresql://")):
        raise ValueError("PostgreSQL storage is not implemented yet; use an SQLite file path")
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):] or ":memory:"
    from bekal.store.sqlite import SQLiteStore

    return SQLiteStore(text)


__all__ = ["LoggedDecision", "LoggedRequest", "Recorded", "Store", "open_store"]
