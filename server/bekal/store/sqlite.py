"""The one SQLite helper both stores use: where a database is, opening it, and transactions.

WAL journal with ``synchronous=NORMAL``: a committed transaction is in the WAL
file before a commit returns, so it survives ``kill -9`` of the server (only a
power cut can lose the last commits). Several worker processes share one file;
SQLite serialises their writes (``busy_timeout``). Each store keeps its own
connection and its own lock: a connection is shared by a process's threads, one
statement (or one transaction) at a time.

Errors: a database that cannot be opened (a directory, a file that is not a
database, a read-only file, a full disk while migrating) raises
:class:`~bekal.store.errors.StoreError` with a one-line message; once open, a
statement that fails on the storage (disk full, read-only, I/O error, locked too
long, damaged file) raises :class:`~bekal.store.errors.StoreUnavailable` with a
retry hint. Any other SQLite error (bad SQL, a constraint) is a bug and
propagates as it is.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bekal.store.errors import SchemaTooNew, StoreError, StoreUnavailable

MEMORY = ":memory:"

# SQLite result codes (``sqlite3.Error.sqlite_errorname``; extended codes start with these) of a storage
# condition rather than a bug, and what they mean to an operator
_STORAGE_CONDITIONS = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_IOERR": "I/O error",
    "SQLITE_READONLY": "the database is read-only; bekal writes it and its -wal and -shm files next to it: "
                       "check the permissions and the file system",
    "SQLITE_BUSY": "the database is locked by another process",
    "SQLITE_LOCKED": "the database is locked",
    "SQLITE_CANTOPEN": "the database cannot be opened; is the path a file, and its folder writable?",
    "SQLITE_CORRUPT": "the database file is damaged; restore it from a backup",
    "SQLITE_NOTADB": "the file is not an SQLite database; restore it from a backup, or move it away",
    "SQLITE_PROTOCOL": "the database's locking failed",
    "SQLITE_NOLFS": "the file system cannot hold a file this large",
}
_RETRY_SOON_S = 1.0  # locked or busy: another writer finishes soon
_RETRY_LATER_S = 30.0  # a full disk, a read-only or damaged file: an operator has to act


def storage_condition(exc: sqlite3.Error) -> str | None:
    """What ``exc`` says about the storage (a one-line explanation), or None for anything else (a bug)."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    for prefix, meaning in _STORAGE_CONDITIONS.items():
        if name == prefix or name.startswith(prefix + "_"):
            return f"{meaning} [SQLite: {_one_line(exc)}]"
    if not name and isinstance(exc, sqlite3.OperationalError):  # no result code known: e.g. "database is locked"
        return _one_line(exc)
    return None


def unavailable(what: str, exc: sqlite3.Error) -> StoreUnavailable | None:
    """``exc`` (raised while doing ``what``) as :class:`StoreUnavailable`, or None when it is a bug."""
    meaning = storage_condition(exc)
    if meaning is None:
        return None
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    soon = name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)
    return StoreUnavailable(f"{what}: {meaning}", _RETRY_SOON_S if soon else _RETRY_LATER_S)


def open_failure(path: str, exc: BaseException) -> StoreError:
    """Why the database at ``path`` cannot be opened, as a one-line :class:`StoreError`."""
    if isinstance(exc, sqlite3.Error):
        return StoreError(f"database {path}: {storage_condition(exc) or _one_line(exc)}")
    if isinstance(exc, OSError):
        return StoreError(f"database {path}: cannot create its folder ({exc.strerror or exc})")
    return StoreError(f"database {path}: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


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
    commits); parent folders are created. ``:memory:`` is a private database. Raises
    :class:`StoreError` (one line) when the file cannot be opened as a database.
    """
    memory = path == MEMORY
    if not memory:
        if Path(path).is_dir():
            raise StoreError(f"database {path} is a directory; name a file (it is created if missing)")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise open_failure(path, exc) from None
    try:
        db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise open_failure(path, exc) from None
    try:
        if not memory:
            retry_locked(lambda: db.execute("PRAGMA journal_mode=WAL"), busy_timeout_s)
            if checkpoint_in_background:
                db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error as exc:
        db.close()
        raise open_failure(path, exc) from None
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

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of a read inside the transaction."""
        return self._cur.execute(sql, params).fetchall()

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


PARAMS_PER_STATEMENT = 900  # bound parameters per statement, under the oldest SQLite limit (999)


