"""The one SQLite helper both stores use: where a database is, opening it, and transactions.

WAL journal with ``synchronous=NORMAL``: a committed transaction is in the WAL
file before a commit returns, so it survives ``kill -9`` of the server (only a
power cut can lose the last commits). Several worker processes share one file;
SQLite serialises their writes (``busy_timeout``). Each store keeps its own
connection and its own lock: a connection is shared by a process's threads, one
statement (or one transaction) at a time.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MEMORY = ":memory:"


def sqlite_path(location: str | Path) -> str:
    """The SQLite file named by ``--db``: a path, ``:memory:``, or ``sqlite:///path``."""
    text = str(location)
    if text.startswith(("postgres://", "postgresql://")):
        raise ValueError("PostgreSQL storage is not implemented yet; use an SQLite file path")
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):] or MEMORY
    return text


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


def connect(path: str, busy_timeout_s: float, *, checkpoint_in_background: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any thread.

    A file gets the WAL journal (``checkpoint_in_background``: the caller checkpoints, not the
    commits); parent folders are created. ``:memory:`` is a private database.
    """
    memory = path == MEMORY
    if not memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    if not memory:
        retry_locked(lambda: db.execute("PRAGMA journal_mode=WAL"), busy_timeout_s)
        if checkpoint_in_background:
            db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def utc_now() -> str:
    """Now as an ISO timestamp in UTC, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Transaction:
    """The cursor of one ``BEGIN IMMEDIATE`` .. ``COMMIT`` (see :func:`transaction`).

    Set ``rollback = True`` to end the transaction with ``ROLLBACK`` instead of ``COMMIT``.
    """

    __slots__ = ("_cur", "rollback")

    def __init__(self, cur: sqlite3.Cursor):
        self._cur = cur
        self.rollback = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._cur.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self._cur.executemany(sql, rows)

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[Transaction]:
    """Hold ``lock`` for one write transaction: ``COMMIT`` at the end, ``ROLLBACK`` on an exception.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so two processes never deadlock upgrading a
    read; SQLite errors (busy too long, disk full) propagate as ``sqlite3.OperationalError``.
    """
    with lock:
        cur = Transaction(db.cursor())
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
            cur.execute("ROLLBACK" if cur.rollback else "COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


class Database:
    """One store's connection to an SQLite file: opened, migrated, locked per statement or transaction.

    A store subclasses it and implements :meth:`_migrate` (run once at open, under the lock,
    retried while another process holds the file).
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0, checkpoint_in_background: bool = False):
        self.path = str(path)
        self.memory = self.path == MEMORY
        self._timeout = busy_timeout_s
        self._lock = threading.Lock()
        self._db = connect(self.path, busy_timeout_s, checkpoint_in_background=checkpoint_in_background)
        with self._lock:
            retry_locked(self._migrate, busy_timeout_s)

    def _migrate(self) -> None:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[Transaction]:
        return transaction(self._db, self._lock)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a read (or None)."""
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
