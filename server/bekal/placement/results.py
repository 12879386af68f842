"""What a placement job produces: per client, per course, and the summary figures."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from bekal.decision import Reason
from bekal.matching import Instance, MatchResult, ReserveOrder, Standing, Summary

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``; phases: ``eligibility``, ``matching``, ``explaining``."""


class Because(str, enum.Enum):
    """Why a client did not get a course they ranked above their placement."""

    INELIGIBLE = "ineligible"  # the rules said no: see the reasons
    PENDING = "pending"  # the rules could not decide yet: see what is missing
    NOT_RANKED = "not_ranked"  # eligible, but the selection panel did not rank the client for the course
    FULL = "full"  # every seat the client competed for went to someone the course put ahead
    WITHHELD = "withheld"  # a training centre's view: held back for a reason it may not see (bekal.audience)


@dataclass(frozen=True, slots=True)
class NotPlaced:
    """One course a client preferred to their placement, and why they did not get it.

    ``reasons``: the decision's INELIGIBLE or PENDING reasons (for a training
    centre, only the shareable ones). ``missing``: input facts to fill in
    (PENDING). For FULL, ``cutoff`` is where the last client admitted on a seat
    open to this client stood (None when no seat was open to them, e.g. every
    seat reserved for BNN referrals) and ``standing`` where this client stood.
    """

    course: str
    because: Because
    reasons: tuple[Reason, ...] = ()
    missing: tuple[str, ...] = ()
    cutoff: Standing | None = None
    standing: Standing | None = None


@dataclass(frozen=True, slots=True)
class ClientPlacement:
    """Where one client was placed, and why not higher on their list."""

    client_id: str
    course: str | None  # None: unmatched
    choice: int | None  # 1-based position of ``course`` in the client's preferences
    standing: Standing | None  # where the client stood at ``course``
    priority_group: bool  # a BNN referral (the group reserved seats are for)
    lottery: int  # the client's number in the one tie-breaking lottery (0 = luckiest)
    why_not: tuple[NotPlaced, ...]  # every course ranked above ``course`` (all of them when unmatched)


@dataclass(frozen=True, slots=True)
class CourseFill:
    """How one course filled. ``cutoff``: where the last admitted client stood (None unless full)."""

    code: str
    seats: int
    reserved_seats: int
    filled: int
    applicants: int  # clients who listed the course
    eligible: int  # of them, those the rules called ELIGIBLE
    group_admitted: int
    group_on_reserved: int
    cutoff: Standing | None
    open_cutoff: Standing | None  # leaving out BNN referrals on reserved seats: what others had to beat
    ranked: bool  # ordered by a selection panel's ranking (else by rule priority)


@dataclass(frozen=True, slots=True)
class PlacementSummary(Summary):
    """The matching's figures (:class:`bekal.matching.Summary`) and the placement job's own."""

    first_choice: int  # clients placed at their first choice
    pairs: int  # client x course decisions taken
    eligible_pairs: int
    ineligible_pairs: int
    pending_pairs: int
    not_ranked_pairs: int  # eligible pairs left out because the panel did not rank the client
    ruleset_version: str
    as_of: date
    seed: int
    reserve_order: ReserveOrder
    withheld_pairs: int = 0  # a training centre's view: held back for a reason it may not see (bekal.audience)


@dataclass(frozen=True)
class Placement:
    """The outcome of :func:`bekal.placement.place`. ``clients`` are in input order, ``courses`` in code order.

    ``instance`` and ``match`` are the matching library's view, for
    :func:`bekal.matching.check_stability`; ``timings`` are seconds per phase.
    """

    clients: tuple[ClientPlacement, ...]
    courses: tuple[CourseFill, ...]
    summary: PlacementSummary
    instance: Instance
    match: MatchResult
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)
