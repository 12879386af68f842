"""durable_rules keeps one fact per id, and identifies a fact without an ``id`` by a hash of its text:
two events of one batch whose texts collided lost the second, which then had no proof and was refused
(its whole placement job failed). Each event now carries an id of its own.

The batch below is the one that showed it: the last 100 clients of the placement benchmark's
10,000 x 200 cohort, in the session a long-running engine numbered 153 (pair 313 was refused)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from bekal.decision import Refusal
from bekal.engine import Engine
from bekal.placement import make_cohort

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import placement_bench  # noqa: E402
import workload  # noqa: E402


def test_events_whose_text_hashes_collide_are_all_decided(default_rulebook):
    clients, courses = placement_bench.cohort_input(10_000, 200, default_rulebook)
    cohort = make_cohort(clients, courses, as_of=workload.AS_OF, seed=2019)
    by_code = {c["code"]: c for c in cohort.courses}
    pairs = [(c, by_code[code]) for c in cohort.clients[9_900:] for code in c["preferences"]]
    assert len(pairs) == 500
    engine = Engine(default_rulebook)
    try:
        for session in (153, 1, 2, 500):
            engine._sessions = itertools.count(session)
            refused = [i for i, d in enumerate(engine.decide_many(pairs, cohort.as_of)) if isinstance(d, Refusal)]
            assert refused == [], f"session b{session}"
    finally:
        engine.close()
