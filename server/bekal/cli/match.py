"""``bekal match``: place a cohort into course seats from files, in-process or on a server.

Exit status: 0 placed (the results are written), 1 bad input (a file, a field or
the rule files; each problem printed as ``file:row:column: message``), 2 bad
usage, 3 server unavailable, 4 the server refused or the job failed, 5 the rules
are not in force on the as-of date (nothing is placed).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bekal.cli import cohort_read, cohort_write
from bekal.cli.cohort_read import Rankings, Records
from bekal.cli.errors import Failure, FileProblems
from bekal.cli.row_errors import located_lines
from bekal.clock import today
from bekal.views import CourseFillView, PlacementView, SummaryView

if TYPE_CHECKING:
    from bekal.client import BekalError

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
        raise click.BadParameter(f"not a real date in YYYY-MM-DD form: {value!r}", param_hint="--as-of") from None


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
@click.option("--progress/--no-progress", default=None, help="progress bars on stderr  [default: when a terminal]")
def match(clients_file: str, courses_file: str | None, rankings_file: str | None, seed: int, as_of: str | None,
          reserve_order: str, audience: str, out_file: str, courses_out: str | None, summary_out: str | None,
          local: bool, server: str | None, rules_dir: str | None, processes: int | None, timeout: float,
          progress: bool | None) -> None:
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
        raise click.UsageError("use either --local or --server, not both")
    if server and rules_dir:
        raise click.UsageError("--rules is for --local; a server uses its own rules")
    if server and processes is not None:
        raise click.UsageError("--processes is for --local; a server has its own setting (--placement-processes)")
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
        inputs = _read_inputs(clients_file, courses_file, rankings_file)
        if server:
            outcome = _on_server(server, inputs, day, seed, reserve_order, audience, bars, timeout)
        else:
            outcome = _in_process(rules_dir or "rules", inputs, day, seed, reserve_order, audience, bars, processes)
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


def _read_inputs(clients_file: str, courses_file: str | None, rankings_file: str | None) -> Inputs:
    problems: list[str] = []

    def read(path: str | None, reader: Callable[[str], T]) -> T | None:
        if path is None:
            return None
        try:
            return reader(path)
        except FileProblems as exc:
            problems.extend(exc.problems + ([f"... and {exc.more} more problems"] if exc.more else []))
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror}")
        return None

    clients = read(clients_file, lambda p: cohort_read.read_records(p, "client"))
    courses = read(courses_file, lambda p: cohort_read.read_records(p, "course"))
    rankings = read(rankings_file, cohort_read.read_rankings)
    if problems or clients is None:
        raise Failure(EXIT_INPUT, problems)
    return Inputs(clients, courses, rankings)


# ------------------------------------------------------------------------------------------ in process


def _in_process(rules_dir: str, inputs: Inputs, day: date, seed: int, reserve_order: str, audience: str,
                bars: Bars, processes: int | None = None) -> Outcome:
    """Place with the rules in ``rules_dir`` in this process (the server's libraries, no server)."""
    from bekal.engine import Engine
    from bekal.lang.diagnostics import RuleError
    from bekal.placement import CohortError, Unjudged, make_cohort, place
    from bekal.placement.errors import WorkersFailed
    from bekal.rulebook import load_rulebook, offered_courses

    try:
        rulebook = load_rulebook(rules_dir)
    except RuleError as exc:
        lines = [str(d) for d in exc.diagnostics] or [str(exc)]
        raise Failure(EXIT_INPUT, [f"the rules in {rules_dir} cannot be used:", *lines]) from None
    gaps = rulebook.compiled.not_in_force(day)
    if gaps:
        raise Failure(EXIT_NOT_IN_FORCE, [f"--as-of: the rules in {rules_dir} are not in force on {day.isoformat()} "
                                          f"(not in force: {', '.join(gaps)}); nothing is placed"])
    if inputs.courses is not None:
        courses: Sequence[Any] = inputs.courses.records
    else:
        courses = [rulebook.courses[code] for code in offered_courses(rulebook.courses, day)]
    try:
        cohort = make_cohort(inputs.clients.records, courses, as_of=day, seed=seed,
                             rankings=inputs.rankings.entries if inputs.rankings else None,
                             reserve_order=reserve_order)
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
               bars: Bars, timeout: float) -> Outcome:
    """Place on a running server through :mod:`bekal.client` (upload, progress, download).

    The server checks the cohort; its field violations are located in the files like local ones.
    UNAVAILABLE is retried for :data:`RETRY_FOR_S` seconds at a time (a restarting server resumes
    the job), everything within ``timeout``.
    """
    from bekal.client import BekalError, InvalidInput, JobFailed, connect

    with connect(address, timeout=timeout, retries=None, backoff=0.2, max_backoff=3.0,
                 give_up_after=RETRY_FOR_S) as bekal:
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
            raise Failure(EXIT_FAILED, [f"bekal match: job {exc.job_id} on {address} failed: {exc.message}"]) from None
        except BekalError as exc:
            raise _server_failure(address, exc, inputs) from None
    job = f", job {result.job.job_id}" if result.job else ""
    return Outcome(result.placements, result.courses, result.summary, f"server {address}{job}")


def _server_failure(address: str, error: BekalError, inputs: Inputs) -> Failure:
    """A refused or failed call as the failure ``bekal match`` reports."""
    if error.code == "UNAVAILABLE":
        return Failure(EXIT_UNAVAILABLE, [f"bekal match: server {address} unavailable: {error.message}"])
    if error.code == "DEADLINE_EXCEEDED":
        return Failure(EXIT_UNAVAILABLE, [f"bekal match: gave up waiting for {address} (--timeout)"])
    if error.code == "INVALID_ARGUMENT" and error.field_violations:
        return inputs.located([(v.field, v.description) for v in error.field_violations])
    if error.code == "FAILED_PRECONDITION" and any(t == "RULES_IN_FORCE" for t, _s, _d in error.preconditions):
        return Failure(EXIT_NOT_IN_FORCE, [f"bekal match: {error.message} on {address}; nothing is placed"])
    return Failure(EXIT_FAILED, [f"bekal match: the server refused: {error}"])


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
        raise Failure(EXIT_INPUT, [f"{exc.filename or out_file}: cannot write: {exc.strerror}"]) from None


def _print_summary(outcome: Outcome, out_file: str) -> None:
    s = outcome.summary
    pct = (100.0 * s.placed / s.clients) if s.clients else 0.0
    lines = [
        f"placed {s.placed} of {s.clients} clients ({pct:.0f}%), {s.first_choice} at their first choice; "
        f"{s.unmatched} unmatched",
        f"seats: {s.seats_filled} of {s.seats} filled in {s.courses} courses, {s.courses_full} full; "
        f"BNN referrals: {s.group_placed} of {s.group_clients} placed, {s.reserved_to_group} of "
        f"{s.reserved_seats} reserved seats to them",
        f"decisions: {s.pairs} pairs, {s.eligible_pairs} eligible, {s.ineligible_pairs} ineligible, "
        f"{s.pending_pairs} pending" + (f", {s.not_ranked_pairs} not ranked by a panel" if s.not_ranked_pairs else ""),
        f"as of {s.as_of.isoformat()}, seed {s.seed}, reserved seats {s.reserve_order.value.replace('_', ' ')}, "
        f"rules {s.ruleset_version} ({outcome.where})",
        f"results: {out_file}",
    ]
    for line in lines:
        click.echo(line)

