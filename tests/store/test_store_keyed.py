"""Keyed fingerprints in the decision log and the job store, the migrations from schema 1, the key a
database remembers, a job's creator, and releasing a job."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from bekal.store import StoreError
from bekal.store.decisionlog import LoggedRequest, Recorded, SQLiteDecisionLog
from bekal.store.jobs import JobStatus, NewJob, SQLiteJobStore
from bekal.store.secrets import keyed

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
DIGEST = "9f86d081884c7d659a2feaa0c55ad015"  # what the services compute: 32 hex characters of a SHA-256

# schema 1, as bekal 8c816c3 created it
DECISION_LOG_V1 = """
CREATE TABLE request (
    request_id      TEXT PRIMARY KEY,
    fingerprint     TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    audience        TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    as_of           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    created_at      TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO request VALUES ('old', '9f86d081884c7d659a2feaa0c55ad015', 'C-1', 'bnn', 'v1', '2019-06-01',
                            'K-1 INELIGIBLE 0 eligibility/rehab-not-finished', '2019-06-01T00:00:00.000+00:00');
PRAGMA user_version = 1;
"""
JOB_STORE_V1 = """
CREATE TABLE match_job (
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
    updated_at     TEXT NOT NULL
);
CREATE INDEX match_job_unfinished ON match_job (status) WHERE status IN ('queued', 'running');
CREATE TABLE match_job_input (job_id TEXT NOT NULL, part INTEGER NOT NULL, payload BLOB NOT NULL,
                              PRIMARY KEY (job_id, part)) WITHOUT ROWID;
CREATE TABLE match_job_result (job_id TEXT NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL,
                               payload BLOB NOT NULL, PRIMARY KEY (job_id, first)) WITHOUT ROWID;
CREATE TABLE match_schema (version INTEGER NOT NULL);
INSERT INTO match_schema VALUES (1);
INSERT INTO match_job (job_id, request_id, fingerprint, status, phase, clients, courses, settings, created_at,
                       updated_at)
    VALUES ('j-old', 'r-old', '9f86d081884c7d659a2feaa0c55ad015', 'succeeded', 'done', 3, 2, x'', 'then', 'then');
"""


def v1_database(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(DECISION_LOG_V1 + JOB_STORE_V1)
    db.close()
    return path


def logged(rid: str, digest: str = DIGEST) -> LoggedRequest:
    return LoggedRequest(rid, digest, "C-1", "bnn", "v1", "2019-06-01", "K-1 ELIGIBLE 10 priority/bnn")


def stored_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.glob("b.db*"))


def test_the_decision_log_keeps_only_a_keyed_digest(tmp_path):
    log = SQLiteDecisionLog(tmp_path / "b.db", secret=KEY)
    assert log.record([logged("a")]) == [Recorded.NEW]
    got = log.get("a")
    assert got is not None and got.fingerprint == keyed(KEY, DIGEST)
    assert log.record([logged("a"), logged("a", "another digest")]) == [Recorded.DUPLICATE, Recorded.CONFLICT]
    log.close()
    assert DIGEST.encode() not in stored_bytes(tmp_path)


def test_the_job_store_keeps_only_a_keyed_digest_and_the_creator(tmp_path):
    store = SQLiteJobStore(tmp_path / "b.db", secret=KEY)
    job, created = store.create(NewJob("r1", DIGEST, b"s", 3, 2, creator="BNN Jakarta"), [b"in"], "me", 10)
    assert created and job.fingerprint == keyed(KEY, DIGEST) and job.creator == "BNN Jakarta"
    again, created = store.create(NewJob("r1", DIGEST, b"s", 3, 2, creator="BNN Jakarta"), [b"in"], "me", 10)
    assert not created and again.job_id == job.job_id
    anonymous, _ = store.create(NewJob("r2", "d2", b"s", 3, 2), [b"in"], "me", 10)
    assert store.get(anonymous.job_id).creator == ""
    store.close()
    assert DIGEST.encode() not in stored_bytes(tmp_path)


def test_schema_1_is_migrated_and_retries_of_old_requests_are_still_recognised(tmp_path):
    path = v1_database(tmp_path / "b.db")
    log = SQLiteDecisionLog(path, secret=KEY)
    jobs = SQLiteJobStore(path, secret=KEY)
    old = log.get("old")
    assert old is not None and old.fingerprint == keyed(KEY, DIGEST)
    assert old.decisions[0].rule_ids == ("eligibility/rehab-not-finished",)  # the rest is kept as it was
    assert log.record([logged("old"), logged("old", "different")]) == [Recorded.DUPLICATE, Recorded.CONFLICT]
    job = jobs.get("j-old")
    assert job is not None and job.fingerprint == keyed(KEY, DIGEST) and job.creator == ""
    assert job.status is JobStatus.SUCCEEDED
    same, created = jobs.create(NewJob("r-old", DIGEST, b"", 3, 2), [b"in"], "me", 10)
    assert not created and same.job_id == "j-old"
    log.close()
    jobs.close()
    with sqlite3.connect(path) as db:
        # 1 -> 2 (keyed) -> 3 (callers) -> 4 (replay) -> 5 (erasure scope)
        assert db.execute("PRAGMA user_version").fetchone() == (5,)
        assert "scope" in {row[1] for row in db.execute("PRAGMA table_info(erasure)")}
        assert db.execute("SELECT version FROM match_schema").fetchall() == [(2,)]
    db.close()
    # opened again: nothing keyed twice
    again = SQLiteDecisionLog(path, secret=KEY)
    assert again.get("old").fingerprint == keyed(KEY, DIGEST)
    again.close()
    assert DIGEST.encode() not in stored_bytes(tmp_path)


def _open_both(path: str, barrier) -> None:
    barrier.wait()
    SQLiteDecisionLog(path, secret=KEY).close()
    SQLiteJobStore(path, secret=KEY).close()


def test_workers_migrating_at_once_key_each_digest_once(tmp_path):
    path = v1_database(tmp_path / "b.db")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_open_both, args=(str(path), barrier)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT fingerprint FROM request").fetchall() == [(keyed(KEY, DIGEST),)]
        assert db.execute("SELECT fingerprint FROM match_job").fetchall() == [(keyed(KEY, DIGEST),)]
    db.close()


@pytest.mark.parametrize("kind", [SQLiteDecisionLog, SQLiteJobStore])
def test_a_database_refuses_another_key(tmp_path, kind):
    kind(tmp_path / "b.db", secret=KEY).close()
    with pytest.raises(StoreError) as err:
        kind(tmp_path / "b.db", secret=OTHER_KEY)
    assert str(err.value).startswith(f"database {tmp_path / 'b.db'} was written with another secret key (key id ")
    kind(tmp_path / "b.db", secret=KEY).close()


def test_without_a_key_the_default_file_next_to_the_database_is_used(tmp_path):
    SQLiteDecisionLog(tmp_path / "b.db").close()
    SQLiteJobStore(tmp_path / "b.db").close()  # the same key: no complaint
    assert (tmp_path / "bekal.key").stat().st_mode & 0o777 == 0o600


# ------------------------------------------------------------------------------ release


@pytest.fixture
def jobs(tmp_path):
    store = SQLiteJobStore(tmp_path / "jobs.db", secret=KEY)
    yield store
    store.close()


def test_a_released_job_is_queued_for_anyone_and_its_attempt_not_counted(jobs):
    job, _ = jobs.create(NewJob("r1", "fp", b"s", 3, 2), [b"in"], "me", 60)
    jobs.start(job.job_id, "me", 60)
    jobs.progress(job.job_id, "me", "eligibility", 5, 10)
    assert jobs.release(job.job_id, "me")
    released = jobs.get(job.job_id)
    assert (released.status, released.owner, released.attempts, released.phase, released.progress_done) == (
        JobStatus.QUEUED, "", 0, "queued", 0)
    assert not jobs.progress(job.job_id, "me", "eligibility", 6, 10)  # the old owner stops
    assert jobs.input_parts(job.job_id) == [b"in"]
    # another live worker takes it at once, although the worker that released it still lives
    (claimed,) = jobs.claim_orphans("other", 60, 3, alive=lambda owner: True)
    assert claimed.job_id == job.job_id and claimed.owner == "other" and claimed.attempts == 0
    assert jobs.start(job.job_id, "other", 60).attempts == 1


def test_releasing_after_a_storage_failure_counts_the_attempt(jobs):
    job, _ = jobs.create(NewJob("r1", "fp", b"s", 3, 2), [b"in"], "me", 60)
    jobs.start(job.job_id, "me", 60)
    assert jobs.release(job.job_id, "me", count_attempt=True)
    assert jobs.get(job.job_id).attempts == 1


def test_only_the_owner_releases_and_only_an_unfinished_job(jobs):
    job, _ = jobs.create(NewJob("r1", "fp", b"s", 3, 2), [b"in"], "me", 60)
    assert not jobs.release(job.job_id, "someone else")
    assert jobs.release(job.job_id, "me")  # queued, never started: attempts stay 0
    assert jobs.get(job.job_id).attempts == 0
    (claimed,) = jobs.claim_orphans("me", 60, 3, alive=lambda owner: True)
    jobs.start(job.job_id, "me", 60)
    jobs.finish(job.job_id, "me", b"summary", [])
    assert not jobs.release(job.job_id, "me")
    assert jobs.get(job.job_id).status is JobStatus.SUCCEEDED
