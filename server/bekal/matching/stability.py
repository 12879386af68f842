"""Check that a matching is valid and stable, independently of how it was computed.

A matching is *stable* when

1. no course holds more clients than it has seats;
2. every placement is an acceptable pair the client ranked;
3. there is no *blocking pair*: a client ``i`` and a course ``c`` that ``i``
   ranks above their placement (or ``i`` is unplaced), ``c`` finds ``i``
   acceptable, and ``c``'s choice function would keep ``i`` if ``i`` applied
   on top of the clients it holds -- for a course without reserves, that is
   "``c`` has a free seat or holds someone it ranks below ``i``".

With reserved seats, (3) is judged against the course's own choice function
(open part and reserved part in the instance's precedence order, reserved
seats ordering group members before everyone else). A non-member with a better
score than a group member on a reserved seat is therefore *not* a blocking
pair, but a group member who would displace a non-member from a reserved seat
is. For this substitutable choice function, this is the stability notion that
deferred acceptance guarantees (Hatfield & Milgrom, AER 2005).

Cost: one pass over all preference lists plus sorting each reserve course's
held clients, i.e. O(L + n log n).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from .model import Instance, Market, ReserveOrder, compile_instance

__all__ = ["Violation", "ViolationKind", "check_stability"]


class ViolationKind(str, enum.Enum):
    """What is wrong; the value is the wording used in reports."""

    UNKNOWN_CLIENT = "unknown client"
    UNKNOWN_COURSE = "unknown course"
    NOT_ACCEPTABLE = "not acceptable"
    OVER_CAPACITY = "over capacity"
    BLOCKING_PAIR = "blocking pair"


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason a matching is not stable."""

    kind: ViolationKind
    client: str | None
    course: str | None
    detail: str


def check_stability(instance: Instance, placements: Mapping[str, str | None]) -> list[Violation]:
    """All violations of validity and stability of ``placements`` (client id -> course code or None).

    Clients missing from ``placements`` count as unplaced. Returns an empty list
    when the matching is stable. Raises :class:`~bekal.matching.errors.InvalidInstance`
    when the instance itself is malformed.
    """
    market = compile_instance(instance)
    client_pos = {cid: i for i, cid in enumerate(market.client_ids)}
    course_pos = {code: c for c, code in enumerate(market.course_codes)}
    violations: list[Violation] = []

    course_of = [-1] * market.n
    for cid, code in placements.items():
        i = client_pos.get(cid)
        if i is None:
            violations.append(Violation(ViolationKind.UNKNOWN_CLIENT, cid, code, "not in the instance"))
            continue
        if code is None:
            continue
        c = course_pos.get(code)
        if c is None:
            violations.append(Violation(ViolationKind.UNKNOWN_COURSE, cid, code, "not in the instance"))
            continue
        course_of[i] = c

    held: list[list[tuple[int, int]]] = [[] for _ in market.course_codes]  # (key, client)
    rank_of_placement = [len(p) for p in market.preferences]
    for i, c in enumerate(course_of):
        if c < 0:
            continue
        ranked = c in market.preferences[i]
        if ranked:
            rank_of_placement[i] = market.preferences[i].index(c)
        key = _key(market, i, c)
        if key is None:
            why = "the pair is not acceptable" if ranked else "the client did not rank it"
            violations.append(
                Violation(ViolationKind.NOT_ACCEPTABLE, market.client_ids[i], market.course_codes[c], why))
        else:
            held[c].append((key, i))

    would_take: list[_Acceptance | None] = [None] * len(market.course_codes)
    placed_count = [0] * len(market.course_codes)
    for c in course_of:
        if c >= 0:
            placed_count[c] += 1
    for c, code in enumerate(market.course_codes):
        if placed_count[c] > market.seats[c]:
            violations.append(
                Violation(
                    ViolationKind.OVER_CAPACITY,
                    None,
                    code,
                    f"{placed_count[c]} clients placed on {market.seats[c]} seats",
                )
            )
        else:
            would_take[c] = _Acceptance(market, c, held[c])

    for i, cid in enumerate(market.client_ids):
        acceptable = market.acceptable[i]
        j = 0
        for c in market.preferences[i][: rank_of_placement[i]]:
            if j == len(acceptable):
                break
            if acceptable[j][0] != c:
                continue  # not acceptable: cannot block
            key = acceptable[j][1]
            j += 1
            judge = would_take[c]
            if judge is not None and judge.takes(i, key):
                violations.append(
                    Violation(
                        ViolationKind.BLOCKING_PAIR,
                        cid,
                        market.course_codes[c],
                        "the client prefers this course, which has a free seat"
                        if judge.free
                        else "the client prefers this course, which would take them over someone it holds",
                    )
                )
    return violations


def _key(market: Market, i: int, c: int) -> int | None:
    for course, key in market.acceptable[i]:
        if course == c:
            return key
    return None


class _Acceptance:
    """Would course ``c`` keep a client who applies on top of the clients it holds?

    ``held`` must respect capacity. With a free seat, yes. When full, the choice
    function over held + applicant drops exactly one client: the applicant is kept
    iff it beats the worst holder of the first part (in that part's order), or,
    failing that, the worst holder of the second part.
    """

    __slots__ = ("free", "thresholds", "member", "offset")

    def __init__(self, market: Market, c: int, held: list[tuple[int, int]]) -> None:
        self.member = market.member
        self.offset = market.nonmember_offset[c]
        seats, reserved = market.seats[c], market.reserved[c]
        self.free = len(held) < seats
        # thresholds: (worst key in that part, or None if the part has no seats; is reserved part)
        self.thresholds: list[tuple[int | None, bool]] = []
        if self.free:
            return
        if not reserved:
            self.thresholds.append((max(key for key, _ in held) if held else None, False))
            return
        open_part = (seats - reserved, False)
        reserved_part = (reserved, True)
        first = market.instance.reserve_order is ReserveOrder.OPEN_FIRST
        remaining = list(held)
        for capacity, is_reserved in (open_part, reserved_part) if first else (reserved_part, open_part):
            remaining.sort(key=lambda kc: self._part_key(kc[1], kc[0], is_reserved))
            taken, remaining = remaining[:capacity], remaining[capacity:]
            worst = self._part_key(taken[-1][1], taken[-1][0], is_reserved) if taken else None
            self.thresholds.append((worst, is_reserved))

    def _part_key(self, client: int, key: int, reserved: bool) -> int:
        return key + self.offset if reserved and not self.member[client] else key

    def takes(self, client: int, key: int) -> bool:
        if self.free:
            return True
        for worst, reserved in self.thresholds:
            if worst is not None and self._part_key(client, key, reserved) < worst:
                return True
        return False
