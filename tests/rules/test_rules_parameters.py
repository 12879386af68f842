"""Dated parameters (``param.min_age``) and rules with their own ``effective:`` dates: checked, decided
with the value in force on the decision date, shown in the trace, and tested per version in force."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bekal.decision import Outcome, RuleStatus
from bekal.engine import Engine
from bekal.lang.diagnostics import RuleError
from bekal.rulebook import load_rulebook_from_texts
from bekal.ruletests import run_tests
from tests.rules.rulefiles import parameters_text, rule_text, ruleset_text
from tests.support.people import READY as COMPLETE

READY = {k: v for k, v in COMPLETE.items() if k != "rehab_completed_date"}  # any decision date

AGE = ruleset_text(("too-young", "client.age <= param.min_age"), effective=("2016-01-01", None))
MIN_AGE = parameters_text(min_age={"2016-01-01": 18, "2020-01-01": 21})
COURSE = {"code": "X-01"}


def book(*extra: tuple[str, str], rules: str = AGE, params: str = MIN_AGE):
    return load_rulebook_from_texts({"e.rules.yaml": rules, "p.yaml": params, **dict(extra)})


def problems(**kw) -> list[str]:
    with pytest.raises(RuleError) as err:
        book(**kw)
    return [f"{d.location}: {d.message}" + (f" | {d.hint}" if d.hint else "") for d in err.value.diagnostics]


def born(years: int, on: date) -> date:
    """A birth date making the client ``years`` old on ``on`` (29 February: the 28th in a common year)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def test_a_parameter_changes_the_rule_from_its_date():
    engine = Engine(book())
    try:
        for on, age, outcome in ((date(2019, 12, 31), 20, Outcome.ELIGIBLE), (date(2020, 1, 1), 20, Outcome.INELIGIBLE),
                                 (date(2020, 1, 1), 22, Outcome.ELIGIBLE), (date(2017, 6, 1), 18, Outcome.INELIGIBLE)):
            d = engine.decide({**READY, "birth_date": born(age, on)}, COURSE, on, explain=True)
            assert d.outcome is outcome, (on, age)
        d = engine.decide({**READY, "birth_date": born(20, date(2020, 3, 1))}, COURSE, date(2020, 3, 1), explain=True)
        [trace] = d.trace
        assert trace.status is RuleStatus.FIRED
        assert [(f.name, f.value) for f in trace.facts] == [("client.age", 20), ("param.min_age", 21)]
        assert [(f.name, f.value) for f in d.reasons[0].facts] == [("client.age", 20), ("param.min_age", 21)]
    finally:
        engine.close()


def test_a_reason_shows_the_value_in_force():
    rules = AGE.replace('en: "b"', 'en: "must be above {param.min_age}, is {client.age}"')
    engine = Engine(book(rules=rules))
    try:
        for on, shown in ((date(2019, 6, 1), "must be above 18, is 17"), (date(2020, 6, 1), "must be above 21, is 17")):
            d = engine.decide({**READY, "birth_date": born(17, on)}, COURSE, on)
            assert d.reasons[0].message_en == shown  # one reason cache, two values: never the other date's
    finally:
        engine.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series=st.dictionaries(st.dates(date(2016, 1, 2), date(2030, 12, 31)), st.integers(0, 60), max_size=5),
       first=st.integers(0, 60), days=st.lists(st.dates(date(2016, 1, 1), date(2031, 12, 31)), min_size=1, max_size=8),
       ages=st.lists(st.integers(0, 70), min_size=1, max_size=8))
def test_decisions_use_the_value_in_force_on_each_date(series, first, days, ages):
    """A random dated series: on every date, the rule reads the value whose date is the latest on or before it."""
    values = {date(2016, 1, 1): first, **series}
    params = parameters_text(min_age={d.isoformat(): v for d, v in sorted(values.items())})
    engine = Engine(book(params=params))
    try:
        for on in days:
            expected = values[max(d for d in values if d <= on)]
            pairs = [({**READY, "birth_date": born(age, on)}, COURSE) for age in ages]
            for age, d in zip(ages, engine.decide_many(pairs, on)):
                assert d.outcome is (Outcome.INELIGIBLE if age <= expected else Outcome.ELIGIBLE), (on, age, expected)
    finally:
        engine.close()


