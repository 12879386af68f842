"""Match jobs and a stopping worker or a failing store, in-process: stop() releases the running and the
queued jobs (not interruptions); a store that cannot be written puts a job back (counted); an upload on a full
disk is UNAVAILABLE with a retry hint; the uploading agency is kept as the job's creator."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from bekal.audience import BNN
from bekal.client.convert import client_message
from bekal.services.errors import ServiceError
from bekal.services.matching import codec
from bekal.services.matching.logic import JobSettings, Matching, MatchSettings, Upload
from bekal.store import StoreUnavailable
from bekal.store.jobs import JobStatus, SQLiteJobStore
from bekal.v1 import matching_pb2
from tests.support.people import applicant
from tests.support.storage import fill_disk

AS_OF = date(2019, 6, 1)
KEY = bytes(range(32))


def upload(request_id: str, n: int = 40) -> Upload:
    clients = [applicant(f"C{i}", "JHT-01", "LAS-SMAW-01") for i in range(n)]
    return codec.upload([
        matching_pb2.UploadCohortRequest(request_id=request_id, settings=codec.settings_pb(
            MatchSettings(AS_OF, seed=7, audience=BNN))),
        matching_pb2.UploadCohortRequest(clients=[client_message(c) for c in clients])])


class HeldAtFirstProgress(SQLiteJobStore):
    """A job store whose first progress report waits until ``matching`` stops: a stop mid-run, every time."""

    matching: Matching

    def __init__(self, path: Path):
        super().__init__(path, secret=KEY)
        self.running = threading.Event()

    def progress(self, job_id: str, owner: str, phase: str, done: int, total: int) -> bool:
        if not self.running.is_set():
            self.running.set()
            assert self.matching._stop.wait(30)
        return super().progress(job_id, owner, phase, done, total)


def test_stop_releases_the_running_job_and_the_queued_ones(rules, tmp_path, caplog):
    store = HeldAtFirstProgress(tmp_path / "jobs.db")
    matching = store.matching = Matching(rules, store, codec.ProtobufJobFormat(), JobSettings(tick_s=60))
    matching.start()
    first = matching.upload(upload("r1"), creator="BNN Jakarta")
    assert store.running.wait(30)
    second = matching.upload(upload("r2"))  # waits in this worker's queue
    caplog.set_level("INFO", "bekal.service")
    matching.stop()
    for job_id in (first.job_id, second.job_id):
        job = store.get(job_id)
        assert (job.status, job.owner, job.attempts) == (JobStatus.QUEUED, "", 0), job
    assert store.get(first.job_id).creator == "BNN Jakarta"
    assert caplog.text.count("released: queued again for any worker") == 2
    # the next worker runs them from the start, as a first attempt
    after = Matching(rules, store, codec.ProtobufJobFormat())
    after._recover(store)
    for job_id in (first.job_id, second.job_id):
        after.run_job(job_id)
        done = store.get(job_id)
        assert done.status is JobStatus.SUCCEEDED and done.attempts == 1
    matching.stop()  # idempotent
    store.close()


class FailsOnce(SQLiteJobStore):
    """A job store whose first progress write fails as on a full disk."""

    failed = False

    def progress(self, job_id: str, owner: str, phase: str, done: int, total: int) -> bool:
        if not self.failed:
            self.failed = True
            raise StoreUnavailable("the job store cannot write now: the disk is full", 30.0)
        return super().progress(job_id, owner, phase, done, total)


def test_a_store_that_cannot_be_written_puts_the_job_back_counted(rules, tmp_path):
    store = FailsOnce(tmp_path / "jobs.db", secret=KEY)
    matching = Matching(rules, store, codec.ProtobufJobFormat())
    job = matching.upload(upload("r1"))
    matching.run_job(job.job_id)
    back = store.get(job.job_id)
    assert (back.status, back.owner, back.attempts) == (JobStatus.QUEUED, "", 1)
    matching._recover(store)
    matching.run_job(job.job_id)
    done = store.get(job.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2
    store.close()


def test_an_upload_on_a_full_disk_is_unavailable_with_a_retry_hint(rules, tmp_path):
    store = SQLiteJobStore(tmp_path / "jobs.db", secret=KEY)
    matching = Matching(rules, store, codec.ProtobufJobFormat())
    fill_disk(store._db)
    with pytest.raises(ServiceError) as err:
        matching.upload(upload("r1", n=400))
    assert err.value.code == "UNAVAILABLE" and err.value.retry_after == 30.0
    assert err.value.message == "the job store is not available now; retry in 30 s"
    assert store._one("SELECT count(*) FROM match_job") == (0,)
    store.close()


class Unreadable(SQLiteJobStore):
    def results(self, job_id: str, offset: int = 0):
        yield from super().results(job_id, offset)
        raise StoreUnavailable("the job store cannot be read now: I/O error", 30.0)


def test_results_the_store_cannot_read_now_are_unavailable(rules, tmp_path):
    store = Unreadable(tmp_path / "jobs.db", secret=KEY)
    matching = Matching(rules, store, codec.ProtobufJobFormat())
    job = matching.upload(upload("r1"))
    matching.run_job(job.job_id)
    with pytest.raises(ServiceError) as err:
        list(matching.results(job.job_id, 0))
    assert err.value.code == "UNAVAILABLE" and err.value.retry_after == 30.0
    store.close()
