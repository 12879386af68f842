"""Running a placement: every pair decided under one ruleset version, then matched.

1. **Eligibility**: every client against every course in their preferences,
   through ``decide_many`` in chunks (with a progress callback), all as of one
   date and under one ruleset version.
2. **Instance**: only ELIGIBLE pairs are acceptable (a PENDING or INELIGIBLE
   decision never turns into a seat); a course orders its applicants by the
   decision's priority, or by the selection panel's explicit ranking when one
   is given for it (a client the panel did not rank is not acceptable); BNN
   referrals (``referrer: bnn``) are the priority group the course's
   ``reserved_bnn_seats`` are for; one seeded lottery breaks ties.
3. **Matching**: :func:`bekal.matching.deferred_acceptance`.
4. **Explanations**: :mod:`bekal.placement.explain`.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from bekal.audience import AUDIENCES, BNN
from bekal.decision import Outcome, Refusal
from bekal.matching import Client, Course, Instance, deferred_acceptance
from bekal.placement import parallel
from bekal.placement.cohort import MAX_VIOLATIONS, Cohort, Facts, in_priority_group
from bekal.placement.errors import CohortError, RulesKeptChanging, Unjudged, VersionChanged
from bekal.placement.explain import explain
from bekal.placement.parallel import Chunk, Decided
from bekal.placement.results import Placement, Progress
from bekal.placement.verdicts import Judged

if TYPE_CHECKING:  # the engine is imported where it decides: `bekal match --server` never loads it
    from bekal.engine import Judgement, Shared

# pairs per engine call: one durable_rules batch, so a big job holds the engine lock ~20 ms at a time and
# eligibility requests served meanwhile interleave (measured: no slower than 5,000-pair calls)
CHUNK_PAIRS = 500
ATTEMPTS = 3  # decide the whole cohort again at most this often when the rules change meanwhile
# ``processes=None`` (auto): every core for a cohort with at least this many pairs, else this process
# alone (starting a worker costs ~0.3 s once; 20,000 pairs take ~0.45 s on one core)
PARALLEL_MIN_PAIRS = 20_000


class Decider(Protocol):
    """What placing needs of :class:`bekal.engine.Engine`.

    Deciding on more than one process also needs its ``rulebook`` (with ``sources`` and
    ``version``) and ``version``; a decider without them always decides in this process.
    """

    def judge_many(self, pairs: Sequence[tuple[Facts, Facts]], as_of: date,
                   shared: Shared | None = None) -> Judgement: ...


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


def place(engine: Decider, cohort: Cohort, *, progress: Progress | None = None, audience: str = BNN,
          chunk: int = CHUNK_PAIRS, processes: int | None = None) -> Placement:
    """Decide, match and explain ``cohort`` with ``engine`` (a :class:`bekal.engine.Engine`).

    ``audience`` ``"blk"`` keeps only the reasons a training centre may see
    (:mod:`bekal.audience`): the shareable ones, and none at all for a client whose
    ``consent_to_share`` is not true; ``"bnn"`` keeps every reason. ``processes``: how many
    processes decide eligibility (this one and ``processes - 1`` workers of
    :mod:`bekal.placement.parallel`); None picks every core for a big cohort, this process alone
    for a small one; the placement is the same either way. Raises
    :class:`bekal.engine.NotInForce` when the rules are not in force on the cohort's as-of date,
    :class:`CohortError` for input no person can have on it (a birth date after it, ...),
    :class:`Unjudged` when the engine gave no verdict for some pair, and
    :class:`~bekal.placement.errors.WorkersFailed` when a worker process failed.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")
    with gc_paused():
        return _place(engine, cohort, progress or _no_progress, audience, chunk, processes)


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a job runs (jobs on several threads: until the last ends).

    A job allocates millions of objects that live until it ends, and nearly all of them are freed
    by reference counting; the collector would walk them all again and again (measured: ~1 s of a
    50,000 x 500 job, half of matching and explanations). Collection resumes as before afterwards.
    """
    global _gc_depth, _gc_was_enabled
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


def _place(engine: Decider, cohort: Cohort, report: Progress, audience: str, chunk: int,
           processes: int | None) -> Placement:
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    decided = decide_all(engine, cohort, report, chunk, processes)
    timings["eligibility"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    instance = _instance(cohort, decided.decisions)
    report("matching", 0, 1)
    match = deferred_acceptance(instance)
    report("matching", 1, 1)
    timings["matching"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    clients, courses, summary = explain(cohort, decided.decisions, decided.version, match, audience, report)
    timings["explaining"] = time.perf_counter() - t0
    timings["total"] = timings["eligibility"] + timings["matching"] + timings["explaining"]
    return Placement(clients, courses, summary, instance, match, timings)


def resolve_processes(processes: int | None, pairs: int) -> int:
    """How many processes decide ``pairs`` pairs: ``processes``, or for None every core when there are
    at least :data:`PARALLEL_MIN_PAIRS`."""
    if processes is None:
        return (os.cpu_count() or 1) if pairs >= PARALLEL_MIN_PAIRS else 1
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a whole number >= 1 or None (automatic), got {processes!r}")
    return processes


def decide_all(engine: Decider, cohort: Cohort, report: Progress, chunk: int = CHUNK_PAIRS,
               processes: int | None = 1) -> Decided:
    """``decisions[i][j]``: client ``i`` against their ``j``-th preference, all under one version.

    When the rules are reloaded meanwhile, the cohort is decided again from the start (one job
    never mixes versions); :class:`RulesKeptChanging` after :data:`ATTEMPTS` tries.
    """
    chunks = plan_chunks(cohort, chunk)
    n = min(resolve_processes(processes, sum(p for _, _, p in chunks)), len(chunks))
    for _attempt in range(ATTEMPTS):
        try:
            rulebook: Any = getattr(engine, "rulebook", None)
            if n > 1 and rulebook is not None:
                with parallel.pool().claim(n - 1) as workers:
                    if workers is not None:  # else another job has the workers: decide here
                        return parallel.decide_parallel(engine, rulebook, cohort, report, chunks, workers,
                                                        _chunk_decider(engine, cohort))
            return _decide_once(engine, cohort, report, chunks)
        except VersionChanged:
            continue
    raise RulesKeptChanging("the rules kept changing while the cohort was decided; try again")


def plan_chunks(cohort: Cohort, chunk: int) -> list[Chunk]:
    """The engine calls of a job: ``(first client, end client, pairs)``, whole clients, each call once it
    holds at least ``chunk`` pairs (the rest in a last one)."""
    out: list[Chunk] = []
    start = pending = 0
    for i, client in enumerate(cohort.clients):
        pending += len(client["preferences"])
        if pending >= chunk:
            out.append((start, i + 1, pending))
            start, pending = i + 1, 0
    if pending:
        out.append((start, len(cohort.clients), pending))
    return out


def _chunk_decider(engine: Decider, cohort: Cohort) -> parallel.Deciding:
    """``decide(chunk)``: the chunk's decisions per client, their version, and its refused pairs."""
    by_code = {c["code"]: c for c in cohort.courses}
    clients, as_of = cohort.clients, cohort.as_of
    from bekal.engine import Shared

    shared = Shared()  # each course prepared once for the whole job

    def decide(chunk: Chunk) -> tuple[list[list[Judged]], str | None, list[tuple[int, Refusal]]]:
        a, b, _ = chunk
        pairs = [(client, by_code[code]) for client in clients[a:b] for code in client["preferences"]]
        judged = engine.judge_many(pairs, as_of, shared)  # NotInForce: nothing is placed on such a date
        out = judged.verdicts
        mine: list[list[Judged]] = []
        refused: list[tuple[int, Refusal]] = []
        pos = 0
        for i in range(a, b):
            m = len(clients[i]["preferences"])
            got = out[pos:pos + m]
            for r in got:
                if isinstance(r, Refusal):
                    refused.append((i, r))
            mine.append(got)  # type: ignore[arg-type]  # refusals are raised by the caller
            pos += m
        return mine, judged.version if out else None, refused

    return decide


