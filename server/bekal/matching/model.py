"""The matching market: clients, courses, acceptable pairs, priorities, one lottery.

The caller builds an :class:`Instance` from rule decisions (only ELIGIBLE pairs
are acceptable; a rule-derived score per pair, or a selection panel's explicit
ranking per course). Nothing here knows about rules, gRPC or storage.

:func:`compile_instance` validates an instance and turns it into a
:class:`Market`: dense integer indices and one integer *key* per acceptable
pair (lower key = the course likes the client better). Deferred acceptance and
the stability checker both work on a ``Market``, so they cannot disagree about
how a course orders its applicants.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import cast

from bekal.matching.errors import InvalidInstance

PairKey = tuple[str, str]
"""``(client_id, course_code)``."""


class ReserveOrder(str, enum.Enum):
    """In which order a course with reserved seats fills its two kinds of seats.

    ``OPEN_FIRST`` (the default) fills the open seats first, on course priority
    among *all* applicants, and only then the reserved seats, among the priority
    group members who are left. Group members therefore compete for open seats on
    their own priority, and the reserved seats catch the *next* members: the group
    gets at least as many seats at the course as with ``RESERVED_FIRST``, where
    the reserved seats absorb the group's best members first and the open seats
    then go to whoever is next -- often non-members -- so the reserve adds little.
    Dur, Kominers, Pathak & Sönmez, "Reserve Design: Unintended Consequences and
    the Demise of Boston's Walk Zones", Journal of Political Economy 126(6), 2018,
    show that lowering the precedence of reserved seats weakly increases the
    reserve group's assignment at a school, with effects as large as changing the
    reserve size.
    """

    OPEN_FIRST = "open_first"
    RESERVED_FIRST = "reserved_first"


@dataclass(frozen=True, slots=True)
class Client:
    """A post-rehabilitation client and the courses they want, most wanted first.

    ``priority_group`` marks membership of the group reserved seats are for
    (e.g. referred by BNNK). Only the id is needed here: the matching never sees
    health data.
    """

    id: str
    preferences: tuple[str, ...]
    priority_group: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.preferences, tuple):
            object.__setattr__(self, "preferences", tuple(self.preferences))


@dataclass(frozen=True, slots=True)
class Course:
    """A course with ``seats`` seats, ``reserved_seats`` of them for the priority group.

    ``ranking``: an explicit order over clients (best first), e.g. from the BLK
    selection panel after the written test and interview. When given, it
    replaces the priority scores for this course, and a client absent from it is
    not acceptable to the course.
    """

    code: str
    seats: int
    reserved_seats: int = 0
    ranking: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.ranking is not None and not isinstance(self.ranking, tuple):
            object.__setattr__(self, "ranking", tuple(self.ranking))


@dataclass(frozen=True, slots=True)
class Instance:
    """One matching problem.

    ``priorities`` maps each *acceptable* ``(client_id, course_code)`` pair to the
    course's integer score of the client (higher is better). A pair that is
    missing is not acceptable: the caller puts in only the pairs the rules called
    ELIGIBLE, so a PENDING or INELIGIBLE decision can never turn into a seat. For
    a course with an explicit ranking the score is not used, but the pair must
    still be present: a panel ranking cannot override a rule decision.

    Ties in score are broken by one lottery (``seed``) shared by every course
    (single tie-breaking): see :func:`lottery_numbers`.
    """

    clients: tuple[Client, ...]
    courses: tuple[Course, ...]
    priorities: Mapping[PairKey, int]
    seed: int = 0
    reserve_order: ReserveOrder = ReserveOrder.OPEN_FIRST

    def __post_init__(self) -> None:
        if not isinstance(self.clients, tuple):
            object.__setattr__(self, "clients", tuple(self.clients))
        if not isinstance(self.courses, tuple):
            object.__setattr__(self, "courses", tuple(self.courses))
        if not isinstance(self.reserve_order, ReserveOrder):
            try:
                order = ReserveOrder(self.reserve_order)
            except ValueError:
                choices = ", ".join(o.value for o in ReserveOrder)
                raise InvalidInstance("reserve_order", f"must be one of {choices}") from None
            object.__setattr__(self, "reserve_order", order)


@dataclass(frozen=True, slots=True)
class Standing:
    """Where one client stands in one course's order, for cutoffs and explanations.

    For a priority-ordered course: ``priority`` (higher is better) then
    ``lottery`` (lower is better). For a ranked course: ``rank`` (0 = best).
    """

    priority: int | None
    rank: int | None
    lottery: int


def lottery_numbers(client_ids: Iterable[str], seed: int) -> dict[str, int]:
    """The single tie-breaking lottery: client id -> lottery number (0 = luckiest).

    One random permutation of the clients sorted by id, from
    ``random.Random(seed)``. Sorting first makes the draw independent of the
    order the caller lists clients in; one draw for all courses (rather than one
    per course) avoids the efficiency loss of multiple tie-breaking (Abdulkadiroğlu,
    Pathak & Roth, AER 2009).
    """
    ordered = sorted(client_ids)
    random.Random(seed).shuffle(ordered)
    return {cid: number for number, cid in enumerate(ordered)}


@dataclass(frozen=True, slots=True)
class Market:
    """An :class:`Instance` in index form, validated.

    Clients are indexed in id order and courses in code order, so everything
    downstream is independent of input order. ``acceptable[i]`` lists client
    ``i``'s acceptable courses in preference order as ``(course, key)``; keys are
    unique within a course and lower is better: ``rank`` for ranked courses,
    ``(max_priority - priority) * n + lottery`` otherwise. ``nonmember_offset[c]``
    exceeds every key at course ``c``: added to a non-member's key it puts every
    group member ahead of every non-member, which is how the reserved seats
    order applicants.
    """

    instance: Instance
    client_ids: tuple[str, ...]
    course_codes: tuple[str, ...]
    lottery: tuple[int, ...]
    member: tuple[bool, ...]
    preferences: tuple[tuple[int, ...], ...]  # all ranked courses, acceptable or not
    acceptable: tuple[tuple[tuple[int, int], ...], ...]
    seats: tuple[int, ...]
    reserved: tuple[int, ...]
    ranked: tuple[bool, ...]
    nonmember_offset: tuple[int, ...]
    max_priority: int

    @property
    def n(self) -> int:
        return len(self.client_ids)

    def standing(self, client: int, course: int, key: int) -> Standing:
        """Decode a key back into the terms a case worker understands."""
        if self.ranked[course]:
            return Standing(priority=None, rank=key, lottery=self.lottery[client])
        return Standing(priority=self.max_priority - key // self.n, rank=None, lottery=key % self.n)


class Reason(str, enum.Enum):
    """Why a client did not get a course they ranked above their placement."""

    # the caller's rules did not make the pair ELIGIBLE (or the panel did not rank them)
    NOT_ACCEPTABLE = "not acceptable"
    FULL = "full"  # every seat the client competed for went to someone the course ranks higher


@dataclass(frozen=True, slots=True)
class WhyNot:
    """One course a client preferred to their placement, and why they did not get it.

    ``cutoff`` (for ``FULL``) is the standing of the lowest admitted client among
    the seats this client competed for: for a non-member, reserved seats held by
    group members are not counted (they were never open to them). None when all
    such seats were reserved, or the course has no seats.
    """

    course: str
    reason: Reason
    cutoff: Standing | None = None


@dataclass(frozen=True, slots=True)
class CourseResult:
    """How one course filled.

    ``cutoff``: standing of the lowest admitted client, None when the course is
    not full. ``open_cutoff``: the same, leaving out group members seated on
    reserved seats -- what a non-member had to beat (equals ``cutoff`` without
    reserves).
    """

    code: str
    seats: int
    reserved_seats: int
    filled: int
    admitted: tuple[str, ...]  # best first, in the course's order
    group_admitted: int
    group_on_reserved: int  # group members holding reserved seats
    cutoff: Standing | None
    open_cutoff: Standing | None


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for a report line."""

    clients: int
    placed: int
    unmatched: int
    courses: int
    seats: int
    seats_filled: int
    courses_full: int
    group_clients: int
    group_placed: int
    reserved_seats: int
    reserved_to_group: int
    proposals: int


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Outcome of a matching run, keyed by client id / course code (in sorted order).

    ``why_not[client]`` lists, in the client's preference order, every course
    they ranked above their placement (all of their courses when unmatched).
    ``lottery`` is each client's lottery number, to explain tie-breaks.
    """

    placements: Mapping[str, str | None]
    courses: Mapping[str, CourseResult]
    unmatched: tuple[str, ...]
    why_not: Mapping[str, tuple[WhyNot, ...]]
    lottery: Mapping[str, int]
    summary: Summary


def compile_instance(instance: Instance) -> Market:
    """Validate ``instance`` and index it; raise :class:`InvalidInstance` naming the bad field.

    Linear in clients + courses + preference entries + priority entries.
    """
    clients, courses, priorities = instance.clients, instance.courses, instance.priorities
    client_order = _index_clients(clients)
    course_index = _index_courses(courses)
    n = len(client_order)
    client_pos = {clients[k].id: i for i, k in enumerate(client_order)}
    codes = tuple(sorted(course_index))
    course_pos = {code: c for c, code in enumerate(codes)}
    by_code = {course.code: course for course in courses}
    max_p, min_p = _check_priorities(priorities, client_pos, course_pos)
    rank_pos = _rank_positions(courses, client_pos, course_index)

    draw = lottery_numbers((clients[k].id for k in client_order), instance.seed)
    lottery = tuple(draw[clients[k].id] for k in client_order)
    span = (max_p - min_p + 1) * n
    ranked = tuple(by_code[code].ranking is not None for code in codes)
    offsets = tuple(len(by_code[code].ranking or ()) if ranked[c] else span for c, code in enumerate(codes))

    prefs_all: list[tuple[int, ...]] = []
    acceptable: list[tuple[tuple[int, int], ...]] = []
    score_of, position = priorities.get, course_pos.get
    for i, k in enumerate(client_order):
        client = clients[k]
        cid, lot = client.id, lottery[i]
        prefs = client.preferences
        found = tuple(map(position, prefs))
        if None in found:
            j = found.index(None)
            raise InvalidInstance(f"clients[{k}].preferences[{j}]", f"unknown course {prefs[j]!r}")
        indices = cast(tuple[int, ...], found)
        if len(set(indices)) != len(indices):
            raise InvalidInstance(f"clients[{k}].preferences", "a course is listed twice")
        acc = []
        for code, c in zip(prefs, indices):
            score = score_of((cid, code))
            if score is None:
                continue
            if ranked[c]:
                r = rank_pos[code].get(cid)
                if r is not None:
                    acc.append((c, r))
            else:
                acc.append((c, (max_p - score) * n + lot))
        prefs_all.append(indices)
        acceptable.append(tuple(acc))

    return Market(
        instance=instance,
        client_ids=tuple(clients[k].id for k in client_order),
        course_codes=codes,
        lottery=lottery,
        member=tuple(bool(clients[k].priority_group) for k in client_order),
        preferences=tuple(prefs_all),
        acceptable=tuple(acceptable),
        seats=tuple(by_code[code].seats for code in codes),
        reserved=tuple(by_code[code].reserved_seats for code in codes),
        ranked=ranked,
        nonmember_offset=offsets,
        max_priority=max_p,
    )


def _index_clients(clients: tuple[Client, ...]) -> list[int]:
    """Positions of ``clients`` in id order; reject bad or duplicate ids."""
    seen: set[str] = set()
    for k, client in enumerate(clients):
        if not isinstance(client, Client):
            raise InvalidInstance(f"clients[{k}]", "must be a Client")
        if not isinstance(client.id, str) or not client.id:
            raise InvalidInstance(f"clients[{k}].id", "must be a non-empty string")
        if client.id in seen:
            raise InvalidInstance(f"clients[{k}].id", f"duplicate client id {client.id!r}")
        seen.add(client.id)
    ids = [client.id for client in clients]
    return sorted(range(len(clients)), key=ids.__getitem__)


def _index_courses(courses: tuple[Course, ...]) -> dict[str, int]:
    """Course code -> position in ``courses``; reject bad codes and seat counts."""
    index: dict[str, int] = {}
    for k, course in enumerate(courses):
        if not isinstance(course, Course):
            raise InvalidInstance(f"courses[{k}]", "must be a Course")
        if not isinstance(course.code, str) or not course.code:
            raise InvalidInstance(f"courses[{k}].code", "must be a non-empty string")
        if course.code in index:
            raise InvalidInstance(f"courses[{k}].code", f"duplicate course code {course.code!r}")
        if not _is_int(course.seats) or course.seats < 0:
            raise InvalidInstance(f"courses[{k}].seats", "must be an integer >= 0")
        if not _is_int(course.reserved_seats) or not 0 <= course.reserved_seats <= course.seats:
            raise InvalidInstance(f"courses[{k}].reserved_seats", "must be an integer between 0 and seats")
        index[course.code] = k
    return index


def _check_priorities(
    priorities: Mapping[PairKey, int], client_pos: Mapping[str, int], course_pos: Mapping[str, int]
) -> tuple[int, int]:
    """Reject pairs naming unknown clients/courses and non-integer scores; return (max, min) score."""
    if not priorities:
        return 0, 0
    keys, scores = list(priorities), list(priorities.values())
    # the usual case checked at C speed (a placement has ~150,000 pairs); anything else is looked at
    # pair by pair below, to name the first bad one
    if ({*map(type, keys)} == {tuple} and {*map(len, keys)} == {2} and {*map(type, scores)} == {int}
            and client_pos.keys() >= {*map(itemgetter(0), keys)} and course_pos.keys() >= {*map(itemgetter(1), keys)}):
        return max(scores), min(scores)
    for pair, score in priorities.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InvalidInstance(f"priorities[{pair!r}]", "key must be (client_id, course_code)")
        if pair[0] not in client_pos:
            raise InvalidInstance(f"priorities[{pair!r}]", f"unknown client {pair[0]!r}")
        if pair[1] not in course_pos:
            raise InvalidInstance(f"priorities[{pair!r}]", f"unknown course {pair[1]!r}")
        if not _is_int(score):
            raise InvalidInstance(f"priorities[{pair!r}]", "score must be an integer")
    if not priorities:
        return 0, 0
    return max(priorities.values()), min(priorities.values())


def _rank_positions(
    courses: tuple[Course, ...], client_pos: Mapping[str, int], course_index: Mapping[str, int]
) -> dict[str, dict[str, int]]:
    """For ranked courses: client id -> position in the ranking."""
    positions: dict[str, dict[str, int]] = {}
    for code, k in course_index.items():
        ranking = courses[k].ranking
        if ranking is None:
            continue
        pos: dict[str, int] = {}
        for r, cid in enumerate(ranking):
            if cid not in client_pos:
                raise InvalidInstance(f"courses[{k}].ranking[{r}]", f"unknown client {cid!r}")
            if cid in pos:
                raise InvalidInstance(f"courses[{k}].ranking[{r}]", f"client {cid!r} ranked twice")
            pos[cid] = r
        positions[code] = pos
    return positions


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
