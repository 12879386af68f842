"""``bekal match``: place a cohort into course seats from files, in-process or on a server.

Exit status: 0 placed (the results are written), 1 bad input (a file, a field or
the rule files; each problem printed as ``file:row:column: message``), 2 bad
usage, 3 server unavailable, 4 the server refused or the job failed, 5 the rules
are not in force on the as-of date (nothing is placed).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import click

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_FAILED, EXIT_NOT_IN_FORCE = 0, 1, 2, 3, 4, 5
UPLOAD_CLIENTS_PER_PART = 2_000
UPLOAD_RANKINGS_PER_PART = 20_000
RETRY_FOR_S = 60.0  # how long UNAVAILABLE is retried (a restarting server resumes the job)


class Failure(Exception):
    """Stop with ``code`` after printing ``lines``."""

    def __init__(self, code: int, lines: list[str]):
        super().__init__("\n".join(lines))
        self.code = code
        self.lines = lines


@dataclass
class Outcome:
    clients: tuple  # ClientPlacement
    courses: tuple  # CourseFill
    summary: Any  # PlacementSummary
    where: str  # "in-process" or "server HOST:PORT, job ID"


class Bars:
    """One tqdm bar per phase, on stderr; silent when stderr is not a terminal (or --no-progress)."""

    LABELS = {"uploading": "uploading clients", "queued": "queued", "eligibility": "eligibility decisions",
              "matching": "matching", "explaining": "explaining", "saving": "saving results",
              "downloading": "downloading results"}

    def __init__(self, enabled: bool | None):
        self.disable = None if enabled is None else not enabled
        self.phase: str | None = None
        self.bar = None

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


def _today() -> date:
    from bekal.service.core import today

    return today()


def _as_of(value: str | None) -> date:
    if value is None:
        return _today()
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
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="--server: give up after SECONDS")
@click.option("--progress/--no-progress", default=None, help="progress bars on stderr  [default: when a terminal]")
def match(clients_file: str, courses_file: str | None, rankings_file: str | None, seed: int, as_of: str | None,
          reserve_order: str, audience: str, out_file: str, courses_out: str | None, summary_out: str | None,
          local: bool, server: str | None, rules_dir: str | None, timeout: float, progress: bool | None) -> None:
    """Place a cohort of clients into course seats, stable and explained.

    The rules decide every client x preferred course pair; only ELIGIBLE pairs
    can get a seat. Courses admit by rule priority (or the panel's ranking),
    ties broken by one seeded lottery; seats reserved for BNN referrals fill
    last by default. Every client gets, for each course they ranked above their
    placement, why not. File formats: README.md, section Matching; examples in examples/.

    Exit status: 0 placed, 1 bad input (file:row:column: message), 2 bad usage,
    3 server unavailable, 4 the server refused or the job failed, 5 the rules are not
    in force on the as-of date.
    """
    from bekal.cli import cohort_files as files

    if local and server:
        raise click.UsageError("use either --local or --server, not both")
    if server and rules_dir:
        raise click.UsageError("--rules is for --local; a server uses its own rules")
    for option, path in (("--clients", clients_file), ("--courses", courses_file), ("--rankings", rankings_file),
                         ("--out", out_file), ("--courses-out", courses_out)):
        if path is not None:
            try:
                files.file_format(path)
            except ValueError as exc:
                raise click.BadParameter(str(exc).split(": ", 1)[1], param_hint=option) from None
    day = _as_of(as_of)
    bars = Bars(progress)
    try:
        inputs = _read_inputs(clients_file, courses_file, rankings_file)
        if server:
            outcome = _on_server(server, inputs, day, seed, reserve_order, audience, bars, timeout)
        else:
            outcome = _in_process(rules_dir or "rules", inputs, day, seed, reserve_order, audience, bars)
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
    clients: Any  # cohort_files.Records
    courses: Any  # Records | None
    rankings: Any  # Rankings | None


def _read_inputs(clients_file: str, courses_file: str | None, rankings_file: str | None) -> Inputs:
    from bekal.cli import cohort_files as files
    from bekal.cli.cohort_files import FileProblems

    problems: list[str] = []
    loaded: dict[str, Any] = {}
    for key, path, read in (("clients", clients_file, lambda p: files.read_records(p, "client")),
                            ("courses", courses_file, lambda p: files.read_records(p, "course")),
                            ("rankings", rankings_file, files.read_rankings)):
        if path is None:
            loaded[key] = None
            continue
        try:
            loaded[key] = read(path)
        except FileProblems as exc:
            problems += exc.problems + ([f"... and {exc.more} more problems"] if exc.more else [])
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror}")
    if problems:
        raise Failure(EXIT_INPUT, problems)
    return Inputs(loaded["clients"], loaded["courses"], loaded["rankings"])


def _located(violations: list[tuple[str, str]], inputs: Inputs, more: int = 0) -> Failure:
    from bekal.cli import cohort_files as files

    lines = []
    options = {"as_of": "--as-of", "settings.as_of_date": "--as-of", "seed": "--seed", "settings.seed": "--seed"}
    for name, message in violations:
        found = files.locate(name, inputs.clients, inputs.courses, inputs.rankings)
        where, prefix = found if found is not None else (options.get(name, name), "")
        lines.append(f"{where}: {prefix}{message}")
    if more:
        lines.append(f"... and {more} more problems")
    return Failure(EXIT_INPUT, lines)


def _cohort(inputs: Inputs, courses: list, day: date, seed: int, reserve_order: str):
    from bekal.placement import CohortError, make_cohort

    try:
        return make_cohort(inputs.clients.records, courses, as_of=day, seed=seed,
                           rankings=inputs.rankings.entries if inputs.rankings else None,
                           reserve_order=reserve_order)
    except CohortError as exc:
        raise _located(exc.violations, inputs, exc.more) from None


def _check_facts(records: list, inputs: Inputs) -> None:
    from bekal.facts import FactError, parse_facts

    violations: list[tuple[str, str]] = []
    for i, record in enumerate(records):
        try:
            parse_facts("client", record)
        except FactError as exc:
            violations += [(f"clients[{i}].{name.split('.', 1)[1]}", m) for name, m in exc.violations]
    if violations:
        raise _located(violations[:50], inputs, max(0, len(violations) - 50))


# ------------------------------------------------------------------------------------------ in process


def _in_process(rules_dir: str, inputs: Inputs, day: date, seed: int, reserve_order: str, audience: str,
                bars: Callable) -> Outcome:
    from bekal.engine import Engine
    from bekal.placement import CohortError, Unjudged, place
    from bekal.rulebook import RuleError, load_rulebook
    from bekal.rulebook import offered_courses

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
        courses = inputs.courses.records
    else:
        courses = [rulebook.courses[code] for code in offered_courses(rulebook.courses, day)]
    cohort = _cohort(inputs, courses, day, seed, reserve_order)
    engine = Engine(rulebook)
    try:
        result = place(engine, cohort, progress=bars, audience=audience)
    except CohortError as exc:
        raise _located(exc.violations, inputs, exc.more) from None
    except Unjudged as exc:
        raise Failure(EXIT_FAILED, [f"bekal match: {exc}"]) from None
    finally:
        engine.close()
    return Outcome(result.clients, result.courses, result.summary, f"in-process, rules {rules_dir}")


# ------------------------------------------------------------------------------------------ on a server


def _on_server(address: str, inputs: Inputs, day: date, seed: int, reserve_order: str, audience: str,
               bars: Callable, timeout: float) -> Outcome:
    import grpc

    from bekal.cli import cohort_files as files
    from bekal.matching import ReserveOrder
    from bekal.service import matching_convert as conv
    from bekal.v1 import eligibility_pb2, matching_pb2, matching_pb2_grpc

    # check locally what can be checked without the server, so errors name file rows at once
    if inputs.courses is not None:
        _cohort(inputs, inputs.courses.records, day, seed, reserve_order)
    else:  # the server's catalogue: the facts can still be checked here, the course codes there
        _check_facts(inputs.clients.records, inputs)
    clients = [files.client_message(r) for r in inputs.clients.records]
    courses = [files.course_message(r) for r in inputs.courses.records] if inputs.courses else []
    settings = matching_pb2.MatchSettings(
        as_of_date=day.isoformat(), seed=seed,
        reserve_order=conv.RESERVE_ORDER_PB[ReserveOrder(reserve_order)],
        audience=eligibility_pb2.AUDIENCE_BNN if audience == "bnn" else eligibility_pb2.AUDIENCE_BLK,
    )
    rankings = [matching_pb2.CourseRanking(course_code=code, client_ids=ids)
                for code, ids in (inputs.rankings.entries if inputs.rankings else [])]
    request_id = str(uuid.uuid4())

    def parts() -> Iterator[matching_pb2.UploadCohortRequest]:
        yield matching_pb2.UploadCohortRequest(request_id=request_id, settings=settings, courses=courses)
        for start in range(0, len(rankings), UPLOAD_RANKINGS_PER_PART):
            yield matching_pb2.UploadCohortRequest(rankings=rankings[start:start + UPLOAD_RANKINGS_PER_PART])
        for start in range(0, len(clients), UPLOAD_CLIENTS_PER_PART):
            bars("uploading", start, len(clients))
            yield matching_pb2.UploadCohortRequest(clients=clients[start:start + UPLOAD_CLIENTS_PER_PART])
        bars("uploading", len(clients), len(clients))

    deadline = time.monotonic() + timeout
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024),
               ("grpc.max_send_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(address, options=options) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=min(10.0, timeout))
        except grpc.FutureTimeoutError:
            raise Failure(EXIT_UNAVAILABLE, [f"bekal match: no server answers at {address}"]) from None
        stub = matching_pb2_grpc.MatchingServiceStub(channel)
        call = _Caller(address, inputs, deadline)
        job = call(lambda t: stub.UploadCohort(parts(), timeout=t)).job
        job_id = job.job_id
        while job.status in (matching_pb2.MATCH_JOB_STATUS_QUEUED, matching_pb2.MATCH_JOB_STATUS_RUNNING):
            bars(job.phase or "queued", job.progress_done, job.progress_total)
            time.sleep(0.2)
            job = call(lambda t: stub.GetMatchJob(matching_pb2.GetMatchJobRequest(job_id=job_id), timeout=t)).job
        if job.status != matching_pb2.MATCH_JOB_STATUS_SUCCEEDED:
            raise Failure(EXIT_FAILED, [f"bekal match: job {job_id} on {address} failed: {job.error}"])
        results: list = []
        bars("downloading", 0, job.clients)

        def download(t: float) -> None:
            request = matching_pb2.StreamPlacementsRequest(job_id=job_id, offset=len(results))
            for message in stub.StreamPlacements(request, timeout=t):
                results.extend(conv.placement_from(p) for p in message.placements)
                bars("downloading", len(results), job.clients)

        call(download)  # resumes from the results already received after an interruption
    return Outcome(tuple(results), tuple(conv.course_fill_from(f) for f in job.course_fills),
                   conv.summary_from(job.summary), f"server {address}, job {job_id}")


class _Caller:
    """Calls with one overall deadline, retrying UNAVAILABLE; failures as :class:`Failure`."""

    def __init__(self, address: str, inputs: Inputs, deadline: float):
        self.address = address
        self.inputs = inputs
        self.deadline = deadline

    def __call__(self, fn: Callable[[float], Any]) -> Any:
        import grpc

        from bekal.client.errors import BekalError

        unavailable_since: float | None = None
        delay = 0.2
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise Failure(EXIT_UNAVAILABLE, [f"bekal match: gave up waiting for {self.address} (--timeout)"])
            try:
                return fn(remaining)
            except grpc.RpcError as exc:
                error = BekalError.from_rpc(exc)
            if error.code == "UNAVAILABLE":
                now = time.monotonic()
                unavailable_since = unavailable_since or now
                if now - unavailable_since < RETRY_FOR_S:
                    time.sleep(delay)
                    delay = min(delay * 2, 3.0)
                    continue
                raise Failure(EXIT_UNAVAILABLE, [f"bekal match: server {self.address} unavailable: {error.message}"])
            if error.code == "DEADLINE_EXCEEDED":
                raise Failure(EXIT_UNAVAILABLE, [f"bekal match: gave up waiting for {self.address} (--timeout)"])
            if error.code == "INVALID_ARGUMENT" and error.field_violations:
                raise _located([(v.field, v.description) for v in error.field_violations], self.inputs)
            raise Failure(EXIT_FAILED, [f"bekal match: the server refused: {error}"])


# ------------------------------------------------------------------------------------------ output


def _write(outcome: Outcome, out_file: str, courses_out: str | None, summary_out: str | None) -> None:
    import json

    from bekal.cli import cohort_files as files

    try:
        files.write_table(out_file, files.PLACEMENT_COLUMNS, (files.placement_row(p) for p in outcome.clients),
                          (files.placement_json(p) for p in outcome.clients))
        if courses_out:
            files.write_table(courses_out, files.COURSE_COLUMNS, (files.course_row(f) for f in outcome.courses),
                              (files.course_json(f) for f in outcome.courses))
        if summary_out:
            text = json.dumps(files.summary_json(outcome.summary), indent=2, ensure_ascii=False) + "\n"
            files.write_atomically(summary_out, lambda fh: fh.write(text))
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

