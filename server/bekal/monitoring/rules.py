"""Monitoring rules: ``rules/monitoring*.rules.yaml``, in the same rule language as eligibility.

A monitoring rule file is a ruleset file like any other (``ruleset: monitoring``, rules with
``when``, ``reason`` in id/en, ``source``), parsed by :mod:`bekal.lang.parser` and checked by
:mod:`bekal.lang.checker` against the ``enrolment.*`` facts (:mod:`.facts`) instead of the
client and course facts; its effects are ``warning`` or ``alert``. Their rule tests are
``monitoring*.test.yaml`` files (``monitoring_tests:``): an attendance sequence and conduct
ratings in, the rule ids that fire out. The rulebook (:func:`bekal.rulebook.load_rulebook`) loads
them with the eligibility rules, all or nothing (:attr:`bekal.rulebook.Rulebook.monitoring`), so
``bekal rules check``, ``bekal rules test``, ``ValidateRules`` and the server's reload gate (their
tests must pass) treat them like any rule file; ``bekal monitoring explain`` shows the facts and
the rules that fire for one history.

How they are evaluated. Not one durable_rules session per enrolment (durable_rules keeps at
most 1,024 live sessions per ruleset, and an enrolment lives for months): each time records
arrive, the enrolment's facts are derived from its running summary and the checked
conditions are evaluated over them (:func:`evaluate`), in the transaction that stores the
records. The evaluation interprets the checked syntax tree directly, with the language's
three-valued reading of an absent fact: a comparison with an absent fact is unknown, ``and``,
``or`` and ``not`` follow Kleene's logic, and only a condition that is true raises an alert
(no alert without the records that show it). Every fact here is a number derived in code,
so none of the durable_rules pitfalls the eligibility compiler guards against arises; the
property tests check the evaluation against a plain reference computation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bekal.compiler import render
from bekal.i18n import _
from bekal.lang import ast
from bekal.lang.checker import check_rulesets
from bekal.lang.diagnostics import Diagnostic, Location, RuleError
from bekal.lang.parser import MONITORING_EFFECTS, parse_file_partially
from bekal.lang.source import Node, load_yaml
from bekal.monitoring.facts import MONITORING_FACTS, derive
from bekal.monitoring.history import ATTENDANCE, RATINGS, Assessment, Session, Summary, summarise
from bekal.sources import Document, check_quotes

WARNING, ALERT = MONITORING_EFFECTS
TESTS_KEY = "monitoring_tests"


@dataclass(frozen=True, slots=True)
class Finding:
    """A monitoring rule that holds for an enrolment: what an alert carries."""

    rule_id: str
    severity: str  # WARNING or ALERT
    reason_id: str  # Indonesian, its placeholders filled
    reason_en: str
    source: str


@dataclass(frozen=True, slots=True)
class MonitoringTest:
    """A rule test: sessions (one a day from ``start``) and ratings in, the rule ids that fire out."""

    name: str
    start: date
    attendance: tuple[str, ...]
    conduct: tuple[int, ...]
    expect: tuple[str, ...]
    loc: Location


@dataclass(frozen=True)
class MonitoringRules:
    """The monitoring rules of a rules folder, checked."""

    version: str  # content hash of the rule files, "sha256:..."
    rulesets: tuple[ast.Ruleset, ...]
    tests: tuple[MonitoringTest, ...] = ()

    @property
    def rules(self) -> tuple[ast.Rule, ...]:
        return tuple(r for rs in self.rulesets for r in rs.rules)


EMPTY = MonitoringRules("none", ())


def monitoring_files(path: str | Path) -> dict[str, str]:
    """The monitoring rule and test files of a rules folder (none: an empty mapping)."""
    from bekal.rulebook import MONITORING_PREFIX, SUFFIXES, _read

    root = Path(path)
    if root.is_file():
        paths = [root] if root.name.startswith(MONITORING_PREFIX) else []
    elif root.is_dir():
        paths = sorted(p for p in root.rglob(MONITORING_PREFIX + "*") if p.suffix in SUFFIXES and p.is_file())
    else:
        paths = []
    return {str(p): _read(p, str(p)) for p in paths}


def load_monitoring_rules(path: str | Path, documents: Mapping[str, Document] | None = None) -> MonitoringRules:
    """The monitoring rules of a rules folder (:data:`EMPTY` when it has none). Raises RuleError."""
    files = monitoring_files(path)
    return load_from_texts(files, documents) if files else EMPTY


def load_from_texts(files: Mapping[str, str], documents: Mapping[str, Document] | None = None) -> MonitoringRules:
    """Parse and check monitoring rule and test files (name -> text), all or nothing."""
    problems: list[Diagnostic] = []
    rulesets: list[ast.Ruleset] = []
    tests: list[MonitoringTest] = []
    for name in sorted(files):
        doc = load_yaml(name, files[name])
        if doc is not None and isinstance(doc.value, dict) and TESTS_KEY in doc.value:
            tests += _tests(doc, problems)
            continue
        try:
            source, file_problems = parse_file_partially(name, files[name])
        except RuleError as exc:
            problems += exc.diagnostics
            continue
        problems += file_problems
        if source.kind != "ruleset":
            problems.append(Diagnostic(Location(name, 1, 1), _("a monitoring file holds a ruleset or {key}",
                                                                key=TESTS_KEY)))
        rulesets += source.rulesets
    problems += check_rulesets(rulesets, MONITORING_FACTS)
    for rs in rulesets:
        for rule in rs.rules:
            if rule.effect.kind not in MONITORING_EFFECTS:
                problems.append(Diagnostic(rule.effect.loc, _("a monitoring rule's effect is warning or alert"),
                                           _("ineligible, pending and priority are for eligibility rules")))
    if documents is not None:
        problems += check_quotes([r.citation for rs in rulesets for r in rs.rules if r.citation], documents)
    known = {r.id for rs in rulesets for r in rs.rules}
    for test in tests:
        for rule_id in test.expect:
            if rule_id not in known:
                problems.append(Diagnostic(test.loc, _("test {name!r} expects unknown rule {id!r}", name=test.name,
                                                       id=rule_id)))
    if problems:
        raise RuleError(sorted(problems, key=lambda d: d.location))
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(Path(name).name.encode() + b"\0" + files[name].encode() + b"\0")
    return MonitoringRules("sha256:" + digest.hexdigest()[:16], tuple(rulesets), tuple(tests))


def _tests(doc: Node, problems: list[Diagnostic]) -> list[MonitoringTest]:
    node = doc.value[TESTS_KEY]
    if not isinstance(node.value, list):
        problems.append(Diagnostic(node.loc, _("'{key}' must be a list of tests", key=TESTS_KEY)))
        return []
    out = []
    for item in node.value:
        if not isinstance(item.value, dict):
            problems.append(Diagnostic(item.loc, _("a test must be a mapping of key: value")))
            continue
        before = len(problems)
        plain = item.plain
        unknown = set(plain) - {"name", "start", "attendance", "conduct", "expect"}
        for key in sorted(unknown):
            problems.append(Diagnostic(item.value[key].loc, _("unknown key {key!r} in a monitoring test", key=key)))
        name, start = plain.get("name"), plain.get("start")
        attendance, conduct, expect = plain.get("attendance", []), plain.get("conduct", []), plain.get("expect")
        if not isinstance(name, str) or not name:
            problems.append(Diagnostic(item.loc, _("a test needs a 'name'")))
        if not isinstance(start, date):
            problems.append(Diagnostic(item.loc, _("a test needs 'start', the first day of the course (YYYY-MM-DD)")))
        if not isinstance(attendance, list) or any(a not in ATTENDANCE for a in attendance):
            problems.append(Diagnostic((item.get("attendance") or item).loc,
                                       _("'attendance' is a list of {values}", values=", ".join(ATTENDANCE))))
        if not isinstance(conduct, list) or any(isinstance(r, bool) or not isinstance(r, int)
                                                 or not RATINGS[0] <= r <= RATINGS[1] for r in conduct):
            problems.append(Diagnostic((item.get("conduct") or item).loc, _("'conduct' is a list of ratings 1-5")))
        if not isinstance(expect, list) or not all(isinstance(e, str) for e in expect):
            problems.append(Diagnostic((item.get("expect") or item).loc,
                                       _("'expect' is the list of rule ids that fire ([] for none)")))
        if len(problems) == before:
            assert isinstance(name, str) and isinstance(start, date) and isinstance(expect, list)
            out.append(MonitoringTest(name, start, tuple(attendance), tuple(conduct), tuple(expect), item.loc))
    return out


def history_of(test: MonitoringTest) -> Summary:
    """A test's history: session k on day k from the start, assessment k on the day of session k."""
    sessions = [Session(test.start + timedelta(days=k), f"s{k:06d}", s) for k, s in enumerate(test.attendance)]
    ratings = [Assessment(test.start + timedelta(days=k), f"c{k:06d}", r) for k, r in enumerate(test.conduct)]
    return summarise(test.start, sessions, ratings)


