"""``bekal monitoring ...``: enrolments, training records and alerts on a server; the monitoring rules locally.

- ``explain`` (local): the facts of an attendance and conduct history, and the monitoring rules that fire;
- ``enrol`` (a BNN office): enrolments from a finished matching job, or from a CSV file;
- ``enrolments``: a course's admitted and waiting list, as JSON lines;
- ``import`` (a training centre): attendance, conduct or outcomes from a CSV file, in batches;
- ``alerts``, ``ack``, ``watch`` (a BNN office): its alerts; ``watch`` follows them from a cursor.

Bad rows are reported as ``file:line:col: message`` and nothing is sent; a batch the server
refuses names its rows the same way. Imports are idempotent by record id: running one again
(after a failure half-way) records only what is missing.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import sys
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from bekal.cli.transport import connect_kwargs, connection_options
from bekal.i18n import _

F = TypeVar("F", bound=Callable[..., Any])
KINDS = {"status": "attendance", "rating": "conduct", "kind": "outcomes"}  # a column that tells the file's kind
COLUMNS = {
    "attendance": ("record_id", "enrolment_id", "session_date", "status"),
    "conduct": ("record_id", "enrolment_id", "assessment_date", "rating", "note", "note_shareable"),
    "outcomes": ("record_id", "enrolment_id", "kind", "outcome_date", "follow_up"),
}
REQUIRED = {"note", "note_shareable"}  # the columns that may be left out


def _server_options(fn: F) -> F:
    fn = click.option("--timeout", type=float, default=60.0, show_default=True,
                      help="deadline of each call in seconds")(fn)
    fn = connection_options(fn)
    return click.option("--server", default=None, metavar="HOST:PORT", envvar="BEKAL_SERVER",
                        help="the server  [default: 127.0.0.1:50051; env BEKAL_SERVER]")(fn)


def _fail(lines: Iterable[str] | str, code: int = 1) -> NoReturn:
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    sys.exit(code)


def _connect(server: str | None, tls: bool, ca: str | None, cert: str | None, key: str | None,
             timeout: float) -> Any:
    from bekal.client import DEFAULT_TARGET, connect

    return connect(server or DEFAULT_TARGET, timeout=timeout, **connect_kwargs(tls, ca, cert, key))


def _refused(exc: Exception) -> NoReturn:
    _fail(_("the server refused: {error}", error=exc))


@click.group()
def monitoring() -> None:
    """Enrolments, attendance, conduct, outcomes and alerts (monitoring after placement)."""


@monitoring.command()
@click.option("--start", "start", required=True, help="the first day of the course, YYYY-MM-DD")
@click.option("--attendance", default="", help="sessions in order, one a day: present,absent,excused,late,...")
@click.option("--conduct", default="", help="conduct ratings 1-5 in order, e.g. 4,2,2")
@click.option("--rules", "rules_path", default="rules", show_default=True, help="the rules folder")
def explain(start: str, attendance: str, conduct: str, rules_path: str) -> None:
    """The facts monitoring rules read for a history, and the rules that fire (nothing is sent anywhere)."""
    from bekal.cli.rules import load_monitoring_checked
    from bekal.monitoring.facts import derive
    from bekal.monitoring.history import ATTENDANCE
    from bekal.monitoring.rules import MonitoringTest, history_of, judge

    try:
        first = date.fromisoformat(start)
    except ValueError:
        _fail(_("--start: not a date in YYYY-MM-DD form: {value}", value=start), 2)
    sessions = tuple(s.strip() for s in attendance.split(",") if s.strip())
    bad = [s for s in sessions if s not in ATTENDANCE]
    if bad:
        _fail(_("--attendance: unknown value {value}; one of {values}", value=bad[0], values=", ".join(ATTENDANCE)), 2)
    try:
        ratings = tuple(int(r) for r in conduct.split(",") if r.strip())
    except ValueError:
        _fail(_("--conduct: ratings are whole numbers 1-5"), 2)
    if any(not 1 <= r <= 5 for r in ratings):
        _fail(_("--conduct: ratings are whole numbers 1-5"), 2)
    rules = load_monitoring_checked(rules_path)
    summary = history_of(MonitoringTest("explain", first, sessions, ratings, (), None))  # type: ignore[arg-type]
    facts = derive(summary)
    on = summary.last_session[0] if summary.last_session else first + timedelta(days=max(len(ratings) - 1, 0))
    for name in sorted(facts):
        click.echo(f"{name} = {facts[name]}")
    fired = judge(rules, [(facts, on)])[0]  # by durable_rules, as the server does
    for finding in fired:
        from bekal.i18n import language

        click.echo(f"{finding.severity.upper()} {finding.rule_id}: "
                   f"{finding.reason_id if language() == 'id' else finding.reason_en}")
        click.echo(f"    {finding.source}")
    if not fired:
        click.echo(_("no monitoring rule fires"))


@monitoring.command()
@click.option("--job", "job_id", default="", help="a finished matching job of yours: its placements")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False),
              help="CSV: client_id, course_code[, start_date][, status: enrolled or waiting]")
@click.option("--request-id", default=None, help="the idempotency key (default: from the job or the file)")
@_server_options
def enrol(job_id: str, file: str | None, request_id: str | None, server: str | None, tls: bool, ca: str | None,
          cert: str | None, key: str | None, timeout: float) -> None:
    """Create enrolments (a BNN office's certificate); prints them as JSON lines."""
    import hashlib

    from bekal.client import BekalError

    if bool(job_id) == bool(file):
        _fail(_("give --job or --file"), 2)
    rows: list[dict[str, str]] = []
    if file:
        with open(file, encoding="utf-8", newline="") as fh:
            rows = [{k: v for k, v in row.items() if v} for row in csv.DictReader(fh)]
    rid = request_id or ("job-" + job_id if job_id else "file-" + hashlib.sha256(
        Path(file or "").read_bytes()).hexdigest()[:24])
    with _connect(server, tls, ca, cert, key, timeout) as bekal:
        try:
            for enrolment in bekal.create_enrolments(job_id=job_id, enrolments=rows, request_id=rid):
                click.echo(json.dumps(dataclasses.asdict(enrolment), default=str, ensure_ascii=False))
        except BekalError as exc:
            _refused(exc)


@monitoring.command()
@click.option("--course", "course_code", default="", help="one course (default: every course you may see)")
@_server_options
def enrolments(course_code: str, server: str | None, tls: bool, ca: str | None, cert: str | None, key: str | None,
               timeout: float) -> None:
    """Enrolments as JSON lines: per course the admitted, then the waiting list in order."""
    from bekal.client import BekalError

    with _connect(server, tls, ca, cert, key, timeout) as bekal:
        try:
            for enrolment in bekal.enrolments(course_code):
                click.echo(json.dumps(dataclasses.asdict(enrolment), default=str, ensure_ascii=False))
        except BekalError as exc:
            _refused(exc)


def read_records(path: str) -> tuple[str, list[dict[str, Any]]]:
    """A training records CSV (kind told by its columns), every row checked; exits 1 naming each bad cell."""
    from bekal.monitoring.history import ATTENDANCE

    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            _fail(f"{path}:1:1: " + _("empty file"))
        header = [h.strip() for h in header]
        kinds = {KINDS[h] for h in header if h in KINDS}
        if len(kinds) != 1:
            _fail(f"{path}:1:1: " + _("cannot tell the records: a column status (attendance), rating (conduct) or "
                                      "kind (outcomes)"))
        kind = kinds.pop()
        missing = [c for c in COLUMNS[kind] if c not in header and c not in REQUIRED]
        if missing:
            _fail(f"{path}:1:1: " + _("missing column {column}", column=missing[0]))
        problems: list[str] = []
        records: list[dict[str, Any]] = []
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            record: dict[str, Any] = {}
            for col, name in enumerate(header, start=1):
                if name not in COLUMNS[kind]:
                    continue
                value: Any = row[col - 1].strip() if col - 1 < len(row) else ""
                where = f"{path}:{line}:{col}: {name}: "
                if name.endswith("_date"):
                    try:
                        value = date.fromisoformat(value)
                    except ValueError:
                        problems.append(where + _("not a date in YYYY-MM-DD form: {value!r}", value=value))
                elif name == "status" and value not in ATTENDANCE:
                    problems.append(where + _("one of {values}", values=", ".join(ATTENDANCE)))
                elif name == "rating":
                    if not re.fullmatch(r"[1-5]", value):
                        problems.append(where + _("a rating is 1 to 5, got {value!r}", value=value))
                elif name == "note_shareable":
                    value = value.lower() in ("1", "true", "yes", "ya")
                record[name] = value
            records.append(record | {"_line": line})
        if problems:
            _fail(problems[:100] + [_("{n} problem(s); nothing was sent", n=len(problems))])
    return kind, records


@monitoring.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch", "batch_size", type=click.IntRange(1, 100_000), default=5_000, show_default=True,
              help="records per call (each batch is recorded whole or not at all)")
