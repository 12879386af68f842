"""The programme's rules (the suite's copy in tests/fixtures/rules): its YAML rule tests pass through the real engine,
``bekal rules test`` reports failures with ``file:line`` and the difference, and lists rules no
test exercises."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bekal.decision import Outcome
from bekal.rulebook import load_rulebook
from bekal.ruletests import run_tests
from tests.support.cli import bekal
from tests.support.paths import RULES
from tests.support.people import MOU_DATE as AS_OF
from tests.support.people import READY


def test_default_rule_tests_pass(default_rulebook):
    report = run_tests(default_rulebook)
    assert len(report.results) >= 10
    assert [(r.where, r.problems) for r in report.failed] == []
    assert all(r.decision is not None for r in report.results)
    assert report.unexercised == ()  # every default rule is made to fire or wait by some test


def test_default_ruleset_shape(default_rulebook):
    assert {r.name for r in default_rulebook.rulesets} == {"eligibility", "priority"}
    ids = [r.id for r in default_rulebook.compiled.rules]
    assert len(ids) == len(set(ids))
    for rule in default_rulebook.compiled.rules:
        assert rule.source and rule.reason_id and rule.reason_en, rule.id  # every rule cites its source
    trades = {c["trade"] for c in default_rulebook.courses.values()}
    assert {"las", "otomotif", "menjahit", "tata boga", "teknologi informasi", "listrik"} <= trades


@pytest.mark.parametrize("change, course, outcome, reasons", [
    ({}, "LAS-SMAW-01", Outcome.ELIGIBLE, {"bnn-referral-priority"}),
    ({"birth_date": date(2001, 5, 16)}, "JHT-01", Outcome.INELIGIBLE, {"age-above-18", "bnn-referral-priority"}),
    ({"birth_date": date(2000, 5, 16)}, "JHT-01", Outcome.ELIGIBLE, {"bnn-referral-priority"}),
    ({"rehab_stage": "dropped_out"}, "BOG-01", Outcome.INELIGIBLE, {"rehab-dropped-out", "bnn-referral-priority"}),
    ({"rehab_stage": "assessment"}, "BOG-01", Outcome.PENDING, {"rehab-not-finished", "bnn-referral-priority"}),
    ({"consent_to_share": False}, "BOG-01", Outcome.PENDING, {"consent-to-share", "bnn-referral-priority"}),
    ({"written_test_score": 64.5}, "KOM-OP-01", Outcome.INELIGIBLE, {"written-test-passed", "bnn-referral-priority"}),
    ({"written_test_score": 65}, "KOM-OP-01", Outcome.ELIGIBLE, {"bnn-referral-priority"}),
    ({"education": "smp"}, "OTO-MBL-01", Outcome.INELIGIBLE, {"course-min-education", "bnn-referral-priority"}),
    ({"education": "smp"}, "OTO-MTR-01", Outcome.ELIGIBLE, {"bnn-referral-priority"}),
    ({"birth_date": date(1978, 5, 15)}, "OTO-MBL-01", Outcome.INELIGIBLE, {"course-max-age", "bnn-referral-priority"}),
    ({"referrer": "other_agency"}, "BRB-01", Outcome.ELIGIBLE, set()),
])
def test_default_rules_on_the_mou_date(default_engine, default_rulebook, change, course, outcome, reasons):
    d = default_engine.decide({**READY, **change}, default_rulebook.courses[course], AS_OF)
    assert d.outcome is outcome
    assert {r.rule_id for r in d.reasons} == reasons


def test_rehabilitation_details_are_not_shareable(default_engine, default_rulebook):
    d = default_engine.decide({**READY, "rehab_stage": "inpatient"}, default_rulebook.courses["JHT-01"], AS_OF)
    [r] = [r for r in d.reasons if r.rule_id == "rehab-not-finished"]
    assert r.shareable is False
    assert "inpatient" in r.message_en  # the template {client.rehab_stage} is filled in


def test_cli_rules_test_passes_on_the_default_rules():
    result = bekal("rules", "test", str(RULES))
    assert result.code == 0, result
    assert "Traceback" not in result.text
    assert result.out.splitlines()[-1].endswith(" passed, 0 failed")
    assert "0 failed" in result.out and "FAIL" not in result.out
    assert bekal("rules", "check", str(RULES)).code == 0


FAILING_TEST = """\
tests:
  - name: passes
    as_of: 2019-05-16
    client: {birth_date: 1990-01-01, rehab_stage: post_rehabilitation, written_test_score: 90,
             interview_score: 90, education: sma, consent_to_share: true, referrer: self}
    course: JHT-01
    expect: {outcome: ELIGIBLE, priority: 0, reasons: []}

  - name: a 17-year-old wrongly expected to be eligible
    as_of: 2019-05-16
    client: {birth_date: 2002-01-01, rehab_stage: post_rehabilitation, written_test_score: 90,
             interview_score: 90, education: sma, consent_to_share: true, referrer: bnn}
    course: JHT-01
    expect:
      outcome: ELIGIBLE
      priority: 5
      reasons: [bnn-referral-priority, consent-to-share]
      missing: [client.interview_score]
