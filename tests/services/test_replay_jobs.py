"""Replaying a matching job: kept (input sealed, rules version by content hash) as it succeeds, placed
again identically after a rule change, and no longer replayable once a client of it is erased --
while that client's neighbours' own checks still replay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bekal.access import Principal, Role
from bekal.audience import BNN
from bekal.client.convert import client_message
from bekal.services.errors import ServiceError
from bekal.services.matching import codec
from bekal.services.matching.logic import Matching, MatchSettings, Upload
from bekal.services.replay.logic import Replayer
from bekal.services.snapshots import ServedRules
from bekal.store import SQLiteDecisionLog, SQLiteJobStore
from bekal.store.jobs import JobStatus
from bekal.v1 import matching_pb2
from tests.support.paths import RULES, copy_of
from tests.support.people import applicant

AS_OF = date(2019, 6, 1)
BNNK = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")
BLK = Principal("blk-kalsel", Role.TRAINING_PROVIDER, provider="BLK Provinsi Kalsel")
AUDITOR = Principal("auditor", Role.AUDITOR)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return copy_of(RULES, tmp_path)


@pytest.fixture
def setup(rules_dir: Path, tmp_path: Path) -> Iterator[tuple[ServedRules, Matching, Replayer, SQLiteDecisionLog]]:
    rules = ServedRules(rules_dir)
    rules.reload()
    log = SQLiteDecisionLog(tmp_path / "bekal.db")
    jobs = SQLiteJobStore(tmp_path / "bekal.db")
    matching = Matching(rules, jobs, codec.ProtobufJobFormat(), replay_log=log)  # the tests run the jobs
    replayer = Replayer(log, rules).with_jobs(matching)
    yield rules, matching, replayer, log
    replayer.close()
    jobs.close()
    log.close()
    rules.close()


def upload(request_id: str, clients: list[dict]) -> Upload:
    parts = [matching_pb2.UploadCohortRequest(request_id=request_id, settings=codec.settings_pb(
        MatchSettings(AS_OF, seed=2019, audience=BNN))),
        matching_pb2.UploadCohortRequest(clients=[client_message(c) for c in clients])]
    return codec.upload(parts)


def test_a_job_replays_identically_after_a_rule_change(setup, rules_dir: Path):
    rules, matching, replayer, log = setup
    clients = [applicant(f"C{i:02d}", "JHT-01", "LAS-SMAW-01", referrer="bnn" if i % 3 else "self")
               for i in range(30)]
    job = matching.upload(upload("job-1", clients), creator="bnnk-banjarbaru")
    matching.run_job(job.job_id)
    assert matching.get(job.job_id).status is JobStatus.SUCCEEDED
    first = replayer.replay_job(job.job_id, BNNK)
    assert first.identical and len(first.replayed) == 30
    placed_before = dict(first.replayed)
    assert "JHT-01" in placed_before.values()

    courses = rules_dir / "courses.yaml"  # the change: the sewing course keeps 3 seats (its reserved ones)
    text = courses.read_text()
    start = text.index("code: JHT-01")
    seats = text.index("seats:", start)
    end = text.index("\n", seats)
    courses.write_text(text[:seats] + "seats: 3" + text[end:])
    assert rules.reload().changed
    again = matching.upload(upload("job-2", clients), creator="bnnk-banjarbaru")
    matching.run_job(again.job_id)
    today = replayer.replay_job(again.job_id, AUDITOR)
    assert list(dict(today.replayed).values()).count("JHT-01") == 3  # today's rules place differently ...
    replay = replayer.replay_job(job.job_id, AUDITOR)
    assert replay.identical and dict(replay.replayed) == placed_before  # ... the job replays as it ran
    assert replay.job.ruleset_version != today.job.ruleset_version

    with pytest.raises(ServiceError) as err:  # another agency: as if there were no such job
        replayer.replay_job(job.job_id, BLK)
    assert err.value.code == "NOT_FOUND"


def test_erasing_one_client_ends_the_replay_of_the_jobs_they_were_in(setup):
    _rules, matching, replayer, log = setup
    clients = [applicant(f"C{i:02d}", "JHT-01") for i in range(5)]
    with_c1 = matching.upload(upload("with", clients), creator="bnnk-banjarbaru")
    without = matching.upload(upload("without", clients[2:]), creator="bnnk-banjarbaru")
    for job in (with_c1, without):
        matching.run_job(job.job_id)
    assert replayer.erase("C01", AUDITOR).records == 1  # the one job's input: no single check of C01 exists
    with pytest.raises(ServiceError) as err:
        replayer.replay_job(with_c1.job_id, AUDITOR)
    assert (err.value.code, err.value.reason) == ("FAILED_PRECONDITION", "FACTS_NOT_KEPT")
    assert "erased" in err.value.message
    assert replayer.replay_job(without.job_id, AUDITOR).identical  # a job without C01 is untouched
    kept = log.job(with_c1.job_id)
    assert kept is not None and not kept.sealed and kept.parts == () and kept.ruleset_version


def test_the_replay_record_is_that_of_the_attempt_that_finished(tmp_path: Path):
    """An attempt keeps its job before acknowledging it; one that then loses the job to another worker
    has left its record, perhaps under other rules. The attempt the job store kept confirms its own
    (finished=True): it replaces a record of another version, never an erased one, and a late record of
    the losing attempt changes nothing."""
    from dataclasses import replace

    from bekal.store.decisionlog import LoggedJob

    log = SQLiteDecisionLog(tmp_path / "bekal.db")
    try:
        lost = LoggedJob("job-1", "req-1", "bnnk-banjarbaru", "sha256:aaaa", "2019-06-01", b"s", (b"p",),
                         (("C1", "JHT-01"), ("C2", "")))
        won = replace(lost, ruleset_version="sha256:bbbb", placed=(("C1", ""), ("C2", "JHT-01")))
        log.record_job(lost, ["C1", "C2"])
        log.record_job(won, ["C1", "C2"])  # kept before acknowledging: the first record stands
        assert log.job("job-1").ruleset_version == "sha256:aaaa"
        log.record_job(won, ["C1", "C2"], finished=True)
        kept = log.job("job-1")
        assert (kept.ruleset_version, kept.placed, kept.parts) == ("sha256:bbbb", won.placed, (b"p",))
        log.record_job(lost, ["C1", "C2"])  # the losing attempt, late
        assert log.job("job-1").ruleset_version == "sha256:bbbb"
        log.record_job(won, ["C1", "C2"], finished=True)  # the same again: nothing changes
        assert log.job("job-1").placed == won.placed
        assert log.erase_client("C1", "auditor") == 1
        log.record_job(lost, ["C1", "C2"], finished=True)  # nothing erased comes back
        gone = log.job("job-1")
        assert not gone.sealed and gone.parts == () and gone.ruleset_version == "sha256:bbbb"
    finally:
        log.close()


def test_a_finished_job_confirms_its_replay_record_after_saving(setup):
    _rules, matching, _replayer, log = setup
    calls: list[tuple[str, bool]] = []
    real = log.record_job

    def spy(job, clients, *, finished=False):
        calls.append((job.job_id, finished))
        real(job, clients, finished=finished)

    log.record_job = spy  # type: ignore[method-assign]
    job = matching.upload(upload("job-c", [applicant("C01", "JHT-01")]), creator="bnnk-banjarbaru")
    matching.run_job(job.job_id)
    assert matching.get(job.job_id).status is JobStatus.SUCCEEDED
    assert calls == [(job.job_id, False), (job.job_id, True)]
