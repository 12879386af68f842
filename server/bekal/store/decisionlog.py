"""The decision log: every answered eligibility check, once per request id, without facts.

Decisions are logged by request id with the pseudonymous client id, the course,
the outcome, the ids of the rules behind it, the ruleset version and the as-of
date -- never the facts. :class:`DecisionLog` is what the eligibility service
needs; :class:`SQLiteDecisionLog` keeps it in an SQLite file (see
:mod:`bekal.store.sqlite`), and a PostgreSQL implementation of the same
interface can serve several server replicas later.

What it keeps that could still reveal health data, and how that is contained:

- the request's fingerprint: a plain digest of the request is a test for guessed
  facts, so only ``HMAC-SHA256(secret, digest)`` is stored (:mod:`bekal.store.secrets`);
- the rule ids behind each decision (``summary``): an id such as
  ``eligibility/rehab-not-finished`` tells the client's rehabilitation status, so the
  summary is for the auditor role only -- no service answer reads it back; only the
  auditors' read of the log (the RPC that serves it checks the role) does.

Schema versions (``PRAGMA user_version``): 1 -- the ``request`` table; 2 -- fingerprints
keyed: the unsalted digests of version 1 are replaced by HMACs of themselves (a digest
cannot be recomputed without its request, and the HMAC of the old digest is exactly
what a retry of that request now stores, so retries of old requests are still
recognised), and the database remembers its key's id (see :func:`~bekal.store.secrets.check_key`).
"""

from __future__ import annotations

import abc
import enum
import hmac
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bekal.store.errors import SchemaTooNew
from bekal.store.secrets import check_key, keyed, secret_for
from bekal.store.sqlite import Database, Transaction, utc_now

log = logging.getLogger("bekal.store")

SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS request (
    request_id      TEXT PRIMARY KEY,
    fingerprint     TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    audience        TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    as_of           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    created_at      TEXT NOT NULL
) WITHOUT ROWID;
"""
# schema 3: who asked (an agency name), and the orders the auditors' listing pages in
_SCHEMA_3 = [
    "ALTER TABLE request ADD COLUMN caller TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS request_time ON request (created_at, request_id)",
    "CREATE INDEX IF NOT EXISTS request_client ON request (client_id, created_at, request_id)",
    "CREATE INDEX IF NOT EXISTS request_caller ON request (caller, created_at, request_id)",
]
_COLUMNS = "request_id, fingerprint, client_id, audience, ruleset_version, as_of, summary, created_at, caller"
MAX_PAGE = 1000  # most entries one list() call returns


class Recorded(str, enum.Enum):
    """What happened to one request handed to :meth:`DecisionLog.record`."""

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
    (see :class:`LoggedDecision`); one row per request keeps the log cheap at bulk rates. Rule ids
    can reveal health status (``eligibility/rehab-not-finished``): the summary is readable only
    through the auditor role.
    """

    request_id: str
    # to record: the plain digest of the request (bekal.services.eligibility.codec.fingerprint), held in
    # memory only; as recorded (get): HMAC-SHA256(secret, digest), the only form the store keeps
    fingerprint: str
    client_id: str  # pseudonymous id, never a name or national id number
    audience: str
    ruleset_version: str
    as_of: str  # YYYY-MM-DD
    summary: str
    created_at: str = ""  # ISO timestamp (UTC), set by the store
    caller: str = ""  # the agency that asked (bekal.access.Principal.name)

    @property
    def decisions(self) -> tuple[LoggedDecision, ...]:
        return parse_summary(self.summary)


class DecisionLog(abc.ABC):
    """What the eligibility service needs from storage. Implementations must be safe to call from many
    threads."""

    @abc.abstractmethod
    def record(self, requests: Sequence[LoggedRequest]) -> list[Recorded]:
        """Durably record answered requests, in one transaction; one status per request.

        A request id already recorded is not recorded again: the result says whether
        the earlier request had the same fingerprint (a retry) or not (a conflict).
        Fingerprints are compared, and kept, as keyed digests (HMAC with the store's secret).
        When this returns, every NEW request survives a crash of the process.
        Raises StoreUnavailable when nothing could be recorded.
        """

    @abc.abstractmethod
    def get(self, request_id: str) -> LoggedRequest | None:
        """The recorded request with this id, or None."""

    @abc.abstractmethod
    def list(self, after: tuple[str, str] | None = None, limit: int = 100, client_id: str | None = None,
             caller: str | None = None) -> list[LoggedRequest]:
        """Recorded requests after the position ``after`` (``(created_at, request_id)`` of the last one
        seen), oldest first, at most ``limit`` (up to :data:`MAX_PAGE`); only those about ``client_id``
        and/or asked by ``caller`` when given. For the auditors' reading of the log."""

    @abc.abstractmethod
    def count(self) -> int:
        """Number of recorded requests (for tests and status)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection(s)."""


