"""Fail closed on a running server: hot reload never serves less than it should, a request with
impossible facts is refused naming the field, and hostile rule text cannot stall anyone."""

from __future__ import annotations

import threading
import time

import pytest

from bekal.client import BekalError, Check, Outcome
from bekal.sandbox import dry_run
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import eligible_client as adult

MINOR = adult(id="MINOR-1", birth_date="2005-01-01")


def _wait_for(server, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not in the server log:\n{server.log()}")
        time.sleep(0.05)


def test_deleting_the_eligibility_rules_never_serves_the_priority_rules_alone(rules_dir, start_server):
    server = start_server(rules_dir)
    with server.connect(timeout=10) as api:
        before = api.list_rulesets().version
        assert api.check(MINOR, "LAS-01", as_of=AS_OF, audience="bnn").decision.outcome is Outcome.INELIGIBLE
        (rules_dir / "eligibility.rules.yaml").unlink()
        _wait_for(server, "rejected (changed on disk)")
        assert "no ruleset named 'eligibility'" in server.log()
        assert api.list_rulesets().version == before
        assert api.check(MINOR, "LAS-01", as_of=AS_OF, audience="bnn").decision.outcome is Outcome.INELIGIBLE
        with server.connect(as_="rule-author", timeout=10) as author, pytest.raises(BekalError) as err:
            author.reload_rules()
        assert err.value.code == "FAILED_PRECONDITION" and "keeps serving" in err.value.message


def test_a_half_written_rules_file_is_refused(rules_dir, start_server):
    """A file cut short after its first rule (written in place, caught mid-write) loses rules: refused."""
    server = start_server(rules_dir)
    path = rules_dir / "eligibility.rules.yaml"
    text = path.read_text()
    cut = text[: text.index("  - id: rehab-not-finished")]
    with server.connect(timeout=10) as api:
        before = api.list_rulesets().version
        path.write_text(cut)
        _wait_for(server, "would disappear")
        assert api.list_rulesets().version == before
        path.write_text(text)  # the write finishes: same content as served, nothing to do
        time.sleep(0.5)
        assert api.list_rulesets().version == before


def test_a_version_whose_rule_tests_fail_does_not_go_live(rules_dir, start_server):
    server = start_server(rules_dir)
    with server.connect(timeout=10) as api:
        before = api.list_rulesets().version
        (rules_dir / "minor.test.yaml").write_text(
            "tests:\n  - name: a minor is eligible (wrong on purpose)\n    as_of: 2019-06-01\n"
            "    client: {birth_date: 2005-01-01}\n    course: LAS-01\n    expect: {outcome: ELIGIBLE}\n")
        _wait_for(server, "rule test fails: a minor is eligible (wrong on purpose)")
        assert api.list_rulesets().version == before
        with server.connect(as_="rule-author", timeout=30) as author:
            validation = author.validate_rules({"minor.test.yaml": (rules_dir / "minor.test.yaml").read_text()},
                                               overlay=True)
        assert not validation.valid
        assert validation.diagnostics[0].message.startswith("rule test fails: a minor is eligible")
        assert validation.diagnostics[0].file == "minor.test.yaml" and validation.diagnostics[0].line == 2


@pytest.mark.parametrize("field, value, message", [
    ("birth_date", "2030-01-01", "2030-01-01 is after the decision date 2019-06-01"),
    ("interview_score", float("nan"), "expected a finite number, got nan"),
    ("written_test_score", 1e308, "must be between 0 and 100, got 1e+308"),
    ("written_test_score", -1, "must be between 0 and 100, got -1.0"),
])
def test_impossible_facts_are_invalid_argument_per_check(server, field, value, message):
    with server.connect(timeout=10) as api:
        bad = adult(**{field: value}, rehab_completed_date=None)
        with pytest.raises(BekalError) as err:
            api.check(bad, "LAS-01", as_of=AS_OF, audience="bnn")
        assert err.value.code == "INVALID_ARGUMENT" and err.value.fields == {f"client.{field}": message}
        # in a stream the bad check is an error result, the others are decided
        results = list(api.check_many([Check(MINOR, "LAS-01"), Check(bad, "LAS-01"),
                                       Check(MINOR, "LAS-01")], as_of=AS_OF, audience="bnn"))
        assert [r.decision.outcome for r in (results[0], results[2])] == [Outcome.INELIGIBLE] * 2
        assert results[1].error is not None and results[1].error.fields == {f"client.{field}": message}


HOSTILE = {
    "pattern.rules.yaml": "ruleset: eligibility\ntitle: t\nsource: s\nrules:\n  - id: r\n    description: d\n"
                          '    when: client.domicile matches "(a*)*(a*)*"\n    effect: ineligible\n'
                          "    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n",
    "bomb.rules.yaml": 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")),
    "deep.rules.yaml": "ruleset: eligibility\ntitle: t\nsource: s\nrules:\n  - id: r\n    description: d\n"
                       "    when: " + "not " * 1000 + "client.consent_to_share\n    effect: ineligible\n"
                       "    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n",
}


def test_hostile_rule_text_leaves_everyone_else_answered(server):
    """Hanging patterns, an alias bomb and deep nesting through ValidateRules, four callers at once:
    each is refused with its location, while health and eligibility calls keep answering."""
    stop = threading.Event()
    answers: list[str] = []
    slow: list[float] = []

    def hostile(name: str) -> None:
        with server.connect(as_="rule-author", timeout=60) as api:
            while not stop.is_set():
                result = api.validate_rules({name: HOSTILE[name]})
                answers.append(f"{name}: {result.valid} {result.diagnostics[0].message}")

    threads = [threading.Thread(target=hostile, args=(n,)) for n in [*HOSTILE, "pattern.rules.yaml"]]
    for t in threads:
        t.start()
    try:
        with server.connect(timeout=5) as api:
            end = time.monotonic() + 3
            while time.monotonic() < end:
                t0 = time.monotonic()
                assert api.health(timeout=1) == "SERVING"
                assert api.check(MINOR, "LAS-01", as_of=AS_OF, audience="bnn", timeout=2).decision.outcome \
                    is Outcome.INELIGIBLE
                slow.append(time.monotonic() - t0)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert answers and all(" False " in a for a in answers)
    assert any("nested repeats can hang the engine" in a for a in answers)
    assert any("expands to more than" in a for a in answers)
    assert any("nested more than" in a for a in answers)
    assert len(slow) > 10


def test_the_dry_run_child_is_stopped_at_its_limits():
    files = {"e.rules.yaml": HOSTILE["deep.rules.yaml"]}
    assert "took longer than" in dry_run(files, timeout=0.01).diagnostics[0].message
    assert "more memory" in dry_run(files, memory=30 * 1024 * 1024).diagnostics[0].message