"""


def test_a_failing_rule_test_shows_where_and_what_differs(default_rules_dir: Path):
    (default_rules_dir / "extra.test.yaml").write_text(FAILING_TEST)
    result = bekal("rules", "test", str(default_rules_dir))
    assert result.code == 1, result
    assert "Traceback" not in result.text
    lines = result.out.splitlines()
    where = f"{default_rules_dir / 'extra.test.yaml'}:9"
    assert f"{where}: FAIL a 17-year-old wrongly expected to be eligible" in lines
    assert "    outcome: expected ELIGIBLE, got INELIGIBLE" in lines
    assert "    priority: expected 5, got 10" in lines
    assert "    reasons: unexpected age-above-18; expected consent-to-share" in lines
    assert "    missing: expected ['client.interview_score'], got []" in lines
    assert any(line.startswith("    got reason age-above-18 (INELIGIBLE): The client is 17") for line in lines)
    assert lines[-1].endswith(" passed, 1 failed")
    assert f"{default_rules_dir / 'extra.test.yaml'}:2: FAIL" not in result.out  # the passing test is quiet


def test_rules_no_test_exercises_are_listed(default_rules_dir: Path):
    text = (default_rules_dir / "priority.rules.yaml").read_text()
    text += """
  - id: martapura-office
    description: Rujukan BNNK Martapura diprioritaskan.
    when: client.referring_office contains "martapura"
    effect:
      priority: +2
    reason: {id: Rujukan BNNK Martapura., en: Referred by BNNK Martapura.}
    source: {interpretation: Contoh., of: tests}
