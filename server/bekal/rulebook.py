"""A rules directory, loaded: parse → check → compile, all or nothing.

This is the one pipeline every entry point uses (the CLI, the server's start-up
and hot reload, ``ValidateRules``), so a rule file means the same thing
everywhere. A broken file raises ``RuleError`` listing every problem with its
``file:line:col``; nothing half-loaded ever comes out of here.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bekal import facts as schema
from bekal.compiler import (
    JUDGED,
    MAX_EXPRESSION_ENTRIES,
    CompiledRules,
    compile_rulesets,
    durable_pattern,
    expression_entries,
)
from bekal.engine import pattern_problem
from bekal.i18n import _
from bekal.lang import ast
from bekal.lang.checker import check_parameters, check_rulesets
from bekal.lang.diagnostics import Diagnostic, Location, RuleError
from bekal.lang.parser import MONITORING_EFFECTS, parse_file_partially
from bekal.lang.source import MAX_BYTES, too_large_diagnostic
from bekal.sources import Document, check_quotes

RulebookError = RuleError  # the name the service uses
__all__ = ["Diagnostic", "Rulebook", "RuleError", "RulebookError", "load_rulebook", "load_rulebook_from_texts",
           "offered_courses", "version_files"]

SUFFIXES = (".yaml", ".yml")
ELIGIBILITY = "eligibility"  # the ruleset every rules directory must have
MONITORING_PREFIX = "monitoring"  # monitoring*.rules.yaml, monitoring*.test.yaml: bekal.monitoring.rules
MONITORING_TESTS = re.compile(r"^monitoring_tests:", re.M)  # a monitoring rule test file (not versioned)


@dataclass(frozen=True)
class ReadyTest:
    """A rule test whose input the checker has read: facts as the engine takes them."""

    case: ast.RuleTestCase
    client: Mapping[str, Any]
    course: Mapping[str, Any]


@dataclass(frozen=True)
class Rulebook:
    """Everything loaded from one rules directory, immutable once built."""

    version: str  # content hash of the rule and course files, e.g. "sha256:1a2b3c4d5e6f7a8b"
    rulesets: tuple[ast.Ruleset, ...]
    compiled: CompiledRules
    courses: Mapping[str, Mapping[str, Any]]  # course code -> course facts
    sources: Mapping[str, str]  # file name -> text, rule and course files
    tests: tuple[ReadyTest, ...] = field(default=())
    parameters: tuple[ast.Parameter, ...] = field(default=())
    declared: Mapping[str, schema.Fact] = field(default_factory=dict)  # facts the folder declares (facts.yaml)
    monitoring: Any = None  # bekal.monitoring.rules.MonitoringRules: monitoring*.yaml, None when the folder has none

    @property
    def facts(self) -> Mapping[str, schema.Fact]:
        """Every fact rules may read: the API's, the derived ones and the declared ones."""
        return {**schema.SCHEMA, **self.declared}

    @functools.cached_property
    def kept_files(self) -> dict[str, str]:
        """:func:`version_files`, built once per rulebook: every eligibility batch asks for it."""
        return _files_of(self)



def _read(path: Path, name: str) -> str:
    try:
        before = path.stat()
        if before.st_size > MAX_BYTES:  # said before reading it all
            raise RuleError([too_large_diagnostic(name)])
        data = path.read_bytes()
        after = path.stat()
        if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size) or len(data) != after.st_size:
            raise RuleError([Diagnostic(Location(name, 1, 1), _("the file changed while it was read"),
                                        _("write rule files whole (save, or write a copy and rename it)"))])
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RuleError([Diagnostic(Location(name, 1, 1), _("not UTF-8 text (byte {byte})", byte=exc.start),
                                    _("save the file as UTF-8"))]) from None
    except OSError as exc:
        raise RuleError([Diagnostic(Location(name, 1, 1), _("cannot read: {error}", error=exc.strerror))]) from None


def is_monitoring(path: str | Path) -> bool:
    """Is this a monitoring rules or rule-test file (``monitoring*.yaml``)? Those are checked by
    :mod:`bekal.monitoring.rules` over their own facts (:attr:`Rulebook.monitoring`), never as eligibility rules."""
    return Path(path).name.startswith(MONITORING_PREFIX)


def read_files(path: str | Path) -> dict[str, str]:
    """The rule files under ``path`` (a directory, searched recursively, or one file), by display name."""
    root = Path(path)
    if not root.exists():
        raise RuleError([Diagnostic(Location(str(path), 1, 1), _("no such file or directory"))])
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    files: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for p in paths:
        try:
            files[str(p)] = _read(p, str(p))
        except RuleError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise RuleError(problems)
    if not files:
        raise RuleError([Diagnostic(Location(str(path), 1, 1), _("no rule files (*.yaml) here"))])
    return files