@pytest.mark.parametrize("rules, params, expected", [
    (ruleset_text(("r", "client.age <= param.min_ag"), effective=("2016-01-01", None)), MIN_AGE,
     "e.rules.yaml:10:21: unknown parameter 'param.min_ag' | did you mean 'param.min_age'?"),
    (ruleset_text(("r", "client.age <= param.min_age")), MIN_AGE,
     "e.rules.yaml:8:21: param.min_age has no value before 2016-01-01, but this rule is in force on every date"),
    (ruleset_text(("r", "client.age <= param.min_age"), effective=("2015-06-01", None)), MIN_AGE,
     "e.rules.yaml:10:21: param.min_age has no value before 2016-01-01, but this rule is in force from 2015-06-01 "
     "| give param.min_age a value from 2015-06-01 in p.yaml, or let the rule start on 2016-01-01"),
    (AGE, parameters_text(min_age={"2016-01-01": 18, "2020-01-01": "dua puluh"}),
     "p.yaml:3:5: the values of param.min_age are not all of one type (2016-01-01: number, 2020-01-01: string)"),
    (AGE, parameters_text(min_age={"2016-01-01": 18, "01-01-2020": 21}),
     "p.yaml:7:19: '01-01-2020' is not a date YYYY-MM-DD"),
    (AGE, parameters_text(min_age={"2016-01-01": "0.00001"}), "p.yaml:6:19: the number 1e-05 cannot be handed"),
    (AGE, "parameters:\n  min_age:\n    values: {2016-01-01: 18}\n",
     "p.yaml:3:5: missing 'description' | say what it is in Indonesian and English: description: {id: ..., en: ...}"),
    (AGE, "parameters:\n  min_age:\n    description: {id: d, en: d}\n    source: {interpretation: s, of: t}\n",
     "p.yaml:3:5: missing 'values'"),
    (AGE, "parameters:\n  Min-Age: {}\n", "p.yaml:2:12: parameter name 'Min-Age' must be lower case"),
    (ruleset_text(("r", "param.min_age >= 18"), effective=("2016-01-01", None)), MIN_AGE,
     "e.rules.yaml:10:7: this compares a parameter with a constant: it is the same for every client"),
    (ruleset_text(("r", "param.min_age exists"), effective=("2016-01-01", None)), MIN_AGE,
     "e.rules.yaml:10:7: a parameter always has a value"),
    (ruleset_text(("r", "client.written_test_score > 100 / param.min_age"), effective=("2016-01-01", None)),
     parameters_text(min_age={"2016-01-01": 18, "2018-01-01": 0}),
     "e.rules.yaml:10:41: division by zero: param.min_age is 0 from 2018-01-01"),
    (ruleset_text(("r", "client.education == param.edu"), effective=("2016-01-01", None)),
     parameters_text(edu={"2016-01-01": '"sma"', "2020-01-01": '"smu"'}),
     "p.yaml:7:19: client.education has no value 'smu'"),
])
def test_parameters_are_checked(rules, params, expected):
    found = problems(rules=rules, params=params)
    assert any(p.startswith(expected) for p in found), found


def test_a_parameter_is_defined_once():
    with pytest.raises(RuleError) as err:
        book(("q.yaml", MIN_AGE))
    assert [d.message for d in err.value.diagnostics] == ["parameter 'min_age' is also defined at p.yaml:3:5"]


def test_a_rule_may_carry_its_own_dates():
    """Changing one threshold from a date without copying the file: two dated versions of one rule."""
    old = rule_text("too-young", "client.age <= 18").replace("    effect:", "    effective: {until: 2019-12-31}\n"
                                                                             "    effect:")
    new = rule_text("too-young", "client.age <= 21").replace("    effect:", "    effective: {from: 2020-01-01}\n"
                                                                             "    effect:")
    head = "ruleset: eligibility\ntitle: T\nsource: S\neffective: {from: 2016-01-01}\nrules:\n"
    rulebook = load_rulebook_from_texts({"e.rules.yaml": head + old + new})
    engine = Engine(rulebook)
    try:
        for on, outcome in ((date(2019, 12, 31), Outcome.ELIGIBLE), (date(2020, 1, 1), Outcome.INELIGIBLE)):
            d = engine.decide({**READY, "birth_date": born(20, on)}, COURSE, on, explain=True)
            assert d.outcome is outcome
            assert [t.status for t in d.trace].count(RuleStatus.NOT_IN_FORCE) == 1
    finally:
        engine.close()
    overlapping = head + old + new.replace("from: 2020-01-01", "from: 2019-12-31")
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts({"e.rules.yaml": overlapping})
    [d] = err.value.diagnostics
    assert d.message.startswith("duplicate rule id 'too-young'") and "do not overlap" in (d.hint or "")
    never = head.replace("{from: 2016-01-01}", "{from: 2016-01-01, until: 2018-12-31}") + new
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts({"e.rules.yaml": never})
    [d] = err.value.diagnostics
    assert (str(d.location), d.message) == ("e.rules.yaml:10:16", "rule 'too-young' is never in force: its ruleset "
                                            "is in force from 2016-01-01 until 2018-12-31")


def test_untested_rules_are_reported_per_version_in_force():
    """The reported case: a broken 2020 version of a rule was 'exercised' by the 2016 tests of its id."""
    tests = ("t.test.yaml", "tests:\n  - name: 17 in 2019\n    as_of: 2019-05-16\n"
             "    client: {birth_date: 2002-01-01}\n    course: {code: X}\n    expect: {outcome: INELIGIBLE}\n")
    report = run_tests(book(tests))
    assert report.failed == ()
    [untested] = report.unexercised
    assert (untested.rule_id, untested.start, untested.until, untested.params) == (
        "too-young", date(2020, 1, 1), None, (("param.min_age", 21),))
    assert str(untested) == ("e.rules.yaml:7:5: rule 'too-young' is not exercised by any test from 2020-01-01 "
                             "(param.min_age = 21)")
    later = tests[1] + tests[1].replace("tests:\n", "").replace("17 in 2019", "20 in 2020").replace("2019-05-16",
                                                                                                  "2020-05-16")
    assert run_tests(book(("t.test.yaml", later))).unexercised == ()
    # two files, one ruleset: the 2020 copy is its own version, whatever its id
    v2016 = ruleset_text(("too-young", "client.age <= 18"), effective=("2016-01-01", "2019-12-31"))
    v2020 = ruleset_text(("too-young", "client.age <= 18"), effective=("2020-01-01", None))
    report = run_tests(load_rulebook_from_texts({"a.rules.yaml": v2016, "b.rules.yaml": v2020, tests[0]: tests[1]}))
    assert [(u.rule_id, u.location) for u in report.unexercised] == [("too-young", "b.rules.yaml:7:5")]


def test_the_rules_version_changes_with_a_parameter():
    assert book().version != book(params=MIN_AGE.replace("21", "22")).version
    day = date(2020, 1, 1) + timedelta(days=3)
    assert book().compiled.param_values(day) == {"param.min_age": 21}
