"""Run the rule tests written beside the rules (``*.test.yaml``), OpenFisca-style.

A test gives facts and a date and the decision staff expect; a failure shows the
test's ``file:line`` and what differs. Rules that no test makes fire (or wait for
a missing fact) are listed, so authors see what is untested.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bekal.compiler import CompiledRules
from bekal.decision import Decision, RuleStatus
from bekal.engine import Engine, NotInForce, Refused
from bekal.i18n import _, window
from bekal.lang import ast
from bekal.lang.diagnostics import Diagnostic
from bekal.rulebook import Rulebook


@dataclass(frozen=True)
class TestResult:
    test: ast.RuleTestCase
    problems: tuple[str, ...]  # empty when the test passed
    decision: Decision | None

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def where(self) -> str:
        return f"{self.test.loc.file}:{self.test.loc.line}"


@dataclass(frozen=True)
class Untested:
    """A version of a rule in force that no test exercised: a rule on the dates of one of its periods
    (its dates within its ruleset version's, cut where a parameter it reads changes value)."""

    rule_id: str
    location: str  # "file:line:col" of the rule
    start: date | None
    until: date | None
    params: tuple[tuple[str, Any], ...] = ()  # the parameters it reads, with their values then
    versions: int = 1  # how many periods the rule has

    def __str__(self) -> str:
        if self.versions == 1:
            return _("{location}: rule {id!r} is not exercised by any test", location=self.location, id=self.rule_id)
        values = ", ".join(f"{n} = {v}" for n, v in self.params)
        return _("{location}: rule {id!r} is not exercised by any test {window} ({values})", location=self.location,
                 id=self.rule_id, window=window(self.start, self.until), values=values)


@dataclass(frozen=True)
class TestReport:
    results: tuple[TestResult, ...]
    unexercised: tuple[Untested, ...]  # rule versions no test exercised

    @property
    def failed(self) -> tuple[TestResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def _compare(test: ast.RuleTestCase, d: Decision) -> list[str]:
    problems = []
    if d.outcome.value != test.expect_outcome:
        problems.append(_("outcome: expected {expected}, got {got}", expected=test.expect_outcome, got=d.outcome.value))
    if test.expect_priority is not None and d.priority != test.expect_priority:
        problems.append(_("priority: expected {expected}, got {got}", expected=test.expect_priority, got=d.priority))
    if test.expect_reasons is not None:
        got = {r.rule_id for r in d.reasons}
        want = set(test.expect_reasons)
        if got != want:
            extra, lacking = sorted(got - want), sorted(want - got)
            problems.append(_("reasons: {what}", what="; ".join(
                ([_("unexpected {rules}", rules=", ".join(extra))] if extra else [])
                + ([_("expected {rules}", rules=", ".join(lacking))] if lacking else []))))
    if test.expect_missing is not None and set(d.missing) != set(test.expect_missing):
        problems.append(_("missing: expected {expected}, got {got}", expected=sorted(test.expect_missing),
                          got=sorted(d.missing)))
    return problems


def run_tests(rulebook: Rulebook, engine: Engine | None = None, only: Collection[Path] | None = None) -> TestReport:
    """Run every test of ``rulebook`` through the real engine (``only``: the tests of these files)."""
    own = engine is None
    engine = engine or Engine(rulebook)
    results = []
    exercised: set[tuple[str, date]] = set()  # (rule location, test date)
    chosen = [t for t in rulebook.tests if only is None or Path(t.case.file).resolve() in only]
    try:
        for ready in chosen:  # their input was checked with the rules (bekal.rulebook)
            test = ready.case
            try:
                d = engine.decide(ready.client, ready.course, test.as_of, explain=True)
            except (Refused, NotInForce) as exc:
                results.append(TestResult(test, (_("not decided: {why}", why=exc),), None))
                continue
            # a priority rule never waits: with its facts absent it simply did not run
            exercised.update((t.location, test.as_of) for t in d.trace if t.status is RuleStatus.FIRED or (
                t.status is RuleStatus.MISSING and not t.effect.startswith("priority")))
            results.append(TestResult(test, tuple(_compare(test, d)), d))
    finally:
        if own:
            engine.close()
    return TestReport(tuple(results), tuple(_untested(rulebook.compiled, exercised)))


def _untested(compiled: CompiledRules, exercised: set[tuple[str, date]]) -> list[Untested]:
    """Every period of every rule (per version in force) with no exercising test dated in it."""
    out = []
    for rule in compiled.rules:
        dates = [day for where, day in exercised if where == rule.location]
        spans = rule.periods or ((rule.effective_from, rule.effective_until),)
        for start, until in spans:
            if any((start is None or start <= day) and (until is None or day <= until) for day in dates):
                continue
            on = start or until or date.today()
            params = tuple((n, compiled.parameters[n].value_on(on)) for n in rule.params if n in compiled.parameters)
            out.append(Untested(rule.id, rule.location, start, until, params, len(spans)))
    return out


def gate(rulebook: Rulebook, engine: Engine | None = None) -> list[Diagnostic]:
    """The reload gate: a rules version goes live only if its rule tests pass. Each failure as a
    diagnostic at its test's ``file:line:col``; empty when every test passes (or there are none)."""
    from bekal.monitoring.rules import run_tests as run_monitoring_tests

    report = run_tests(rulebook, engine)
    out = [Diagnostic(r.test.loc, _("rule test fails: {name}: {problems}", name=r.test.name,
                                    problems="; ".join(r.problems)),
                      _("the rules and their tests disagree: fix one of them (bekal rules test shows the details)"))
           for r in report.failed]
    if rulebook.monitoring is not None:
        hint = _("the rules and their tests disagree: fix one of them (bekal rules test shows the details)")
        out += [Diagnostic(m.test.loc, _("rule test fails: {name}: {problems}", name=m.test.name,
                                         problems=_("expected {expected}; fired {fired}",
                                                    expected=", ".join(m.test.expect) or "-",
                                                    fired=", ".join(m.fired) or "-")), hint)
                for m in run_monitoring_tests(rulebook.monitoring) if not m.passed]
    return out