def _declared(decls: list[ast.FactDecl]) -> tuple[dict[str, schema.Fact], list[Diagnostic]]:
    """The declared facts as facts of the schema; a name the API (or another declaration) has is refused."""
    out: dict[str, schema.Fact] = {}
    first: dict[str, Location] = {}
    problems = []
    for decl in decls:
        kind, field_name = decl.name.split(".", 1)
        if decl.name in schema.SCHEMA or field_name in schema.fields(kind) or field_name == schema.DECLARED:
            problems.append(Diagnostic(decl.name_loc, _("{name} is already a fact of the API: it needs no "
                                                        "declaration", name=decl.name),
                                       _("declare only facts the API does not have (docs/rules.md, Facts)")))
            continue
        if decl.name in first:
            problems.append(Diagnostic(decl.name_loc, _("{name} is also declared at {where}", name=decl.name,
                                                        where=first[decl.name])))
            continue
        first[decl.name] = decl.loc
        for bound in (decl.minimum, decl.maximum):
            if bound is not None and (abs(bound) > 10**15 or (bound != 0 and "e" in repr(float(bound)))):
                problems.append(Diagnostic(decl.loc, _("the range of {name} must be written with plain numbers "
                                                       "between 0.0001 and 10^15", name=decl.name)))
        out[decl.name] = schema.declared_fact(decl.name, decl.type, values=decl.values, minimum=decl.minimum,
                                              maximum=decl.maximum, sensitivity=decl.sensitivity,
                                              doc=decl.description_en, doc_id=decl.description_id)
    return out, problems


def _courses(entries: list[ast.CourseEntry], declared: Mapping[str, schema.Fact] | None = None
             ) -> tuple[dict[str, dict[str, Any]], list[Diagnostic]]:
    courses: dict[str, dict[str, Any]] = {}
    first: dict[str, Location] = {}
    problems = []
    for entry in entries:
        if entry.code in first:
            problems.append(Diagnostic(entry.loc, _("duplicate course code {code!r} (first at {where})",
                                                    code=entry.code, where=first[entry.code])))
            continue
        first[entry.code] = entry.loc
        try:
            courses[entry.code] = schema.parse_facts("course", entry.facts, declared)
        except schema.FactError as exc:
            for name, message in exc.violations:
                loc = entry.field_locs.get(name.split(".", 1)[1], entry.loc)
                problems.append(Diagnostic(loc, f"{name}: {message}"))
    return courses, problems


def load_rulebook_from_texts(files: Mapping[str, str], documents: Mapping[str, Document] | None = None) -> Rulebook:
    """Build a rulebook from file texts (name -> text). Raises RuleError with every problem.

    ``documents``: the source documents rules may quote (:mod:`bekal.sources`); with them, every
    ``quote:`` is checked word for word (without them, quotes are taken as written)."""
    from bekal.monitoring.rules import load_from_texts as load_monitoring

    problems: list[Diagnostic] = []
    parsed: list[ast.SourceFile] = []
    watched = {name: text for name, text in files.items() if is_monitoring(name)}
    monitoring = None
    if watched:  # checked with the rest, all or nothing; their version is their own (not the rulebook's)
        try:
            monitoring = load_monitoring(watched, documents)
        except RuleError as exc:
            problems.extend(exc.diagnostics)
    files = {name: text for name, text in files.items() if name not in watched}
    for name in sorted(files):
        try:
            source, file_problems = parse_file_partially(name, files[name])
            parsed.append(source)
            problems.extend(file_problems)
        except RuleError as exc:
            problems.extend(exc.diagnostics)
    rulesets = [r for f in parsed for r in f.rulesets]
    parameters = [p for f in parsed for p in f.parameters]
    declared, declared_problems = _declared([d for f in parsed for d in f.facts])
    problems += declared_problems
    facts = {**schema.SCHEMA, **declared}
    courses, course_problems = _courses([c for f in parsed for c in f.courses], declared)
    problems += course_problems
    problems += check_parameters(parameters)
    problems += check_rulesets(rulesets, facts, parameters)
    problems += [Diagnostic(r.effect.loc, _("effect {effect!r} is for monitoring rules only", effect=r.effect.kind),
                            _("use ineligible, pending or priority: +N; monitoring rules live in "
                              "monitoring*.rules.yaml"))
                 for rs in rulesets for r in rs.rules if r.effect.kind in MONITORING_EFFECTS]
    if documents is not None:
        citations = [r.citation for rs in rulesets for r in rs.rules if r.citation]
        citations += [c for p in parameters for c in (p.citation, *(v.citation for v in p.values)) if c]
        problems += check_quotes(citations, documents)
    if not rulesets and not problems:
        problems.append(Diagnostic(Location(sorted(files)[0] if files else "rules", 1, 1), _("no ruleset found"),
                                   _("a rules directory needs at least one file starting with 'ruleset:'; check a "
                                     "test, facts or parameters file with its folder: bekal rules check rules")))
    elif not problems and not any(r.name == ELIGIBILITY for r in rulesets):
        # priority rules alone would call everyone ELIGIBLE: nothing is decided without these
        problems.append(Diagnostic(rulesets[0].loc, _("no ruleset named {name!r}", name=ELIGIBILITY),
                                   _("the rules that say who is not (yet) eligible are 'ruleset: {name}'; nothing is "
                                     "decided without them", name=ELIGIBILITY)))
    if problems:
        raise RuleError(problems)
    # the monitoring rule files count too: a change to them alone is a new version (the reload swaps it in),
    # and a rulebook rebuilt from its sources (placement worker processes) is the same
    versioned = {**{f.path: f.text for f in parsed if f.kind != "tests"},
                 **{n: t for n, t in watched.items() if not MONITORING_TESTS.search(t)}}
    digest = hashlib.sha256()
    for name in sorted(versioned):
        digest.update(Path(name).name.encode() + b"\0" + versioned[name].encode() + b"\0")
    version = "sha256:" + digest.hexdigest()[:16]
    tests, test_problems = _read_tests([t for f in parsed for t in f.tests], courses, rulesets, declared)
    problems += test_problems
    if problems:
        raise RuleError(problems)
    compiled = compile_rulesets(rulesets, version, parameters, {**schema.SCHEMA, **declared})
    problems += _too_complex(rulesets, compiled)
    problems += _pattern_limits(rulesets)
    if problems:
        raise RuleError(problems)
    return Rulebook(
        version=version,
        rulesets=tuple(rulesets),
        compiled=compiled,
        courses=courses,
        sources=versioned,
        tests=tuple(tests),
        parameters=tuple(parameters),
        declared=declared,
        monitoring=monitoring,
    )