@_server_options
def import_records(file: str, batch_size: int, server: str | None, tls: bool, ca: str | None, cert: str | None,
                   key: str | None, timeout: float) -> None:
    """Send attendance, conduct or outcomes from a CSV file (a training centre's certificate; a BNN office:
    outcomes). Columns: attendance record_id, enrolment_id, session_date, status; conduct record_id,
    enrolment_id, assessment_date, rating[, note, note_shareable]; outcomes record_id, enrolment_id, kind,
    outcome_date, follow_up."""
    from bekal.client import BekalError

    kind, records = read_records(file)
    recorded = duplicates = alerts = 0
    with _connect(server, tls, ca, cert, key, timeout) as bekal:
        for start in range(0, len(records), batch_size):
            chunk = records[start:start + batch_size]
            try:
                result = bekal.record_training(**{kind: chunk})
            except BekalError as exc:
                if exc.code != "INVALID_ARGUMENT" or not exc.field_violations:
                    _refused(exc)
                lines = []
                for v in exc.field_violations:
                    match = re.match(rf"{kind}\[(\d+)\]\.?(.*)", v.field)
                    where = f"{file}:{chunk[int(match.group(1))]['_line']}" if match else file
                    lines.append(f"{where}: {match.group(2) if match else v.field}: {v.description}")
                _fail(lines + [_("the batch from line {line} was refused; {n} record(s) were recorded before it",
                                 line=chunk[0]["_line"], n=recorded)])
            recorded += result.recorded
            duplicates += result.duplicates
            alerts += result.alerts_raised
    click.echo(_("{file}: {recorded} recorded, {duplicates} already there, {alerts} alert(s) raised", file=file,
                 recorded=recorded, duplicates=duplicates, alerts=alerts))


