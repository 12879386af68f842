"""Matching jobs and their results, kept so that no acknowledged job is ever silently lost.

One small interface (:class:`JobStore`) with an embedded SQLite implementation
(:class:`SQLiteJobStore`), which may share the database file of the decision log
(its own tables, its own connection; see :mod:`bekal.store.sqlite`). Payloads
are opaque bytes to the store (the service keeps serialized protobuf messages in
them).

Lifecycle of a job::

    create (queued, owned by the uploading worker, input stored in the same transaction)
      -> start (running, attempts + 1) -> progress ... -> finish (succeeded, results stored, input deleted)
                                                       -> fail   (failed, reason kept, input deleted)
                                                       -> release (queued, no owner, attempts - 1)

Ownership is a lease: the owning worker renews it every few seconds. A job
whose lease ran out, or whose owner process on this host is gone (a crash or
``kill -9``), is *orphaned*: :meth:`JobStore.claim_orphans` hands it to a live
worker, which runs it again from its stored input -- or marks it failed, with
the reason, once it has been interrupted ``max_attempts`` times (so a cohort
that crashes the server cannot crash it forever). A worker that stops gracefully
*releases* its jobs instead (:meth:`JobStore.release`): queued again, without an
owner, the attempt not counted -- a restart is not an interruption.

Every job records its ``creator`` (the agency that uploaded it; the service lets
only that agency read it). Its ``fingerprint`` (the digest of the upload that
tells a retry from a conflict) is stored keyed, as ``HMAC-SHA256(secret,
digest)`` (:mod:`bekal.store.secrets`).

Schema versions (table ``match_schema``): 1 -- jobs, input, results; 2 --
``match_job.creator`` (``''`` for the jobs of version 1) and keyed fingerprints
(those of version 1 replaced by HMACs of themselves, so a retry of an old upload
is still recognised).

Privacy: a job's input holds client facts (health data); it is deleted as soon
as the job finishes or fails. Results hold what the job's audience may see.
"""

from __future__ import annotations

import abc
import enum
import hmac
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bekal.store.errors import JobConflict
from bekal.store.owners import owner_alive
from bekal.store.secrets import check_key, key_fingerprints, keyed, secret_for
from bekal.store.sqlite import Database, Transaction, set_table_schema_version, table_schema_version, utc_now

__all__ = ["JobRecord", "JobStatus", "JobStore", "NewJob", "ResultChunk", "SQLiteJobStore"]

log = logging.getLogger("bekal.store")

SCHEMA_VERSION = 2


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NewJob:
    """What an upload creates."""

    request_id: str
    fingerprint: str  # digest of the upload: a retry has the same one (stored keyed, never as it is)
    settings: bytes
    clients: int
    courses: int
    creator: str = ""  # who uploaded it (an agency name): only they read the job


@dataclass(frozen=True, slots=True)
class JobRecord:
    job_id: str
    request_id: str
    fingerprint: str
    status: JobStatus
    phase: str
    progress_done: int
    progress_total: int
    clients: int
    courses: int
    settings: bytes
    summary: bytes  # empty until the job succeeded
    error: str
    owner: str
    lease_until: float
    attempts: int
    created_at: str
    updated_at: str
    creator: str = ""  # who uploaded it ("" for jobs of schema version 1)


@dataclass(frozen=True, slots=True)
class ResultChunk:
    """Results of clients ``first .. first + count - 1`` (upload order), as one opaque payload."""

    first: int
    count: int
    payload: bytes


