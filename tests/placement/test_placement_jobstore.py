"""The SQLite job store: idempotent creation, ownership, results, and taking over orphaned jobs."""

from __future__ import annotations

import sqlite3
import time

import pytest

from bekal.store.errors import JobConflict
from bekal.store.jobs import JobStatus, NewJob, ResultChunk, SQLiteJobStore


@pytest.fixture
def store(tmp_path):
    s = SQLiteJobStore(tmp_path / "jobs.db")
    yield s
    s.close()


def new(request_id: str = "r1", fingerprint: str = "fp") -> NewJob:
    return NewJob(request_id, fingerprint, b"settings", clients=3, courses=2)


def test_create_is_idempotent_per_request_id(store):
    job, created = store.create(new(), [b"a", b"b"], "me", 10)
    assert created and job.status is JobStatus.QUEUED and job.owner == "me" and job.attempts == 0
    again, created = store.create(new(), [b"other"], "me", 10)
    assert not created and again.job_id == job.job_id
    with pytest.raises(JobConflict):
        store.create(new(fingerprint="different"), [b"a"], "me", 10)
    assert store.input_parts(job.job_id) == [b"a", b"b"]
    assert store.get("nope") is None


def test_a_job_runs_only_for_its_owner_and_keeps_its_results(store):
    job, _ = store.create(new(), [b"in"], "me", 10)
    assert store.start(job.job_id, "someone-else", 10) is None
    running = store.start(job.job_id, "me", 10)
    assert running.status is JobStatus.RUNNING and running.attempts == 1
    assert store.start(job.job_id, "me", 10) is None  # not queued any more
    assert store.progress(job.job_id, "me", "eligibility", 5, 10)
    assert not store.progress(job.job_id, "someone-else", "eligibility", 6, 10)
    assert store.get(job.job_id).progress_done == 5
    chunks = [ResultChunk(0, 2, b"first"), ResultChunk(2, 2, b"second"), ResultChunk(4, 1, b"third")]
    assert not store.finish(job.job_id, "someone-else", b"summary", chunks)
    assert store.finish(job.job_id, "me", b"summary", chunks)
    done = store.get(job.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.summary == b"summary" and done.phase == "done"
    assert store.input_parts(job.job_id) == []  # the facts are gone
    assert [c.payload for c in store.results(job.job_id)] == [b"first", b"second", b"third"]
    assert [c.first for c in store.results(job.job_id, offset=3)] == [2, 4]
    assert [c.first for c in store.results(job.job_id, offset=4)] == [4]
    assert [c.first for c in store.results(job.job_id, offset=9)] == [4]  # the caller skips what it holds
    assert not store.fail(job.job_id, None, "too late")  # a finished job stays finished


def test_failing_keeps_the_reason_and_drops_the_input(store):
    job, _ = store.create(new(), [b"in"], "me", 10)
    store.start(job.job_id, "me", 10)
    assert store.fail(job.job_id, "me", "INVALID_ARGUMENT: bad")
    failed = store.get(job.job_id)
    assert failed.status is JobStatus.FAILED and failed.error == "INVALID_ARGUMENT: bad"
    assert store.input_parts(job.job_id) == []


def test_orphans_are_taken_over_only_when_their_owner_is_gone(store):
    job, _ = store.create(new(), [b"in"], "host:1:a", 60)
    store.start(job.job_id, "host:1:a", 60)
    assert store.claim_orphans("me", 10, 3, alive=lambda owner: True) == []
    assert store.claim_orphans("me", 10, 3, alive=lambda owner: None) == []  # elsewhere, lease still valid
    (claimed,) = store.claim_orphans("me", 10, 3, alive=lambda owner: False)
    assert claimed.owner == "me" and claimed.status is JobStatus.QUEUED and claimed.attempts == 1
    assert store.start(job.job_id, "me", 10).attempts == 2
    # an owner on another host whose lease ran out
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE match_job SET lease_until = ? WHERE job_id = ?", (time.time() - 1, job.job_id))
    (again,) = store.claim_orphans("other", 10, 3, alive=lambda owner: None)
    assert again.owner == "other"
    assert store.renew("other", 10) == 1


def test_a_job_interrupted_too_often_is_failed(store):
    job, _ = store.create(new(), [b"in"], "gone", 60)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE match_job SET status = 'running', attempts = 3 WHERE job_id = ?", (job.job_id,))
    assert store.claim_orphans("me", 10, 3, alive=lambda owner: False) == []
    failed = store.get(job.job_id)
    assert failed.status is JobStatus.FAILED and "interrupted 3 times" in failed.error
    assert store.input_parts(job.job_id) == []


def test_two_stores_share_one_file(tmp_path):
    a, b = SQLiteJobStore(tmp_path / "x.db"), SQLiteJobStore(tmp_path / "x.db")
    job, _ = a.create(new(), [b"in"], "a", 10)
    assert b.get(job.job_id).request_id == "r1"
    a.close()
    b.close()
