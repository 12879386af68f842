"""Erasure and retention against a plain reference model (hypothesis): after any sequence of recorded
checks, erasures (by an auditor, or by one office for its own checks) and purges, exactly the facts the
model keeps are there, each opening to what was recorded, and no log entry is ever lost."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bekal.store import LoggedRequest, SQLiteDecisionLog

CLIENTS = ["C-1", "C-2", "C-3"]
CALLERS = ["bnnk-banjarbaru", "bnnp-kalsel"]

record = st.tuples(st.just("record"), st.sampled_from(CLIENTS), st.sampled_from(CALLERS), st.integers(0, 99))
erase = st.tuples(st.just("erase"), st.sampled_from(CLIENTS), st.sampled_from([None, *CALLERS]), st.just(0))
purge = st.tuples(st.just("purge"), st.just(""), st.just(None), st.just(0))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(record, record, erase, purge), max_size=25))
def test_erasure_removes_exactly_the_facts_it_should(steps):
    log = SQLiteDecisionLog(":memory:")
    model: dict[str, tuple[str, str, int]] = {}  # request id -> (client, caller, score) whose facts are kept
    entries: set[str] = set()
    try:
        for n, (op, client, caller, score) in enumerate(steps):
            if op == "record":
                rid = f"r{n}"
                facts = {"id": client, "written_test_score": score, "birth_date": date(1990, 1, 1 + score % 28)}
                log.record([LoggedRequest(rid, f"fp{n}", client, "bnn", "v", "2019-06-01", "X ELIGIBLE 0 ",
                                          caller=str(caller), facts=facts)])
                model[rid] = (client, str(caller), score)
                entries.add(rid)
            elif op == "erase":
                erased = log.erase_client(client, "tester", caller)
                gone = [r for r, (c, who, _s) in model.items() if c == client and (caller is None or who == caller)]
                assert erased == len(gone)
                for r in gone:
                    del model[r]
            else:  # a purge of everything recorded before a day long ago: nothing is that old
                assert log.purge("2000-01-01") == 0
            for rid in entries:
                facts = log.facts(rid)
                if rid in model:
                    client_id, _who, kept_score = model[rid]
                    assert facts is not None
                    assert facts["id"] == client_id and facts["written_test_score"] == kept_score
                    assert isinstance(facts["birth_date"], date)
                else:
                    assert facts is None
            assert {r.request_id for r in log.list(limit=1000)} == entries  # outcomes are never erased
    finally:
        log.close()
