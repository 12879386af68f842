"""Monitoring's logic in-process: enrolments and waiting lists, bad input, idempotent retries, who sees what."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from bekal.access import Principal, Role
from bekal.monitoring.rules import load_monitoring_rules
from bekal.services.errors import ServiceError
from bekal.services.monitoring import codec
from bekal.services.monitoring.logic import (
    PROOF_DAYS,
    AlertQuery,
    Checked,
    DirectEnrolment,
    EndRequest,
    EnrolmentsRequest,
    JobPlacement,
    ListQuery,
    Monitoring,
)
from bekal.store.monitoring import AttendanceRow, Batch, ConductRow, OutcomeRow, SQLiteMonitoringStore
from bekal.v1 import monitoring_pb2
from tests.support.paths import RULES

TODAY = date(2019, 9, 30)
START = date(2019, 7, 1)
BNN = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")
OTHER_BNN = Principal("bnnk-banjar", Role.REFERRER, office="BNNK Banjar")
BLK = Principal("blk-kalsel", Role.TRAINING_PROVIDER, provider="BLK Provinsi Kalsel")
OTHER_BLK = Principal("blk-other", Role.TRAINING_PROVIDER, provider="BLK Lain")
AUDITOR = Principal("auditor", Role.AUDITOR)
COURSES = {"LAS-SMAW-01": {"code": "LAS-SMAW-01", "blk": "BLK Provinsi Kalsel", "seats": 1, "start_date": START},
           "JHT-01": {"code": "JHT-01", "blk": "BLK Provinsi Kalsel", "seats": 1, "start_date": START}}


def proven(client_id: str, caller: str) -> list[Checked]:
    """The decision log as the monitoring tests assume it: BNNK Banjarbaru checked every client
    ELIGIBLE for every course as of the courses' start; nobody else checked anyone."""
    return [Checked(code, "ELIGIBLE", START) for code in COURSES] if caller == BNN.name else []


@pytest.fixture
def logged():
    """(client id, office) -> the checks the decision log holds, for a test to write; others: :func:`proven`."""
    return {}


@pytest.fixture
def mon(logged):
    store = SQLiteMonitoringStore(":memory:")
    placements = {"job-1": [JobPlacement("C-1", "LAS-SMAW-01"),
                            JobPlacement("C-2", "JHT-01", [("LAS-SMAW-01", (float("inf"), -10.0, 3.0))]),
                            JobPlacement("C-3", "", [("LAS-SMAW-01", (float("inf"), -10.0, 1.0))]),
                            JobPlacement("C-4", "", [("LAS-SMAW-01", (float("inf"), 0.0, 0.0))])]}

    def job(job_id, viewer):
        if job_id not in placements or viewer != BNN.name:
            raise ServiceError("NOT_FOUND", f"unknown job {job_id}")
        return placements[job_id]

    m = Monitoring(store, lambda: COURSES, job, today=lambda: TODAY,
                   checks=lambda cid, caller: logged.get((cid, caller)) or proven(cid, caller))
    m.use_rules(load_monitoring_rules(RULES))
    yield m
    store.close()


def enrol(mon, *clients, course="LAS-SMAW-01", request_id="req-1"):
    return mon.create_enrolments(EnrolmentsRequest(request_id, direct=[DirectEnrolment(c, course, None)
                                                                       for c in clients]), BNN)


def sessions(eid, statuses, first=START, prefix="a"):
    return [AttendanceRow(f"{prefix}{k}", eid, first + timedelta(days=k), s) for k, s in enumerate(statuses)]


