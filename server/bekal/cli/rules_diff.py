"""``bekal rules diff OLD NEW``: what a change to the rules changes, before it goes live.

OLD and NEW are each a rules folder (``rules``), a git revision of one (``HEAD:rules``,
``main:rules``), or either of those on a date (``rules@2019-12-31``: the versions in force
then); ``@DATE`` alone means OLD's folder on that date. Rules, parameters, declared facts and
courses added, removed or changed are shown side by side; with ``--cohort FILE`` (a cohort file,
as ``bekal match`` reads) every client x course pair is decided under both, and the pairs whose
outcome or priority changes are counted and explained (``--csv FILE`` writes them).

Exit status: 0 compared (whether or not anything differs), 1 rules or input that cannot be used,
2 bad usage.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bekal.cli.rules import lang_option, rules
from bekal.i18n import N_, _

if TYPE_CHECKING:
    from bekal.cli.cohort_read import Records
    from bekal.facts import Fact
    from bekal.rulesdiff import Change, Side, WhatIf

_AT = re.compile(r"^(.*)@(\d{4}-\d{2}-\d{2})$")
MAX_LINES = 200  # changed pairs listed in the text (all of them go to --csv)
CSV_COLUMNS = ("client_id", "course_code", "outcome_before", "outcome_after", "priority_before", "priority_after",
               "now_apply", "no_longer_apply", "waiting_for", "why")


def _fail(lines: Sequence[str] | str, code: int = 1) -> NoReturn:
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    sys.exit(code)


def _git_files(rev: str, folder: str) -> dict[str, str]:
    """The rule files of ``folder`` at git revision ``rev``, named ``REV:path``."""
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "--", folder], capture_output=True,
                            text=True)
    if listed.returncode != 0:
        _fail(_("{spec}: not a rules folder, nor a git revision of one ({error})", spec=rev + ":" + folder,
                error=listed.stderr.strip().splitlines()[-1] if listed.stderr.strip() else "git"), code=2)
    files = {}
    for name in listed.stdout.splitlines():
        if name.endswith((".yaml", ".yml")):
            shown = subprocess.run(["git", "show", f"{rev}:{name}"], capture_output=True, text=True)
            files[f"{rev}:{name}"] = shown.stdout
    if not files:
        _fail(_("{spec}: no rule files (*.yaml) there", spec=rev + ":" + folder), code=2)
    return files


def _side(spec: str, as_of: date | None, default_folder: str | None) -> Side:
    from bekal.lang.diagnostics import RuleError
    from bekal.rulebook import load_rulebook_from_texts, read_files
    from bekal.rulesdiff import Side

    found = _AT.match(spec)
    folder, day = (found.group(1), date.fromisoformat(found.group(2))) if found else (spec, as_of)
    if not folder:
        if default_folder is None:
            _fail(_("{spec}: say which rules folder (e.g. rules@2020-01-01)", spec=spec), code=2)
        folder = default_folder
    try:
        if Path(folder).exists():
            files = read_files(folder)
        elif ":" in folder:
            rev, path = folder.split(":", 1)
            files = _git_files(rev, path or ".")
        else:
            _fail(_("{spec}: no such rules folder or git revision (write REV:FOLDER, e.g. HEAD:rules)", spec=folder),
                  code=2)
        rulebook = load_rulebook_from_texts(files)
    except RuleError as exc:
        _fail([str(d) for d in exc.diagnostics] + [_("{n} problem(s) in {spec}", n=len(exc.diagnostics),
                                                     spec=folder)])
    label = f"{folder}@{day}" if day is not None else folder
    return Side(label, rulebook, day)


def _columns(width: int) -> int:
    return max(28, min(60, (width - 18) // 2))


def _side_by_side(change: Change, width: int) -> list[str]:
    col = _columns(width)
    lines = []
    for name, before, after in change.fields:
        left = textwrap.wrap(before, col) or [""]
        right = textwrap.wrap(after, col) or [""]
        for i in range(max(len(left), len(right))):
            label = name if i == 0 else ""
            b = left[i] if i < len(left) else ""
            a = right[i] if i < len(right) else ""
            lines.append(f"    {label:<13} {b:<{col}} | {a}".rstrip())
    return lines


_MARK = {"added": "+", "removed": "-", "changed": "~"}
_KIND = {"rule": N_("rule"), "parameter": N_("parameter"), "fact": N_("declared fact"), "course": N_("course")}


def print_changes(old: Side, new: Side, changes: Sequence[Change]) -> None:
    width = shutil.get_terminal_size((120, 24)).columns
    col = _columns(width)
    version = _("version")
    click.echo(f"--- {old.label}  ({version} {old.rulebook.version})")
    click.echo(f"+++ {new.label}  ({version} {new.rulebook.version})")
    if not changes:
        click.echo(_("no differences in rules, parameters, declared facts or courses"))
        return
    before, after = _("before"), _("after")
    click.echo(f"    {'':<13} {before:<{col}} | {after}")
    for change in changes:
        where = change.after_at or change.before_at
        kind = _(_KIND[change.kind])
        click.echo(f"{_MARK[change.status]} {kind} {change.key}" + (f"  ({where})" if where else ""))
        for line in _side_by_side(change, width):
            click.echo(line)
    counts = {s: sum(1 for c in changes if c.status == s) for s in _MARK}
    click.echo(_("{n} difference(s): {added} added, {removed} removed, {changed} changed", n=len(changes),
                 added=counts["added"], removed=counts["removed"], changed=counts["changed"]))


def _read_cohort(path: str, declared: Mapping[str, Fact], kind: str) -> Records:
    from bekal.cli import cohort_read
    from bekal.cli.errors import FileProblems

    try:
        cohort_read.file_format(path)
        return cohort_read.read_records(path, kind, declared)
    except ValueError as exc:
        _fail(str(exc), code=2)
    except FileProblems as exc:
        _fail(exc.problems + ([f"... and {exc.more} more problems"] if exc.more else []))
    except OSError as exc:
        _fail(f"{path}: cannot read: {exc.strerror}")


def _facts_for(side: Side, kind: str, records: Records, on: date) -> tuple[list[dict[str, Any]], list[str]]:
    """Each record as the facts ``side``'s rules read (columns it does not declare are not facts to it)."""
    from bekal import facts as schema

    own = schema.fields(kind) | {n.split(".", 1)[1] for n, f in side.rulebook.declared.items() if f.kind == kind}
    out, problems = [], []
    for i, record in enumerate(records.records):
        try:
            facts = schema.parse_facts(kind, {k: v for k, v in record.items() if k in own}, side.rulebook.declared)
        except schema.FactError as exc:
            problems += [f"{records.where(i, f.split('.', 1)[1])}: {m}" for f, m in exc.violations]
            facts = {}
        problems += [f"{records.where(i, f.split('.', 1)[1])}: {m}" for f, m in schema.check_on(kind, facts, on)]
        out.append(facts)
    return out, problems


