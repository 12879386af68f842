"""Storage behind one small interface (DESIGN §3).

The embedded SQLite implementation (:mod:`bekal.store.sqlite`) is the default
and needs no setup; a PostgreSQL implementation of the same interface can serve
several server replicas later. The store keeps no personal data: decisions are
logged by request id with the pseudonymous client id, the course, the outcome,
the ids of the rules behind it, the ruleset version and the as-of date — never
the facts.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class StoreUnavailable(RuntimeError):
    """The store cannot take the write now (locked too long, disk full, ...): the caller may retry."""


class Recorded(str, enum.Enum):
    """What happened to one request handed to :meth:`Store.record`."""

    NEW = "new"  # first time: its decisions are now durable
    DUPLICATE = "duplicate"  # the same request id with the same fingerprint was recorded before
    CONFLICT = "conflict"  # the request id was used before for a different request


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One decision as the decision log keeps it: identifiers and outcome, no facts."""

    course_code: str
    outcome: str  # ELIGIBLE / INELIGIBLE / PENDING
    priority: int
    rule_ids: tuple[str, ...]  # "ruleset/rule" of every reason

    def line(self) -> str:
        return f"{self.course_code} {self.outcome} {self.priority} {','.join(self.rule_ids)}"


def parse_summary(summary: str) -> tuple[LoggedDecision, ...]:
    """The decisions packed in :attr:`LoggedRequest.summary`."""
    out = []
    for line in summary.splitlines():
        code, outcome, priority, *rest = line.split(" ")
        rules = rest[0] if rest else ""
        out.append(LoggedDecision(code, outcome, int(priority), tuple(r for r in rules.split(",") if r)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One answered check (one client, one or more courses): the unit of idempotency.

    ``summary`` packs its decisions, one line each: ``COURSE OUTCOME PRIORITY ruleset/rule,...``
    (see :class:`LoggedDecision`); one row per request keeps the log cheap at bulk rates.
    """

    request_id: str
    fingerprint: str  # digest of the request (see bekal.service.convert.fingerprint)
    client_id: str  # pseudonymous id, never a name or national id number
    audience: str
    ruleset_version: str
    as_of: str  # YYYY-MM-DD
    summary: str
    created_at: str = ""  # ISO timestamp (UTC), set by the store

    @property
    def decisions(self) -> tuple[LoggedDecision, ...]:
        return parse_summary(self.summary)


class Store(abc.ABC):
    """What the service needs from storage. Implementations must be safe to call from many threads."""

    @abc.abstractmethod
    def record(self, requests: Sequence[LoggedRequest]) -> list[Recorded]:
        """Durably record answered requests, in one transaction; one status per request.

        A request id already recorded is not recorded again: the result says whether
        the earlier request had the same fingerprint (a retry) or not (a conflict).
        When this returns, every NEW request survives a crash of the process.
        Raises StoreUnavailable when nothing could be recorded.
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


__all__ = ["LoggedDecision", "LoggedRequest", "Recorded", "Store", "StoreUnavailable", "open_store",
           "parse_summary"]
