"""Small engine calls (a single check) assert their events into a session kept across calls and retract
them after, instead of making and deleting a session each time: the decisions are those of a fresh
session, the kept session is left as empty as it was, and anything odd deletes it."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import durable_rules_engine as dre

from bekal import facts as schema
from bekal.decision import Refusal
from bekal.engine import BATCH, KEPT_MAX, Engine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import workload  # noqa: E402


def pairs_of(rulebook, n: int = 300, seed: int = 5):
    codes = sorted(rulebook.courses)
    rng = random.Random(seed)
    people = [schema.parse_facts("client", c) for c in workload.plain_clients(n, seed=seed)]
    return [(p, rulebook.courses[rng.choice(codes)]) for p in people]


def kept_facts(engine: Engine) -> list[str]:
    return [dre.get_facts(handle, sid) for handle, (sid, _empty) in engine._kept.items()]


def test_small_calls_decide_as_a_fresh_session_and_leave_it_empty(default_rulebook):
    pairs = pairs_of(default_rulebook)
    assert KEPT_MAX < len(pairs) <= BATCH
    engine = Engine(default_rulebook)
    try:
        whole = engine.decide_many(pairs, workload.AS_OF)  # one fresh session
        assert not any(isinstance(d, Refusal) for d in whole)
        assert {d.outcome for d in whole} == {"ELIGIBLE", "INELIGIBLE", "PENDING"}
        one_by_one = [engine.decide_many([p], workload.AS_OF)[0] for p in pairs]
        assert one_by_one == whole
        for size in (2, 7, KEPT_MAX):
            small = [d for s in range(0, len(pairs), size)
                     for d in engine.decide_many(pairs[s:s + size], workload.AS_OF)]
            assert small == whole
        ((_handle, (_sid, empty)),) = engine._kept.items()
        assert kept_facts(engine) == [empty] and '"_i"' not in empty  # only the sentinel is left
    finally:
        engine.close()


def test_an_event_durable_rules_cannot_read_does_not_spoil_the_kept_session(default_rulebook, monkeypatch):
    """The misread number of test_rules_failclosed: that call's pairs are refused; the next calls are right."""
    pairs = pairs_of(default_rulebook, n=40)
    engine = Engine(default_rulebook)
    try:
        right = [engine.decide_many([p], workload.AS_OF)[0] for p in pairs]
        real = schema.json_number
        monkeypatch.setattr(schema, "json_number", lambda v: "1e-05" if v == 0.5 else real(v))
        client, course = pairs[0]
        bad = engine.decide_many([(dict(client, written_test_score=0.5), course), pairs[1]], workload.AS_OF)
        assert isinstance(bad[0], Refusal)
        monkeypatch.undo()
        assert [engine.decide_many([p], workload.AS_OF)[0] for p in pairs] == right
        assert all('"_i"' not in facts for facts in kept_facts(engine))
    finally:
        engine.close()


def test_a_reload_gets_a_kept_session_of_its_own(default_rulebook):
    from bekal.rulebook import load_rulebook_from_texts, read_files
    from tests.support.paths import RULES

    texts = {n: t for n, t in read_files(RULES).items() if ".test." not in n}
    name = next(n for n in texts if n.endswith("eligibility.rules.yaml"))
    stricter = load_rulebook_from_texts({**texts, name: texts[name].replace("client.age <= 18", "client.age <= 30")})
    pairs = pairs_of(default_rulebook, n=60)
    engine, fresh = Engine(default_rulebook), Engine(stricter)
    try:
        engine.decide_many(pairs[:1], workload.AS_OF)
        engine.load(stricter)
        assert [engine.decide_many([p], workload.AS_OF)[0] for p in pairs] == fresh.decide_many(pairs, workload.AS_OF)
        assert len(engine._kept) == 1
    finally:
        engine.close()
        fresh.close()
    assert engine._kept == {}
