"""Storage trouble: a bad database path is a one-line StoreError (and `bekal serve` prints one `cannot start:`
line, no traceback); a write the disk refuses is StoreUnavailable with a retry hint, and UNAVAILABLE to callers."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bekal.store import StoreError, StoreUnavailable, open_decision_log
from bekal.store.audit import SQLiteAuditLog
from bekal.store.decisionlog import LoggedDecision, LoggedRequest, SQLiteDecisionLog
from bekal.store.jobs import NewJob, SQLiteJobStore
from bekal.store.sqlite import unavailable
from tests.support.cli import bekal
from tests.support.storage import fill_disk, free_disk, read_only

STORES = [SQLiteDecisionLog, SQLiteJobStore, SQLiteAuditLog]
KEY = bytes(range(32))


def _open(kind, path):
    return kind(path, secret=KEY) if kind is not SQLiteAuditLog else kind(path)


def request(rid: str, big: bool = False) -> LoggedRequest:
    rules = ("eligibility/" + "x" * 60,) * (120 if big else 1)  # big: needs pages of its own
    return LoggedRequest(rid, "digest-" + rid, "C-1", "bnn", "v1", "2019-06-01",
                         LoggedDecision("K-1", "ELIGIBLE", 10, rules).line())


def corrupt_file(path: Path) -> Path:
    path.write_bytes(os.urandom(64 * 1024))
    return path


def one_line(message: str) -> str:
    assert "\n" not in message and message.strip() == message
    return message


@pytest.mark.parametrize("kind", STORES)
def test_a_directory_is_not_a_database(tmp_path, kind):
    (tmp_path / "db").mkdir()
    with pytest.raises(StoreError) as err:
        _open(kind, tmp_path / "db")
    assert one_line(str(err.value)) == f"database {tmp_path / 'db'} is a directory; name a file (it is created " \
                                       "if missing)"


@pytest.mark.parametrize("kind", STORES)
def test_random_bytes_are_not_a_database(tmp_path, kind):
    path = corrupt_file(tmp_path / "b.db")
    with pytest.raises(StoreError) as err:
        _open(kind, path)
    assert one_line(str(err.value)).startswith(f"database {path}: the file is not an SQLite database")
    assert not isinstance(err.value, StoreUnavailable)


@pytest.mark.parametrize("kind", STORES)
def test_a_read_only_database_fails_at_open_not_at_the_first_call(tmp_path, kind):
    path = tmp_path / "b.db"
    _open(kind, path).close()
    with read_only(path), pytest.raises(StoreError) as err:
        _open(kind, path)
    assert one_line(str(err.value)).startswith(f"database {path}: ")


def test_a_full_disk_records_nothing_and_says_when_to_retry(tmp_path):
    log = SQLiteDecisionLog(tmp_path / "b.db", secret=KEY)
    log.record([request("a")])
    fill_disk(log._db)
    with pytest.raises(StoreUnavailable) as err:
        log.record([request("b", big=True), request("c", big=True)])
    assert one_line(str(err.value)).startswith("the decision log cannot be written now: the disk is full")
    assert err.value.retry_after == 30.0
    assert log.count() == 1 and log.get("b") is None  # all or nothing
    free_disk(log._db)
    assert [r.value for r in log.record([request("b", big=True)])] == ["new"]  # the retry works
    log.close()


def test_a_full_disk_stores_no_job(tmp_path):
    store = SQLiteJobStore(tmp_path / "b.db", secret=KEY)
    fill_disk(store._db)
    with pytest.raises(StoreUnavailable, match="the job store cannot store the job now: the disk is full"):
        store.create(NewJob("r1", "fp", b"s", 1, 1), [os.urandom(20_000)], "me", 10)
    free_disk(store._db)
    job, created = store.create(NewJob("r1", "fp", b"s", 1, 1), [b"in"], "me", 10)
    assert created and store.input_parts(job.job_id) == [b"in"]
    store.close()


def test_a_database_locked_too_long_is_unavailable_for_a_moment(tmp_path):
    log = SQLiteDecisionLog(tmp_path / "b.db", secret=KEY, busy_timeout_s=0.05)
    other = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable) as err:
            log.record([request("a")])
        assert err.value.retry_after == 1.0 and "locked" in str(err.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    log.record([request("a")])
    log.close()


def test_a_bug_is_not_mistaken_for_storage_trouble(tmp_path):
    db = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.Error) as syntax:
        db.execute("SELEC 1")
    db.execute("CREATE TABLE t (x PRIMARY KEY)")
    db.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.Error) as constraint:
        db.execute("INSERT INTO t VALUES (1)")
    assert unavailable("x", syntax.value) is None and unavailable("x", constraint.value) is None


def test_the_eligibility_service_answers_unavailable_with_a_retry_hint(tmp_path):
    from bekal.audience import BNN
    from bekal.facts import parse_facts
    from bekal.services.eligibility.logic import Check, Eligibility
    from bekal.services.errors import ServiceError
    from bekal.services.snapshots import ServedRules
    from tests.support.paths import RULES
    from tests.support.people import applicant

    rules = ServedRules(RULES)
    rules.reload()
    log = SQLiteDecisionLog(tmp_path / "b.db", secret=KEY)
    fill_disk(log._db)
    try:
        service = Eligibility(rules, log)
        with pytest.raises(ServiceError) as err:
            for i in range(50):  # until a page is needed
                client = parse_facts("client", applicant("C-1", "JHT-01"))
                service.check(Check(f"r{i}", client, None, date(2019, 6, 1), BNN,
                                    fingerprint=f"fp{i}"))
        assert err.value.code == "UNAVAILABLE" and err.value.retry_after == 30.0
        assert "disk" not in err.value.message  # the reason is for the server log
    finally:
        log.close()
        rules.close()


# ------------------------------------------------------------------------------ bekal serve --db BAD


def serve(db: Path, workers: int = 1) -> str:
    result = bekal("serve", "--db", str(db), "--listen", "127.0.0.1:0", "--reload-interval", "0",
                   "--workers", str(workers), timeout=60)
    assert result.code == 1, result.text
    assert "Traceback" not in result.text
    (line,) = [line for line in result.text.splitlines() if "cannot start:" in line]
    return line.split("cannot start: ", 1)[1]


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_with_a_directory_as_database(tmp_path, workers):
    """With several workers too: said once, by the supervisor, before any worker starts."""
    (tmp_path / "d.db").mkdir()
    assert serve(tmp_path / "d.db", workers).startswith(f"database {tmp_path / 'd.db'} is a directory")


def test_serve_with_a_corrupt_database(tmp_path):
    path = corrupt_file(tmp_path / "b.db")
    assert serve(path).startswith(f"database {path}: the file is not an SQLite database")


def test_serve_with_a_read_only_database(tmp_path):
    path = tmp_path / "b.db"
    open_decision_log(path).close()
    with read_only(path):
        assert serve(path).startswith(f"database {path}: ")


def test_serve_with_a_key_file_others_may_read(tmp_path):
    key = tmp_path / "bekal.key"
    key.write_text("ab" * 32 + "\n")
    key.chmod(0o644)
    assert serve(tmp_path / "b.db") == (f"secret file {key} may be accessed by its group or others (mode 0644); "
                                        f"make it private to the server's user: chmod 600 {key}")