def _print_alerts(alerts: Iterable[Any]) -> None:
    from bekal.client import BekalError

    try:
        for alert in alerts:
            click.echo(json.dumps(dataclasses.asdict(alert), ensure_ascii=False), nl=True)
            sys.stdout.flush()
    except BekalError as exc:
        _refused(exc)


@monitoring.command()
@click.option("--unacknowledged", is_flag=True, help="only the alerts not acknowledged yet")
@_server_options
def alerts(unacknowledged: bool, server: str | None, tls: bool, ca: str | None, cert: str | None, key: str | None,
           timeout: float) -> None:
    """Your alerts (a BNN office's certificate), oldest first, as JSON lines."""
    with _connect(server, tls, ca, cert, key, timeout) as bekal:
        _print_alerts(bekal.alerts(unacknowledged_only=unacknowledged))


@monitoring.command()
@click.argument("alert_id")
@_server_options
def ack(alert_id: str, server: str | None, tls: bool, ca: str | None, cert: str | None, key: str | None,
        timeout: float) -> None:
    """Acknowledge one of your alerts."""
    from bekal.client import BekalError

    with _connect(server, tls, ca, cert, key, timeout) as bekal:
        try:
            _print_alerts([bekal.acknowledge_alert(alert_id)])
        except BekalError as exc:
            _refused(exc)


@monitoring.command()
@click.option("--after", type=click.IntRange(0), default=0, show_default=True,
              help="the sequence of the last alert you processed: only later ones are sent")
@click.option("--follow/--no-follow", default=True, show_default=True, help="keep watching for new alerts")
@_server_options
def watch(after: int, follow: bool, server: str | None, tls: bool, ca: str | None, cert: str | None,
          key: str | None, timeout: float) -> None:
    """Your alerts as JSON lines, each once, from --after on; reconnects by itself when the server restarts.
    Keep the last ``sequence`` printed and pass it as --after next time."""
    with _connect(server, tls, ca, cert, key, timeout) as bekal:
        try:
            _print_alerts(bekal.watch_alerts(after, follow=follow))
        except KeyboardInterrupt:
            pass
