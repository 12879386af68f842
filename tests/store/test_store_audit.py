"""The audit trail: events in order with a sequence number, paged and filtered; append-only (triggers abort
UPDATE and DELETE); written in the background, all of it by close(); a full queue fails loudly, never drops."""

from __future__ import annotations

import dataclasses
import re
import sqlite3

import pytest

from bekal.store import LoggedRequest, StoreError, StoreUnavailable, open_audit_log, open_stores
from bekal.store.audit import AuditEvent, SQLiteAuditLog, audit_time
from bekal.store.jobs import NewJob

CHECK = "/bekal.v1.EligibilityService/CheckEligibility"
UPLOAD = "/bekal.v1.MatchingService/UploadCohort"


def event(principal: str = "BNN Jakarta", *subjects: str, method: str = CHECK, code: str = "OK") -> AuditEvent:
    return AuditEvent.now(principal, "caseworker", method, subjects, code)


@pytest.fixture
def trail(tmp_path):
    log = SQLiteAuditLog(tmp_path / "b.db")
    yield log
    log.close()


def test_events_come_back_in_order_with_increasing_numbers(trail):
    first = event("BNN Jakarta", "C-1")
    trail.record(first)
    trail.record(event("BLK Banjarmasin", "C-2", "C-3", method=UPLOAD, code="INVALID_ARGUMENT"))
    trail.record(event("anonymous"))
    assert trail.flush(30)
    got = trail.events()
    assert [seq for seq, _ in got] == sorted(seq for seq, _ in got) and len({seq for seq, _ in got}) == 3
    assert got[0][1] == first
    assert got[1][1].subjects == ("C-2", "C-3") and got[1][1].code == "INVALID_ARGUMENT"
    assert got[2][1].subjects == ()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first.time)


def test_paging_and_filters(trail):
    for i in range(25):
        trail.record(event("BNN Jakarta" if i % 2 else "BLK Banjarmasin", f"C-{i % 5}", "rules/eligibility.yaml"))
    trail.flush(30)
    page1 = trail.events(limit=10)
    page2 = trail.events(after=page1[-1][0], limit=10)
    page3 = trail.events(after=page2[-1][0], limit=10)
    assert [len(p) for p in (page1, page2, page3)] == [10, 10, 5]
    assert [s for s, _ in page1 + page2 + page3] == [s for s, _ in trail.events(limit=1000)]
    assert {e.principal for _, e in trail.events(principal="BNN Jakarta", limit=100)} == {"BNN Jakarta"}
    assert len(trail.events(principal="BNN Jakarta", limit=100)) == 12
    about = trail.events(subject="C-3", limit=100)
    assert len(about) == 5 and all("C-3" in e.subjects for _, e in about)
    both = trail.events(subject="C-3", principal="BNN Jakarta", limit=100)
    assert [e.subjects[0] for _, e in both] == ["C-3"] * 3 and all(e.principal == "BNN Jakarta" for _, e in both)
    assert len(trail.events(subject="rules/eligibility.yaml", after=page2[-1][0])) == 5
    assert trail.events(subject="C-404") == []


def test_no_event_can_be_changed_or_deleted(trail, tmp_path):
    trail.record(event("BNN Jakarta", "C-1"))
    trail.flush(30)
    db = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    for statement in ["UPDATE audit_event SET principal = 'someone else'", "DELETE FROM audit_event",
                      "UPDATE audit_subject SET subject = 'C-2'", "DELETE FROM audit_subject"]:
        with pytest.raises(sqlite3.IntegrityError, match="the audit trail is append-only"):
            db.execute(statement)
    db.close()
    ((_, kept),) = trail.events()
    assert kept.principal == "BNN Jakarta" and trail.events(subject="C-1")