@dataclass(frozen=True, slots=True)
class TestOutcome:
    test: MonitoringTest
    fired: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return sorted(self.fired) == sorted(self.test.expect)


def run_tests(rules: MonitoringRules) -> list[TestOutcome]:
    """Every monitoring rule test, run; a test passes when exactly the expected rules fire."""
    out = []
    for test in rules.tests:
        summary = history_of(test)
        on = summary.last_session[0] if summary.last_session else test.start
        out.append(TestOutcome(test, tuple(f.rule_id for f in evaluate(rules, derive(summary), on))))
    return out


# ---------------------------------------------------------------- evaluation

Truth = bool | None  # None: unknown (a fact it needs is absent)


def evaluate(rules: MonitoringRules, facts: Mapping[str, Any], on: date) -> list[Finding]:
    """The monitoring rules in force on ``on`` whose condition holds for ``facts`` (``enrolment.*``)."""
    out = []
    for ruleset in rules.rulesets:
        for rule in ruleset.rules:
            start, until = ast.in_force(ruleset, rule)
            if (start is not None and on < start) or (until is not None and on > until):
                continue
            if _truth(rule.when, facts) is True:
                values = dict(facts)
                out.append(Finding(rule.id, rule.effect.kind, render(rule.reason_id.value, values),
                                   render(rule.reason_en.value, values), rule.source))
    return out


