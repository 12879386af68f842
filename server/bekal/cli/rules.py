"""``bekal rules check|test|explain``: the rule authors' tools.

Exit codes: 0 all good, 1 problems in the rules, the input or failing tests, 2 bad usage,
3 (``explain``) the rules are not in force on the decision date: nothing is decided.
Errors are ``file:line:col: message`` lines, never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bekal.cli.output import print_decision, to_json
from bekal.i18n import _, language

if TYPE_CHECKING:  # the engine and the rules load when a rules command runs, not for every command
    from bekal.engine import Engine
    from bekal.facts import Fact
    from bekal.lang.diagnostics import Location
    from bekal.monitoring.rules import MonitoringRules
    from bekal.rulebook import Rulebook
    from bekal.sources import Document

DEFAULT_RULES = "rules"
EXIT_NOT_IN_FORCE = 3


def _fail(lines: list[str] | str, code: int = 1) -> NoReturn:
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    sys.exit(code)


def load_checked(path: str, documents: Mapping[str, Document] | None = None) -> tuple[Rulebook, Engine]:
    """Parse, check and compile ``path`` and load it into an engine, or exit 1 with every problem."""
    from bekal.engine import Engine, EngineError
    from bekal.rulebook import RuleError, load_rulebook

    try:
        rulebook = load_rulebook(path, documents)
    except RuleError as exc:
        _fail([str(d) for d in exc.diagnostics] + [_("{n} problem(s) in {path}", n=len(exc.diagnostics), path=path)])
    try:
        return rulebook, Engine(rulebook)
    except EngineError as exc:
        _fail(f"{path}: {exc}")


def _language(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """--lang: messages in Indonesian (id) or English (en); without it, as said before (``bekal --lang``)
    or BEKAL_LANG or the locale (LC_ALL, LC_MESSAGES, LANG)."""
    from bekal.i18n import default_language, set_language

    if value is not None:
        ctx.meta["bekal.lang"] = value
    set_language(ctx.meta.get("bekal.lang") or default_language())


lang_option = click.option("--lang", type=click.Choice(["id", "en"]), callback=_language, expose_value=False,
                           is_eager=True, help="language of messages: id (Bahasa Indonesia) or en "
                           "[default: BEKAL_LANG, else the locale]")


@click.group()
@lang_option
def rules() -> None:
    """Check, test and explain rule files."""


def source_documents(folder: str | None) -> Mapping[str, Document] | None:
    """The source documents quotes are checked against: ``--sources``, else docs/sources if it is there
    (None, with a note, when there is none: quotes are then taken as written)."""
    from bekal.rulebook import RuleError
    from bekal.sources import DEFAULT_FOLDER, read_documents

    path = Path(folder) if folder else DEFAULT_FOLDER
    if not path.is_dir():
        if folder:
            _fail(_("--sources: {folder}: no such folder", folder=folder), code=2)
        click.echo(_("note: quotes not checked: no folder {folder} here (give --sources DIR)", folder=DEFAULT_FOLDER),
                   err=True)
        return None
    try:
        return read_documents(path)
    except RuleError as exc:
        _fail([str(d) for d in exc.diagnostics])


@rules.command()
@click.argument("path", default=DEFAULT_RULES)
@click.option("--sources", "sources", help="folder of the source documents quotes are checked against "
              "[default: docs/sources, when it exists]")
@lang_option
def check(path: str, sources: str | None) -> None:
    """Check rule files (a directory or one file): syntax, facts, types, limits, quotes. A test, facts,
    parameters or course file is checked with the folder it is in."""
    from bekal.rulebook import is_monitoring

    if Path(path).is_file() and (_first_key(Path(path)) in ("tests", "facts", "parameters", "courses")
                                 or is_monitoring(path)):
        path = str(Path(path).parent)
    documents = source_documents(sources)
    rulebook, engine = load_checked(path, documents)
    engine.close()
    n_rules = len(rulebook.compiled.rules)
    click.echo(_("{path}: OK: {rulesets} ruleset(s), {rules} rule(s), {courses} course(s), {tests} test(s); "
                 "version {version}", path=path, rulesets=len(rulebook.rulesets), rules=n_rules,
                 courses=len(rulebook.courses), tests=len(rulebook.tests), version=rulebook.version))
    monitoring = rulebook.monitoring
    if monitoring is not None:
        click.echo(_("{path}: monitoring OK: {rules} rule(s), {tests} test(s); version {version}", path=path,
                     rules=len(monitoring.rules), tests=len(monitoring.tests), version=monitoring.version))


def load_monitoring_checked(path: str, documents: Mapping[str, Document] | None = None) -> MonitoringRules:
    """The monitoring rules of a rules folder (monitoring*.rules.yaml), checked, or exit 1 with every problem."""
    from bekal.lang.diagnostics import RuleError
    from bekal.monitoring.rules import load_monitoring_rules

    try:
        rules = load_monitoring_rules(path, documents)
    except RuleError as exc:
        _fail([str(d) for d in exc.diagnostics] + [_("{n} problem(s) in {path}", n=len(exc.diagnostics), path=path)])
    if not rules.rules:  # a wrong folder must not read as "no rule fires"
        _fail([_("{path}: no monitoring rules here (monitoring*.rules.yaml); nothing can be judged",
                 path=path)])
    return rules


def _first_key(path: Path) -> str | None:
    """The first top-level key of a YAML file (what kind of rule file it is), without parsing it."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip() and not line.startswith(("#", " ", "-", "\t")):
                    return line.split(":", 1)[0].strip()
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _test_files(paths: tuple[str, ...]) -> tuple[str, set[Path] | None]:
    """The rules folder to load and the test files to run (None: every test of the folder).

    A test file is run with the rules of the folder it is in: ``bekal rules test rules/x.test.yaml``."""
    if not paths:
        return DEFAULT_RULES, None
    files = [Path(p) for p in paths]
    if len(files) == 1 and not files[0].is_file():
        return paths[0], None
    folders = {f.resolve().parent for f in files}
    for f in files:
        if not f.is_file():
            _fail(_("{file}: no such test file", file=f), code=2)
    if len(folders) > 1:
        _fail(_("the test files are in different folders: run one rules folder at a time"), code=2)
    return str(files[0].parent), {f.resolve() for f in files}