def _read_tests(cases: list[ast.RuleTestCase], courses: Mapping[str, Mapping[str, Any]],
                rulesets: list[ast.Ruleset], declared: Mapping[str, schema.Fact]
                ) -> tuple[list[ReadyTest], list[Diagnostic]]:
    """Every rule test's input checked like any other input, at its ``file:line:col``: unknown fields,
    values (types, ranges, impossible dates on the test's date), courses, rule ids and facts."""
    rule_ids = {r.id for rs in rulesets for r in rs.rules}
    ready: list[ReadyTest] = []
    problems: list[Diagnostic] = []
    for case in cases:
        before = len(problems)
        client: dict[str, Any] = {}
        try:
            client = schema.parse_facts("client", case.client, declared)
        except schema.FactError as exc:
            problems += [Diagnostic(case.client_at(name.split(".", 1)[1]), f"{name}: {message}")
                         for name, message in exc.violations]
        else:
            problems += [Diagnostic(case.client_at(name.split(".", 1)[1]), f"{name}: {message}")
                         for name, message in schema.check_on("client", client, case.as_of)]
        course: Mapping[str, Any] = {}
        if isinstance(case.course, str):
            if case.course in courses:
                course = courses[case.course]
            else:
                close = schema.suggest(case.course, sorted(courses))
                problems.append(Diagnostic(case.course_loc or case.loc, _("unknown course {code!r}", code=case.course),
                                           _("did you mean {close!r}?", close=close) if close else
                                           _("a code from courses.yaml")))
        else:
            try:
                course = schema.parse_facts("course", case.course, declared)
            except schema.FactError as exc:
                problems += [Diagnostic(case.course_locs.get(name.split(".", 1)[1], case.loc), f"{name}: {message}")
                             for name, message in exc.violations]
        for rule_id in case.expect_reasons or ():
            if rule_id not in rule_ids:
                close = schema.suggest(rule_id, sorted(rule_ids))
                problems.append(Diagnostic(case.reasons_loc or case.loc,
                                           _("expect.reasons: no rule {id!r}", id=rule_id),
                                           _("did you mean {close!r}?", close=close) if close else None))
        for name in case.expect_missing or ():
            if name not in schema.SCHEMA and name not in declared:
                close = schema.suggest(name, [*schema.SCHEMA, *declared])
                problems.append(Diagnostic(case.missing_loc or case.loc, _("expect.missing: unknown fact {name!r}",
                                                                            name=name),
                                           _("did you mean {close!r}?", close=close) if close else None))
        if len(problems) == before:
            ready.append(ReadyTest(case, client, course))
    return ready, problems


