"""The embedded SQLite store: one file, no setup, safe across worker processes.

WAL journal with ``synchronous=NORMAL``: a committed transaction is in the WAL
file before :meth:`SQLiteStore.record` returns, so it survives ``kill -9`` of
the server (only a power cut can lose the last commits). Several worker
processes share the file; SQLite serialises their writes (``busy_timeout``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bekal.store import LoggedDecision, LoggedRequest, Recorded, Store

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS request (
    request_id      TEXT PRIMARY KEY,
    fingerprint     TEXT NOT NULL,
    audience        TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    created_at      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decision (
    request_id      TEXT NOT NULL REFERENCES request(request_id),
    seq             INTEGER NOT NULL,
    client_id       TEXT NOT NULL,
    course_code     TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    rule_ids        TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    as_of           TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decision_client ON decision(client_id);
"""


class SQLiteStore(Store):
    """:class:`bekal.store.Store` on one SQLite file (or ``:memory:``)."""

    def __init__(self, path: str | Path = "bekal.db", *, busy_timeout_s: float = 10.0):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._migrate()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path}: database schema {version} is newer than this bekal ({SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            # one transaction: a second worker process migrating at the same time waits, then no-ops
            self._db.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )

    def record(self, requests: Sequence[LoggedRequest]) -> list[Recorded]:
        if not requests:
            return []
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        results: list[Recorded] = []
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                rows = []
                for req in requests:
                    cur.execute(
                        "INSERT OR IGNORE INTO request VALUES (?, ?, ?, ?, ?)",
                        (req.request_id, req.fingerprint, req.audience, req.ruleset_version, now),
                    )
                    if cur.rowcount == 1:
                        results.append(Recorded.NEW)
                        rows.extend(
                            (req.request_id, seq, d.client_id, d.course_code, d.outcome, d.priority,
                             " ".join(d.rule_ids), d.ruleset_version, d.as_of)
                            for seq, d in enumerate(req.decisions)
                        )
                    else:
                        (fp,) = cur.execute(
                            "SELECT fingerprint FROM request WHERE request_id = ?", (req.request_id,)
                        ).fetchone()
                        results.append(Recorded.DUPLICATE if fp == req.fingerprint else Recorded.CONFLICT)
                if rows:
                    cur.executemany("INSERT INTO decision VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return results

    def get(self, request_id: str) -> LoggedRequest | None:
        with self._lock:
            row = self._db.execute(
                "SELECT request_id, fingerprint, audience, ruleset_version, created_at"
                " FROM request WHERE request_id = ?",
                (request_id,),
            ).fetchone()
            if row is None:
                return None
            decisions = self._db.execute(
                "SELECT client_id, course_code, outcome, priority, rule_ids, ruleset_version, as_of"
                " FROM decision WHERE request_id = ? ORDER BY seq",
                (request_id,),
            ).fetchall()
        return LoggedRequest(
            request_id=row[0],
            fingerprint=row[1],
            audience=row[2],
            ruleset_version=row[3],
            created_at=row[4],
            decisions=tuple(
                LoggedDecision(c, k, o, p, tuple(r.split()), v, a) for c, k, o, p, r, v, a in decisions
            ),
        )

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM request").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