def test_close_writes_everything_queued(tmp_path):
    log = open_audit_log(tmp_path / "b.db")
    for i in range(3000):
        log.record(event("BNN Jakarta", f"C-{i}"))
    log.close()
    log.close()  # idempotent
    with pytest.raises(StoreUnavailable, match="closed"):
        log.record(event())
    again = SQLiteAuditLog(tmp_path / "b.db")
    assert len(again.events(limit=1000)) == 1000
    last = again.events(after=2990, limit=1000)
    assert [e.subjects for _, e in last][-1] == ("C-2999",) and [s for s, _ in last][-1] == 3000
    again.close()


def test_two_processes_share_one_sequence(tmp_path):
    a, b = SQLiteAuditLog(tmp_path / "b.db"), SQLiteAuditLog(tmp_path / "b.db")
    for i in range(50):
        (a if i % 2 else b).record(event("BNN Jakarta", f"C-{i}"))
    a.close()
    b.close()
    log = SQLiteAuditLog(tmp_path / "b.db")
    seqs = [s for s, _ in log.events(limit=100)]
    assert seqs == list(range(1, 51))
    log.close()


def test_a_full_queue_waits_then_fails_loudly_and_loses_nothing_accepted(tmp_path):
    log = SQLiteAuditLog(tmp_path / "b.db", busy_timeout_s=0.01, queue_size=2, block_s=0.01)
    blocker = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer cannot write: its queue fills up
    accepted = 0
    with pytest.raises(StoreUnavailable, match="the audit trail cannot keep up: 2 events wait"):
        for i in range(20):
            log.record(event("BNN Jakarta", f"C-{i}"))
            accepted += 1
    blocker.execute("ROLLBACK")
    blocker.close()
    assert log.flush(60)
    assert len(log.events(limit=100)) == accepted
    log.close()


def test_only_well_formed_events(trail):
    with pytest.raises(TypeError, match="subjects must be a tuple of str"):
        trail.record(AuditEvent(audit_time(), "BNN Jakarta", "caseworker", CHECK, ["C-1"], "OK"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AuditEvent.code must be a str"):
        trail.record(AuditEvent(audit_time(), "BNN Jakarta", "caseworker", CHECK, (), 0))  # type: ignore[arg-type]


def test_in_memory_too():
    log = open_audit_log(":memory:")
    log.record(event("BNN Jakarta", "C-1"))
    log.close()


def test_open_stores_opens_all_three_on_one_file_with_the_key_named(tmp_path):
    db, key = tmp_path / "data" / "b.db", tmp_path / "keys" / "bekal.key"
    stores = open_stores(db, key)
    stores.decisions.record([LoggedRequest("r1", "digest", "C-1", "bnn", "v1", "2019-06-01", "K-1 ELIGIBLE 10 ")])
    stores.jobs.create(NewJob("u1", "digest", b"", 1, 1, creator="BNN Jakarta"), [b"in"], "me", 10)
    stores.audit.record(event("BNN Jakarta", "C-1"))
    stores.close()  # the audit trail writes what it queued
    assert key.exists() and not (db.parent / "bekal.key").exists()
    again = open_stores(db, key)
    assert again.decisions.count() == 1 and [e.subjects for _, e in again.audit.events()] == [("C-1",)]
    again.close()
    with pytest.raises(StoreError, match="written with another secret key"):
        open_stores(db)  # the default key next to the database is another one


def test_any_event_of_the_same_shape_is_recorded(trail):
    """The server's own event class (one per call, made by its gate) needs no conversion."""

    @dataclasses.dataclass(frozen=True)
    class GateEvent:
        time: str
        principal: str
        role: str
        method: str
        subjects: tuple[str, ...]
        code: str

    trail.record(GateEvent("2019-06-01T08:00:00.000+00:00", "anonymous", "none", CHECK, ("C-9",), "OK"))
    trail.flush(30)
    ((_, got),) = trail.events(subject="C-9")
    assert got == AuditEvent("2019-06-01T08:00:00.000+00:00", "anonymous", "none", CHECK, ("C-9",), "OK")
