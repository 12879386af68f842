"""Differential test: durable_rules, running the compiled JSON, against a small reference model
of the rule language written here in Python, for many kinds of condition and random facts.

The reference semantics (see bekal/compiler.py's docstring): a rule *fires* when its condition
holds with negation pushed down to the comparisons and any comparison on an absent fact false;
a rule that did not fire is *missing* when none of its top-level ``and`` parts is known to be
false and some fact it needs (read other than by ``exists``) is absent: PENDING for an
ineligible/pending rule; for a priority rule the outcome stands and its facts are named.
"""

from __future__ import annotations

import operator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bekal.decision import Outcome, RuleStatus
from bekal.engine import Engine
from bekal.lang import ast
from tests.rules.rulefiles import rulebook_of
from tests.support.people import MOU_DATE as AS_OF

CONDITIONS = [
    "client.age <= 18",
    "client.age > course.max_age",
    "client.age == course.min_age",
    "client.age != course.min_age",
    "client.age >= course.max_age / 2",
    "client.age < 100 / course.min_age",
    "course.min_age < client.age - 18",
    "client.written_test_score < course.min_written_score + 5",
    "client.interview_score >= (course.min_written_score + course.min_interview_score) / 2",
    "client.written_test_score > 100 / 2 + 0.5",
    'client.education in ["sd", "smp"]',
    'client.education not in ["sd", "smp"]',
    'not client.education in ["sma"]',
    'client.rehab_stage == "post_rehabilitation" and client.days_since_rehab < 90',
    'client.rehab_stage != "post_rehabilitation" or client.interview_score < 50',
    'not (client.age < 25 and client.referrer == "bnn")',
    'not (client.age < 25 or client.referrer == "bnn")',
    "client.interview_score not exists",
    "not client.interview_score not exists and client.interview_score > 70",
    "course.min_age exists and client.age < course.min_age",
    "client.interview_score exists and client.interview_score < 60",
    "not client.consent_to_share",
    "client.consent_to_share == true",
    'client.domicile contains "banjar"',
    "client.birth_date < 1990-01-01",
    "client.rehab_completed_date > course.start_date",
    "client.education_level >= course.min_education_level",
    'client.age > 30 and (client.referrer == "bnn" or client.written_test_score >= 80) and course.max_age exists',
]
EFFECTS = ["ineligible", "pending", 7]
RULES = [(f"c{i}", when, EFFECTS[i % 3]) for i, when in enumerate(CONDITIONS)]

EDUCATION = {"none": 0, "sd": 1, "smp": 2, "sma": 3, "smk": 3, "diploma": 4, "bachelor": 5}
OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
       "!=": operator.ne}
NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def reference_facts(client: dict, course: dict, on: date) -> dict:
    """Every fact by name (None when absent), derived facts computed here independently."""
    facts = {f"client.{k}": v for k, v in client.items()}
    facts |= {f"course.{k}": v for k, v in course.items()}
    born, done = client.get("birth_date"), client.get("rehab_completed_date")
    if born is not None:
        facts["client.age"] = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if done is not None:
        facts["client.days_since_rehab"] = (on - done).days
    if client.get("education") is not None:
        facts["client.education_level"] = EDUCATION[client["education"]]
    if course.get("min_education") is not None:
        facts["course.min_education_level"] = EDUCATION[course["min_education"]]
    return facts


def value(node, facts):
    if isinstance(node, ast.FactRef):
        return facts.get(node.name)
    if isinstance(node, ast.Literal):
        return node.value
    left, right = value(node.left, facts), value(node.right, facts)
    return None if left is None or right is None else ARITH[node.op](left, right)


def holds(node, facts, negated=False) -> bool:
    """Negation pushed down to the leaves; a leaf reading an absent fact is false."""
    if isinstance(node, ast.Not):
        return holds(node.item, facts, not negated)
    if isinstance(node, (ast.And, ast.Or)):
        every = isinstance(node, ast.And) != negated
        results = [holds(i, facts, negated) for i in node.items]
        return all(results) if every else any(results)
    if isinstance(node, ast.Exists):
        present = value(node.value, facts) is not None
        return present if node.negated == negated else not present
    if isinstance(node, ast.Compare):
        left, right = value(node.left, facts), value(node.right, facts)
        if left is None or right is None:
            return False
        return OPS[NEGATE[node.op] if negated else node.op](left, right)
    if isinstance(node, ast.In):
        v = value(node.value, facts)
        if v is None:
            return False
        inside = v in [i.value for i in node.items]
        return inside if node.negated == negated else not inside
    if isinstance(node, ast.Match):
        assert node.op == "contains" and not negated
        v = value(node.value, facts)
        return v is not None and node.pattern.lower() in v.lower()
    assert isinstance(node, ast.FactRef)  # a bare boolean fact
    v = value(node, facts)
    return v is not None and v == (not negated)


def needed(node) -> list[str]:
    if isinstance(node, ast.Exists):
        return []
    if isinstance(node, (ast.And, ast.Or)):
        return [n for i in node.items for n in needed(i)]
    if isinstance(node, ast.Not):
        return needed(node.item)
    return [r.name for r in ast.facts_in(node)]


def reference_status(rule: ast.Rule, facts: dict) -> RuleStatus:
    if holds(rule.when, facts):
        return RuleStatus.FIRED
    absent = [n for n in needed(rule.when) if facts.get(n) is None]
    parts = list(rule.when.items) if isinstance(rule.when, ast.And) else [rule.when]
    undecided = bool(absent)
    for part in parts:
        part_needs = needed(part)
        if not part_needs:
            undecided &= holds(part, facts)
        else:
            undecided &= holds(part, facts) or any(facts.get(n) is None for n in part_needs)
    return RuleStatus.MISSING if undecided else RuleStatus.NOT_FIRED