def _value(node: ast.Value, facts: Mapping[str, Any]) -> Any:
    """A value, or None when it depends on an absent fact (or divides by zero)."""
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.FactRef):
        return facts.get(node.name)
    if isinstance(node, ast.Arith):
        left, right = _value(node.left, facts), _value(node.right, facts)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        return None if right == 0 else left / right
    raise ValueError(f"monitoring rules read no parameters: {node.name}")  # the checker refuses them


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _truth(node: ast.Expr, facts: Mapping[str, Any]) -> Truth:
    if isinstance(node, ast.Compare):
        left, right = _value(node.left, facts), _value(node.right, facts)
        return None if left is None or right is None else bool(_COMPARE[node.op](left, right))
    if isinstance(node, ast.In):
        value = _value(node.value, facts)
        if value is None:
            return None
        return (value in {i.value for i in node.items}) != node.negated
    if isinstance(node, ast.Exists):
        return (_value(node.value, facts) is not None) != node.negated
    if isinstance(node, ast.Match):
        value = _value(node.value, facts)
        if value is None:
            return None
        if node.op == "contains":
            return node.pattern.lower() in str(value).lower()
        return re.fullmatch(node.pattern, str(value)) is not None
    if isinstance(node, ast.And):
        parts = [_truth(i, facts) for i in node.items]
        return False if False in parts else (None if None in parts else True)
    if isinstance(node, ast.Or):
        parts = [_truth(i, facts) for i in node.items]
        return True if True in parts else (None if None in parts else False)
    if isinstance(node, ast.Not):
        inner = _truth(node.item, facts)
        return None if inner is None else not inner
    value = _value(node, facts)  # a bare fact or literal: true/false as written
    return None if value is None else bool(value)


def explain(rules: MonitoringRules, summary: Summary, on: date) -> tuple[dict[str, Any], Sequence[Finding]]:
    """The facts of a history and the rules that fire: what ``bekal monitoring explain`` prints."""
    facts = derive(summary)
    return facts, evaluate(rules, facts, on)
