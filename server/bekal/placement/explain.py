"""Why not: for every course a client ranked above their placement, the reason they did not get it.

Ineligible (the rules' reasons), pending (what is missing), not ranked by the
selection panel, or full (the cutoff that beat them, and where they stood); and
how every course filled, and the summary figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from itertools import chain, compress, repeat
from operator import attrgetter
from typing import Any

from bekal.audience import BNN, withheld
from bekal.decision import Outcome, Reason
from bekal.matching import MatchResult, Standing, Summary, WhyNot
from bekal.matching import Reason as MatchReason
from bekal.placement.cohort import Cohort, Facts, in_priority_group
from bekal.placement.results import (
    Because,
    ClientPlacement,
    CourseFill,
    NotPlaced,
    PlacementSummary,
    Progress,
)
from bekal.placement.verdicts import Judged

REPORT_EVERY = 10_000  # clients between progress reports

RankPositions = Mapping[str, Mapping[str, int]]  # course code -> client id -> 0-based panel rank


@dataclass
class _Tally:
    """Counts over every decision, for the course fills and the summary."""

    applicants: Mapping[str, int]
    eligible: Mapping[str, int]
    outcomes: Mapping[Outcome, int]
    not_ranked_pairs: int = 0
    first_choice: int = 0


_BUCKETS = (Outcome.ELIGIBLE, Outcome.INELIGIBLE, Outcome.PENDING, Outcome.WITHHELD)
_BUCKET_OF = {id(o): k for k, o in enumerate(_BUCKETS)}  # by id: an enum member hashes in Python


def _tally(cohort: Cohort, decisions: Sequence[Sequence[Judged]], rank_pos: RankPositions, audience: str) -> _Tally:
    """Applicants and eligible pairs per course, pairs per outcome, eligible pairs the panel did not rank.

    Counted over the cohort's pairs laid end to end (a quarter of a million in a big job) at C speed
    where the count allows it. A training centre's figures count what it may not see as WITHHELD, so
    they reveal nothing its placements do not (:mod:`bekal.audience`)."""
    clients = cohort.clients
    codes = list(chain.from_iterable(c["preferences"] for c in clients))
    decided = list(chain.from_iterable(decisions))
    buckets = list(map(_BUCKET_OF.__getitem__, map(id, map(attrgetter("outcome"), decided))))
    if audience != BNN:
        hidden = [withheld(d, client) for client, ds in zip(clients, decisions) for d in ds]
        buckets = [3 if h else b for b, h in zip(buckets, hidden)]
    eligible = [b == 0 for b in buckets]
    per_bucket = Counter(buckets)
    tally = _Tally(applicants=Counter(codes), eligible=Counter(compress(codes, eligible)),
                   outcomes={o: per_bucket[k] for k, o in enumerate(_BUCKETS)})
    if rank_pos:
        owners = chain.from_iterable(repeat(c["id"], len(c["preferences"])) for c in clients)
        for cid, code, ok in zip(owners, codes, eligible):
            ranks = rank_pos.get(code) if ok else None
            if ranks is not None and cid not in ranks:
                tally.not_ranked_pairs += 1
    return tally


def explain(cohort: Cohort, decisions: Sequence[Sequence[Judged]], version: str, match: MatchResult, audience: str,
            report: Progress) -> tuple[tuple[ClientPlacement, ...], tuple[CourseFill, ...], PlacementSummary]:
    """Per client (input order) their placement and why-nots; per course (code order) its fill; the summary.

    ``decisions[i][j]``: client ``i`` against their ``j``-th preference, all under ruleset ``version``.
    """
    n = len(cohort.clients)
    report("explaining", 0, n)
    rank_pos = {code: {cid: r for r, cid in enumerate(ids)} for code, ids in cohort.rankings.items()}
    tally = _tally(cohort, decisions, rank_pos, audience)
    why_not = _why_not_builder(audience, rank_pos)  # bound once: it runs per client
    placements, whys, lottery = match.placements, match.why_not, match.lottery
    out: list[ClientPlacement] = []
    for i, (client, decided) in enumerate(zip(cohort.clients, decisions)):
        cid = client["id"]
        codes = client["preferences"]
        placed = placements[cid]
        lot = lottery[cid]
        choice = codes.index(placed) + 1 if placed is not None else None
        if choice == 1:
            tally.first_choice += 1
        standing = _standing(codes[choice - 1], decided[choice - 1], cid, lot, rank_pos) if choice else None
        why = tuple([why_not(client, codes[j], decided[j], lib, lot) for j, lib in enumerate(whys[cid])])
        out.append(ClientPlacement(cid, placed, choice, standing, in_priority_group(client), lot, why))
        if (i + 1) % REPORT_EVERY == 0:
            report("explaining", i + 1, n)
    report("explaining", n, n)
    return tuple(out), _fills(match, tally, cohort), _summary(match, tally, cohort, version)


def _why_not_builder(audience: str, rank_pos: RankPositions
                     ) -> Callable[[Facts, str, Judged, WhyNot, int], NotPlaced]:
    """``why_not(client, course code, decision, matching's why-not, lottery)`` -> :class:`NotPlaced`.

    The item for a refused decision is shared by every client with the same reasons (a cohort
    repeats them a lot). A closure, not a class: it runs once per course a client did not get.
    """
    refused: dict[tuple[Any, ...], NotPlaced] = {}
    not_ranked: dict[str, NotPlaced] = {}  # the same item for every client of a course: it says no more
    hidden: dict[str, NotPlaced] = {}

    def why_not(client: Facts, code: str, d: Judged, lib: WhyNot, lottery: int) -> NotPlaced:
        if lib.reason is MatchReason.FULL:
            return NotPlaced(code, Because.FULL, cutoff=lib.cutoff,
                             standing=_standing(code, d, client["id"], lottery, rank_pos))
        if d.outcome is Outcome.ELIGIBLE:
            hit = not_ranked.get(code)
            if hit is None:
                hit = not_ranked[code] = NotPlaced(code, Because.NOT_RANKED)
            return hit
        # a training centre sees the same WITHHELD for every hidden reason (bekal.audience)
        if audience != BNN and withheld(d, client):
            hit = hidden.get(code)
            if hit is None:
                hit = hidden[code] = NotPlaced(code, Because.WITHHELD)
            return hit
        key = (code, id(d.outcome), *map(id, d.reasons))  # ids: an enum member hashes in Python
        hit = refused.get(key)
        if hit is None:
            shown = tuple(r for r in d.reasons if r.outcome is d.outcome and (audience == BNN or r.shareable))
            because = Because.INELIGIBLE if d.outcome is Outcome.INELIGIBLE else Because.PENDING
            hit = NotPlaced(code, because, shown, _missing(shown) if because is Because.PENDING else ())
            refused[key] = hit
        return hit

    return why_not


def _missing(reasons: Iterable[Reason]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for r in reasons for name in r.missing))


def _standing(code: str, d: Judged, cid: str, lottery: int, rank_pos: RankPositions) -> Standing:
    ranks = rank_pos.get(code)
    if ranks is not None:
        return Standing(priority=None, rank=ranks.get(cid), lottery=lottery)
    return Standing(priority=int(d.priority), rank=None, lottery=lottery)


def _fills(match: MatchResult, tally: _Tally, cohort: Cohort) -> tuple[CourseFill, ...]:
    fills = []
    for code in sorted(match.courses):
        r = match.courses[code]
        fills.append(CourseFill(
            code=code, seats=r.seats, reserved_seats=r.reserved_seats, filled=r.filled,
            applicants=tally.applicants.get(code, 0), eligible=tally.eligible.get(code, 0),
            group_admitted=r.group_admitted, group_on_reserved=r.group_on_reserved,
            cutoff=r.cutoff, open_cutoff=r.open_cutoff, ranked=code in cohort.rankings,
        ))
    return tuple(fills)


def _summary(match: MatchResult, tally: _Tally, cohort: Cohort, version: str) -> PlacementSummary:
    s = match.summary
    counts = tally.outcomes
    return PlacementSummary(
        **{f.name: getattr(s, f.name) for f in fields(Summary)},
        first_choice=tally.first_choice, pairs=sum(counts.values()), eligible_pairs=counts[Outcome.ELIGIBLE],
        ineligible_pairs=counts[Outcome.INELIGIBLE], pending_pairs=counts[Outcome.PENDING],
        withheld_pairs=counts[Outcome.WITHHELD], not_ranked_pairs=tally.not_ranked_pairs, ruleset_version=version,
        as_of=cohort.as_of, seed=cohort.seed, reserve_order=cohort.reserve_order,
    )
