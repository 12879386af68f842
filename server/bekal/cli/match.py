"""``bekal match``: place a cohort into course seats from files, in-process or on a server.

Exit status: 0 placed (the results are written), 1 bad input (a file, a field or
the rule files; each problem printed as ``file:row:column: message``), 2 bad
usage, 3 server unavailable, 4 the server refused or the job failed, 5 the rules
are not in force on the as-of date (nothing is placed).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bekal.cli import cohort_read, cohort_write
from bekal.cli.cohort_read import Rankings, Records
from bekal.cli.errors import Failure, FileProblems
from bekal.cli.row_errors import located_lines
from bekal.cli.transport import connect_kwargs, connection_options
from bekal.clock import today
from bekal.i18n import _
from bekal.views import CourseFillView, PlacementView, SummaryView

if TYPE_CHECKING:
    from bekal.client import BekalError
    from bekal.facts import Fact
    from bekal.rulebook import Rulebook

T = TypeVar("T")

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_FAILED, EXIT_NOT_IN_FORCE = 0, 1, 2, 3, 4, 5
RETRY_FOR_S = 60.0  # how long UNAVAILABLE is retried (a restarting server resumes the job)
CONNECT_S = 10.0  # how long to wait for a server to answer at all


@dataclass
class Outcome:
    clients: Sequence[PlacementView]
    courses: Sequence[CourseFillView]
    summary: SummaryView
    where: str  # "in-process" or "server HOST:PORT, job ID"


class Bars:
    """One tqdm bar per phase, on stderr; silent when stderr is not a terminal (or --no-progress)."""

    LABELS = {"uploading": "uploading clients", "queued": "queued", "eligibility": "eligibility decisions",
              "matching": "matching", "explaining": "explaining", "saving": "saving results",
              "downloading": "downloading results"}

    def __init__(self, enabled: bool | None):
        self.disable = None if enabled is None else not enabled
        self.phase: str | None = None
        self.bar: Any = None  # a tqdm bar

    def __call__(self, phase: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(total=total or None, desc=self.LABELS.get(phase, phase), unit="",
                            unit_scale=True, disable=self.disable, file=sys.stderr, leave=False,
                            dynamic_ncols=True)
        if self.bar is not None:
            if total and self.bar.total != total:
                self.bar.total = total
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _as_of(value: str | None) -> date:
    if value is None:
        return today()
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("not a real date in YYYY-MM-DD form: {value!r}", value=value),
                                 param_hint="--as-of") from None


@click.command()
@click.option("--clients", "clients_file", required=True, metavar="FILE",
              help="the cohort: one client per row (.csv or .jsonl), with id and preferences")
@click.option("--courses", "courses_file", metavar="FILE",
              help="course offerings (.csv or .jsonl) with code and seats  [default: the catalogue's courses "
                   "offered on the as-of date]")
@click.option("--rankings", "rankings_file", metavar="FILE",
              help="selection panel rankings (.csv or .jsonl): course_code, client_id, rank (1 = best)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the tie-breaking lottery")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="decision date  [default: today in WITA]")
@click.option("--reserve-order", type=click.Choice(["open_first", "reserved_first"]), default="open_first",
              show_default=True, help="which seats of a course with BNN-reserved seats fill first")
@click.option("--audience", type=click.Choice(["blk", "bnn"]), default="blk", show_default=True,
              help="blk: only reasons a training centre may see; bnn: every reason")
@click.option("--out", "out_file", required=True, metavar="FILE", help="per-client results (.csv or .jsonl)")
@click.option("--courses-out", "courses_out", metavar="FILE", help="also write per-course fill and cutoffs")
@click.option("--summary-out", "summary_out", metavar="FILE", help="also write the summary figures as JSON")
@click.option("--local", "local", is_flag=True, help="place in this process with the rules in --rules (the default)")
@click.option("--server", metavar="HOST:PORT", help="place on a running server through its job API")
@click.option("--rules", "rules_dir", metavar="DIR", help="rules folder for --local  [default: rules]")
@click.option("--processes", type=click.IntRange(min=1), metavar="N",
              help="--local: processes deciding eligibility  [default: every core for a big cohort]")
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="--server: give up after SECONDS")
@connection_options
@click.option("--progress/--no-progress", default=None, help="progress bars on stderr  [default: when a terminal]")
def match(clients_file: str, courses_file: str | None, rankings_file: str | None, seed: int, as_of: str | None,
          reserve_order: str, audience: str, out_file: str, courses_out: str | None, summary_out: str | None,
          local: bool, server: str | None, rules_dir: str | None, processes: int | None, timeout: float,
          tls: bool, ca: str | None, cert: str | None, key: str | None, progress: bool | None) -> None:
    """Place a cohort of clients into course seats, stable and explained.

    The rules decide every client x preferred course pair; only ELIGIBLE pairs
    can get a seat. Courses admit by rule priority (or the panel's ranking),
    ties broken by one seeded lottery; seats reserved for BNN referrals fill
    last by default. Every client gets, for each course they ranked above their
    placement, why not. File formats: docs/matching.md; examples in examples/.

    Exit status: 0 placed, 1 bad input (file:row:column: message), 2 bad usage,
    3 server unavailable, 4 the server refused or the job failed, 5 the rules are not
    in force on the as-of date.
    """
    if local and server:
        raise click.UsageError(_("use either --local or --server, not both"))
    if server and rules_dir:
        raise click.UsageError(_("--rules is for --local; a server uses its own rules"))
    if server and processes is not None:
        raise click.UsageError(_("--processes is for --local; a server has its own setting (--placement-processes)"))
    for option, path in (("--clients", clients_file), ("--courses", courses_file), ("--rankings", rankings_file),
                         ("--out", out_file), ("--courses-out", courses_out)):
        if path is not None:
            try:
                cohort_read.file_format(path)
            except ValueError as exc:
                raise click.BadParameter(str(exc).split(": ", 1)[1], param_hint=option) from None
    day = _as_of(as_of)
    bars = Bars(progress)
    try:
        if server:  # the server has the rules' declared facts: other columns go to it as such
            inputs = _read_inputs(clients_file, courses_file, rankings_file, open_columns=True)
            outcome = _on_server(server, inputs, day, seed, reserve_order, audience, bars, timeout,
                                 connect_kwargs(tls, ca, cert, key))
        else:
            rulebook = _rulebook(rules_dir or "rules")
            inputs = _read_inputs(clients_file, courses_file, rankings_file, rulebook.declared)
            outcome = _in_process(rulebook, rules_dir or "rules", inputs, day, seed, reserve_order, audience, bars,
                                  processes)
        bars.close()
        _write(outcome, out_file, courses_out, summary_out)
    except Failure as failure:
        bars.close()
        for line in failure.lines:
            click.echo(line, err=True)
        sys.exit(failure.code)
    _print_summary(outcome, out_file)



# ------------------------------------------------------------------------------------------ input


@dataclass
class Inputs:
    clients: Records
    courses: Records | None
    rankings: Rankings | None

    def located(self, violations: Sequence[tuple[str, str]], more: int = 0) -> Failure:
        """Problems named by field path (``clients[3].birth_date``) as ``file:row:column`` lines."""
        return Failure(EXIT_INPUT, located_lines(violations, self.clients, self.courses, self.rankings,
                                                 self.clients.pref_columns, more))


def _read_inputs(clients_file: str, courses_file: str | None, rankings_file: str | None,
                 declared: Mapping[str, Fact] | None = None, open_columns: bool = False) -> Inputs:
    problems: list[str] = []

    def read(path: str | None, reader: Callable[[str], T]) -> T | None:
        if path is None:
            return None
        try:
            return reader(path)
        except FileProblems as exc:
            problems.extend(exc.problems + ([_("... and {n} more problems", n=exc.more)] if exc.more else []))
        except OSError as exc:
            problems.append(_("{path}: cannot read: {error}", path=path, error=exc.strerror))
        return None

    clients = read(clients_file, lambda p: cohort_read.read_records(p, "client", declared, open_columns))
    courses = read(courses_file, lambda p: cohort_read.read_records(p, "course", declared, open_columns))
    rankings = read(rankings_file, cohort_read.read_rankings)
    if problems or clients is None:
        raise Failure(EXIT_INPUT, problems)
    return Inputs(clients, courses, rankings)


# ------------------------------------------------------------------------------------------ in process


def _rulebook(rules_dir: str) -> Rulebook:
    from bekal.lang.diagnostics import RuleError
    from bekal.rulebook import load_rulebook

    try:
        return load_rulebook(rules_dir)
    except RuleError as exc:
        lines = [str(d) for d in exc.diagnostics] or [str(exc)]
        raise Failure(EXIT_INPUT, [_("the rules in {folder} cannot be used:", folder=rules_dir), *lines]) from None


def _in_process(rulebook: Rulebook, rules_dir: str, inputs: Inputs, day: date, seed: int, reserve_order: str,
                audience: str, bars: Bars, processes: int | None = None) -> Outcome:
    """Place with the rules in ``rules_dir`` in this process and ``processes`` - 1 helpers (None: every core
    for a big cohort), with the server's libraries and no server."""
    from bekal.engine import Engine
    from bekal.placement import CohortError, Unjudged, make_cohort, place
    from bekal.placement.errors import WorkersFailed
    from bekal.rulebook import offered_courses

    gaps = rulebook.compiled.not_in_force(day)
    if gaps:
        raise Failure(EXIT_NOT_IN_FORCE, [_("--as-of: the rules in {folder} are not in force on {date} (not in "
                                            "force: {names}); nothing is placed", folder=rules_dir,
                                            date=day.isoformat(), names=", ".join(gaps))])
    if inputs.courses is not None:
        courses: Sequence[Any] = inputs.courses.records
    else:
        courses = [rulebook.courses[code] for code in offered_courses(rulebook.courses, day)]
    try:
        cohort = make_cohort(inputs.clients.records, courses, as_of=day, seed=seed,
                             rankings=inputs.rankings.entries if inputs.rankings else None,
                             reserve_order=reserve_order, declared=rulebook.declared)
    except CohortError as exc:
        raise inputs.located(exc.violations, exc.more) from None
    engine = Engine(rulebook)
    try:
        result = place(engine, cohort, progress=bars, audience=audience, processes=processes)
    except CohortError as exc:
        raise inputs.located(exc.violations, exc.more) from None
    except (Unjudged, WorkersFailed) as exc:
        raise Failure(EXIT_FAILED, [f"bekal match: {exc}"]) from None
    finally:
        engine.close()
    return Outcome(result.clients, result.courses, result.summary, f"in-process, rules {rules_dir}")


# ------------------------------------------------------------------------------------------ on a server


def _on_server(address: str, inputs: Inputs, day: date, seed: int, reserve_order: str, audience: str,
               bars: Bars, timeout: float, transport: dict[str, Any]) -> Outcome:
    """Place on a running server through :mod:`bekal.client` (upload, progress, download).

    The server checks the cohort; its field violations are located in the files like local ones.
    UNAVAILABLE is retried for :data:`RETRY_FOR_S` seconds at a time (a restarting server resumes
    the job), everything within ``timeout``.
    """
    from bekal.client import BekalError, InvalidInput, JobFailed, connect

    with connect(address, timeout=timeout, retries=None, backoff=0.2, max_backoff=3.0,
                 give_up_after=RETRY_FOR_S, **transport) as bekal:
        try:
            bekal.wait_until_connected(min(CONNECT_S, timeout))
        except BekalError as exc:
            raise Failure(EXIT_UNAVAILABLE, [f"bekal match: {exc.message}"]) from None
        try:
            result = bekal.place_cohort(
                inputs.clients.records, courses=inputs.courses.records if inputs.courses else (),
                rankings=inputs.rankings.entries if inputs.rankings else None, as_of=day, seed=seed,
                reserve_order=reserve_order, audience=audience, progress=bars, timeout=timeout)
        except InvalidInput as exc:  # a value the client cannot even encode
            raise inputs.located(exc.violations) from None
        except JobFailed as exc:
            raise Failure(EXIT_FAILED, [_("bekal match: job {job} on {address} failed: {error}", job=exc.job_id,
                                          address=address, error=exc.message)]) from None
        except BekalError as exc:
            raise _server_failure(address, exc, inputs) from None
    job = f", job {result.job.job_id}" if result.job else ""
    return Outcome(result.placements, result.courses, result.summary, f"server {address}{job}")


def _server_failure(address: str, error: BekalError, inputs: Inputs) -> Failure:
    """A refused or failed call as the failure ``bekal match`` reports."""
    if error.code == "UNAVAILABLE":
        return Failure(EXIT_UNAVAILABLE, [_("bekal match: server {address} unavailable: {error}", address=address,
                                            error=error.message)])
    if error.code == "DEADLINE_EXCEEDED":
        return Failure(EXIT_UNAVAILABLE, [_("bekal match: gave up waiting for {address} (--timeout)",
                                            address=address)])
    if error.code == "INVALID_ARGUMENT" and error.field_violations:
        return inputs.located([(v.field, v.description) for v in error.field_violations])
    if error.code == "FAILED_PRECONDITION" and any(t == "RULES_IN_FORCE" for t, _s, _d in error.preconditions):
        return Failure(EXIT_NOT_IN_FORCE, [_("bekal match: {error} on {address}; nothing is placed",
                                             error=error.message, address=address)])
    return Failure(EXIT_FAILED, [_("bekal match: the server refused: {error}", error=error)])


# ------------------------------------------------------------------------------------------ output


def _write(outcome: Outcome, out_file: str, courses_out: str | None, summary_out: str | None) -> None:
    import json

    w = cohort_write
    try:
        w.write_table(out_file, w.PLACEMENT_COLUMNS, (w.placement_row(p) for p in outcome.clients),
                      (w.placement_json(p) for p in outcome.clients))
        if courses_out:
            w.write_table(courses_out, w.COURSE_COLUMNS, (w.course_row(f) for f in outcome.courses),
                          (w.course_json(f) for f in outcome.courses))
        if summary_out:
            text = json.dumps(w.summary_json(outcome.summary), indent=2, ensure_ascii=False) + "\n"
            w.write_atomically(summary_out, lambda fh: fh.write(text))
    except OSError as exc:
        raise Failure(EXIT_INPUT, [_("{path}: cannot write: {error}", path=exc.filename or out_file,
                                     error=exc.strerror)]) from None


def _print_summary(outcome: Outcome, out_file: str) -> None:
    s = outcome.summary
    pct = (100.0 * s.placed / s.clients) if s.clients else 0.0
    lines = [
        _("placed {placed} of {clients} clients ({pct}%), {first} at their first choice; {unmatched} unmatched",
          placed=s.placed, clients=s.clients, pct=format(pct, ".0f"), first=s.first_choice, unmatched=s.unmatched),
        _("seats: {filled} of {seats} filled in {courses} courses, {full} full; BNN referrals: {group_placed} of "
          "{group} placed, {to_group} of {reserved} reserved seats to them", filled=s.seats_filled, seats=s.seats,
          courses=s.courses, full=s.courses_full, group_placed=s.group_placed, group=s.group_clients,
          to_group=s.reserved_to_group, reserved=s.reserved_seats),
        _("decisions: {pairs} pairs, {eligible} eligible, {ineligible} ineligible, {pending} pending",
          pairs=s.pairs, eligible=s.eligible_pairs, ineligible=s.ineligible_pairs, pending=s.pending_pairs)
        + (_(", {n} withheld", n=s.withheld_pairs) if s.withheld_pairs else "")
        + (_(", {n} not ranked by a panel", n=s.not_ranked_pairs) if s.not_ranked_pairs else ""),
        _("as of {date}, seed {seed}, reserved seats {order}, rules {version} ({where})", date=s.as_of.isoformat(),
          seed=s.seed, order=s.reserve_order.value.replace("_", " "), version=s.ruleset_version,
          where=outcome.where),
        _("results: {path}", path=out_file),
    ]
    for line in lines:
        click.echo(line)

