"""The GoRules ZEN model of the default rules (bench/zen_model.py) decides as bekal does, so that
bench/zen_bench.py compares two engines running the same rules: identical outcome, priority and reason
ids on a small workload in which every rule fires and every missing-fact check leaves its rule undecided."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import zen_bench  # noqa: E402
import zen_model  # noqa: E402
from workload import AS_OF, plain_clients  # noqa: E402

from bekal.engine import Engine, NotInForce  # noqa: E402
from bekal.facts import parse_facts  # noqa: E402
from bekal.rulebook import Rulebook, load_rulebook  # noqa: E402
from tests.support.paths import RULES  # noqa: E402  (the suite's copy of the programme rules)

COMPLETE = {
    "birth_date": "1990-03-01", "rehab_stage": "post_rehabilitation", "rehab_completed_date": "2018-06-01",
    "referrer": "bnn", "education": "smk", "consent_to_share": True,
    "written_test_score": 80.0, "interview_score": 80.0,
}


def _edge_clients() -> list[dict]:
    """Each input fact missing on its own, everything missing, and the boundaries of every rule."""
    out = [dict(COMPLETE), {}]
    out += [{k: v for k, v in COMPLETE.items() if k != gone} for gone in COMPLETE]
    out += [{**COMPLETE, **change} for change in (
        {"birth_date": "2001-05-16"},  # 18 on the as-of date: not above 18
        {"birth_date": "2001-05-17"},  # 17, 18 tomorrow
        {"birth_date": "2000-05-16"},  # 19
        {"birth_date": "1983-05-17"},  # 35 / 36 around the 35 and 40 and 45 limits
        {"birth_date": "1983-05-16"},
        {"birth_date": "1978-05-16"},
        {"birth_date": "1973-05-17"},
        {"birth_date": "1973-05-16"},
        {"rehab_stage": "assessment"}, {"rehab_stage": "inpatient"}, {"rehab_stage": "outpatient"},
        {"rehab_stage": "dropped_out"},
        {"consent_to_share": False},
        {"referrer": "self"}, {"referrer": "other_agency"},
        {"written_test_score": 60.0}, {"written_test_score": 59.5}, {"written_test_score": 65.0},
        {"interview_score": 60.0}, {"interview_score": 54.5}, {"interview_score": 64.0},
        {"education": "none"}, {"education": "sd"}, {"education": "smp"}, {"education": "sma"},
        {"education": "diploma"}, {"education": "bachelor"},
    )]
    # a missing fact together with a rule that fires: INELIGIBLE wins over PENDING, PENDING over ELIGIBLE
    out += [
        {k: v for k, v in {**COMPLETE, "rehab_stage": "dropped_out"}.items() if k != "birth_date"},
        {k: v for k, v in {**COMPLETE, "consent_to_share": False}.items() if k != "written_test_score"},
        {k: v for k, v in {**COMPLETE, "written_test_score": 40.0}.items() if k != "education"},
        {k: v for k, v in {**COMPLETE, "birth_date": "2003-01-01"}.items() if k != "interview_score"},
    ]
    return out


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return load_rulebook(RULES)


@pytest.fixture(scope="module")
def engine(rulebook: Rulebook) -> Iterator[Engine]:
    e = Engine(rulebook)
    yield e
    e.close()


@pytest.fixture(scope="module")
def zen() -> zen_model.ZenDecider:
    return zen_model.ZenDecider()


@pytest.fixture(scope="module")
def pairs(rulebook: Rulebook) -> list[tuple[dict, dict]]:
    raw = _edge_clients() + plain_clients(40, seed=3)
    clients = [parse_facts("client", {"id": f"T{i}", **c}) for i, c in enumerate(raw)]
    return [(c, k) for c in clients for k in rulebook.courses.values()]


def test_zen_model_decides_as_bekal_on_every_pair(rulebook, engine, zen, pairs):
    decisions = engine.decide_many(pairs, AS_OF)
    ours = [zen_model.verdict_of(d) for d in decisions]
    theirs = zen.decide_many(pairs, AS_OF)
    diff = zen_bench.differences(pairs, ours, theirs)
    assert [(pairs[i][0], pairs[i][1]["code"], a, b) for i, a, b in diff[:5]] == []
    # the workload is worth checking on: every rule fires and every missing-fact check bites somewhere
    assert zen_bench.uncovered(zen_bench.coverage(rulebook, decisions)) == []
    assert {v[0] for v in ours} == {"ELIGIBLE", "PENDING", "INELIGIBLE"}


def test_zen_batch_form_agrees(zen, pairs):
    assert zen.decide_batch(pairs[:200], AS_OF) == zen.decide_many(pairs[:200], AS_OF)


def test_zen_model_has_a_row_per_rule_and_missing_check(rulebook):
    ids = [r.id for r in rulebook.compiled.rules]
    rows = [(rule, effect) for rule, effect, _, _ in zen_model.ROWS]
    checks = ("missing", "missing_priority")
    assert [r for r, e in rows if e not in checks] == ids
    assert [r for r, e in rows if e in checks] == ids  # every rule has a missing-fact check, priority rules too
    effects = {r.id: r.effect for r in rulebook.compiled.rules}
    assert all(effects[rule] == effect for rule, effect in rows if effect not in checks)
    assert all((effects[rule] == "priority") == (effect == "missing_priority") for rule, effect in rows
               if effect in checks)


def test_every_comparison_cell_tests_for_null_first():
    """ZEN cannot compare null (``null <= 18`` is an error), and a cell that errors silently does not
    match: an absent fact must be handled by the ``== null`` rows, never by an error."""
    for rule, effect, _, cells in zen_model.ROWS:
        for column, cell in cells.items():
            if re.search(r"[<>]", cell):
                assert cell.startswith("$ != null and "), (rule, effect, column, cell)


def test_before_the_rules_are_in_force_neither_decides(engine, zen, pairs):
    early = date(2015, 12, 31)
    with pytest.raises(NotInForce):
        engine.decide_many(pairs[:8], early)
    with pytest.raises(zen_model.NotInForce):
        zen.decide_many(pairs[:8], early)
    assert zen.decide_many(pairs[:8], zen_model.EFFECTIVE_FROM)  # in force from that day on