class SQLiteDecisionLog(Database, DecisionLog):
    """:class:`DecisionLog` on one SQLite file (or ``:memory:``).

    Checkpoints (copying the WAL into the database) run on a background thread, not inside a
    caller's commit, so they do not add to request latency. ``secret`` keys the fingerprints
    (default: :func:`~bekal.store.secrets.secret_for` the path: ``bekal.key`` next to the file).
    """

    _what = "the decision log"

    def __init__(self, path: str | Path = "bekal.db", *, secret: bytes | None = None, busy_timeout_s: float = 10.0,
                 checkpoint_every_s: float = 1.0):
        self._secret = secret  # None: loaded at open, once the path is known to be a database
        super().__init__(path, busy_timeout_s=busy_timeout_s, checkpoint_in_background=True)
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if not self.memory and checkpoint_every_s > 0:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(checkpoint_every_s,), name="bekal-store-checkpoint",
                daemon=True)
            self._checkpointer.start()

    def _migrate(self, cur: Transaction) -> None:
        version = cur.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(f"{self.path}: database schema {version} is newer than this bekal ({SCHEMA_VERSION})")
        if self._secret is None:
            self._secret = secret_for(self.path)
        secret = self._secret
        check_key(cur, secret, self.path)
        cur.execute(_SCHEMA)
        if version < 3:
            for statement in _SCHEMA_3:
                cur.execute(statement)
        if version == 1:  # unsalted digests -> HMACs of themselves (see the module's doc)
            self._db.create_function("bekal_keyed", 1, lambda fp: keyed(secret, str(fp)), deterministic=True)
            cur.execute("UPDATE request SET fingerprint = bekal_keyed(fingerprint)")
            log.info("decision log %s: %d fingerprints keyed (schema 1 -> 2)", self.path, cur.rowcount)
        # written even when unchanged: a read-only database fails here, at open
        cur.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def _key(self) -> bytes:
        assert self._secret is not None  # set at open
        return self._secret

    def _checkpoint_loop(self, every: float) -> None:
        db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        try:
            while not self._closed.wait(every):
                if self._dirty.is_set():
                    self._dirty.clear()
                    try:
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    except sqlite3.Error as exc:  # busy or locked: the next round tries again
                        log.debug("checkpoint skipped: %s", exc)
        finally:
            db.close()

    def record(self, requests: Sequence[LoggedRequest]) -> list[Recorded]:
        if not requests:
            return []
        now = utc_now()
        results: list[Recorded] = []
        # locked by another process for too long, disk full, I/O error: StoreUnavailable, nothing recorded
        with self._tx("be written") as cur:
            for req in requests:
                fingerprint = keyed(self._key, req.fingerprint)
                cur.execute(
                    f"INSERT OR IGNORE INTO request ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (req.request_id, fingerprint, req.client_id, req.audience, req.ruleset_version,
                     req.as_of, req.summary, now, req.caller),
                )
                if cur.rowcount == 1:
                    results.append(Recorded.NEW)
                else:
                    (fp,) = cur.execute(
                        "SELECT fingerprint FROM request WHERE request_id = ?", (req.request_id,)
                    ).fetchone()
                    results.append(Recorded.DUPLICATE if hmac.compare_digest(fp, fingerprint)
                                   else Recorded.CONFLICT)
        self._dirty.set()
        return results

    def get(self, request_id: str) -> LoggedRequest | None:
        row = self._one(f"SELECT {_COLUMNS} FROM request WHERE request_id = ?", (request_id,))
        return None if row is None else LoggedRequest(*row)

    def list(self, after: tuple[str, str] | None = None, limit: int = 100, client_id: str | None = None,
             caller: str | None = None) -> list[LoggedRequest]:
        where, args = [], []
        if after is not None:
            where.append("(created_at, request_id) > (?, ?)")
            args += list(after)
        for column, value in (("client_id", client_id), ("caller", caller)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = (f"SELECT {_COLUMNS} FROM request" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY created_at, request_id LIMIT ?")
        rows = self._all(sql, (*args, max(1, min(limit, MAX_PAGE))))
        return [LoggedRequest(*row) for row in rows]

    def count(self) -> int:
        (n,) = self._one("SELECT count(*) FROM request")
        return int(n)

    def close(self) -> None:
        self._closed.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
        with self._lock:
            try:
                if not self.memory:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._db.close()
