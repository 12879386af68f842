"""The report from a database the monitoring service wrote: enrolments, attendance, conduct, alerts and
outcomes recorded through the real service logic and store into a file, then read back read-only by
:class:`~bekal.report.fromstore.StoreData` and checked in the built tables, per office and period."""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from bekal.access import Principal, Role
from bekal.monitoring.rules import load_monitoring_rules
from bekal.report.build import Report, build, row, totals
from bekal.report.data import Period
from bekal.report.fromstore import StoreData
from bekal.services.errors import ServiceError
from bekal.services.monitoring.logic import (
    AlertQuery,
    Checked,
    DirectEnrolment,
    EndRequest,
    EnrolmentsRequest,
    JobPlacement,
    Monitoring,
)
from bekal.store.jobs import NewJob, ResultChunk, SQLiteJobStore
from bekal.store.monitoring import AttendanceRow, Batch, ConductRow, OutcomeRow, SQLiteMonitoringStore
from bekal.v1 import matching_pb2
from tests.support.paths import RULES

START = date(2019, 7, 1)
TODAY = date(2020, 12, 31)  # the service refuses records dated after its today
YEAR = Period(date(2019, 1, 1), date(2019, 12, 31))
BNN = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")
OTHER_BNN = Principal("bnnk-banjar", Role.REFERRER, office="BNNK Banjar")
BLK = Principal("blk-kalsel", Role.TRAINING_PROVIDER, provider="BLK Provinsi Kalsel")
COURSE = "LAS-SMAW-01"
JOB_COURSE = "JHT-01"
COURSES = {COURSE: {"code": COURSE, "blk": "BLK Provinsi Kalsel", "seats": 5, "start_date": START},
           JOB_COURSE: {"code": JOB_COURSE, "blk": "BLK Provinsi Kalsel", "seats": 3, "start_date": date(2019, 1, 7)}}
JOB_CLIENTS = ("C-7", "C-8", "C-10")  # placed in JHT-01 by a matching job finished in December 2018
ATTENDANCE = {  # ten July sessions each: 43 of BNNK Banjarbaru's 50 attended (present or late), none of C-9's
    "C-1": ["present"] * 10,
    "C-2": ["present"] * 8 + ["late"] * 2,
    "C-3": ["present"] * 9 + ["excused"],
    "C-4": ["present"] * 7 + ["absent"] * 3,  # three in a row and 70%: an alert and a warning
    "C-5": ["present"] * 7 + ["absent"] * 3,  # the same
    "C-9": ["absent"] * 10,  # the other office's client: the same two
}


