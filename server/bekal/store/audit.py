"""The audit trail: who called what, when, about which pseudonymous client -- append-only.

One :class:`AuditEvent` per call: the time, the principal (an agency name, or
``"anonymous"``) and its role, the gRPC method, the *subjects* (pseudonymous
client ids, job ids, rule file names: identifiers, never facts) and the status
code. :class:`SQLiteAuditLog` keeps them in the database file of the other
stores, in its own tables:

- **append-only by construction**: triggers abort every ``UPDATE`` and ``DELETE``
  on them (the message says so); events are only ever inserted;
- **ordered**: each event gets a sequence number (``INTEGER PRIMARY KEY
  AUTOINCREMENT``: increasing, never reused), which :meth:`AuditLog.events` pages by.
  Several worker processes write to one trail; their events are numbered in the
  order they were committed, so ``time`` may step back slightly between processes;
- **off the request path**: :meth:`SQLiteAuditLog.record` only puts the event on a
  bounded queue; a writer thread inserts what has queued in one transaction at most
  every ``batch_interval_s`` (50 ms), so auditing adds no commit to a call. A full
  queue (the disk cannot keep up, or is full) makes ``record`` wait up to
  ``block_s`` (0.1 s: short enough to call from an event loop), then raise
  :class:`~bekal.store.errors.StoreUnavailable` -- an event is never dropped
  silently. :meth:`SQLiteAuditLog.close` writes everything queued before it returns.

Events queued but not yet written are not in :meth:`~AuditLog.events` (at most
about ``batch_interval_s`` behind); :meth:`SQLiteAuditLog.flush` waits for them.
Retention is not handled here: the trail only grows.

Schema versions (table ``audit_schema``): 1 -- ``audit_event`` and ``audit_subject``
(one row per distinct subject of an event, for finding a client's events).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bekal.store.errors import StoreUnavailable
from bekal.store.sqlite import (
    Database,
    Transaction,
    set_table_schema_version,
    table_schema_version,
    transaction,
    unavailable,
)

__all__ = ["ANONYMOUS", "AuditEvent", "AuditLog", "SQLiteAuditLog"]

log = logging.getLogger("bekal.store")

SCHEMA_VERSION = 1
ANONYMOUS = "anonymous"
MAX_PAGE = 1000  # most events one events() call returns

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS audit_event (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        time      TEXT NOT NULL,
        principal TEXT NOT NULL,
        role      TEXT NOT NULL,
        method    TEXT NOT NULL,
        subjects  TEXT NOT NULL,  -- JSON array of strings
        code      TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS audit_event_principal ON audit_event (principal, seq)",
    """CREATE TABLE IF NOT EXISTS audit_subject (
        subject TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (subject, seq)
    ) WITHOUT ROWID""",
    *(f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table}
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""
      for table in ("audit_event", "audit_subject") for verb in ("UPDATE", "DELETE")),
    "CREATE TABLE IF NOT EXISTS audit_schema (version INTEGER NOT NULL)",
]


def audit_time(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC to the millisecond, e.g. ``2019-06-01T08:30:00.123Z``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditEvent:
    """One call, as the trail keeps it: identifiers only, never facts."""

    time: str  # ISO 8601 UTC, milliseconds
    principal: str  # agency name or "anonymous"
    role: str
    method: str  # "/bekal.v1.EligibilityService/CheckEligibility"
    subjects: tuple[str, ...]  # pseudonymous client ids, job ids, rule file names (never facts)
    code: str  # "OK", "INVALID_ARGUMENT", ...

    @classmethod
    def now(cls, principal: str, role: str, method: str, subjects: Sequence[str] = (), code: str = "OK"
            ) -> AuditEvent:
        """An event timed now."""
        return cls(audit_time(), principal, role, method, tuple(subjects), code)


class AuditLog(Protocol):
    """Where the calls are recorded. Implementations must be safe to call from many threads."""

    def record(self, event: AuditEvent) -> None:
        """Record ``event`` (durably soon: see the implementation). Raises StoreUnavailable when it cannot."""
        ...

    def events(self, after: int = 0, limit: int = 100, principal: str | None = None, subject: str | None = None
               ) -> list[tuple[int, AuditEvent]]:
        """Recorded events numbered above ``after``, oldest first, at most ``limit`` (up to 1000);
        only those of ``principal`` and/or about ``subject`` when given. Page on with the last number."""
        ...

    def close(self) -> None:
        """Write what is pending and release the storage."""
        ...


_CLOSE = object()  # the writer's signal to finish
_INSERT_EVENT = "INSERT INTO audit_event (time, principal, role, method, subjects, code) VALUES (?, ?, ?, ?, ?, ?)"
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class SQLiteAuditLog(Database):
    """:class:`AuditLog` in an SQLite file (or ``:memory:``), written by a background thread in batches."""

    _what = "the audit trail"

    def __init__(self, path: str | Path = "bekal.db", *, busy_timeout_s: float = 10.0, queue_size: int = 10_000,
                 batch_interval_s: float = 0.05, max_batch: int = 2_000, block_s: float = 0.1):
        super().__init__(path, busy_timeout_s=busy_timeout_s)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._interval = batch_interval_s
        self._max_batch = max_batch
        self._block_s = block_s
        self._closed = False
        self._count_lock = threading.Condition()
        self._queued = 0  # events accepted by record()
        self._settled = 0  # events written (or, at a failed close, given up)
        self._writer = threading.Thread(target=self._write_loop, name="bekal-audit-writer", daemon=True)
        self._writer.start()

    def _migrate(self, cur: Transaction) -> None:
        table_schema_version(cur, "audit_schema", SCHEMA_VERSION, "audit trail", self.path)
        for statement in _SCHEMA:
            cur.execute(statement)
        set_table_schema_version(cur, "audit_schema", SCHEMA_VERSION)

    # ------------------------------------------------------------------------------------------ writing

    def record(self, event: AuditEvent) -> None:
        """Queue ``event`` for the writer thread; waits up to ``block_s`` while the queue is full, then
        raises :class:`StoreUnavailable` (never drops the event silently)."""
        _check(event)
        with self._count_lock:
            if self._closed:
                raise StoreUnavailable("the audit trail is closed", retry_after=1.0)
            self._queued += 1
        try:
            self._queue.put(event, timeout=self._block_s)
        except queue.Full:
            with self._count_lock:
                self._queued -= 1
                self._count_lock.notify_all()
            raise StoreUnavailable(
                f"the audit trail cannot keep up: {self._queue.maxsize} events wait to be written", retry_after=1.0
            ) from None

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event recorded so far is written; False when ``timeout`` ran out first."""
        with self._count_lock:
            target = self._queued
            return self._count_lock.wait_for(lambda: self._settled >= target, timeout)

    def close(self) -> None:
        """Write every queued event, stop the writer, close the connection. Idempotent."""
        with self._count_lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(_CLOSE)  # wakes the writer; waits while the queue is full
        self._writer.join()
        super().close()

    def _write_loop(self) -> None:
        last_commit = 0.0
        while True:
            first = self._queue.get()
            batch: list[AuditEvent] = [] if first is _CLOSE else [first]
            if batch and not self._closed:
                # the batching window: what arrives until ``interval`` after the last commit goes in one transaction
                rest = self._interval - (time.monotonic() - last_commit)
                if rest > 0:
                    time.sleep(rest)
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not _CLOSE:
                    batch.append(item)
            if batch:
                try:
                    self._write(batch)
                except Exception as exc:  # never let the writer die: record() would then block and fail
                    log.error("audit trail: %d events not written: %s", len(batch), type(exc).__name__)
                last_commit = time.monotonic()
                with self._count_lock:
                    self._settled += len(batch)
                    self._count_lock.notify_all()
            with self._count_lock:
                # closed, and every accepted event written: done (an event counted but not yet put is waited for)
                if self._closed and self._settled >= self._queued:
                    return

    def _write(self, batch: list[AuditEvent]) -> None:
        """Insert ``batch`` in one transaction; retried while the storage is unavailable."""
        delay, failures = 0.1, 0
        # built before the write lock is taken: it is the whole database's (see bekal.store.sqlite.insert_rows)
        rows = [(e.time, e.principal, e.role, e.method, _encode(list(e.subjects)), e.code) for e in batch]
        subjects = [(i, s) for i, e in enumerate(batch) for s in dict.fromkeys(e.subjects)]
        while True:
            try:
                with transaction(self._db, self._lock) as cur:
                    first = cur.execute(_INSERT_EVENT, rows[0]).lastrowid
                    cur.executemany(_INSERT_EVENT, rows[1:])
                    # AUTOINCREMENT in one write transaction numbers the batch first, first + 1, ...
                    (last,) = cur.execute("SELECT last_insert_rowid()").fetchone()
                    if first is None or last != first + len(rows) - 1:
                        raise RuntimeError("audit events were not numbered consecutively")
                    cur.executemany("INSERT INTO audit_subject VALUES (?, ?)", [(s, first + i) for i, s in subjects])
                break
            except sqlite3.Error as exc:
                failures += 1
                error = unavailable("the audit trail cannot be written now", exc)
                if error is None:  # a bug: say so (no data: the type only) and do not loop on it
                    raise
                if failures == 1 or failures % 60 == 0:
                    log.error("%s; %d events wait, retrying", error, len(batch) + self._queue.qsize())
                if self._closed and failures >= 5:
                    log.error("audit trail: %d events not written at shutdown", len(batch) + self._queue.qsize())
                    return
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        if failures:
            log.info("audit trail: written again after %d failed attempts", failures)

    # ------------------------------------------------------------------------------------------ reading

    def events(self, after: int = 0, limit: int = 100, principal: str | None = None, subject: str | None = None
               ) -> list[tuple[int, AuditEvent]]:
        limit = max(1, min(int(limit), MAX_PAGE))
        columns = "e.seq, e.time, e.principal, e.role, e.method, e.subjects, e.code"
        params: list[Any] = []
        if subject is not None:
            sql = f"SELECT {columns} FROM audit_subject s JOIN audit_event e ON e.seq = s.seq WHERE s.subject = ?" \
                  " AND s.seq > ?"
            params += [subject, after]
            order = "s.seq"
        else:
            sql = f"SELECT {columns} FROM audit_event e WHERE e.seq > ?"
            params.append(after)
            order = "e.seq"
        if principal is not None:
            sql += " AND e.principal = ?"
            params.append(principal)
        rows = self._all(f"{sql} ORDER BY {order} LIMIT ?", (*params, limit))
        return [(int(r[0]), AuditEvent(r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6])) for r in rows]


def _check(event: AuditEvent) -> None:
    """An event of the expected shape (any object with these attributes: the fields are what counts)."""
    for name in ("time", "principal", "role", "method", "code"):
        if not isinstance(getattr(event, name, None), str):
            raise TypeError(f"AuditEvent.{name} must be a str")
    subjects = getattr(event, "subjects", None)
    if not isinstance(subjects, tuple) or not all(isinstance(s, str) for s in subjects):
        raise TypeError("AuditEvent.subjects must be a tuple of str")
