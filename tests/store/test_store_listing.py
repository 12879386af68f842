"""The decision log read back for auditors: who asked, oldest first, paged, filtered (schema 3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bekal.store.decisionlog import LoggedRequest, SQLiteDecisionLog

KEY = bytes(range(32))


def logged(rid: str, client: str = "C-1", caller: str = "bnnk-banjarbaru") -> LoggedRequest:
    return LoggedRequest(rid, f"fp-{rid}", client, "bnn", "v1", "2019-06-01", "K-1 ELIGIBLE 10 eligibility/bnn",
                         caller=caller)


def test_entries_come_back_in_order_with_their_caller_and_page_without_gaps(tmp_path: Path):
    log = SQLiteDecisionLog(tmp_path / "b.db", secret=KEY)
    for i in range(25):  # several per timestamp: the request id breaks ties
        log.record([logged(f"r{i:02d}", client=f"C-{i % 3}", caller="blk-kalsel" if i % 5 == 0 else
                    "bnnk-banjarbaru")])
    seen, after = [], None
    while True:
        page = log.list(after, 7)
        if not page:
            break
        seen += page
        after = (page[-1].created_at, page[-1].request_id)
    assert [r.request_id for r in seen] == sorted(f"r{i:02d}" for i in range(25))
    assert [(r.created_at, r.request_id) for r in seen] == sorted((r.created_at, r.request_id) for r in seen)
    assert {r.caller for r in seen} == {"blk-kalsel", "bnnk-banjarbaru"}
    assert [r.request_id for r in log.list(client_id="C-1")] == [f"r{i:02d}" for i in range(25) if i % 3 == 1]
    assert [r.request_id for r in log.list(caller="blk-kalsel")] == [f"r{i:02d}" for i in range(0, 25, 5)]
    assert log.list(client_id="C-1", caller="blk-kalsel") == [r for r in log.list(caller="blk-kalsel")
                                                             if r.client_id == "C-1"]
    assert len(log.list(limit=10_000)) == 25 and len(log.list(limit=0)) == 1
    log.close()


def test_schema_2_gets_callers_and_keeps_its_entries(tmp_path: Path):
    path = tmp_path / "b.db"
    log = SQLiteDecisionLog(path, secret=KEY)
    log.record([logged("old")])
    log.close()
    with sqlite3.connect(path) as db:  # back to schema 2: no caller column, no indexes
        for index in ("request_time", "request_client", "request_caller"):
            db.execute(f"DROP INDEX {index}")
        db.execute("ALTER TABLE request DROP COLUMN caller")
        db.execute("PRAGMA user_version = 2")
    log = SQLiteDecisionLog(path, secret=KEY)
    [old] = log.list()
    assert old.request_id == "old" and old.caller == ""
    log.record([logged("new", caller="auditor")])
    assert [(r.request_id, r.caller) for r in log.list()][-1] == ("new", "auditor")
    log.close()
