"""MatchingService against the real server (a subprocess on a free loopback port, default rules):
Match inline, the job API, errors with field violations, and jobs surviving restarts and crashes."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
import uuid

import grpc
import pytest

from bekal.cli import cohort_read
from bekal.client.convert import course_fill_from, message_from, placement_from, summary_from
from bekal.placement import make_cohort, place
from bekal.services.limits import MAX_INLINE_CLIENTS
from bekal.services.matching import codec
from bekal.store.jobs import NewJob, SQLiteJobStore
from bekal.v1 import eligibility_pb2, facts_pb2, matching_pb2, matching_pb2_grpc
from tests.support.cli import bekal
from tests.support.paths import EXAMPLES, RULES
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import applicant as client
from tests.support.people import pb_date
from tests.support.servers import default_rules_server as Server
from tests.support.servers import rpc_failure

ELIGIBILITY = matching_pb2.MATCH_JOB_PHASE_ELIGIBILITY
SETTINGS = matching_pb2.MatchSettings(as_of_date=pb_date(AS_OF), seed=2019, audience=eligibility_pb2.AUDIENCE_BNN)
SUCCEEDED, FAILED = matching_pb2.MATCH_JOB_STATUS_SUCCEEDED, matching_pb2.MATCH_JOB_STATUS_FAILED


def example_messages():
    clients = cohort_read.read_records(str(EXAMPLES / "cohort.csv"), "client")
    courses = cohort_read.read_records(str(EXAMPLES / "courses.csv"), "course")
    rankings = cohort_read.read_rankings(str(EXAMPLES / "rankings.csv"))
    return ([conv_client(r) for r in clients.records], [message_from(facts_pb2.Course, r) for r in courses.records],
            [matching_pb2.CourseRanking(course_code=c, client_ids=ids) for c, ids in rankings.entries],
            (clients, courses, rankings))


def wait_done(stub, job_id: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stub.GetMatchJob(matching_pb2.GetMatchJobRequest(job_id=job_id), timeout=10).job
        if job.status in (SUCCEEDED, FAILED):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not done after {timeout} s: {job}")


def upload(stub, clients, courses=(), rankings=(), settings=SETTINGS, request_id=None, per_part=7):
    def parts():
        rid = str(uuid.uuid4()) if request_id is None else request_id
        yield matching_pb2.UploadCohortRequest(request_id=rid, settings=settings,
                                               courses=list(courses), rankings=list(rankings))
        for start in range(0, len(clients), per_part):
            yield matching_pb2.UploadCohortRequest(clients=clients[start:start + per_part])

    return stub.UploadCohort(parts(), timeout=60).job


def streamed(stub, job_id: str, offset: int = 0):
    out = []
    for message in stub.StreamPlacements(matching_pb2.StreamPlacementsRequest(job_id=job_id, offset=offset),
                                         timeout=30):
        out.extend(message.placements)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("server"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def stub(server):
    with server.channel() as channel:
        yield matching_pb2_grpc.MatchingServiceStub(channel)


# ------------------------------------------------------------------------------ Match


def test_match_inline_equals_the_library(stub, default_engine):
    clients, courses, rankings, (c_rec, k_rec, r_rec) = example_messages()
    response = stub.Match(matching_pb2.MatchRequest(settings=SETTINGS, clients=clients, courses=courses,
                                                    rankings=rankings), timeout=30)
    local = place(default_engine, make_cohort(c_rec.records, k_rec.records, as_of=AS_OF, seed=2019,
                                      rankings=r_rec.entries))
    assert [p.client_id for p in response.placements] == [c.id for c in clients]
    # compared as the client reads them (a course's pass mark is 60 in the file, 60.0 once sent as a double)
    expected = codec.match_response(local)
    assert [placement_from(p) for p in response.placements] == [placement_from(p) for p in expected.placements]
    assert [course_fill_from(f) for f in response.courses] == [course_fill_from(f) for f in expected.courses]
    assert summary_from(response.summary) == summary_from(expected.summary)
    assert response.summary.placed == 11 and response.summary.ruleset_version.startswith("sha256:")
    minor = next(p for p in response.placements if p.client_id == "BNNK-BJB-2019-0004")
    assert minor.why_not[0].reason == matching_pb2.NOT_PLACED_REASON_INELIGIBLE
    assert minor.why_not[0].reasons[0].rule_id == "age-above-18" and minor.why_not[0].reasons[0].messages[0].text


def test_match_defaults_to_the_catalogue_and_offers_a_training_centres_view(stub):
    clients = [conv_client(client("A", "JHT-01", "LAS-SMAW-01", referrer="bnn")),
               conv_client(client("B", "JHT-01", rehab_stage="outpatient"))]
    response = stub.Match(matching_pb2.MatchRequest(
        settings=matching_pb2.MatchSettings(as_of_date=pb_date(AS_OF), audience=eligibility_pb2.AUDIENCE_BLK),
        clients=clients), timeout=30)
    assert response.summary.courses >= 8  # every catalogue course offered on the date
    a, b = response.placements
    assert a.course_code == "JHT-01" and a.priority_group and a.standing.priority == 10
    assert b.course_code == "" and b.why_not[0].reason == matching_pb2.NOT_PLACED_REASON_WITHHELD
    assert len(b.why_not[0].reasons) == 0  # "still in rehabilitation" is not for a training centre


def conv_client(facts):
    return message_from(facts_pb2.Client, facts)


def test_match_refuses_bad_fields_with_field_violations(stub):
    bad = [conv_client(client("A", "JHT-01", "XYZ")), conv_client(client("A", "JHT-01")),
           facts_pb2.Client(id="C", birth_date=pb_date("1990-02-30"), preferences=["JHT-01"])]
    code, fields, _ = rpc_failure(stub.Match, matching_pb2.MatchRequest(
        settings=matching_pb2.MatchSettings(as_of_date=pb_date("2019-6-31")), clients=bad))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert fields["clients[0].preferences[1]"] == "unknown course 'XYZ'"
    assert fields["clients[1].id"] == "duplicate client id 'A'"
    assert fields["clients[2].birth_date"].startswith("not a real date")
    assert fields["settings.as_of_date"].startswith("not a real date")


def test_match_is_limited_in_size_and_points_to_the_job_api(stub):
    many = [facts_pb2.Client(id=f"C{i}") for i in range(MAX_INLINE_CLIENTS + 1)]
    code, fields, status = rpc_failure(stub.Match, matching_pb2.MatchRequest(clients=many))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "UploadCohort" in fields["clients"]


# ------------------------------------------------------------------------------ jobs


def test_upload_poll_and_stream_a_job(stub):
    clients, courses, rankings, _ = example_messages()
    request_id = str(uuid.uuid4())
    job = upload(stub, clients, courses, rankings, request_id=request_id)
    assert job.job_id and job.clients == 18 and job.courses == 5
    assert job.status in (matching_pb2.MATCH_JOB_STATUS_QUEUED, matching_pb2.MATCH_JOB_STATUS_RUNNING, SUCCEEDED)
    done = wait_done(stub, job.job_id)
    assert done.status == SUCCEEDED and done.phase == matching_pb2.MATCH_JOB_PHASE_DONE and done.attempts == 1
    assert not done.HasField("error")
    assert done.summary.placed == 11 and len(done.course_fills) == 5
    assert done.settings.as_of_date == pb_date(AS_OF) and done.settings.audience == eligibility_pb2.AUDIENCE_BNN
    inline = stub.Match(matching_pb2.MatchRequest(settings=SETTINGS, clients=clients, courses=courses,
                                                  rankings=rankings), timeout=30)
    results = streamed(stub, job.job_id)
    assert list(results) == list(inline.placements)
    assert streamed(stub, job.job_id, offset=15) == results[15:]
    assert streamed(stub, job.job_id, offset=18) == []
    # a retry with the same request id and content is the same job; other content is refused
    assert upload(stub, clients, courses, rankings, request_id=request_id).job_id == job.job_id
    other = matching_pb2.MatchSettings(as_of_date=pb_date(AS_OF), seed=1)
    code, fields, _ = rpc_failure(lambda **kw: upload(stub, clients, courses, rankings, settings=other,
                                                  request_id=request_id))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "already used" in fields["request_id"]


def test_a_bad_upload_creates_no_job(stub):
    clients, courses, _, _ = example_messages()
    clients[4].preferences.append("NOPE")
    code, fields, _ = rpc_failure(lambda **kw: upload(stub, clients, courses))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert fields == {"clients[4].preferences[2]": "unknown course 'NOPE'"}
    code, fields, _ = rpc_failure(lambda **kw: upload(stub, clients[:2], courses, request_id=""))
    assert fields == {"request_id": "required"}


def test_unknown_jobs_are_not_found(stub):
    code, fields, status = rpc_failure(stub.GetMatchJob, matching_pb2.GetMatchJobRequest(job_id="no-such-job"))
    assert code == grpc.StatusCode.NOT_FOUND and "no-such-job" in fields["job_id"]
    code, _, _ = rpc_failure(stub.StreamPlacements, matching_pb2.StreamPlacementsRequest(job_id="no-such-job"))
    assert code == grpc.StatusCode.NOT_FOUND
    code, fields, _ = rpc_failure(stub.GetMatchJob, matching_pb2.GetMatchJobRequest())
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == {"job_id": "required"}


def test_the_cli_on_a_server_writes_what_it_writes_locally(server, tmp_path):
    common = ["match", "--as-of", AS_OF, "--seed", "3", "--no-progress", "--clients", str(EXAMPLES / "cohort.csv"),
              "--courses", str(EXAMPLES / "courses.csv"), "--rankings", str(EXAMPLES / "rankings.csv")]
    remote = bekal(*common, *server.cli_args(), "--out", str(tmp_path / "remote.csv"))
    local = bekal(*common, "--local", "--rules", str(RULES), "--out", str(tmp_path / "local.csv"))
    assert remote.code == 0, remote.err
    assert local.code == 0, local.err
    assert (tmp_path / "remote.csv").read_text() == (tmp_path / "local.csv").read_text()
    assert f"server {server.address}, job " in remote.out
    lines = (EXAMPLES / "cohort.csv").read_text().splitlines()
    lines[2] = lines[2].replace("1990-11-12", "1990-11-31")
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    bad = bekal("match", "--as-of", AS_OF, "--no-progress", "--clients", str(tmp_path / "bad.csv"),
                *server.cli_args(), "--out", str(tmp_path / "o.csv"))
    assert bad.code == 1 and f"{tmp_path / 'bad.csv'}:3:birth_date: not a real date" in bad.err


# ------------------------------------------------------------------------------ restarts and crashes


def big_cohort(n: int):
    codes = ["LAS-SMAW-01", "OTO-MTR-01", "JHT-01", "BOG-01", "KOM-OP-01", "LIS-INST-01", "OTO-MBL-01"]
    return [conv_client(client(f"K{i:05d}", *(codes[(i + k) % 7] for k in range(5)),
                               referrer="bnn" if i % 3 == 0 else "self")) for i in range(n)]


def test_a_finished_job_survives_a_restart_and_a_crashed_one_is_run_again(tmp_path):
    db = tmp_path / "bekal.db"
    first = Server(tmp_path, db=db)
    try:
        with first.channel() as channel:
            stub = matching_pb2_grpc.MatchingServiceStub(channel)
            small = upload(stub, big_cohort(40))
            small_done = wait_done(stub, small.job_id)
            small_results = streamed(stub, small.job_id)
            big = upload(stub, big_cohort(12_000), per_part=3_000)
            deadline = time.monotonic() + 30
            while True:  # crash while the big job is deciding eligibility
                job = stub.GetMatchJob(matching_pb2.GetMatchJobRequest(job_id=big.job_id), timeout=10).job
                if job.phase == ELIGIBILITY and job.progress_done > 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            assert job.status == matching_pb2.MATCH_JOB_STATUS_RUNNING, job
    finally:
        first.crash()

    second = Server(tmp_path, db=db)
    try:
        with second.channel() as channel:
            stub = matching_pb2_grpc.MatchingServiceStub(channel)
            again = stub.GetMatchJob(matching_pb2.GetMatchJobRequest(job_id=small.job_id), timeout=10).job
            assert again == small_done
            assert streamed(stub, small.job_id) == small_results
            resumed = wait_done(stub, big.job_id)
            assert resumed.status == SUCCEEDED and resumed.attempts == 2, resumed
            assert resumed.summary.clients == 12_000 and len(streamed(stub, big.job_id)) == 12_000
        assert "was interrupted (attempt 1); running it again" in second.log()
    finally:
        assert second.stop() == 0, second.log()


def test_a_job_that_keeps_being_interrupted_is_failed_with_the_reason(tmp_path, default_rulebook):
    """Jobs left running by a process that is gone, as a crash leaves them, written straight to the store."""
    db = tmp_path / "bekal.db"
    store = SQLiteJobStore(db)
    catalogue = [codec.course_message(facts) for facts in default_rulebook.courses.values()]
    part = matching_pb2.UploadCohortRequest(request_id="r1", settings=SETTINGS, clients=big_cohort(5),
                                            courses=catalogue)
    owner = f"{socket.gethostname()}:{_dead_pid()}:gone"
    creator = "bnnk-banjarbaru"  # the agency the tests' connections are
    job, _ = store.create(NewJob("r1", "fp", SETTINGS.SerializeToString(), 5, 0, creator),
                          [part.SerializeToString()], owner, 60)
    store.start(job.job_id, owner, 60)
    poisoned, _ = store.create(NewJob("r2", "fp2", SETTINGS.SerializeToString(), 5, 0, creator),
                               [part.SerializeToString()], owner, 60)
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE match_job SET status = 'running', attempts = 3 WHERE job_id = ?", (poisoned.job_id,))
    srv = Server(tmp_path, db=db)
    try:
        with srv.channel() as channel:
            stub = matching_pb2_grpc.MatchingServiceStub(channel)
            recovered = wait_done(stub, job.job_id)
            assert recovered.status == SUCCEEDED and recovered.attempts == 2
            failed = wait_done(stub, poisoned.job_id)
            assert failed.status == FAILED and "interrupted 3 times" in failed.error.message
            code, _, status = rpc_failure(stub.StreamPlacements,
                                      matching_pb2.StreamPlacementsRequest(job_id=poisoned.job_id))
            assert code == grpc.StatusCode.FAILED_PRECONDITION and "interrupted 3 times" in status.message
    finally:
        assert srv.stop() == 0, srv.log()
    with sqlite3.connect(db) as conn:  # the input (client facts) is gone once a job is over
        assert conn.execute("SELECT count(*) FROM match_job_input").fetchone()[0] == 0


def _running_job(stub, job_id: str):
    """Wait until the job is deciding eligibility with some progress made (so a stop lands mid-run)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = stub.GetMatchJob(matching_pb2.GetMatchJobRequest(job_id=job_id), timeout=10).job
        if job.status == matching_pb2.MATCH_JOB_STATUS_RUNNING and job.phase == ELIGIBILITY \
                and job.progress_done > 0:
            return job
        assert job.status not in (SUCCEEDED, FAILED), job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} not running after 60 s")