def reference_outcome(statuses: dict[str, RuleStatus]) -> tuple[Outcome, int]:
    effects = {rid: eff for rid, _, eff in RULES}
    outcomes = set()
    priority = 0
    for rid, status in statuses.items():
        eff = effects[rid]
        if isinstance(eff, int):
            priority += eff if status is RuleStatus.FIRED else 0
        elif status is RuleStatus.FIRED:
            outcomes.add(Outcome.INELIGIBLE if eff == "ineligible" else Outcome.PENDING)
        elif status is RuleStatus.MISSING:
            outcomes.add(Outcome.PENDING)
    for o in (Outcome.INELIGIBLE, Outcome.PENDING):
        if o in outcomes:
            return o, priority
    return Outcome.ELIGIBLE, priority


@pytest.fixture(scope="module")
def book():
    return rulebook_of(*RULES)


@pytest.fixture(scope="module")
def engine(book):
    e = Engine(book)
    yield e
    e.close()


def maybe(strategy):
    return st.one_of(st.none(), strategy)


scores = st.integers(0, 100) | st.integers(0, 200).map(lambda x: x / 2)
clients = st.fixed_dictionaries({
    "birth_date": maybe(st.dates(date(1950, 1, 1), date(2012, 12, 31))),
    "rehab_stage": maybe(st.sampled_from(["assessment", "inpatient", "outpatient", "post_rehabilitation",
                                          "dropped_out"])),
    "rehab_completed_date": maybe(st.dates(date(2018, 6, 1), date(2019, 5, 16))),
    "referrer": maybe(st.sampled_from(["bnn", "self", "other_agency"])),
    "written_test_score": maybe(scores),
    "interview_score": maybe(scores),
    "education": maybe(st.sampled_from(sorted(EDUCATION))),
    "consent_to_share": maybe(st.booleans()),
    "domicile": maybe(st.sampled_from(["Banjarbaru", "KOTA BANJARMASIN", "Martapura", "Tanah Laut"])),
})
courses = st.fixed_dictionaries({
    "min_age": maybe(st.integers(1, 40)),
    "max_age": maybe(st.integers(20, 60)),
    "min_written_score": maybe(scores),
    "min_interview_score": maybe(scores),
    "min_education": maybe(st.sampled_from(sorted(EDUCATION))),
    "start_date": maybe(st.dates(date(2018, 6, 1), date(2019, 5, 16))),
})


def _present(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(client=clients, course=courses)
def test_engine_agrees_with_the_reference_model(engine, client, course):
    client, course = _present(client), _present(course)
    facts = reference_facts(client, course, AS_OF)
    expected = {r.id: reference_status(r, facts) for r in engine.rulebook.rulesets[0].rules}
    d = engine.decide(client, course, AS_OF, explain=True)
    got = {t.rule_id: t.status for t in d.trace}
    assert got == expected, {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}
    assert (d.outcome, d.priority) == reference_outcome(expected)


def test_the_sample_space_reaches_every_status(book, engine):
    """Guard against a vacuous differential test: fixed inputs where every rule fires, and none."""
    client = {"birth_date": date(2001, 1, 1), "education": "sd", "consent_to_share": False, "referrer": "bnn",
              "written_test_score": 10, "interview_score": 20, "rehab_stage": "inpatient", "domicile": "Banjarbaru",
              "rehab_completed_date": date(2019, 5, 1)}
    d = engine.decide(client, {"min_age": 18, "max_age": 20, "min_written_score": 60, "min_interview_score": 60,
                               "min_education": "sma", "start_date": date(2019, 1, 1)}, AS_OF, explain=True)
    assert {t.status for t in d.trace} == {RuleStatus.FIRED, RuleStatus.NOT_FIRED}  # every fact is known
    assert d.outcome is Outcome.INELIGIBLE
    assert sum(t.status is RuleStatus.FIRED for t in d.trace) >= 10
    empty = engine.decide({}, {}, AS_OF, explain=True)
    assert empty.outcome is Outcome.PENDING
    assert {t.status for t in empty.trace} == {RuleStatus.FIRED, RuleStatus.NOT_FIRED, RuleStatus.MISSING}


def test_division_by_a_zero_fact_does_not_kill_the_process(engine):
    """``100 / course.min_age`` with min_age 0 divides by zero inside durable_rules' C code."""
    d = engine.decide({"birth_date": date(1990, 1, 1)}, {"min_age": 0, "max_age": 45}, AS_OF, explain=True)
    [trace] = [t for t in d.trace if t.rule_id == "c5"]
    assert trace.status is RuleStatus.FIRED  # 28 < 100 / 0 = infinity
    d = engine.decide({"birth_date": date(1990, 1, 1)}, {"min_age": 0.0}, AS_OF)
    assert d.ruleset_version == engine.version


def test_integer_division_is_true_division(engine):
    """``client.age >= course.max_age / 2`` with the int 45: 22 is below 22.5, whatever the type."""
    client = {"birth_date": date(1996, 6, 1)}  # 22 on AS_OF
    for max_age in (45, 45.0):
        d = engine.decide(client, {"max_age": max_age}, AS_OF, explain=True)
        assert {t.rule_id: t.status for t in d.trace}["c4"] is RuleStatus.NOT_FIRED, max_age
    d = engine.decide(client, {"max_age": 44}, AS_OF, explain=True)
    assert {t.rule_id: t.status for t in d.trace}["c4"] is RuleStatus.FIRED