"""
    (default_rules_dir / "priority.rules.yaml").write_text(text)
    line = text.splitlines().index("  - id: martapura-office") + 1
    result = bekal("rules", "test", str(default_rules_dir))
    assert result.code == 0, result  # untested rules are reported, not failures
    where = f"{default_rules_dir / 'priority.rules.yaml'}:{line}:5"
    assert (f"{where}: rule 'martapura-office' is not exercised by any test"
            in result.out.splitlines())
    report = run_tests(load_rulebook(default_rules_dir))
    assert [u.rule_id for u in report.unexercised] == ["martapura-office"]
    # a test that makes the rule fire exercises it; one where it stays silent does not
    # (every shipped test names the referring office: a priority rule lacking its fact would be undecided)
    for office in ("BNNK Martapura", "BNNK Banjarbaru"):
        (default_rules_dir / "office.test.yaml").write_text(
            f"tests:\n  - name: office\n    as_of: 2019-05-16\n    client: {{referring_office: {office}}}\n"
            f"    course: BRB-01\n    expect: {{outcome: PENDING}}\n")
        report = run_tests(load_rulebook(default_rules_dir))
        assert report.failed == ()
        assert report.unexercised == () if office == "BNNK Martapura" else report.unexercised != ()


def test_bad_test_input_is_a_check_error_where_it_is_written(default_rules_dir: Path):
    """A test file is checked like the rules: every mistake at its file:line:col, before anything runs."""
    (default_rules_dir / "bad.test.yaml").write_text(
        "tests:\n  - name: typo in the course code\n    as_of: 2019-05-16\n    client: {birth_date: 1990-01-01}\n"
        "    course: LAS-SMAW01\n    expect: {outcome: PENDING}\n"
        "  - name: typo in a client field\n    as_of: 2019-05-16\n    client: {birth_dat: 1990-01-01}\n"
        "    course: JHT-01\n    expect: {outcome: PENDING, reasons: [age-above-19], missing: [client.agee]}\n"
        "  - name: impossible values\n    as_of: 2019-05-16\n"
        "    client: {birth_date: 2020-01-01, interview_score: 101, rehab_stage: done}\n"
        "    course: {code: X, min_age: 1.5}\n    expect: {outcome: PENDING}\n"
        "  - name: born after the decision date\n    as_of: 2019-05-16\n    client: {birth_date: 2020-01-01}\n"
        "    course: JHT-01\n    expect: {outcome: PENDING}\n")
    for command in ("check", "test"):
        result = bekal("rules", command, str(default_rules_dir))
        assert result.code == 1 and "Traceback" not in result.text
        where = str(default_rules_dir / "bad.test.yaml")
        lines = result.err.splitlines()
        assert f"{where}:5:13: unknown course 'LAS-SMAW01'" in lines
        assert "    hint: did you mean 'LAS-SMAW-01'?" in lines
        assert f"{where}:9:25: client.birth_dat: unknown field (did you mean 'birth_date'?)" in lines
        assert f"{where}:11:41: expect.reasons: no rule 'age-above-19'" in lines
        assert f"{where}:11:66: expect.missing: unknown fact 'client.agee'" in lines
        assert f"{where}:14:55: client.interview_score: must be between 0 and 100, got 101" in lines
        assert any(line.startswith(f"{where}:14:73: client.rehab_stage: unknown value 'done'") for line in lines)
        assert f"{where}:15:32: course.min_age: expected a whole number, got 1.5" in lines
        assert f"{where}:19:26: client.birth_date: 2020-01-01 is after the decision date 2019-05-16" in lines


def test_a_broken_test_file_is_reported_by_check(default_rules_dir: Path):
    (default_rules_dir / "bad.test.yaml").write_text(
        "tests:\n  - name: impossible date\n    as_of: 2019-02-30\n    client: {}\n    course: JHT-01\n"
        "    expect: {outcome: MAYBE}\n")
    result = bekal("rules", "check", str(default_rules_dir))
    assert result.code == 1 and "Traceback" not in result.text
    assert f"{default_rules_dir / 'bad.test.yaml'}:3:12: not a real date: 2019-02-30" in result.err.splitlines()


def test_one_test_file_runs_with_the_rules_of_its_folder(default_rules_dir: Path):
    """`bekal rules test rules/x.test.yaml` runs that file's tests with its folder's rules (it used to
    say "no ruleset found"); the untested-rule report is left to a run of every test."""
    (default_rules_dir / "extra.test.yaml").write_text(FAILING_TEST)
    one = bekal("rules", "test", str(default_rules_dir / "eligibility.test.yaml"))
    assert one.code == 0, one
    assert one.out.splitlines()[-1] == "rule tests: 16 passed, 0 failed"
    assert "not exercised" not in one.out
    other = bekal("rules", "test", str(default_rules_dir / "extra.test.yaml"))
    assert other.code == 1 and other.out.splitlines()[-1] == "rule tests: 1 passed, 1 failed"
    both = bekal("rules", "test", str(default_rules_dir / "extra.test.yaml"),
                 str(default_rules_dir / "eligibility.test.yaml"))
    assert both.out.splitlines()[-1] == "rule tests: 17 passed, 1 failed"
    not_tests = bekal("rules", "test", str(default_rules_dir / "courses.yaml"))
    assert not_tests.code == 2 and "no rule tests in this file" in not_tests.err
    # checking a test (or course, facts, parameters) file checks it with its folder: it used to say "no ruleset found"
    checked = bekal("rules", "check", str(default_rules_dir / "eligibility.test.yaml"))
    assert checked.code == 0 and checked.out.startswith(f"{default_rules_dir}: OK: 2 ruleset(s), 10 rule(s), "
                                                        "8 course(s), 18 test(s)")