def at(day: date) -> str:
    return f"{day.isoformat()}T03:00:00.000+00:00"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database file written by the monitoring service; the store's clock set to each step's day so that
    alerts are raised and acknowledged on known days."""
    now = [at(date(2018, 12, 20))]
    monkeypatch.setattr("bekal.store.monitoring.utc_now", lambda: now[0])
    monkeypatch.setattr("bekal.store.jobs.utc_now", lambda: now[0])
    path = tmp_path / "bekal.db"
    jobs = SQLiteJobStore(path, secret=b"k" * 32)
    job, _ = jobs.create(NewJob("m-1", "fp", b"", len(JOB_CLIENTS), 1, creator=BNN.name), [b""], "me", 60)
    jobs.start(job.job_id, "me", 60)
    result = matching_pb2.StreamPlacementsResponse(placements=[
        matching_pb2.ClientPlacement(client_id=c, course_code=JOB_COURSE) for c in JOB_CLIENTS])
    assert jobs.finish(job.job_id, "me", b"", [ResultChunk(0, len(JOB_CLIENTS), zlib.compress(
        result.SerializeToString()))])
    jobs.close()

    def placed(job_id: str, viewer: str) -> list[JobPlacement]:
        if job_id != job.job_id or viewer != BNN.name:
            raise ServiceError("NOT_FOUND", f"unknown job {job_id}")
        return [JobPlacement(c, JOB_COURSE) for c in JOB_CLIENTS]

    store = SQLiteMonitoringStore(path)
    # each office checked its clients ELIGIBLE before enrolling them directly (the decision log's proof)
    mon = Monitoring(store, lambda: COURSES, placed, today=lambda: TODAY,
                     checks=lambda cid, caller: [Checked(COURSE, "ELIGIBLE", START)])
    now[0] = at(date(2018, 12, 21))
    assert len(mon.create_enrolments(EnrolmentsRequest("from-job", job_id=job.job_id), BNN)) == 3  # from 7 January
    now[0] = at(date(2019, 6, 20))
    mon.use_rules(load_monitoring_rules(RULES))
    ids = {e.client_id: e.enrolment_id for e in mon.create_enrolments(EnrolmentsRequest("r-1", direct=[
        *[DirectEnrolment(f"C-{i}", COURSE, None) for i in range(1, 6)],
        DirectEnrolment("C-6", COURSE, None, waiting=True)]), BNN)}
    mon.create_enrolments(EnrolmentsRequest("r-1", direct=[  # a retry: nothing twice
        *[DirectEnrolment(f"C-{i}", COURSE, None) for i in range(1, 6)],
        DirectEnrolment("C-6", COURSE, None, waiting=True)]), BNN)
    ids["C-9"] = mon.create_enrolments(EnrolmentsRequest("r-9", direct=[DirectEnrolment("C-9", COURSE, None)]),
                                       OTHER_BNN)[0].enrolment_id

    now[0] = at(date(2019, 7, 11))
    mon.record(Batch([AttendanceRow(f"{client}-{k}", ids[client], START + timedelta(days=k), status)
                      for client, statuses in ATTENDANCE.items() for k, status in enumerate(statuses)],
                     conduct=[ConductRow("C-3-c1", ids["C-3"], date(2019, 7, 5), 2, "", False),
                              ConductRow("C-3-c2", ids["C-3"], date(2019, 7, 9), 1, "", False),
                              ConductRow("C-1-c1", ids["C-1"], date(2019, 7, 9), 5, "", False)]), BLK)
    now[0] = at(date(2019, 7, 12))
    for alert in mon.list_alerts(AlertQuery(), BNN).items:
        if alert.client_id == "C-4":
            mon.acknowledge(alert.alert_id, BNN)

    now[0] = at(date(2019, 8, 15))
    ended = mon.end_enrolment(EndRequest(ids["C-4"], "dropped_out", date(2019, 8, 15), "moved away"), BLK)
    assert ended.promoted is not None and ended.promoted.client_id == "C-6"  # C-6 takes the seat on 16 August
    now[0] = at(date(2019, 9, 30))
    for client in ("C-1", "C-2", "C-3", "C-5", "C-9"):
        mon.end_enrolment(EndRequest(ids[client], "completed", date(2019, 9, 30)), BLK)
    mon.record(Batch(outcomes=[
        OutcomeRow("o-1", ids["C-1"], "employed", date(2019, 12, 30), "month_3"),
        OutcomeRow("o-2", ids["C-2"], "employed", date(2019, 12, 30), "month_3"),
        OutcomeRow("o-3", ids["C-3"], "employed", date(2019, 12, 30), "month_3"),
        OutcomeRow("o-5", ids["C-5"], "self_employed", date(2019, 9, 30), "at_completion"),
        OutcomeRow("o-5b", ids["C-5"], "self_employed", date(2019, 12, 30), "month_3"),
        OutcomeRow("o-2b", ids["C-2"], "employed", date(2020, 9, 30), "month_12")]), BNN)
    mon.record(Batch(outcomes=[OutcomeRow("o-9", ids["C-9"], "seeking_work", date(2019, 12, 30), "month_3")]),
               OTHER_BNN)
    store.close()
    return path


def texts(report: Report, table: str, label: str) -> list[str]:
    return [c.text for c in row(getattr(report, table), label)]


def funnel(report: Report) -> dict[str, str]:
    return {k: c.text for k, c in totals(report.funnel).items()}


def test_the_report_reads_the_monitoring_store(db: Path) -> None:
    before = db.read_bytes()
    report = build(StoreData(db), YEAR, "bnnk-banjarbaru")  # the agency's name, as for the decision log
    assert funnel(report) == {
        "in rehabilitation": "—", "post-rehabilitation": "—",  # BNN's case numbers: not in the database
        "referred to the BLK": "—", "eligible": "—",  # no checks in this database
        "placed in a course": "6",  # C-1..C-5 directly, C-6 from the waiting list; C-9 is the other office's
        "completed training": "4",  # C-1, C-2, C-3, C-5 (C-4 dropped out)
        "employed or self-employed": "4"}  # C-5 counted once, at completion and at 3 months
    assert report.attendance.columns == ("2019-07",)
    assert texts(report, "attendance", COURSE) == ["86%"]  # 43 of 50: late attended, excused held
    assert report.alerts.columns == ("people", "alerts raised", "acknowledged")
    assert [label for label, _cells in report.alerts.rows] == ["2019-07"]
    # C-3's conduct alert, C-4's and C-5's absences (an alert and a warning each); C-4's two acknowledged
    assert texts(report, "alerts", "2019-07") == ["3", "5", "2"]
    assert texts(report, "outcomes", "3") == ["3", "<3", "0", "0"]  # employed, self-employed, seeking, training
    assert texts(report, "outcomes", "12") == ["0", "0", "0", "0"]  # C-2's 12 months fall in 2020
    assert "C-1" not in repr(report) and "enr-" not in repr(report)  # ids are counted, never shown
    assert db.read_bytes() == before  # read-only

    everyone = build(StoreData(db), YEAR)
    assert funnel(everyone)["placed in a course"] == "7"
    assert texts(everyone, "attendance", COURSE) == ["72%"]  # 43 of 60 with C-9's absences
    assert texts(everyone, "alerts", "2019-07") == ["4", "7", "2"]
    assert texts(everyone, "outcomes", "3")[2] == "<3"  # C-9 seeking work

    other = build(StoreData(db), YEAR, "bnnk-banjar")
    assert funnel(other)["placed in a course"] == "<3"
    assert funnel(other)["completed training"] == "<3"
    assert funnel(other)["employed or self-employed"] == "0"  # recorded (for others), none here
    assert build(StoreData(db), YEAR, "BNNK Banjarbaru").funnel == build(StoreData(db), YEAR, "nobody").funnel


def test_a_seat_a_matching_job_gave_counts_once_on_the_jobs_day(db: Path) -> None:
    report = build(StoreData(db), Period(date(2018, 1, 1), date(2019, 12, 31)), "bnnk-banjarbaru")
    placed = report.funnel.columns.index("placed in a course")
    assert [(label, cells[placed].text) for label, cells in report.funnel.rows] == [
        ("2018", "3"),  # the job's three, not again in 2019 when their enrolments started
        ("2019", "6"),  # the direct ones and C-6 from the waiting list
        ("whole period", "9")]


def test_the_period_is_respected(db: Path) -> None:
    autumn = build(StoreData(db), Period(date(2019, 9, 1), date(2019, 12, 31)), "bnnk-banjarbaru")
    figures = funnel(autumn)
    assert figures["completed training"] == "4"  # enrolled since July, completed in September
    assert figures["placed in a course"] == "—"  # every seat was given before September
    assert autumn.attendance.rows == () and autumn.alerts.rows == ()
    assert texts(autumn, "outcomes", "3") == ["3", "<3", "0", "0"]
    later = build(StoreData(db), Period(date(2020, 1, 1), date(2020, 12, 31)), "bnnk-banjarbaru")
    assert funnel(later)["completed training"] == "0"  # C-6 is still in training; the rest ended in 2019
    assert texts(later, "outcomes", "12") == ["<3", "0", "0", "0"]