def _too_complex(rulesets: list[ast.Ruleset], compiled: CompiledRules) -> list[Diagnostic]:
    """Rules durable_rules would refuse (error 113): its per-rule expression sequence is counted
    exactly on the compiled form, which the checker's count of comparisons cannot see."""
    rules = [r for rs in rulesets for r in rs.rules]
    worst: dict[int, int] = {}
    for name, (kind, index) in compiled.actions.items():
        n = expression_entries(compiled.definition[name]["all"][0]["m"])
        # a judge holds one rule when that rule alone is too large to share one (compiler._judges)
        for i in compiled.judges[index].rules if kind == JUDGED else (index,):
            worst[i] = max(n, worst.get(i, 0))
    return [Diagnostic(rules[i].when.loc, _("condition is too complex for durable_rules: it takes {n} expression "
                                            "slots, at most {max}", n=n, max=MAX_EXPRESSION_ENTRIES),
                       _("split it into several rules"))
            for i, n in sorted(worst.items()) if n > MAX_EXPRESSION_ENTRIES]


def _pattern_limits(rulesets: list[ast.Ruleset]) -> list[Diagnostic]:
    """Patterns the checker accepts that still exceed durable_rules' fixed limits (512 states):
    each is tried on its own, so the author hears it at the pattern, not as a failed reload."""
    out = []
    for rule in (r for rs in rulesets for r in rs.rules):
        for node in ast.walk(rule.when):
            if isinstance(node, ast.Match):
                problem = pattern_problem(durable_pattern(node), case_insensitive=node.op == "contains")
                if problem:
                    out.append(Diagnostic(node.pattern_loc, problem,
                                          _("make it shorter or simpler: fewer '.' and repeats; no %d inside [ ]")))
    return out


def reload_problems(serving: Rulebook, candidate: Rulebook) -> list[Diagnostic]:
    """What a hot reload from ``serving`` to ``candidate`` would lose without saying so.

    A ruleset that disappears (a deleted or emptied file: the eligibility rules gone, the
    priority rules alone would call everyone ELIGIBLE), or rules that vanish from a ruleset
    without being listed under ``retired:`` (a file caught half-written loses its last rules).
    Such a reload is refused and the serving version keeps serving; removing a ruleset on
    purpose takes a restart.
    """
    problems: list[Diagnostic] = []
    new: dict[str, list[ast.Ruleset]] = {}
    for ruleset in candidate.rulesets:
        new.setdefault(ruleset.name, []).append(ruleset)
    for name in dict.fromkeys(r.name for r in serving.rulesets):
        old = [r for r in serving.rulesets if r.name == name]
        if name not in new:
            problems.append(Diagnostic(Location(old[0].file, 1, 1),
                                       _("ruleset {name!r} would disappear (it was in {file})", name=name,
                                         file=old[0].file),
                                       _("restore the file; to remove a ruleset on purpose, restart the server")))
            continue
        kept = {rule.id for r in new[name] for rule in r.rules} | {i.id for r in new[name] for i in r.retired}
        lost = sorted({rule.id for r in old for rule in r.rules} - kept)
        if lost:
            problems.append(Diagnostic(new[name][0].loc,
                                       _("rule(s) {rules} of ruleset {name!r} would disappear", rules=", ".join(lost),
                                         name=name),
                                       _("list them under 'retired:' with a reason, or finish writing the file")))
    return problems


def _files_of(rulebook: Rulebook) -> dict[str, str]:
    """The files that make ``rulebook``'s version (no tests), named relative to their common folder.

    What the decision log keeps of every version that served: :func:`load_rulebook_from_texts` of
    these gives the same version (the hash reads file names without their folder), so a decision
    can be replayed with exactly the rules that made it."""
    names = list(rulebook.sources)
    if not names:
        return {}
    parents = [str(Path(n).parent) for n in names]
    try:
        common = Path(os.path.commonpath(parents)) if len(set(parents)) > 1 else Path(parents[0])
    except ValueError:  # relative and absolute names mixed: keep them as they are
        return dict(rulebook.sources)
    out = {}
    for name, text in rulebook.sources.items():
        try:
            out[Path(name).relative_to(common).as_posix()] = text
        except ValueError:
            out[name] = text
    return out


def offered_courses(courses: Mapping[str, Mapping[str, Any]], as_of: date) -> list[str]:
    """Course codes offered on ``as_of``: start date on or after it, or not set; sorted."""
    out = []
    for code, course in courses.items():
        start = course.get("start_date")  # course facts: a date, or absent
        if start is None or start >= as_of:
            out.append(code)
    return sorted(out)


def load_rulebook(path: str | Path, documents: Mapping[str, Document] | None = None) -> Rulebook:
    """Load a rules directory (or a single rule file). Raises RuleError with every problem."""
    return load_rulebook_from_texts(read_files(path), documents)


def version_files(rulebook: Rulebook) -> dict[str, str]:
    """The files that make ``rulebook``'s version (no tests), named relative to their common folder, as
    the decision log keeps them (built once per rulebook)."""
    return rulebook.kept_files