def _stored(db, job_id: str) -> tuple[str, str, int]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, owner, attempts FROM match_job WHERE job_id = ?", (job_id,)).fetchone()


def test_graceful_restarts_release_a_running_job_and_a_crash_counts(tmp_path):
    """SIGTERM while a job runs releases it (queued, no owner, the attempt not counted): three graceful
    restarts do not fail it. kill -9 leaves it running, and the attempt counts (three of those fail it:
    test_a_job_that_keeps_being_interrupted_is_failed_with_the_reason)."""
    db = tmp_path / "bekal.db"
    job_id = ""
    for _restart in range(3):
        srv = Server(tmp_path, db=db)
        try:
            with srv.channel() as channel:
                stub = matching_pb2_grpc.MatchingServiceStub(channel)
                job_id = job_id or upload(stub, big_cohort(12_000), per_part=3_000).job_id
                _running_job(stub, job_id)
        finally:
            assert srv.stop() == 0, srv.log()
        assert "released: queued again" in srv.log(), srv.log()
        assert _stored(db, job_id) == ("queued", "", 0)  # not an interruption
    srv = Server(tmp_path, db=db)
    try:
        with srv.channel() as channel:
            stub = matching_pb2_grpc.MatchingServiceStub(channel)
            done = wait_done(stub, job_id)
            assert done.status == SUCCEEDED and done.attempts == 1, done
            assert done.summary.clients == 12_000 and len(streamed(stub, job_id)) == 12_000
            crashed_id = upload(stub, big_cohort(12_000), per_part=3_000).job_id
            _running_job(stub, crashed_id)
    finally:
        srv.crash()
    status, owner, attempts = _stored(db, crashed_id)
    assert (status, attempts) == ("running", 1) and owner  # taken over as interrupted at the next start


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_exotic_numbers_never_place_anyone_by_accident(stub, server, tmp_path):
    """The reported case through Match: a score of 0.00001 among dropped-out minors placed them all.
    Now it is decided like any score; NaN and 1e308 are field violations; a date the rules do not
    cover is FAILED_PRECONDITION (and exit 5 for `bekal match --server`)."""
    minors = [conv_client(client(f"M{i}", "JHT-01", birth_date="2005-01-01", rehab_stage="dropped_out",
                                 written_test_score=5, interview_score=5, consent_to_share=False))
              for i in range(5)]
    tiny = conv_client(client("TINY", "JHT-01", interview_score=0.00001))
    response = stub.Match(matching_pb2.MatchRequest(settings=SETTINGS, clients=[tiny, *minors]), timeout=30)
    assert all(not p.course_code for p in response.placements)
    for value, message in ((float("nan"), "expected a finite number, got nan"),
                           (1e308, "must be between 0 and 100, got 1e+308")):
        bad = conv_client(client("BAD", "JHT-01", interview_score=value))
        code, fields, _ = rpc_failure(stub.Match, matching_pb2.MatchRequest(settings=SETTINGS, clients=[bad, *minors]))
        assert code is grpc.StatusCode.INVALID_ARGUMENT and fields == {"clients[0].interview_score": message}
    early = matching_pb2.MatchSettings(as_of_date=pb_date("2015-06-01"), seed=1)
    undated = conv_client(client("E", "JHT-01", rehab_completed_date=None))
    code, fields, _ = rpc_failure(stub.Match, matching_pb2.MatchRequest(settings=early, clients=[undated]))
    assert code is grpc.StatusCode.FAILED_PRECONDITION and "settings.as_of_date" in fields
    done = bekal("match", "--as-of", "2015-06-01", "--no-progress", "--clients", str(EXAMPLES / "cohort.csv"),
                 "--courses", str(EXAMPLES / "courses.csv"), *server.cli_args(),
                 "--out", str(tmp_path / "o.csv"))
    assert done.code == 5 and "not in force on 2015-06-01" in done.err and not (tmp_path / "o.csv").exists()


