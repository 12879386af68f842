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

How they are judged: by durable_rules, as eligibility is. The rules are compiled by
:func:`bekal.compiler.compile_rulesets` (the same lowering of conditions, event keys, number
encoding, effective windows and judges; without the missing checks, since a monitoring rule that
cannot be decided raises nothing) and run by :class:`bekal.engine.FlatEngine` (the same quiet
Host, lock, dispatch and proof). Not one durable_rules session per enrolment (durable_rules keeps
at most 1,024 live sessions per ruleset, and an enrolment lives for months): each time records
arrive, the facts of every enrolment they touch are derived from its running summary and
asserted as the events of one batch (:func:`judge`), in the transaction that stores the records,
and each event's fired rules are read back. An absent fact leaves a comparison silent (the
language's three-valued reading: only a condition that is true raises; no alert without the
records that show it). Fail closed: an event without the judges' proof raises
:class:`bekal.engine.Unjudged`, and the batch of records is refused whole, never taken as "no
alert". The tests check durable_rules against a plain interpreter of the syntax tree
(``tests/monitoring/reference.py``) on random histories and random rules.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bekal.compiler import CompiledRules, compile_rulesets, render
from bekal.engine import EngineClosed, FlatEngine
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
    compiled: CompiledRules | None = field(default=None, compare=False, repr=False)  # durable_rules' form

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
            for node in ast.walk(rule.when):
                # a divisor that is 0 leaves the enrolment unjudged, which refuses every batch about it, again
                # on each retry: a monitoring rule must be judgeable on every history, so it reads rates as facts
                if not (isinstance(node, ast.Arith) and node.op == "/"):
                    continue
                divisor = ast.facts_in(node.right)
                if divisor:
                    problems.append(Diagnostic(node.loc, _("a monitoring rule may not divide by a fact: {name} can "
                                                           "be 0, and every enrolment must be judged",
                                                           name=divisor[0].name),
                                               _("use a derived rate such as enrolment.attendance_rate, or "
                                                 "multiply the other side instead")))
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
    version = "sha256:" + digest.hexdigest()[:16]
    compiled = compile_rulesets(rulesets, "monitoring:" + version, facts=MONITORING_FACTS, missing_checks=False)
    return MonitoringRules(version, tuple(rulesets), tuple(tests), compiled)


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
    """Every monitoring rule test, run by durable_rules in one batch; a test passes when exactly the
    expected rules fire. Raises :class:`bekal.engine.Unjudged` (a reload gate then refuses the rules)."""
    items = []
    for test in rules.tests:
        summary = history_of(test)
        items.append((derive(summary), summary.last_session[0] if summary.last_session else test.start))
    found = judge(rules, items)
    return [TestOutcome(test, tuple(f.rule_id for f in findings)) for test, findings in zip(rules.tests, found)]


# ---------------------------------------------------------------- judging by durable_rules

ENGINES_KEPT = 4  # rule versions whose durable ruleset stays registered: serving, being reloaded, tested
_engines: OrderedDict[str, FlatEngine] = OrderedDict()
_engines_lock = threading.Lock()


def _engine(rules: MonitoringRules, compiled: CompiledRules) -> FlatEngine:
    """The durable ruleset of this rules version, registered once and kept while recently used: the
    service, its reload gate and ``bekal rules test`` ask for the same version again and again, and
    registering one costs far more than a batch."""
    with _engines_lock:
        engine = _engines.get(rules.version)
        if engine is not None and engine.compiled is compiled:
            _engines.move_to_end(rules.version)
            return engine
        if engine is not None:  # same version text, another compilation: replace it
            engine.close()
        engine = _engines[rules.version] = FlatEngine(compiled, MONITORING_FACTS)
        while len(_engines) > ENGINES_KEPT:
            _engines.popitem(last=False)[1].close()  # a call still using it retries with a new one
        return engine


def judge(rules: MonitoringRules, items: Sequence[tuple[Mapping[str, Any], date]]) -> list[list[Finding]]:
    """For each ``(enrolment.* facts, date)``: the rules in force on the date whose condition holds,
    in rule order, judged by durable_rules as the events of one batch. Raises
    :class:`bekal.engine.Unjudged` when any event lacks the proof of having been judged."""
    compiled = rules.compiled
    if compiled is None or not items:
        return [[] for _item in items]
    while True:
        try:
            fired = _engine(rules, compiled).run(items)
            break
        except EngineClosed:  # evicted by a newer version meanwhile: register it again
            continue
    out = []
    for (facts, _on), indexes in zip(items, fired):
        values = dict(facts)
        found = []
        for i in indexes:
            rule = compiled.rules[i]
            found.append(Finding(rule.id, rule.effect, render(rule.reason_id, values), render(rule.reason_en, values),
                                 rule.source))
        out.append(found)
    return out


def explain(rules: MonitoringRules, summary: Summary, on: date) -> tuple[dict[str, Any], Sequence[Finding]]:
    """The facts of a history and the rules that fire: what ``bekal monitoring explain`` prints."""
    facts = derive(summary)
    return facts, judge(rules, [(facts, on)])[0]
