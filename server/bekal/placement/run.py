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

import time
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from bekal.audience import AUDIENCES, BNN
from bekal.decision import Decision, Outcome, Refusal
from bekal.matching import Client, Course, Instance, deferred_acceptance
from bekal.placement.cohort import MAX_VIOLATIONS, Cohort, Facts, in_priority_group
from bekal.placement.errors import CohortError, RulesKeptChanging, Unjudged, VersionChanged
from bekal.placement.explain import explain
from bekal.placement.results import Placement, Progress

# pairs per engine call: one durable_rules batch, so a big job holds the engine lock ~20 ms at a time and
# eligibility requests served meanwhile interleave (measured: no slower than 5,000-pair calls)
CHUNK_PAIRS = 500
ATTEMPTS = 3  # decide the whole cohort again at most this often when the rules change meanwhile


class Decider(Protocol):
    """What placing needs of :class:`bekal.engine.Engine`."""

    def decide_many(self, pairs: Sequence[tuple[Facts, Facts]], as_of: date,
                    explain: bool = False) -> list[Decision | Refusal]: ...


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


def place(engine: Decider, cohort: Cohort, *, progress: Progress | None = None, audience: str = BNN,
          chunk: int = CHUNK_PAIRS) -> Placement:
    """Decide, match and explain ``cohort`` with ``engine`` (a :class:`bekal.engine.Engine`).

    ``audience`` ``"blk"`` keeps only the reasons a training centre may see
    (:mod:`bekal.audience`): the shareable ones, and none at all for a client whose
    ``consent_to_share`` is not true; ``"bnn"`` keeps every reason. Raises
    :class:`bekal.engine.NotInForce` when the rules are not in force on the cohort's as-of date,
    :class:`CohortError` for input no person can have on it (a birth date after it, ...), and
    :class:`Unjudged` when the engine gave no verdict for some pair.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")
    report = progress or _no_progress
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    decisions = decide_all(engine, cohort, report, chunk)
    timings["eligibility"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    instance = _instance(cohort, decisions)
    report("matching", 0, 1)
    match = deferred_acceptance(instance)
    report("matching", 1, 1)
    timings["matching"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    clients, courses, summary = explain(cohort, decisions, match, audience, report)
    timings["explaining"] = time.perf_counter() - t0
    timings["total"] = timings["eligibility"] + timings["matching"] + timings["explaining"]
    return Placement(clients, courses, summary, instance, match, timings)


def decide_all(engine: Decider, cohort: Cohort, report: Progress, chunk: int = CHUNK_PAIRS) -> list[list[Decision]]:
    """``decisions[i][j]``: client ``i`` against their ``j``-th preference, all under one version.

    When the rules are reloaded meanwhile, the cohort is decided again from the start (one job
    never mixes versions); :class:`RulesKeptChanging` after :data:`ATTEMPTS` tries.
    """
    for _attempt in range(ATTEMPTS):
        try:
            return _decide_once(engine, cohort, report, chunk)
        except VersionChanged:
            continue
    raise RulesKeptChanging("the rules kept changing while the cohort was decided; try again")


def _decide_once(engine: Decider, cohort: Cohort, report: Progress, chunk: int) -> list[list[Decision]]:
    by_code = {c["code"]: c for c in cohort.courses}
    total = sum(len(c["preferences"]) for c in cohort.clients)
    decisions: list[list[Decision]] = [[] for _ in cohort.clients]
    report("eligibility", 0, total)
    pending: list[tuple[Facts, Facts]] = []
    owners: list[int] = []
    done = 0
    version: str | None = None

    def flush() -> None:
        nonlocal done, version
        if not pending:
            return
        out = engine.decide_many(pending, cohort.as_of)  # NotInForce: nothing is placed on such a date
        refused = [(owner, r) for owner, r in zip(owners, out) if isinstance(r, Refusal)]
        if refused:
            _refuse(cohort, refused)
        for owner, decision in zip(owners, out):
            decisions[owner].append(decision)  # type: ignore[arg-type]  # refusals were raised above
        first = out[0] if out else None
        if isinstance(first, Decision):
            if version is None:
                version = first.ruleset_version
            elif first.ruleset_version != version:
                raise VersionChanged()
        done += len(pending)
        pending.clear()
        owners.clear()
        report("eligibility", done, total)

    for i, client in enumerate(cohort.clients):
        for code in client["preferences"]:
            pending.append((client, by_code[code]))
            owners.append(i)
        if len(pending) >= chunk:
            flush()
    flush()
    return decisions


def _refuse(cohort: Cohort, refused: list[tuple[int, Refusal]]) -> None:
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


def _instance(cohort: Cohort, decisions: list[list[Decision]]) -> Instance:
    clients = []
    priorities: dict[tuple[str, str], int] = {}
    for client, decided in zip(cohort.clients, decisions):
        cid = client["id"]
        clients.append(Client(cid, client["preferences"], in_priority_group(client)))
        for d in decided:
            if d.outcome is Outcome.ELIGIBLE:
                priorities[(cid, d.course_code)] = int(d.priority)
    courses = [
        Course(c["code"], c["seats"], c.get("reserved_bnn_seats", 0) or 0, cohort.rankings.get(c["code"]))
        for c in cohort.courses
    ]
    return Instance(tuple(clients), tuple(courses), priorities, seed=cohort.seed,
                    reserve_order=cohort.reserve_order)