def test_a_job_is_an_aip151_operation_any_operations_client_can_wait_for(server, stub):
    """google.longrunning.Operations: WaitOperation until done; metadata and response are the MatchJob, the
    same as GetMatchJob; a job of another agency is NOT_FOUND; list/cancel/delete are UNIMPLEMENTED."""
    from google.longrunning import operations_proto_pb2 as ops
    from google.longrunning.operations_pb2_grpc import OperationsStub  # the package's ready client
    from google.protobuf import duration_pb2

    clients, courses, rankings, _ = example_messages()
    job = upload(stub, clients, courses, rankings)
    assert job.operation_name == f"operations/{job.job_id}"
    with server.channel() as channel, server.channel(as_="blk-kalsel") as other:
        operations = OperationsStub(channel)
        op = operations.WaitOperation(ops.WaitOperationRequest(
            name=job.operation_name, timeout=duration_pb2.Duration(seconds=30)), timeout=60)
        assert op.done and op.name == job.operation_name and not op.HasField("error")
        final, meta = matching_pb2.MatchJob(), matching_pb2.MatchJob()
        assert op.response.Unpack(final) and op.metadata.Unpack(meta)
        assert final.status == SUCCEEDED and final == stub.GetMatchJob(
            matching_pb2.GetMatchJobRequest(job_id=job.job_id), timeout=10).job
        assert operations.GetOperation(ops.GetOperationRequest(name=job.operation_name), timeout=10).done
        code, _, _ = rpc_failure(OperationsStub(other).GetOperation, ops.GetOperationRequest(name=job.operation_name))
        assert code == grpc.StatusCode.NOT_FOUND
        code, fields, _ = rpc_failure(operations.GetOperation, ops.GetOperationRequest(name=job.job_id))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "name" in fields
        code, _, _ = rpc_failure(operations.CancelOperation, ops.CancelOperationRequest(name=job.operation_name))
        assert code == grpc.StatusCode.UNIMPLEMENTED