class JobStore(abc.ABC):
    """What the matching jobs need from storage. Implementations must be safe to call from many threads."""

    @abc.abstractmethod
    def create(self, job: NewJob, parts: Sequence[bytes], owner: str, lease_s: float) -> tuple[JobRecord, bool]:
        """Store a queued job and its input in one transaction; ``(job, True)``.

        A request id already used with the same fingerprint returns ``(that job, False)``;
        with a different fingerprint raises :class:`~bekal.store.errors.JobConflict`. Durable when this returns.
        The record's ``fingerprint`` is the keyed digest, as stored.
        """

    @abc.abstractmethod
    def get(self, job_id: str) -> JobRecord | None:
        """The job, or None."""

    @abc.abstractmethod
    def input_parts(self, job_id: str) -> list[bytes]:
        """The job's stored input, in upload order (empty once the job finished or failed)."""

    @abc.abstractmethod
    def start(self, job_id: str, owner: str, lease_s: float) -> JobRecord | None:
        """Mark the job running (attempts + 1) if ``owner`` still owns it and it is queued; else None."""

    @abc.abstractmethod
    def progress(self, job_id: str, owner: str, phase: str, done: int, total: int) -> bool:
        """Record progress; False when ``owner`` no longer owns the running job (stop working on it)."""

    @abc.abstractmethod
    def renew(self, owner: str, lease_s: float) -> int:
        """Extend the lease of every unfinished job ``owner`` holds; the number renewed."""

    @abc.abstractmethod
    def finish(self, job_id: str, owner: str, summary: bytes, chunks: Iterable[ResultChunk]) -> bool:
        """Store the results, mark the job succeeded and delete its input, in one transaction."""

    @abc.abstractmethod
    def fail(self, job_id: str, owner: str | None, error: str) -> bool:
        """Mark the job failed with ``error`` and delete its input (``owner`` None: whoever owns it)."""

    @abc.abstractmethod
    def release(self, job_id: str, owner: str, *, count_attempt: bool = False) -> bool:
        """Give up an unfinished job ``owner`` holds: queued again, no owner, progress reset, so any live
        worker takes it (:meth:`claim_orphans`). A running job's attempt is not counted (attempts - 1)
        unless ``count_attempt``. False when ``owner`` does not hold it (finished, failed, taken over).
        """

    @abc.abstractmethod
    def claim_orphans(self, owner: str, lease_s: float, max_attempts: int,
                      alive: Callable[[str], bool | None] = owner_alive) -> list[JobRecord]:
        """Take over unfinished jobs whose owner is gone or whose lease ran out.

        Jobs started ``max_attempts`` times already are marked failed instead. Returns the jobs
        now owned by ``owner`` (queued again), oldest first. Released jobs (no owner) are taken at once.
        """

    @abc.abstractmethod
    def results(self, job_id: str, offset: int = 0) -> Iterator[ResultChunk]:
        """Result chunks holding clients from ``offset`` on, in order."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS match_job (
    job_id         TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL UNIQUE,
    fingerprint    TEXT NOT NULL,
    status         TEXT NOT NULL,
    phase          TEXT NOT NULL,
    progress_done  INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    clients        INTEGER NOT NULL,
    courses        INTEGER NOT NULL,
    settings       BLOB NOT NULL,
    summary        BLOB NOT NULL DEFAULT x'',
    error          TEXT NOT NULL DEFAULT '',
    owner          TEXT NOT NULL DEFAULT '',
    lease_until    REAL NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    creator        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS match_job_unfinished ON match_job (status) WHERE status IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS match_job_input (
    job_id  TEXT NOT NULL,
    part    INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (job_id, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS match_job_result (
    job_id  TEXT NOT NULL,
    first   INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (job_id, first)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS match_schema (version INTEGER NOT NULL);
"""

_COLUMNS = ("job_id, request_id, fingerprint, status, phase, progress_done, progress_total, clients, courses, "
            "settings, summary, error, owner, lease_until, attempts, created_at, updated_at, creator")
UNFINISHED = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def _now() -> str:
    return utc_now().replace("+00:00", "Z")


def _record(row: Sequence[Any]) -> JobRecord:
    values = list(row)
    values[3] = JobStatus(values[3])
    values[9] = bytes(values[9])
    values[10] = bytes(values[10])
    return JobRecord(*values)