def run_what_if(old: Side, new: Side, cohort: str, courses_file: str | None, on: date) -> WhatIf:
    from bekal.rulesdiff import what_if

    declared = {**old.rulebook.declared, **new.rulebook.declared}
    clients = _read_cohort(cohort, declared, "client")
    problems: list[str] = []
    sides: list[tuple[list[dict[str, Any]], dict[str, Mapping[str, Any]]]] = []
    for side in (old, new):
        facts, found = _facts_for(side, "client", clients, side.on or on)
        problems += found
        if courses_file:
            course_records = _read_cohort(courses_file, declared, "course")
            course_facts, found = _facts_for(side, "course", course_records, side.on or on)
            problems += found
            catalogue: dict[str, Mapping[str, Any]] = {str(c.get("code")): c for c in course_facts}
        else:
            catalogue = dict(side.rulebook.courses)
        sides.append((facts, catalogue))
    if problems:
        _fail(list(dict.fromkeys(problems)))
    codes = sorted(sides[0][1].keys() | sides[1][1].keys())
    pairs: list[list[tuple[Mapping[str, Any], str]]] = [[], []]
    for i, record in enumerate(clients.records):
        for code in record.get("preferences") or codes:
            for s in (0, 1):
                pairs[s].append((sides[s][0][i], code))
    return what_if(old, new, pairs[0], pairs[1], sides[0][1], sides[1][1], on)


def print_what_if(result: WhatIf, cohort: str, old: Side, new: Side, on: date) -> None:
    click.echo("")
    click.echo(_("what-if on {cohort}: {clients} client(s), {pairs} client x course pair(s), decided on {old} "
                 "(before) and {new} (after)", cohort=cohort, clients=result.clients, pairs=result.pairs,
                 old=old.on or on, new=new.on or on))
    if not result.changes:
        click.echo(_("  no decision or priority changes"))
        return
    for group in result.groups:
        click.echo(f"  {group}")
    differently = [c for c in result.changes if c.decided_differently]
    if differently:
        click.echo(_("pairs decided differently:"))
    for c in differently[:MAX_LINES]:
        priority = "" if c.priority_before == c.priority_after else _(", priority {before} -> {after}",
                                                                      before=c.priority_before, after=c.priority_after)
        outcome = c.after if c.before == c.after else f"{c.before} -> {c.after}"
        click.echo(f"  {c.client_id} x {c.course_code}: {outcome}{priority}: {c.why}")
    if len(differently) > MAX_LINES:
        click.echo(_("  ... and {n} more (all of them: --csv FILE)", n=len(differently) - MAX_LINES))


def write_csv(result: WhatIf, path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for c in result.changes:
            writer.writerow([c.client_id, c.course_code, c.before, c.after, c.priority_before, c.priority_after,
                             ";".join(c.now_apply), ";".join(c.no_longer), ";".join(c.waiting), c.why])


@rules.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--as-of", "as_of", help="take both on this date YYYY-MM-DD (the versions in force then), unless "
              "OLD or NEW says @DATE; the what-if's date [default: today]")
@click.option("--cohort", "cohort", metavar="FILE", help="clients (.csv or .jsonl, as bekal match reads): decide "
              "them under both and show whose decision or priority changes, and why")
@click.option("--courses", "courses_file", metavar="FILE", help="the courses for --cohort [default: each "
              "version's catalogue]")
@click.option("--csv", "csv_out", metavar="FILE", help="write the changed client x course pairs as CSV")
@lang_option
def diff(old: str, new: str, as_of: str | None, cohort: str | None, courses_file: str | None,
         csv_out: str | None) -> None:
    """Compare two versions of the rules: two folders, git revisions (REV:FOLDER) or dates (FOLDER@DATE)."""
    from bekal.clock import today
    from bekal.rulesdiff import compare

    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            _fail(_("--as-of: not a real date in YYYY-MM-DD form: {value!r}", value=as_of), code=2)
    if csv_out and not cohort:
        _fail(_("--csv writes the what-if: give --cohort FILE too"), code=2)
    before = _side(old, day, None)
    folder = _AT.match(old)
    after = _side(new, day, folder.group(1) if folder else old)
    print_changes(before, after, compare(before, after))
    if cohort:
        on = day or today()
        result = run_what_if(before, after, cohort, courses_file, on)
        print_what_if(result, cohort, before, after, on)
        if csv_out:
            write_csv(result, csv_out)
            click.echo(_("wrote {n} changed pair(s) to {path}", n=len(result.changes), path=csv_out))
