"""MonitoringService on a real server: alerts reach the referring office exactly once, across reconnects,
restarts and ``kill -9``; bad input is named field by field; nothing acknowledged is lost or duplicated."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from datetime import date, timedelta

import grpc
import pytest

from bekal.client import BekalError, connect
from bekal.v1 import monitoring_pb2, monitoring_pb2_grpc
from tests.support.paths import RULES, copy_of
from tests.support.people import INTAKE_DATE, applicant
from tests.support.servers import Server, as_agency, checked_eligible, free_port, rpc_failure

START = date(2019, 7, 1)  # LAS-01's start in the service tests' catalogue
BLK = "blk-kalsel"


def absences(eid: str, prefix: str, n: int = 3, first: date = START) -> list[dict]:
    return [{"record_id": f"{prefix}-{k}", "enrolment_id": eid, "session_date": first + timedelta(days=k),
             "status": "absent"} for k in range(n)]


def client_for(server: Server, as_: str = "bnnk-banjarbaru"):
    return connect(server.address, timeout=30, retries=None, give_up_after=60, backoff=0.05, max_backoff=0.5,
                   **as_agency(as_))


def test_enrol_record_and_alert_over_grpc(start_server, rules_dir):
    server = start_server(rules_dir)
    with server.connect() as bnn, server.connect(as_=BLK) as blk, server.connect(as_="auditor") as auditor:
        with pytest.raises(BekalError) as exc:  # no eligibility check yet: nothing proves the seat
            bnn.create_enrolments(enrolments=[{"client_id": "G-1", "course_code": "LAS-01"}])
        assert (exc.value.code, exc.value.reason) == ("FAILED_PRECONDITION", "ELIGIBILITY_NOT_PROVEN")
        assert [v.field for v in exc.value.field_violations] == ["enrolments[0]"] and not list(blk.enrolments("LAS-01"))
        checked_eligible(bnn, "G-1", "G-2", "G-3")
        rows = bnn.create_enrolments(enrolments=[{"client_id": "G-1", "course_code": "LAS-01"},
                                                 {"client_id": "G-2", "course_code": "LAS-01", "status": "waiting"}])
        assert [(r.status, r.waiting_position, r.referring_office) for r in rows] == [
            ("enrolled", 0, "BNNK Banjarbaru"), ("waiting", 1, "BNNK Banjarbaru")]
        seen_by_blk = list(blk.enrolments("LAS-01"))
        assert [e.client_id for e in seen_by_blk] == ["G-1", "G-2"] and {e.referring_office for e in seen_by_blk} == {
            ""}
        eid = rows[0].enrolment_id
        done = blk.record_training(attendance=absences(eid, "g"), conduct=[
            {"record_id": "c-1", "enrolment_id": eid, "assessment_date": START, "rating": 2, "note": "sulky"}])
        assert (done.recorded, done.duplicates, done.alerts_raised) == (4, 0, 1)
        assert blk.record_training(attendance=absences(eid, "g")).duplicates == 3
        alerts = list(bnn.alerts())
        assert [(a.rule_id, a.severity) for a in alerts] == [("three-unexcused-absences", "alert")]
        assert "3 sesi berturut-turut" in alerts[0].message_id and alerts[0].source.startswith("\u201cKhususnya")
        assert [a.alert_id for a in auditor.alerts()] == [alerts[0].alert_id]
        with pytest.raises(BekalError) as exc:
            list(blk.alerts())
        assert exc.value.code == "PERMISSION_DENIED"
        record = bnn.enrolment_record(eid)
        assert [c.note for c in record.conduct] == [""]  # not marked shareable
        assert [a.alert_id for a in record.alerts] == [alerts[0].alert_id]
        acked = bnn.acknowledge_alert(alerts[0].alert_id)
        assert acked.acknowledge_time and list(bnn.alerts(unacknowledged_only=True)) == []
        more = bnn.create_enrolments(enrolments=[{"client_id": "G-3", "course_code": "LAS-01"}])[0].enrolment_id
        blk.record_training(attendance=absences(more, "h"))
        ended, promoted = bnn.end_enrolment(eid, "dropped_out", START + timedelta(days=5), reason="left the city")
        assert ended.status == "dropped_out" and promoted is not None and promoted.client_id == "G-2"


    with server.channel() as channel:  # the raw stream: only what follows the cursor, then the end
        stub = monitoring_pb2_grpc.MonitoringServiceStub(channel)
        every = [r.alert.sequence for r in stub.WatchAlerts(monitoring_pb2.WatchAlertsRequest(), timeout=10)]
        assert len(every) == 2 and every == sorted(every)
        rest = [r.alert.sequence for r in stub.WatchAlerts(
            monitoring_pb2.WatchAlertsRequest(after_sequence=every[0]), timeout=10)]
        assert rest == every[1:]


def test_bad_records_are_named_field_by_field_and_nothing_is_written(start_server, rules_dir):
    server = start_server(rules_dir)
    with server.connect() as bnn:
        checked_eligible(bnn, "B-1")
        eid = bnn.create_enrolments(enrolments=[{"client_id": "B-1", "course_code": "LAS-01"}])[0].enrolment_id
    with server.channel(as_=BLK) as channel:
        stub = monitoring_pb2_grpc.MonitoringServiceStub(channel)
        day = {"year": 2019, "month": 7, "day": 2}
        request = monitoring_pb2.RecordTrainingRequest(
            attendance=[monitoring_pb2.Attendance(record_id="ok", enrolment_id=eid, session_date=day,
                                                  status=monitoring_pb2.ATTENDANCE_STATUS_PRESENT),
                        monitoring_pb2.Attendance(record_id="x", enrolment_id=eid,
                                                  session_date={"year": 2099, "month": 1, "day": 1},
                                                  status=monitoring_pb2.ATTENDANCE_STATUS_PRESENT)],
            conduct=[monitoring_pb2.ConductAssessment(record_id="c", enrolment_id=eid, assessment_date=day,
                                                      rating=7)])
        code, fields, _ = rpc_failure(stub.RecordTraining, request)
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert "1 to 5, got 7" in fields["conduct[0].rating"]
        request = monitoring_pb2.RecordTrainingRequest(attendance=[
            request.attendance[0], monitoring_pb2.Attendance(record_id="y", enrolment_id="enr-unknown",
                                                             session_date=day,
                                                             status=monitoring_pb2.ATTENDANCE_STATUS_ABSENT),
            monitoring_pb2.Attendance(record_id="z", enrolment_id=eid, session_date={"year": 2019, "month": 6,
                                                                                     "day": 30},
                                      status=monitoring_pb2.ATTENDANCE_STATUS_ABSENT)])
        code, fields, _ = rpc_failure(stub.RecordTraining, request)
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert "unknown enrolment" in fields["attendance[1].enrolment_id"]
        assert "before the course start" in fields["attendance[2].session_date"]
    with server.connect() as bnn:
        assert len(bnn.enrolment_record(eid).attendance) == 0  # the good record of the refused batch neither


def _watch(server_address: str, got: list, expected: int, stop: threading.Event, errors: list,
           disconnect_after: int = 0) -> None:
    """A BNN office watching from its cursor; optionally it hangs up after some alerts and resumes."""
    cursor = 0
    try:
        while len(got) < expected and not stop.is_set():
            with connect(server_address, timeout=30, retries=None, give_up_after=90, backoff=0.05,
                         max_backoff=0.5, **as_agency()) as api:
                for alert in api.watch_alerts(after=cursor):
                    got.append((alert.sequence, alert.alert_id))
                    cursor = alert.sequence
                    if len(got) >= expected or stop.is_set():
                        break
                    if disconnect_after and len(got) % disconnect_after == 0:
                        break  # hang up; the next connection resumes from the cursor
    except Exception as exc:  # reported by the test
        errors.append(exc)


def test_watch_alerts_sees_every_alert_exactly_once_across_reconnects_and_restarts(tmp_path):
    rules = copy_of(RULES, tmp_path)
    port, db = free_port(), tmp_path / "bekal.db"
    server = Server(tmp_path, rules, port=port, db=db)
    server.wait_serving()
    n = 24
    with client_for(server) as bnn:
        checked_eligible(bnn, *[f"W-{i:02d}" for i in range(n)], course="LAS-SMAW-01")
        eids = [e.enrolment_id for e in bnn.create_enrolments(
            enrolments=[{"client_id": f"W-{i:02d}", "course_code": "LAS-SMAW-01"} for i in range(n)],
            request_id="watch-enrol")]
    got: list = []
    errors: list = []
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(server.address, got, n, stop, errors, 5))
    watcher.start()
    try:
        for part, restart in ((range(0, 8), "stop"), (range(8, 16), "crash"), (range(16, 24), None)):
            with client_for(server, BLK) as blk:
                for i in part:
                    assert blk.record_training(attendance=absences(eids[i], f"w{i}")).alerts_raised == 1
            time.sleep(0.3)
            if restart == "stop":
                assert server.stop() == 0, server.log()
            elif restart == "crash":
                server.crash()
            if restart:
                server = Server(tmp_path, rules, port=port, db=db)
                server.wait_serving()
        watcher.join(60)
    finally:
        stop.set()
        watcher.join(10)
        server.stop()
    assert not errors, errors
    ids = [a for _, a in got]
    assert len(ids) == n and len(set(ids)) == n, got
    assert [s for s, _ in got] == sorted(s for s, _ in got)
    with closing(sqlite3.connect(db)) as conn:
        stored = {r[0] for r in conn.execute("SELECT alert_id FROM alert")}
    assert set(ids) == stored


def test_kill_9_during_attendance_ingestion_loses_nothing_acknowledged_and_duplicates_nothing(tmp_path):
    rules = copy_of(RULES, tmp_path)
    port, db = free_port(), tmp_path / "bekal.db"
    server = Server(tmp_path, rules, port=port, db=db)
    server.wait_serving()
    n, per = 60, 40  # 60 enrolments, 40 sessions each: absent, absent, absent, then present
    with client_for(server) as bnn:
        checked_eligible(bnn, *[f"K-{i:02d}" for i in range(n)], course="LAS-SMAW-01")
        eids = [e.enrolment_id for e in bnn.create_enrolments(
            enrolments=[{"client_id": f"K-{i:02d}", "course_code": "LAS-SMAW-01"} for i in range(n)],
            request_id="kill-enrol")]
    batches = [[{"record_id": f"k{i}-{d}", "enrolment_id": eid, "session_date": START + timedelta(days=d),
                 "status": "absent" if d < 3 else "present"} for i, eid in enumerate(eids)] for d in range(per)]
    acknowledged: list[int] = []
    errors: list = []

    def ingest():
        try:
            with connect(f"127.0.0.1:{port}", timeout=120, retries=None, give_up_after=90, backoff=0.05,
                         max_backoff=0.5, **as_agency(BLK)) as blk:
                for k, batch in enumerate(batches):
                    blk.record_training(attendance=batch)  # retried on UNAVAILABLE with the same record ids
                    acknowledged.append(k)
        except Exception as exc:
            errors.append(exc)

    writer = threading.Thread(target=ingest)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(acknowledged) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.crash()  # kill -9 in the middle of the stream of batches
        with closing(sqlite3.connect(db)) as conn:
            after_crash = conn.execute("SELECT count(*) FROM attendance").fetchone()[0]
        assert after_crash >= 5 * n  # every acknowledged batch is on disk
        server = Server(tmp_path, rules, port=port, db=db)
        writer.join(120)
    finally:
        server.stop()
    assert not errors and len(acknowledged) == per, errors
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM attendance").fetchone()[0] == n * per
        alerts = conn.execute("SELECT enrolment_id, rule_id FROM alert").fetchall()
    # each enrolment: the run of three absences, and the rate under 80% after five sessions; each once
    assert sorted(alerts) == sorted((eid, rule) for eid in eids
                                    for rule in ("three-unexcused-absences", "attendance-below-80"))


def test_kill_9_during_a_matching_job_then_enrolments_from_it_exactly_once(tmp_path):
    rules = copy_of(RULES, tmp_path)
    port, db = free_port(), tmp_path / "bekal.db"
    server = Server(tmp_path, rules, port=port, db=db)
    server.wait_serving()
    codes = ["LAS-SMAW-01", "OTO-MTR-01", "JHT-01"]
    cohort = [applicant(f"M{i:05d}", codes[i % 3], codes[(i + 1) % 3]) for i in range(6000)]
    try:
        with client_for(server) as bnn:
            job = bnn.upload_cohort(cohort, as_of=INTAKE_DATE, seed=2019, request_id="kill-job")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                state = bnn.get_match_job(job.job_id)
                if state.done or state.progress_done > 0:
                    break
                time.sleep(0.01)
        server.crash()
        server = Server(tmp_path, rules, port=port, db=db)
        with client_for(server) as bnn:
            again = bnn.upload_cohort(cohort, as_of=INTAKE_DATE, seed=2019, request_id="kill-job")
            assert again.job_id == job.job_id  # the client's retry finds the acknowledged job
            done = bnn.wait_for_job(job.job_id, timeout=120)
            first = bnn.create_enrolments(job_id=job.job_id, request_id="enrol-from-job")
            retry = bnn.create_enrolments(job_id=job.job_id, request_id="enrol-from-job")
            assert [e.enrolment_id for e in retry] == [e.enrolment_id for e in first]
            placed = [e for e in first if e.status == "enrolled"]
            assert len(placed) == done.summary.placed
            listed = list(bnn.enrolments())
            assert len(listed) == len(first) == len({e.enrolment_id for e in listed})
            for code in codes:
                waiting = [e.waiting_position for e in listed if e.course_code == code and e.status == "waiting"]
                assert waiting == list(range(1, len(waiting) + 1))  # one ordered list per course
    finally:
        assert server.stop() == 0, server.log()


def _wait_for(server: Server, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log():
        assert time.monotonic() < deadline, f"{text!r} not in the log:\n{server.log()}"
        time.sleep(0.05)


def test_a_monitoring_change_goes_through_the_reload_gate(start_server, rules_dir):
    server = start_server(rules_dir)
    path = rules_dir / "monitoring.rules.yaml"
    original = path.read_text()
    with server.connect() as bnn:
        checked_eligible(bnn, *[f"R-{i}" for i in range(3)])
        eids = [e.enrolment_id for e in bnn.create_enrolments(
            enrolments=[{"client_id": f"R-{i}", "course_code": "LAS-01"} for i in range(3)])]
    path.write_text(original.replace("enrolment.low_conduct_ratings >= 2", "enrolment.low_ratings >= 2"))
    _wait_for(server, "monitoring.rules.yaml:41:11: unknown fact 'enrolment.low_ratings'")
    # a threshold whose own tests now fail is refused too: 90% makes "an excused session ..." warn
    path.write_text(original.replace("attendance_rate < 80", "attendance_rate < 90"))
    _wait_for(server, "rule test fails: an excused session neither counts nor breaks the run")
    with server.connect(as_=BLK) as blk:
        assert blk.record_training(attendance=absences(eids[0], "x")).alerts_raised == 1
    with server.connect() as bnn:
        first = [a for a in bnn.alerts()]
    assert [a.rule_id for a in first] == ["three-unexcused-absences"]
    # a change with its tests: three absences become two, live at once
    tests = rules_dir / "monitoring.test.yaml"
    tests.write_text(tests.read_text().replace(
        "  - name: an excused session neither counts nor breaks the run\n    start: 2019-07-01\n"
        "    attendance: [present, absent, excused, absent,", "  - name: an excused session neither counts nor "
        "breaks the run\n    start: 2019-07-01\n    attendance: [present, absent, excused, present,"))
    path.write_text(original.replace("consecutive_unexcused_absences >= 3", "consecutive_unexcused_absences >= 2"))
    _wait_for(server, "rules changed on disk: now serving version")
    with server.connect(as_=BLK) as blk:
        deadline = time.monotonic() + 10
        raised = blk.record_training(attendance=absences(eids[1], "y", n=2)).alerts_raised
        while raised == 0 and time.monotonic() < deadline:  # the reload reaches the monitoring rules at once
            time.sleep(0.1)
            raised = blk.record_training(attendance=absences(eids[2], f"z{time.monotonic_ns()}", n=2)).alerts_raised
    with server.connect() as bnn:
        later = [a for a in bnn.alerts()][1:]
    assert later and later[0].rule_id == "three-unexcused-absences" and later[0].ruleset_version != first[
        0].ruleset_version