@rules.command()
@click.argument("paths", nargs=-1)
@lang_option
def test(paths: tuple[str, ...]) -> None:
    """Run the rule tests (*.test.yaml) of a rules folder (default: rules), or only those of the test
    files given (with the rules of their folder), and list rules no test exercises."""
    from bekal.monitoring.rules import run_tests as run_monitoring_tests
    from bekal.rulebook import is_monitoring
    from bekal.ruletests import run_tests

    path, only = _test_files(paths)
    monitoring_only = None if only is None else {f for f in only if is_monitoring(f)}
    only = None if only is None or monitoring_only is None else only - monitoring_only
    rulebook, engine = load_checked(path)
    monitoring_failed = 0
    monitoring_run = 0
    for outcome in run_monitoring_tests(rulebook.monitoring) if rulebook.monitoring is not None else ():
        if monitoring_only is not None and Path(outcome.test.loc.file).resolve() not in monitoring_only:
            continue
        monitoring_run += 1
        if not outcome.passed:
            monitoring_failed += 1
            click.echo(_("{where}: FAIL {name}", where=outcome.test.loc, name=outcome.test.name))
            click.echo(_("    expected {expected}; fired {fired}", expected=", ".join(outcome.test.expect) or "-",
                         fired=", ".join(outcome.fired) or "-"))
    if monitoring_run:
        click.echo(_("monitoring rule tests: {passed} passed, {failed} failed",
                     passed=monitoring_run - monitoring_failed, failed=monitoring_failed))
    if only is not None and not only:  # monitoring test files only
        engine.close()
        sys.exit(1 if monitoring_failed else 0)
    if only is not None:
        known = {Path(t.case.file).resolve() for t in rulebook.tests}
        for f in sorted(only - known):
            engine.close()
            _fail(_("{file}: no rule tests in this file (a rule test file starts with 'tests:')",
                    file=os.path.relpath(f)), code=2)
    report = run_tests(rulebook, engine, only=only)
    engine.close()
    for result in report.failed:
        click.echo(_("{where}: FAIL {name}", where=result.where, name=result.test.name))
        for problem in result.problems:
            click.echo(f"    {problem}")
        if result.decision is not None:
            for reason in result.decision.reasons:
                message = reason.indonesian if language() == "id" else reason.english
                click.echo(_("    got reason {rule} ({outcome}): {message}", rule=reason.rule_id,
                             outcome=reason.outcome.value, message=message))
    if only is None:  # which rules no test exercises is a question about every test
        for untested in report.unexercised:
            click.echo(str(untested))
    passed = len(report.results) - len(report.failed)
    click.echo(_("rule tests: {passed} passed, {failed} failed", passed=passed, failed=len(report.failed)))
    if report.failed or monitoring_failed:
        sys.exit(1)