def read_in(read: Callable[[str, Sequence[Any]], list[Any]], sql: str, values: Sequence[Any],
            params: Sequence[Any] = ()) -> list[Any]:
    """The rows of ``sql``, which ends in ``IN``, for every one of ``values`` (bound after the leading
    ``params``): read with ``read(sql, params)`` a chunk of values at a time."""
    out: list[Any] = []
    per = PARAMS_PER_STATEMENT - len(params)
    for i in range(0, len(values), per):
        part = values[i:i + per]
        out += read(f"{sql} ({','.join('?' * len(part))})", (*params, *part))
    return out


def insert_rows(cur: Transaction, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``sql`` (``INSERT INTO t (...) VALUES``) for every row, in as few statements as the parameter limit
    allows. Each statement hands the GIL back and must wait to take it again (up to the 5 ms switch
    interval while other threads decide), so a transaction of one statement per row held the database's
    write lock, shared with the other worker processes, many times longer than its work."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, PARAMS_PER_STATEMENT // width)
    one = "(" + ",".join("?" * width) + ")"
    for i in range(0, len(rows), per):
        part = rows[i:i + per]
        cur.execute(f"{sql} {','.join([one] * len(part))}", [v for row in part for v in row])


def table_schema_version(cur: Transaction, table: str, newest: int, what: str, path: str) -> int:
    """The schema version a store keeps in its own one-row ``table`` (0: a new database).

    Several stores share one file, so each keeps its version in a table of its own (the decision log
    has ``PRAGMA user_version``). Raises :class:`SchemaTooNew` for a database a newer bekal wrote:
    migrating it down would lose what this version does not know.
    """
    exists = cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    version = 0
    if exists:
        row = cur.execute(f"SELECT max(version) FROM {table}").fetchone()
        version = row[0] if row and row[0] is not None else 0
    if version > newest:
        raise SchemaTooNew(f"{path}: {what} schema {version} is newer than this bekal ({newest})")
    return int(version)


def set_table_schema_version(cur: Transaction, table: str, version: int) -> None:
    """Record ``version`` in ``table``; written even when unchanged, so a read-only database fails at open."""
    cur.execute(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER NOT NULL)")
    cur.execute(f"DELETE FROM {table}")
    cur.execute(f"INSERT INTO {table} VALUES (?)", (version,))


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
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:  # e.g. an I/O error: SQLite rolls back when the connection is next used
                    pass
            raise


class Database:
    """One store's connection to an SQLite file: opened, migrated, locked per statement or transaction.

    A store subclasses it and implements :meth:`_migrate`, run once at open inside one ``BEGIN
    IMMEDIATE`` transaction (so a second worker process migrating at the same time waits, then finds
    nothing to do) and retried while another process holds the file. ``_migrate`` must write something
    every time (e.g. its schema version, even unchanged): a read-only database then fails at open, as a
    :class:`StoreError`, rather than at the first call.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0, checkpoint_in_background: bool = False):
        self.path = str(path)
        self.memory = self.path == MEMORY
        self._timeout = busy_timeout_s
        self._lock = threading.Lock()
        self._db = connect(self.path, busy_timeout_s, checkpoint_in_background=checkpoint_in_background)
        try:
            retry_locked(self._open, busy_timeout_s)
        except sqlite3.Error as exc:
            self._db.close()
            raise open_failure(self.path, exc) from None
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        with transaction(self._db, self._lock) as cur:
            self._migrate(cur)

    def _migrate(self, cur: Transaction) -> None:
        raise NotImplementedError

    @contextmanager
    def _tx(self, what: str = "write") -> Iterator[Transaction]:
        """One write transaction (see :func:`transaction`); storage failures raise :class:`StoreUnavailable`."""
        try:
            with transaction(self._db, self._lock) as cur:
                yield cur
        except sqlite3.Error as exc:
            error = unavailable(f"{self._what} cannot {what} now", exc)
            if error is None:
                raise
            raise error from None

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a read (or None)."""
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            error = unavailable(f"{self._what} cannot be read now", exc)
            if error is None:
                raise
            raise error from None

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            error = unavailable(f"{self._what} cannot be read now", exc)
            if error is None:
                raise
            raise error from None

    _what = "the store"  # how messages name this store, e.g. "the decision log"

    def close(self) -> None:
        with self._lock:
            self._db.close()
