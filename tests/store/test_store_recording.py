"""Recording a batch of checks (``SQLiteDecisionLog.record``).

Facts are sealed before the write lock is taken: what another writer does to the client's data key in
between -- makes one, replaces it, or erases it -- must leave every recorded request's facts readable with the one
key stored for its client, as if all was done under the lock. Two logs on one file stand for two
worker processes; the other writer acts at the exact moment between the keys being read and the
transaction, through a hook on the first log's key read.

Rows are written a few statements at a time (``bekal.store.sqlite.insert_rows``): a batch bigger than
one statement's parameters, and a request id twice in one batch, come out as one row per request."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from bekal.store import LoggedRequest, Recorded, SQLiteDecisionLog

SECRET = b"s" * 32
FACTS_KEY = b"k" * 32


def request(rid: str, client: str, score: int = 50, fingerprint: str = "") -> LoggedRequest:
    facts = {"id": client, "written_test_score": score, "birth_date": date(2000, 1, 2)}
    return LoggedRequest(rid, fingerprint or f"fp-{rid}", client, "bnn", "v1", "2019-06-01", "BLK-01 ELIGIBLE 0 ",
                         caller="bnnk-banjarbaru", facts=facts)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "log.db"


@pytest.fixture
def logs(db: Path) -> Iterator[tuple[SQLiteDecisionLog, SQLiteDecisionLog]]:
    one = SQLiteDecisionLog(db, secret=SECRET, facts_key=FACTS_KEY)
    two = SQLiteDecisionLog(db, secret=SECRET, facts_key=FACTS_KEY)
    yield one, two
    one.close()
    two.close()


def between_read_and_write(log: SQLiteDecisionLog, act: Callable[[], None]) -> None:
    """Run ``act`` (the other writer) once, right after ``log`` next reads the keys, before it writes."""
    read = log._read_keys

    def hooked(client_ids):  # type: ignore[no-untyped-def]
        keys = read(client_ids)
        act()
        log._read_keys = read  # type: ignore[method-assign]
        return keys

    log._read_keys = hooked  # type: ignore[method-assign]


def stored_keys(db: Path) -> dict[str, int]:
    raw = sqlite3.connect(db)
    try:
        return dict(raw.execute("SELECT client_id, count(*) FROM client_key GROUP BY client_id").fetchall())
    finally:
        raw.close()


def test_a_key_another_writer_made_meanwhile_seals_the_facts(logs, db):
    one, two = logs
    between_read_and_write(one, lambda: two.record([request("theirs", "C-1", 10)]))
    assert one.record([request("mine", "C-1", 20)]) == [Recorded.NEW]
    assert stored_keys(db) == {"C-1": 1}
    # both open with the one key stored: without sealing again, "mine" would be under a key never stored
    assert one.facts("mine")["written_test_score"] == 20
    assert one.facts("theirs")["written_test_score"] == 10


def test_a_key_erased_meanwhile_is_made_again_for_the_new_facts(logs, db):
    one, two = logs
    one.record([request("old", "C-1", 10)])
    between_read_and_write(one, lambda: two.erase_client("C-1", "auditor"))
    assert one.record([request("new", "C-1", 30)]) == [Recorded.NEW]
    assert one.facts("old") is None
    assert one.facts("new")["written_test_score"] == 30  # sealed under a key that is stored, not the erased one
    assert stored_keys(db) == {"C-1": 1}


def test_a_key_erased_and_made_again_meanwhile_seals_the_facts(logs, db):
    one, two = logs
    one.record([request("old", "C-1", 10)])

    def replace_key() -> None:
        two.erase_client("C-1", "auditor")
        two.record([request("theirs", "C-1", 20)])  # a new key for C-1, stored by the other writer

    between_read_and_write(one, replace_key)
    assert one.record([request("mine", "C-1", 30)]) == [Recorded.NEW]
    assert stored_keys(db) == {"C-1": 1}
    assert one.facts("mine")["written_test_score"] == 30  # under the key stored now, not the one read
    assert one.facts("theirs")["written_test_score"] == 20
    assert one.facts("old") is None


def test_a_retry_of_an_erased_clients_request_stores_no_key(logs, db):
    one, _two = logs
    one.record([request("r-1", "C-1")])
    one.erase_client("C-1", "auditor")
    assert one.record([request("r-1", "C-1")]) == [Recorded.DUPLICATE]
    assert stored_keys(db) == {}  # nothing of the erased client's comes back
    assert one.facts("r-1") is None


def test_one_batch_many_clients_each_under_its_own_stored_key(logs, db):
    one, two = logs
    two.record([request("known", "C-2")])
    batch = [request(f"r-{i}", f"C-{i % 3}", i) for i in range(9)]
    between_read_and_write(one, lambda: two.record([request("theirs", "C-0")]))
    assert one.record(batch) == [Recorded.NEW] * 9
    assert stored_keys(db) == {"C-0": 1, "C-1": 1, "C-2": 1}
    for i in range(9):
        assert one.facts(f"r-{i}")["written_test_score"] == i


def test_a_batch_bigger_than_one_statement_is_recorded_whole(logs, db):
    one, _two = logs
    batch = [request(f"r-{i}", f"C-{i % 700}", i % 100) for i in range(2_000)]  # 20,000 request values
    assert one.record(batch) == [Recorded.NEW] * 2_000
    assert one.count() == 2_000
    assert stored_keys(db) == {f"C-{i}": 1 for i in range(700)}
    for i in (0, 89, 90, 91, 699, 700, 1_999):
        assert one.facts(f"r-{i}")["written_test_score"] == i % 100
        assert one.get(f"r-{i}").client_id == f"C-{i % 700}"
    assert one.record(batch[:5]) == [Recorded.DUPLICATE] * 5


def test_a_request_id_twice_in_one_batch_is_recorded_once(logs):
    one, _two = logs
    got = one.record([request("a", "C-1", 1), request("a", "C-1", 2), request("a", "C-1", 3, fingerprint="other")])
    assert got == [Recorded.NEW, Recorded.DUPLICATE, Recorded.CONFLICT]
    assert one.count() == 1
    assert one.facts("a")["written_test_score"] == 1  # the first one's facts, never a retry's
