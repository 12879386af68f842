"""The embedded SQLite store: one file, no setup, safe across worker processes.

WAL journal with ``synchronous=NORMAL``: a committed transaction is in the WAL
file before :meth:`SQLiteStore.record` returns, so it survives ``kill -9`` of
the server (only a power cut can lose the last commits). Several worker
processes share the file; SQLite serialises their writes (``busy_timeout``).
Checkpoints (copying the WAL into the database) run on a background thread, not
inside a caller's commit, so they do not add to request latency.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from bekal.store import LoggedRequest, Recorded, Store, StoreUnavailable

log = logging.getLogger("bekal.store")

SCHEMA_VERSION = 1

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


def retry_locked(fn: Callable[[], object], timeout_s: float) -> None:
    """Switching a new database file to WAL ignores the busy timeout: when several worker processes
    open a fresh file at once, one of them may get "database is locked". Retry for a while."""
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while True:
        try:
            fn()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class SQLiteStore(Store):
    """:class:`bekal.store.Store` on one SQLite file (or ``:memory:``)."""

    def __init__(self, path: str | Path = "bekal.db", *, busy_timeout_s: float = 10.0,
                 checkpoint_every_s: float = 1.0):
        self.path = str(path)
        memory = self.path == ":memory:"
        if not memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._timeout = busy_timeout_s
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
        if not memory:
            retry_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"), busy_timeout_s)
            self._db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            retry_locked(self._migrate, busy_timeout_s)
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._checkpointer = None
        if not memory and checkpoint_every_s > 0:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(checkpoint_every_s,), name="bekal-store-checkpoint",
                daemon=True)
            self._checkpointer.start()

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
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        results: list[Recorded] = []
        with self._lock:
            cur = self._db.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # locked by another process for too long
                raise StoreUnavailable(f"decision log busy: {exc}") from None
            try:
                for req in requests:
                    cur.execute(
                        "INSERT OR IGNORE INTO request VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (req.request_id, req.fingerprint, req.client_id, req.audience, req.ruleset_version,
                         req.as_of, req.summary, now),
                    )
                    if cur.rowcount == 1:
                        results.append(Recorded.NEW)
                    else:
                        (fp,) = cur.execute(
                            "SELECT fingerprint FROM request WHERE request_id = ?", (req.request_id,)
                        ).fetchone()
                        results.append(Recorded.DUPLICATE if fp == req.fingerprint else Recorded.CONFLICT)
                cur.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    cur.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):  # disk full, I/O error, ...
                    raise StoreUnavailable(f"decision log cannot be written: {exc}") from None
                raise
        self._dirty.set()
        return results

    def get(self, request_id: str) -> LoggedRequest | None:
        with self._lock:
            row = self._db.execute(
                "SELECT request_id, fingerprint, client_id, audience, ruleset_version, as_of, summary, created_at"
                " FROM request WHERE request_id = ?",
                (request_id,),
            ).fetchone()
        return None if row is None else LoggedRequest(*row)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM request").fetchone()[0]

    def close(self) -> None:
        self._closed.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
        with self._lock:
            try:
                if self.path != ":memory:":
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._db.close()
