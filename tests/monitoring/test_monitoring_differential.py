"""durable_rules and the reference interpreter agree on which monitoring rules fire, for every enrolment.

Production judges monitoring rules with durable_rules (:func:`bekal.monitoring.rules.judge`); the
plain interpreter of the syntax tree (:mod:`tests.monitoring.reference`) reads the same conditions
with Kleene's three-valued logic. Random rules (comparisons with random thresholds, a fact against
a fact or an arithmetic of facts, ``in``, ``exists``/``not exists``, nested ``and``/``or``/``not``,
random effective windows) over random attendance and conduct histories, many enrolments per batch
as the store sends them: both must give the same findings, reasons included. The fixture's rules
are checked the same way.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bekal import compiler
from bekal.monitoring.facts import derive
from bekal.monitoring.history import Assessment, Session, summarise
from bekal.monitoring.rules import MonitoringRules, judge, load_from_texts, load_monitoring_rules, monitoring_files
from tests.monitoring import reference
from tests.support.paths import RULES as FIXTURE_RULES

START = date(2019, 7, 1)
STATUSES = st.sampled_from(["present", "absent", "excused", "late"])
COUNTS = ["enrolment.sessions_held", "enrolment.sessions_attended", "enrolment.excused_absences",
          "enrolment.unexcused_absences", "enrolment.consecutive_unexcused_absences",
          "enrolment.conduct_assessments", "enrolment.low_conduct_ratings", "enrolment.days_since_last_attendance"]
RATINGS = ["enrolment.latest_conduct_rating", "enrolment.lowest_conduct_rating"]
OPS = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])


def _number(low: int, high: int, decimals: bool = False) -> st.SearchStrategy[str]:
    if decimals:
        return st.integers(low * 4, high * 4).map(lambda n: str(n / 4))  # 79.75, 80.0, ...
    return st.integers(low, high).map(str)


def _atoms() -> st.SearchStrategy[str]:
    count = st.sampled_from(COUNTS)
    rating = st.sampled_from(RATINGS)
    anything = st.sampled_from([*COUNTS, *RATINGS, "enrolment.attendance_rate"])
    return st.one_of(
        st.tuples(count, OPS, _number(0, 12)).map(" ".join),
        st.tuples(rating, OPS, _number(1, 5)).map(" ".join),
        st.tuples(st.just("enrolment.attendance_rate"), OPS, _number(0, 100, decimals=True)).map(" ".join),
        st.tuples(count, OPS, count).map(" ".join),
        st.tuples(count, OPS, count, st.sampled_from(["+", "-", "*"]), count).map(" ".join),
        st.tuples(count, OPS, count, st.sampled_from(["/ 2", "* 2", "+ 1", "- 3"])).map(" ".join),
        st.tuples(st.just("enrolment.attendance_rate"), OPS, count, st.just("* 10")).map(" ".join),
        st.tuples(rating, st.sampled_from(["in", "not in"]),
                  st.lists(st.integers(1, 5), min_size=1, max_size=3, unique=True)
                  .map(lambda xs: "[" + ", ".join(map(str, xs)) + "]")).map(" ".join),
        st.tuples(anything, st.sampled_from(["exists", "not exists"])).map(" ".join),
    )


def _conditions() -> st.SearchStrategy[str]:
    return st.recursive(
        _atoms(),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " and ".join(xs) + ")"),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " or ".join(xs) + ")"),
            inner.map(lambda x: f"not ({x})"),
        ),
        max_leaves=6,
    )


def _window() -> st.SearchStrategy[str]:
    day = st.integers(0, 60).map(lambda d: (START + timedelta(days=d)).isoformat())
    return st.one_of(st.just(""), day.map(lambda d: f"    effective:\n      from: {d}\n"),
                     day.map(lambda d: f"    effective:\n      until: {d}\n"))


RULE = """  - id: r{k}
    description: rule {k}
    when: {when}
    effect: {effect}
{window}    reason:
      id: Aturan {k}, {{enrolment.sessions_held}} sesi, kehadiran {{enrolment.attendance_rate}}%.
      en: Rule {k}, {{enrolment.sessions_held}} sessions, attendance {{enrolment.attendance_rate}}%.
    source:
      interpretation: a random rule of the differential test
      of: mou-2019-05-16