def read_facts_file(path: str, kind: str, declared: Mapping[str, Fact] | None = None) -> FactsFile:
    """A YAML or JSON file of client (or course) facts, validated (``declared``: the facts the rules
    folder declares); exits 1 with every problem at its ``file:line:col``."""
    from bekal import facts as schema
    from bekal.lang.diagnostics import RuleError
    from bekal.lang.source import load_yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(_("{path}: cannot read: {error}", path=path, error=exc))
    try:
        doc = load_yaml(path, text, dates_as_text=True)
    except RuleError as exc:
        _fail([str(d) for d in exc.diagnostics])
    if doc is None or not isinstance(doc.value, dict):
        _fail(_("{path}:1:1: expected a mapping of {kind} fields, e.g. birth_date: 1995-03-01", path=path, kind=kind))
    where = {key: node.loc for key, node in doc.value.items()}
    try:
        return FactsFile(path, schema.parse_facts(kind, doc.plain, declared), where)
    except schema.FactError as exc:
        _fail([f"{where.get(field.split('.', 1)[1], path + ':1:1')}: {field}: {message}"
               for field, message in exc.violations])


@dataclass(frozen=True)
class FactsFile:
    """Facts read from a file, and where each field is written (to point at a bad one)."""

    path: str
    facts: dict[str, Any]
    where: Mapping[str, Location]

    def at(self, field: str) -> str:
        """``file:line:col`` of a fact (``client.birth_date``), or the file."""
        loc = self.where.get(field.split(".", 1)[-1])
        return str(loc) if loc is not None else self.path


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(_("--as-of: not a real date in YYYY-MM-DD form: {value!r}", value=value), code=2)


def course_from(rulebook: Rulebook, code: str) -> dict[str, Any]:
    from bekal import facts as schema

    if code not in rulebook.courses:
        close = schema.suggest(code, sorted(rulebook.courses))
        _fail(_("--course: unknown course {code!r}", code=code) + (_("; did you mean {close!r}?", close=close)
                                                                    if close else "")
              + _(" (known: {codes})", codes=", ".join(sorted(rulebook.courses))), code=1)
    return dict(rulebook.courses[code])


@rules.command()
@click.option("--client", "client_file", required=True, type=click.Path(dir_okay=False),
              help="YAML/JSON file of the client's facts")
@click.option("--course", "course_code", required=True, help="course code from the catalogue")
@click.option("--as-of", "as_of", help="decision date YYYY-MM-DD (default: today)")
@click.option("--rules", "rules_path", default=DEFAULT_RULES, show_default=True, help="rules directory")
@click.option("--json", "as_json", is_flag=True, help="print the decision and trace as JSON")
@lang_option
def explain(client_file: str, course_code: str, as_of: str | None, rules_path: str, as_json: bool) -> None:
    """Decide one client for one course and show every rule: fired or not, and the facts it read."""
    from bekal.engine import NotInForce, Refused

    day = _as_of(as_of)
    rulebook, engine = load_checked(rules_path)
    client_file_read = read_facts_file(client_file, "client", rulebook.declared)
    client = client_file_read.facts
    course = course_from(rulebook, course_code)
    try:
        decision = engine.decide(client, course, day, explain=True)
    except NotInForce as exc:
        _fail(f"--as-of: {exc}", code=EXIT_NOT_IN_FORCE)
    except Refused as exc:
        refusal = exc.refusal
        if not refusal.bad_input:  # no proof from the engine: a fault, never a decision
            _fail(_("bekal rules explain: nothing decided: {why}", why=refusal))
        _fail([f"{client_file_read.at(f) if f.startswith('client.') else '--course ' + course_code}: {f}: {m}"
               for f, m in refusal.violations])
    finally:
        engine.close()
    if as_json:
        click.echo(to_json(decision))
    else:
        print_decision(decision, trace=True)
        _print_parameters(rulebook, day)


def _print_parameters(rulebook: Rulebook, day: date) -> None:
    """The dated parameters and the value each has on ``day`` (what ``param.NAME`` reads)."""
    values = rulebook.compiled.param_values(day)
    if not rulebook.parameters:
        return
    click.echo(_("parameters on {date}:", date=day.isoformat()))
    for param in rulebook.parameters:
        value = values.get(param.ref)
        shown = _("(no value)") if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        description = param.description_id if language() == "id" else param.description_en
        click.echo(f"  {param.ref} = {shown}   {description}")