def _decide_once(engine: Decider, cohort: Cohort, report: Progress, chunks: Sequence[Chunk]) -> Decided:
    total = sum(n for _, _, n in chunks)
    decisions: list[list[Judged]] = [[] for _ in cohort.clients]
    report("eligibility", 0, total)
    decide = _chunk_decider(engine, cohort)
    done = 0
    version: str | None = None
    for chunk in chunks:
        mine, theirs, refused = decide(chunk)
        if refused:
            refuse(cohort, refused)
        decisions[chunk[0]:chunk[1]] = mine
        if theirs is not None:
            if version is None:
                version = theirs
            elif theirs != version:
                raise VersionChanged()
        done += chunk[2]
        report("eligibility", done, total)
    return Decided(decisions, version or "")


def refuse(cohort: Cohort, refused: list[tuple[int, Refusal]]) -> None:
    """Pairs the engine would not decide stop the whole job: a placement made without them would
    hand their seats to others. Impossible input names its client; no proof is a fault."""
    codes = {c["code"]: i for i, c in enumerate(cohort.courses)}
    bad = [(f"clients[{owner}].{f.split('.', 1)[1]}" if f.startswith("client.") else
            f"courses[{codes.get(r.course_code, 0)}].{f.split('.', 1)[1]}", m)
           for owner, r in refused if r.bad_input for f, m in r.violations]
    if bad:
        unique = list(dict.fromkeys(bad))
        raise CohortError(unique[:MAX_VIOLATIONS], more=max(0, len(unique) - MAX_VIOLATIONS))
    rules = sorted({rule for _owner, r in refused for rule in r.unjudged})
    raise Unjudged(f"the rules engine gave no verdict for {len(refused)} pair(s) (rules {', '.join(rules) or '-'}); "
                   "nothing was placed")


def _instance(cohort: Cohort, decisions: Sequence[Sequence[Judged]]) -> Instance:
    clients = []
    priorities: dict[tuple[str, str], int] = {}
    eligible = Outcome.ELIGIBLE
    for client, decided in zip(cohort.clients, decisions):
        cid = client["id"]
        codes = client["preferences"]
        clients.append(Client(cid, codes, in_priority_group(client)))
        for code, d in zip(codes, decided):
            if d.outcome is eligible:
                priorities[(cid, code)] = int(d.priority)
    courses = [
        Course(c["code"], c["seats"], c.get("reserved_bnn_seats", 0) or 0, cohort.rankings.get(c["code"]))
        for c in cohort.courses
    ]
    return Instance(tuple(clients), tuple(courses), priorities, seed=cohort.seed,
                    reserve_order=cohort.reserve_order)