"""


@st.composite
def rulesets(draw) -> MonitoringRules:
    rules = draw(st.lists(st.tuples(_conditions(), st.sampled_from(["warning", "alert"]), _window()),
                          min_size=1, max_size=6))
    text = "ruleset: monitoring\ntitle: random\nsource: test\nrules:\n" + "".join(
        RULE.format(k=k, when=when, effect=effect, window=window) for k, (when, effect, window) in enumerate(rules))
    return load_from_texts({"monitoring.rules.yaml": text})


@st.composite
def enrolments(draw):
    """One enrolment's facts and the day it is judged on, from a random history."""
    statuses = draw(st.lists(STATUSES, max_size=30))
    days = sorted(draw(st.lists(st.integers(0, 90), min_size=len(statuses), max_size=len(statuses))))
    ratings = draw(st.lists(st.integers(1, 5), max_size=6))
    rdays = draw(st.lists(st.integers(0, 90), min_size=len(ratings), max_size=len(ratings)))
    summary = summarise(START, [Session(START + timedelta(days=d), f"a{k:04d}", s)
                                for k, (d, s) in enumerate(zip(days, statuses))],
                        [Assessment(START + timedelta(days=d), f"c{k:04d}", r)
                         for k, (d, r) in enumerate(zip(rdays, ratings))])
    on = summary.last_session[0] if summary.last_session else START + timedelta(days=draw(st.integers(0, 90)))
    return derive(summary), on


def disagreements(rules: MonitoringRules, batch) -> list[tuple[int, list[str], list[str]]]:
    """Every enrolment of the batch on which durable_rules and the reference differ: (index, durable, reference)."""
    durable = judge(rules, batch)
    out = []
    for i, ((facts, on), found) in enumerate(zip(batch, durable)):
        expected = reference.evaluate(rules, facts, on)
        if found != expected:
            out.append((i, [f.rule_id for f in found], [f.rule_id for f in expected]))
    return out


@settings(max_examples=250, deadline=None)
@given(rulesets(), st.lists(enrolments(), min_size=1, max_size=40))
def test_durable_rules_and_the_reference_fire_the_same_rules_for_every_enrolment(rules, batch):
    assert disagreements(rules, batch) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(enrolments(), min_size=1, max_size=60))
def test_the_fixture_rules_agree_with_the_reference(batch):
    rules = load_monitoring_rules(FIXTURE_RULES)
    assert disagreements(rules, batch) == []


def test_a_batch_larger_than_one_session_is_judged_whole():
    """More events than one durable_rules session takes (compiler BATCH): every one judged, in order."""
    rules = load_monitoring_rules(FIXTURE_RULES)
    batch = [({"enrolment.sessions_held": 5 + k % 7, "enrolment.attendance_rate": float(k % 101),
               "enrolment.consecutive_unexcused_absences": k % 5, "enrolment.low_conduct_ratings": k % 3},
              START + timedelta(days=30)) for k in range(1_234)]
    assert disagreements(rules, batch) == []


def test_the_differential_check_notices_a_wrong_engine(monkeypatch):
    """The check is worth something: lower ``>=`` as ``>`` in the compiler and it disagrees at once."""
    rules = load_monitoring_rules(FIXTURE_RULES)
    at_three = [({"enrolment.sessions_held": 4, "enrolment.consecutive_unexcused_absences": 3,
                  "enrolment.low_conduct_ratings": 0}, START + timedelta(days=10))]
    assert disagreements(rules, at_three) == []
    monkeypatch.setitem(compiler._OPS, ">=", "$gt")
    wrong = load_from_texts(monitoring_files(FIXTURE_RULES))
    assert wrong.version == rules.version  # same text, another compilation: its own durable ruleset
    assert disagreements(wrong, at_three) == [(0, [], ["three-unexcused-absences"])]


@pytest.mark.parametrize("when", ["enrolment.sessions_held exists", "not (enrolment.latest_conduct_rating <= 2)",
                                  "enrolment.latest_conduct_rating not exists or enrolment.sessions_held > 1"])
def test_absent_facts_read_the_same_both_ways(when):
    """Kleene's logic at its edges: an absent fact makes a comparison unknown, and ``not`` of unknown stays unknown."""
    text = "ruleset: monitoring\ntitle: t\nsource: test\nrules:\n" + RULE.format(k=0, when=when, effect="alert",
                                                                                 window="")
    rules = load_from_texts({"monitoring.rules.yaml": text})
    batch = [({}, START), ({"enrolment.sessions_held": 2}, START),
             ({"enrolment.sessions_held": 0, "enrolment.latest_conduct_rating": 2}, START)]
    assert disagreements(rules, batch) == []


def test_facts_durable_rules_cannot_be_given_refuse_the_call_not_the_alert():
    """A fact outside its range never reaches durable_rules, and its event is not answered as "nothing fired"."""
    from bekal.engine import Unjudged

    rules = load_monitoring_rules(FIXTURE_RULES)
    good = ({"enrolment.consecutive_unexcused_absences": 3}, START)
    with pytest.raises(Unjudged):
        judge(rules, [good, ({"enrolment.consecutive_unexcused_absences": -1}, START)])
    with pytest.raises(Unjudged):
        judge(rules, [({"enrolment.attendance_rate": float("nan")}, START)])
    assert [f.rule_id for f in judge(rules, [good])[0]] == ["three-unexcused-absences"]