class SQLiteJobStore(Database, JobStore):
    """:class:`JobStore` on an SQLite file (or ``:memory:``), its own connection, WAL mode.

    ``secret`` keys the fingerprints (default: :func:`~bekal.store.secrets.secret_for` the path:
    ``bekal.key`` next to the file). Storage failures raise :class:`~bekal.store.errors.StoreUnavailable`.
    """

    _what = "the job store"

    def __init__(self, path: str | Path = "bekal.db", *, secret: bytes | None = None, busy_timeout_s: float = 10.0):
        self._secret = secret  # None: loaded at open, once the path is known to be a database
        super().__init__(path, busy_timeout_s=busy_timeout_s)

    @property
    def _key(self) -> bytes:
        assert self._secret is not None  # set at open
        return self._secret

    def _migrate(self, cur: Transaction) -> None:
        # the decision log owns PRAGMA user_version; these tables keep their own version
        version = table_schema_version(cur, "match_schema", SCHEMA_VERSION, "matching job", self.path)
        if self._secret is None:
            self._secret = secret_for(self.path)
        secret = self._secret
        check_key(cur, secret, self.path)
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                cur.execute(statement)
        if version == 1:
            cur.execute("ALTER TABLE match_job ADD COLUMN creator TEXT NOT NULL DEFAULT ''")
            log.info("job store %s: %d fingerprints keyed, creator added (schema 1 -> 2)", self.path,
                     key_fingerprints(self._db, cur, secret, "match_job"))
        set_table_schema_version(cur, "match_schema", SCHEMA_VERSION)

    # ------------------------------------------------------------------------------------------ writes

    def create(self, job: NewJob, parts: Sequence[bytes], owner: str, lease_s: float) -> tuple[JobRecord, bool]:
        now = _now()
        job_id = uuid.uuid4().hex
        fingerprint = keyed(self._key, job.fingerprint)
        with self._tx("store the job") as cur:
            row = cur.execute(f"SELECT {_COLUMNS} FROM match_job WHERE request_id = ?", (job.request_id,)).fetchone()
            if row is not None:
                existing = _record(row)
                if not hmac.compare_digest(existing.fingerprint, fingerprint):
                    raise JobConflict(existing.job_id)
                return existing, False
            cur.execute(
                "INSERT INTO match_job (job_id, request_id, fingerprint, status, phase, clients, courses, settings,"
                " owner, lease_until, created_at, updated_at, creator)"
                " VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, job.request_id, fingerprint, JobStatus.QUEUED.value, job.clients, job.courses,
                 job.settings, owner, time.time() + lease_s, now, now, job.creator),
            )
            cur.executemany("INSERT INTO match_job_input VALUES (?, ?, ?)",
                            ((job_id, i, p) for i, p in enumerate(parts)))
            row = cur.execute(f"SELECT {_COLUMNS} FROM match_job WHERE job_id = ?", (job_id,)).fetchone()
        return _record(row), True

    def start(self, job_id: str, owner: str, lease_s: float) -> JobRecord | None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE match_job SET status = ?, phase = 'eligibility', progress_done = 0, progress_total = 0,"
                " attempts = attempts + 1, lease_until = ?, updated_at = ?"
                " WHERE job_id = ? AND owner = ? AND status = ?",
                (JobStatus.RUNNING.value, time.time() + lease_s, _now(), job_id, owner, JobStatus.QUEUED.value),
            )
            if cur.rowcount != 1:
                return None
            row = cur.execute(f"SELECT {_COLUMNS} FROM match_job WHERE job_id = ?", (job_id,)).fetchone()
        return _record(row)

    def progress(self, job_id: str, owner: str, phase: str, done: int, total: int) -> bool:
        with self._tx() as cur:
            cur.execute(
                "UPDATE match_job SET phase = ?, progress_done = ?, progress_total = ?, updated_at = ?"
                " WHERE job_id = ? AND owner = ? AND status = ?",
                (phase, done, total, _now(), job_id, owner, JobStatus.RUNNING.value),
            )
            return cur.rowcount == 1

    def renew(self, owner: str, lease_s: float) -> int:
        with self._tx() as cur:
            cur.execute("UPDATE match_job SET lease_until = ? WHERE owner = ? AND status IN (?, ?)",
                        (time.time() + lease_s, owner, *UNFINISHED))
            return cur.rowcount

    def finish(self, job_id: str, owner: str, summary: bytes, chunks: Iterable[ResultChunk]) -> bool:
        with self._tx() as cur:
            cur.execute(
                "UPDATE match_job SET status = ?, phase = 'done', summary = ?, updated_at = ?"
                " WHERE job_id = ? AND owner = ? AND status = ?",
                (JobStatus.SUCCEEDED.value, summary, _now(), job_id, owner, JobStatus.RUNNING.value),
            )
            if cur.rowcount != 1:
                cur.rollback = True
                return False
            cur.execute("DELETE FROM match_job_result WHERE job_id = ?", (job_id,))
            cur.executemany("INSERT INTO match_job_result VALUES (?, ?, ?, ?)",
                            ((job_id, c.first, c.count, c.payload) for c in chunks))
            cur.execute("DELETE FROM match_job_input WHERE job_id = ?", (job_id,))
        return True

    def fail(self, job_id: str, owner: str | None, error: str) -> bool:
        with self._tx() as cur:
            if owner is None:
                cur.execute("UPDATE match_job SET status = ?, error = ?, updated_at = ? WHERE job_id = ?"
                            " AND status IN (?, ?)", (JobStatus.FAILED.value, error, _now(), job_id, *UNFINISHED))
            else:
                cur.execute("UPDATE match_job SET status = ?, error = ?, updated_at = ? WHERE job_id = ?"
                            " AND owner = ? AND status IN (?, ?)",
                            (JobStatus.FAILED.value, error, _now(), job_id, owner, *UNFINISHED))
            if cur.rowcount != 1:
                return False
            cur.execute("DELETE FROM match_job_input WHERE job_id = ?", (job_id,))
        return True

    def release(self, job_id: str, owner: str, *, count_attempt: bool = False) -> bool:
        with self._tx("release the job") as cur:
            cur.execute(
                "UPDATE match_job SET status = ?, phase = 'queued', progress_done = 0, progress_total = 0,"
                " owner = '', lease_until = 0, updated_at = ?,"
                " attempts = CASE WHEN status = ? AND NOT ? THEN max(attempts - 1, 0) ELSE attempts END"
                " WHERE job_id = ? AND owner = ? AND status IN (?, ?)",
                (JobStatus.QUEUED.value, _now(), JobStatus.RUNNING.value, count_attempt, job_id, owner,
                 *UNFINISHED))
            return cur.rowcount == 1

    def claim_orphans(self, owner: str, lease_s: float, max_attempts: int,
                      alive: Callable[[str], bool | None] = owner_alive) -> list[JobRecord]:
        now = time.time()
        claimed: list[JobRecord] = []
        with self._tx() as cur:
            rows = cur.execute(
                f"SELECT {_COLUMNS} FROM match_job WHERE status IN (?, ?) AND owner != ? ORDER BY created_at",
                (*UNFINISHED, owner)).fetchall()
            for row in rows:
                job = _record(row)
                state = alive(job.owner) if job.owner else False
                expired = job.lease_until <= now
                # an owner alive on this host keeps its job, unless it stopped renewing long ago (its pid
                # may then belong to another process); an owner elsewhere keeps it while its lease runs
                long_expired = job.lease_until <= now - 3 * lease_s
                if not (state is False or (state is None and expired) or long_expired):
                    continue
                if job.attempts >= max_attempts:
                    cur.execute(
                        "UPDATE match_job SET status = ?, error = ?, updated_at = ? WHERE job_id = ?",
                        (JobStatus.FAILED.value,
                         f"interrupted {job.attempts} times (the server stopped or crashed while running it, "
                         f"last in phase {job.phase!r}); not retried again: upload the cohort again or report "
                         "the problem", _now(), job.job_id))
                    cur.execute("DELETE FROM match_job_input WHERE job_id = ?", (job.job_id,))
                    continue
                cur.execute(
                    "UPDATE match_job SET status = ?, phase = 'queued', progress_done = 0, progress_total = 0,"
                    " owner = ?, lease_until = ?, updated_at = ? WHERE job_id = ? AND owner = ?",
                    (JobStatus.QUEUED.value, owner, now + lease_s, _now(), job.job_id, job.owner))
                if cur.rowcount == 1:
                    claimed.append(job)
        return [self.get(j.job_id) or j for j in claimed]

    # ------------------------------------------------------------------------------------------ reads

    def get(self, job_id: str) -> JobRecord | None:
        row = self._one(f"SELECT {_COLUMNS} FROM match_job WHERE job_id = ?", (job_id,))
        return None if row is None else _record(row)

    def input_parts(self, job_id: str) -> list[bytes]:
        rows = self._all("SELECT payload FROM match_job_input WHERE job_id = ? ORDER BY part", (job_id,))
        return [bytes(r[0]) for r in rows]

    def results(self, job_id: str, offset: int = 0) -> Iterator[ResultChunk]:
        # one chunk per query, so a slow reader never holds the lock (or a read snapshot) for long
        after = -1
        row = self._one("SELECT max(first) FROM match_job_result WHERE job_id = ? AND first <= ?", (job_id, offset))
        if row and row[0] is not None:
            after = row[0] - 1
        while True:
            row = self._one("SELECT first, count, payload FROM match_job_result WHERE job_id = ? AND first > ?"
                            " ORDER BY first LIMIT 1", (job_id, after))
            if row is None:
                return
            after = row[0]
            yield ResultChunk(row[0], row[1], bytes(row[2]))