def violations(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return dict(exc.value.violations)


def test_a_job_gives_the_admitted_and_the_ordered_waiting_list(mon):
    rows = mon.create_enrolments(EnrolmentsRequest("from-job", job_id="job-1"), BNN)
    las = mon.list_enrolments(ListQuery("LAS-SMAW-01"), BNN).items
    assert [(r.client_id, r.status, r.waiting_position) for r in las] == [
        ("C-1", "enrolled", 0), ("C-3", "waiting", 1), ("C-2", "waiting", 2), ("C-4", "waiting", 3)]
    assert {r.referring_office for r in rows} == {"BNNK Banjarbaru"}
    assert all(r.start_date == START and r.job_id == "job-1" for r in rows)
    again = mon.create_enrolments(EnrolmentsRequest("from-job", job_id="job-1"), BNN)
    assert again == rows  # a retry creates nothing twice
    with pytest.raises(ServiceError) as exc:
        mon.create_enrolments(EnrolmentsRequest("from-job-2", job_id="job-1"), OTHER_BNN)
    assert exc.value.code == "NOT_FOUND"


def test_a_dropped_seat_goes_to_the_first_still_waiting(mon):
    mon.create_enrolments(EnrolmentsRequest("from-job", job_id="job-1"), BNN)
    first = mon.list_enrolments(ListQuery("LAS-SMAW-01"), BNN).items[0]
    ended = mon.end_enrolment(EndRequest(first.enrolment_id, "dropped_out", date(2019, 7, 20), "moved away", True),
                              BLK)
    # C-3 waits first; C-2 holds a seat in JHT-01 and is behind anyway
    assert ended.promoted is not None and ended.promoted.client_id == "C-3"
    assert ended.promoted.start_date == date(2019, 7, 21) and ended.enrolment.end_reason == "moved away"
    assert ended.enrolment.referring_office == ""  # the training centre's view
    c3 = ended.promoted
    mon.end_enrolment(EndRequest(c3.enrolment_id, "dropped_out", date(2019, 7, 25), "ill", False), BNN)
    las = {r.client_id: r for r in mon.list_enrolments(ListQuery("LAS-SMAW-01"), BNN).items}
    assert las["C-2"].status == "withdrawn"  # seated elsewhere: leaves the list
    assert las["C-4"].status == "enrolled"
    blk = {r.client_id: r for r in mon.list_enrolments(ListQuery("LAS-SMAW-01"), BLK).items}
    assert blk["C-3"].end_reason == "" and blk["C-1"].end_reason == "moved away"  # shareable only


def test_three_absences_raise_one_alert_for_the_referring_office_only(mon):
    eid = enrol(mon, "C-1")[0].enrolment_id
    result = mon.record(Batch(sessions(eid, ["present", "absent", "absent", "absent"])), BLK)
    assert [a.rule_id for a in result.alerts] == ["three-unexcused-absences"]
    again = mon.record(Batch(sessions(eid, ["present", "absent", "absent", "absent"])), BLK)
    assert (again.recorded, again.duplicates, again.alerts) == (0, 4, [])
    more = mon.record(Batch(sessions(eid, ["absent"], START + timedelta(days=4), "b")), BLK)
    assert [a.rule_id for a in more.alerts] == ["attendance-below-80"]  # the fifth session; the run alerted once
    assert [a.rule_id for a in mon.list_alerts(AlertQuery(), BNN).items] == ["three-unexcused-absences",
                                                                            "attendance-below-80"]
    assert mon.list_alerts(AlertQuery(), OTHER_BNN).items == []
    assert len(mon.list_alerts(AlertQuery(), AUDITOR).items) == 2
    with pytest.raises(ServiceError) as exc:
        mon.list_alerts(AlertQuery(), BLK)
    assert exc.value.code == "PERMISSION_DENIED"
    alert = mon.list_alerts(AlertQuery(), BNN).items[0]
    with pytest.raises(ServiceError):
        mon.acknowledge(alert.alert_id, OTHER_BNN)
    acked = mon.acknowledge(alert.alert_id, BNN)
    assert acked.acknowledged_at and acked.acknowledged_by == BNN.name
    assert [a.rule_id for a in mon.list_alerts(AlertQuery(unacknowledged_only=True), BNN).items] == [
        "attendance-below-80"]
    assert mon.acknowledge(alert.alert_id, BNN).acknowledged_at == acked.acknowledged_at


def test_bad_records_name_their_fields_and_nothing_is_half_written(mon):
    eid = enrol(mon, "C-1")[0].enrolment_id
    mon.record(Batch(sessions(eid, ["present"])), BLK)
    batch = Batch([AttendanceRow("ok-1", eid, START + timedelta(days=3), "present"),
                   AttendanceRow("x-1", "enr-nope", START, "present"),
                   AttendanceRow("x-2", eid, START - timedelta(days=1), "present"),
                   AttendanceRow("a0", eid, START, "absent")],
                  outcomes=[OutcomeRow("o-1", eid, "employed", TODAY, "at_completion")])
    with pytest.raises(ServiceError) as exc:
        mon.record(batch, BLK)
    got = violations(exc)
    assert exc.value.code == "INVALID_ARGUMENT"
    assert "unknown enrolment" in got["attendance[1].enrolment_id"]
    assert "before the course start 2019-07-01" in got["attendance[2].session_date"]
    both = got["attendance[3].record_id"]
    assert "present" in both and "absent" in both  # the stored record and this one, both named
    assert "follows completion" in got["outcomes[0].enrolment_id"]
    assert "ok-1" not in {a.record_id for a in mon.store.attendance(eid)}  # nothing of the batch was written
    with pytest.raises(ServiceError) as exc:
        mon.record(Batch(sessions(eid, ["present"], TODAY + timedelta(days=1), "f")), BLK)
    assert "in the future" in violations(exc)["attendance[0].session_date"]


def test_a_rating_of_7_and_other_bad_fields_are_refused_by_the_codec():
    request = monitoring_pb2.RecordTrainingRequest(
        conduct=[monitoring_pb2.ConductAssessment(record_id="c1", enrolment_id="e", rating=7,
                                                  assessment_date={"year": 2019, "month": 7, "day": 2})],
        attendance=[monitoring_pb2.Attendance(record_id="a1", enrolment_id="e",
                                              session_date={"year": 2019, "month": 2, "day": 30})])
    with pytest.raises(ServiceError) as exc:
        codec.batch(request)
    got = violations(exc)
    assert "1 to 5, got 7" in got["conduct[0].rating"]
    assert "not a real date" in got["attendance[0].session_date"]
    assert got["attendance[0].status"] == "required"


def test_a_record_id_twice_in_one_batch_with_other_content_names_both(mon):
    eid = enrol(mon, "C-1")[0].enrolment_id
    batch = Batch([AttendanceRow("d", eid, START, "present"), AttendanceRow("d", eid, START, "late")])
    with pytest.raises(ServiceError) as exc:
        mon.record(batch, BLK)
    text = violations(exc)["attendance[1].record_id"]
    assert "attendance[0]" in text and "present" in text and "late" in text


def test_outcomes_follow_completion(mon):
    eid = enrol(mon, "C-1")[0].enrolment_id
    mon.end_enrolment(EndRequest(eid, "completed", date(2019, 8, 30)), BLK)
    with pytest.raises(ServiceError) as exc:
        mon.record(Batch(outcomes=[OutcomeRow("o-1", eid, "employed", date(2019, 8, 1), "at_completion")]), BNN)
    assert "before the course was completed" in violations(exc)["outcomes[0].outcome_date"]
    done = mon.record(Batch(outcomes=[OutcomeRow("o-1", eid, "self_employed", date(2019, 9, 1), "at_completion")]),
                      BNN)
    assert done.recorded == 1
    assert [o.kind for o in mon.store.outcomes(eid)] == ["self_employed"]
    with pytest.raises(ServiceError) as exc:  # a BNN office records outcomes, not attendance
        mon.record(Batch(sessions(eid, ["present"])), BNN)
    assert exc.value.code == "PERMISSION_DENIED"


def test_a_training_centre_sees_and_writes_its_own_courses_only(mon):
    eid = enrol(mon, "C-1")[0].enrolment_id
    with pytest.raises(ServiceError) as exc:
        mon.record(Batch(sessions(eid, ["present"])), OTHER_BLK)
    assert "unknown enrolment" in violations(exc)["attendance[0].enrolment_id"]
    assert mon.list_enrolments(ListQuery(), OTHER_BLK).items == []
    with pytest.raises(ServiceError) as exc:
        mon.record_of(eid, OTHER_BNN)
    assert exc.value.code == "NOT_FOUND"


def test_conduct_notes_reach_bnn_only_when_shareable(mon):
    eid = enrol(mon, "C-1")[0].enrolment_id
    mon.record(Batch(conduct=[ConductRow("c1", eid, START, 2, "late and rude", False),
                              ConductRow("c2", eid, START + timedelta(days=1), 2, "better today", True)]), BLK)
    bnn = mon.record_of(eid, BNN)
    assert [c.note for c in bnn.conduct] == ["", "better today"]
    assert [a.rule_id for a in bnn.alerts] == ["two-low-conduct-ratings"]
    blk = mon.record_of(eid, BLK)
    assert [c.note for c in blk.conduct] == ["late and rude", "better today"]
    assert blk.alerts == [] and blk.enrolment.referring_office == ""


def test_an_enrolment_that_contradicts_a_stored_one_is_refused_naming_both(mon):
    enrol(mon, "C-1")
    with pytest.raises(ServiceError) as exc:
        mon.create_enrolments(EnrolmentsRequest("req-2", direct=[
            DirectEnrolment("C-1", "LAS-SMAW-01", date(2019, 8, 1))]), BNN)
    text = violations(exc)["enrolments[0]"]
    assert "2019-07-01" in text and "2019-08-01" in text
    with pytest.raises(ServiceError) as exc:
        mon.create_enrolments(EnrolmentsRequest("req-1", direct=[DirectEnrolment("C-9", "LAS-SMAW-01", None)]), BNN)
    assert exc.value.code == "ALREADY_EXISTS"  # the request id was used for other enrolments
    with pytest.raises(ServiceError) as exc:
        mon.create_enrolments(EnrolmentsRequest("req-3", direct=[DirectEnrolment("C-9", "NOPE", None)]), BNN)
    assert "unknown course" in violations(exc)["enrolments[0].course_code"]


def test_a_direct_enrolment_needs_an_eligible_check_by_the_same_office(mon, logged):
    """Fail closed: a seat (and a BNN referral shown to the training centre) only with the proof a
    placement has. Each enrolment is named with what its latest check said; nothing is enrolled."""
    logged[("C-1", BNN.name)] = [Checked("LAS-SMAW-01", "ELIGIBLE", START), Checked("LAS-SMAW-01", "PENDING", START)]
    logged[("C-2", BNN.name)] = [Checked("JHT-01", "ELIGIBLE", START)]  # another course only
    logged[("C-3", BNN.name)] = [Checked("LAS-SMAW-01", "ELIGIBLE", START - timedelta(days=PROOF_DAYS + 1))]
    logged[("C-4", BNN.name)] = [Checked("LAS-SMAW-01", "INELIGIBLE", START),
                                 Checked("LAS-SMAW-01", "ELIGIBLE", START - timedelta(days=PROOF_DAYS))]
    with pytest.raises(ServiceError) as exc:
        enrol(mon, "C-1", "C-2", "C-3", "C-4", "C-5")
    assert (exc.value.code, exc.value.reason) == ("FAILED_PRECONDITION", "ELIGIBILITY_NOT_PROVEN")
    why = violations(exc)
    assert set(why) == {"enrolments[0]", "enrolments[1]", "enrolments[2]"}
    assert "decided PENDING" in why["enrolments[0]"]
    assert "no eligibility check" in why["enrolments[1]"]
    assert "more than 90 days" in why["enrolments[2]"]
    assert mon.list_enrolments(ListQuery("LAS-SMAW-01"), BNN).items == []  # nothing half-applied
    # another office's ELIGIBLE check proves nothing for this one; its own does
    with pytest.raises(ServiceError):
        mon.create_enrolments(EnrolmentsRequest("other", direct=[DirectEnrolment("C-5", "LAS-SMAW-01", None)]),
                              OTHER_BNN)
    logged[("C-5", OTHER_BNN.name)] = [Checked("LAS-SMAW-01", "ELIGIBLE", START)]
    (row,) = mon.create_enrolments(EnrolmentsRequest("other-2", direct=[DirectEnrolment("C-5", "LAS-SMAW-01", None)]),
                                   OTHER_BNN)
    assert row.status == "enrolled"
    assert [r.client_id for r in enrol(mon, "C-4", request_id="req-2")] == ["C-4"]  # latest ELIGIBLE, 90 days


def test_a_check_as_of_a_date_after_the_first_day_proves_nothing_about_it(mon, logged):
    """Eligible as of a month after the course starts (turned 19 meanwhile, say) is no proof for its first
    day: refused, naming both dates; eligible as of the first day itself is proof."""
    logged[("C-1", BNN.name)] = [Checked("LAS-SMAW-01", "ELIGIBLE", START + timedelta(days=30))]
    with pytest.raises(ServiceError) as exc:
        enrol(mon, "C-1")
    assert (exc.value.code, exc.value.reason) == ("FAILED_PRECONDITION", "ELIGIBILITY_NOT_PROVEN")
    why = violations(exc)["enrolments[0]"]
    assert "after the enrolment's first day" in why and START.isoformat() in why
    logged[("C-1", BNN.name)].append(Checked("LAS-SMAW-01", "ELIGIBLE", START))
    assert [r.client_id for r in enrol(mon, "C-1", request_id="req-2")] == ["C-1"]


def test_without_a_decision_log_direct_enrolments_are_refused():
    store = SQLiteMonitoringStore(":memory:")
    m = Monitoring(store, lambda: COURSES, None, today=lambda: TODAY)
    with pytest.raises(ServiceError) as exc:
        m.create_enrolments(EnrolmentsRequest("r", direct=[DirectEnrolment("C-1", "JHT-01", None)]), BNN)
    assert (exc.value.code, exc.value.reason) == ("FAILED_PRECONDITION", "ELIGIBILITY_NOT_PROVEN")
    store.close()


def test_without_monitoring_rules_nothing_is_recorded_unwatched():
    store = SQLiteMonitoringStore(":memory:")
    m = Monitoring(store, lambda: COURSES, None, today=lambda: TODAY, checks=proven)
    eid = m.create_enrolments(EnrolmentsRequest("r", direct=[DirectEnrolment("C-1", "JHT-01", None)]),
                              BNN)[0].enrolment_id
    with pytest.raises(ServiceError) as exc:
        m.record(Batch(sessions(eid, ["present"])), BLK)
    assert exc.value.code == "FAILED_PRECONDITION"
    assert store.attendance(eid) == []
    store.close()


def test_a_batch_durable_rules_gave_no_proof_for_is_refused_whole_and_retryable(mon, monkeypatch):
    """Fail closed: the judges' actions lost (as if durable_rules had not read the events) must refuse
    the batch, write nothing of it, and never pass as "no alert"; the retry then succeeds."""
    from bekal import engine
    from bekal.compiler import JUDGED

    eids = [r.enrolment_id for r in enrol(mon, "C-1", "C-2")]
    batch = Batch([*sessions(eids[0], ["absent"] * 3), *sessions(eids[1], ["present"], prefix="b")])
    real = engine.dispatch

    def lose_judges(handle, state, on_action):
        actions = mon.rules.compiled.actions

        def keep(name, indexes):
            if actions[name][0] == JUDGED:  # the second event's proof goes missing
                indexes = [i for i in indexes if i != "1"]
            on_action(name, indexes)

        real(handle, state, keep)

    monkeypatch.setattr(engine, "dispatch", lose_judges)
    with pytest.raises(ServiceError) as exc:
        mon.record(batch, BLK)
    assert (exc.value.code, exc.value.reason) == ("UNAVAILABLE", "MONITORING_NOT_JUDGED")
    assert exc.value.retry_after
    assert mon.store.attendance() == [] and mon.list_alerts(AlertQuery(), BNN).items == []
    monkeypatch.setattr(engine, "dispatch", real)
    done = mon.record(batch, BLK)
    assert done.recorded == 4 and [a.rule_id for a in done.alerts] == ["three-unexcused-absences"]


def test_pages_of_enrolments_and_alerts(mon):
    eids = [r.enrolment_id for r in enrol(mon, *[f"C-{i:02d}" for i in range(7)])]
    for k, eid in enumerate(eids):
        mon.record(Batch(sessions(eid, ["absent"] * 3, prefix=f"p{k}-")), BLK)
    seen, token = [], ""
    while True:
        page = mon.list_enrolments(ListQuery("LAS-SMAW-01", 3, token), BNN)
        seen += [r.enrolment_id for r in page.items]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(eids) and len(seen) == 7
    alerts, token = [], ""
    while True:
        page = mon.list_alerts(AlertQuery(2, token), BNN)
        alerts += [a.sequence for a in page.items]
        token = page.next_page_token
        if not token:
            break
    assert alerts == sorted(alerts) and len(alerts) == 7
    with pytest.raises(ServiceError):
        mon.list_alerts(AlertQuery(2, token or "bm9wZQ", True), BNN)


def test_checks_recorded_in_the_same_instant_all_count_as_the_latest(tmp_path):
    """Fail closed on timing: the decision log stamps a batch's checks with one time (and two calls may
    share a millisecond), so which of them came "last" is unknown. An ELIGIBLE check beside an
    INELIGIBLE one of that instant -- whatever their request ids -- proves nothing."""
    from bekal.services.monitoring.servicer import logged_checks
    from bekal.store import LoggedRequest, open_decision_log

    log = open_decision_log(str(tmp_path / "b.db"))

    def check(request_id, outcome):
        return LoggedRequest(request_id, f"fp-{request_id}", "C-1", "bnn", "v1", START.isoformat(),
                             f"LAS-SMAW-01 {outcome} 0 ", caller=BNN.name)

    log.record([check("z-first", "INELIGIBLE"), check("a-then", "ELIGIBLE")])  # one stream message
    time.sleep(0.01)  # the next batch: a later instant
    log.record([check("m-other", "ELIGIBLE"), check("b-other", "PENDING")])
    store = SQLiteMonitoringStore(":memory:")
    m = Monitoring(store, lambda: COURSES, None, today=lambda: TODAY, checks=logged_checks(log))
    with pytest.raises(ServiceError) as exc:
        m.create_enrolments(EnrolmentsRequest("r", direct=[DirectEnrolment("C-1", "LAS-SMAW-01", None)]), BNN)
    assert (exc.value.code, exc.value.reason) == ("FAILED_PRECONDITION", "ELIGIBILITY_NOT_PROVEN")
    assert "decided PENDING" in violations(exc)["enrolments[0]"]
    time.sleep(0.01)
    log.record([check("y-later", "ELIGIBLE")])
    assert m.create_enrolments(EnrolmentsRequest("r2", direct=[DirectEnrolment("C-1", "LAS-SMAW-01", None)]),
                               BNN)[0].status == "enrolled"
    store.close()
    log.close()
