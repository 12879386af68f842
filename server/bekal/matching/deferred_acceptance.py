"""Client-proposing deferred acceptance with seat capacities and reserved seats.

Clients apply to courses in their preference order; each course keeps the best
applicants it has seen so far, up to its seats, and rejects the rest; a rejected
client applies to their next course. The result is the client-optimal stable
matching (Gale & Shapley 1962; Roth 1984 for many-to-one): no client can get a
course they prefer that would have taken them, and no other stable matching
is better for any client. Truthful preference lists are a dominant strategy
for clients (Dubins & Freedman 1981; Roth 1982), which matters here: case
workers should be able to tell a client "list what you really want".

Complexity: each application costs O(log seats) (a heap per course whose top
is the worst admitted client), and every client applies to each acceptable
course at most once, so the run is O(L log s) for total preference length L.

Reserved seats. A course with ``r`` of its ``q`` seats reserved for the
priority group is two sub-courses inside one choice function: an *open* part
(``q - r`` seats, everyone in course order) and a *reserved* part (``r`` seats,
group members in course order, *then* everyone else in course order). The
instance's :class:`~bekal.matching.model.ReserveOrder` says which part takes
applicants first; whoever a part does not keep is offered to the next part, and
only what the last part does not keep is rejected. Ordering non-members after
every member in the reserved part (instead of making them unacceptable to it)
is the choice made for reserved seats nobody in the group wants: such seats
revert to open competition rather than staying empty, and a member who turns
up later still displaces the non-member holding the seat. This is the
slot-specific-priorities choice function of Kominers & Sönmez (Theoretical
Economics 2016) with one contract per pair; it is substitutable, so deferred
acceptance stays stable and client-optimal. See ``ReserveOrder`` for why the
default fills reserved seats last (Dur, Kominers, Pathak & Sönmez, JPE 2018).

Because each part keeps the best of everything ever offered to it, a client
rejected by a course can never become acceptable to it again, and the outcome
does not depend on the order in which clients apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappush, heapreplace

from .model import (
    CourseResult,
    Instance,
    Market,
    MatchResult,
    Reason,
    ReserveOrder,
    Summary,
    WhyNot,
    compile_instance,
)

__all__ = ["deferred_acceptance", "propose", "build_result", "Assignment"]


def deferred_acceptance(instance: Instance) -> MatchResult:
    """Place clients into course seats: the client-optimal stable matching, with explanations."""
    market = compile_instance(instance)
    return build_result(market, propose(market))


@dataclass(frozen=True, slots=True)
class Assignment:
    """Raw outcome of :func:`propose`, by client index (see :class:`Market`).

    ``course[i]`` is the course index or -1; ``key[i]`` the course's key for the
    client there; ``on_reserved[i]`` is True for a group member on a reserved seat.
    """

    course: list[int]
    key: list[int]
    on_reserved: list[bool]
    proposals: int


class _ReserveCourse:
    """A course with reserved seats: its parts, in precedence order, each a heap of the held."""

    __slots__ = ("parts", "n", "member", "offset")

    def __init__(self, market: Market, c: int) -> None:
        q, r = market.seats[c], market.reserved[c]
        open_part: tuple[int, list[int], bool] = (q - r, [], False)
        reserved_part: tuple[int, list[int], bool] = (r, [], True)
        first = market.instance.reserve_order is ReserveOrder.OPEN_FIRST
        self.parts = (open_part, reserved_part) if first else (reserved_part, open_part)
        self.n = market.n
        self.member = market.member
        self.offset = market.nonmember_offset[c]

    def offer(self, ci: int, key: int) -> int:
        """Offer client ``ci`` (course key ``key``); return the client rejected, or -1."""
        n, member, offset = self.n, self.member, self.offset
        for capacity, heap, reserved in self.parts:
            k = key + offset if reserved and not member[ci] else key
            entry = k * n + ci
            if len(heap) < capacity:
                heappush(heap, -entry)
                return -1
            if heap and entry < -heap[0]:
                out = -heapreplace(heap, -entry)
                ci = out % n
                key = out // n
                if reserved and not member[ci]:
                    key -= offset
        return ci

    def held(self) -> list[tuple[int, int, bool]]:
        """``(client, key, group member on a reserved seat)`` for every seat holder."""
        n, member, offset = self.n, self.member, self.offset
        out = []
        for _capacity, heap, reserved in self.parts:
            for neg in heap:
                ci, k = -neg % n, -neg // n
                if reserved and not member[ci]:
                    k -= offset
                out.append((ci, k, reserved and member[ci]))
        return out


def propose(market: Market) -> Assignment:
    """Run the applications. A heap per plain course holds ``-(key * n + client)``,
    so its top is the worst admitted client and one int comparison decides."""
    n = market.n
    seats = market.seats
    acceptable = market.acceptable
    heaps: list[list[int]] = [[] for _ in seats]
    reserve = [_ReserveCourse(market, c) if market.reserved[c] else None for c in range(len(seats))]
    nxt = [0] * n
    proposals = 0
    for start in range(n):
        ci = start
        while ci >= 0:
            choices = acceptable[ci]
            p = nxt[ci]
            if p == len(choices):
                break  # ci has been rejected by every acceptable course: unmatched
            nxt[ci] = p + 1
            proposals += 1
            c, key = choices[p]
            chain = reserve[c]
            if chain is not None:
                ci = chain.offer(ci, key)
                continue
            heap = heaps[c]
            entry = key * n + ci
            if len(heap) < seats[c]:
                heappush(heap, -entry)
                ci = -1
            elif heap and entry < -heap[0]:
                ci = (-heapreplace(heap, -entry)) % n
            # else: rejected, ci goes on to its next choice

    course = [-1] * n
    keys = [0] * n
    on_reserved = [False] * n
    for c, heap in enumerate(heaps):
        chain = reserve[c]
        if chain is not None:
            for ci, k, res in chain.held():
                course[ci], keys[ci], on_reserved[ci] = c, k, res
            continue
        for neg in heap:
            ci = -neg % n
            course[ci], keys[ci] = c, -neg // n
    return Assignment(course=course, key=keys, on_reserved=on_reserved, proposals=proposals)


def build_result(market: Market, assignment: Assignment) -> MatchResult:
    """Turn an assignment into ids, per-course fill and cutoffs, why-nots and counts."""
    ids, codes = market.client_ids, market.course_codes
    course_of, key_of, on_res = assignment.course, assignment.key, assignment.on_reserved
    member = market.member

    holders: list[list[tuple[int, int]]] = [[] for _ in codes]
    for ci, c in enumerate(course_of):
        if c >= 0:
            holders[c].append((key_of[ci], ci))

    courses: dict[str, CourseResult] = {}
    # Shared, immutable explanation objects per course (member / non-member view).
    why_member: list[WhyNot] = []
    why_other: list[WhyNot] = []
    why_unacceptable: list[WhyNot] = []
    for c, code in enumerate(codes):
        held = sorted(holders[c])
        seats = market.seats[c]
        full = seats > 0 and len(held) == seats
        cutoff = open_cutoff = None
        if full:
            k, ci = held[-1]
            cutoff = market.standing(ci, c, k)
            open_held = [(k, ci) for k, ci in held if not on_res[ci]]
            if open_held:
                k, ci = open_held[-1]
                open_cutoff = market.standing(ci, c, k)
        courses[code] = CourseResult(
            code=code,
            seats=seats,
            reserved_seats=market.reserved[c],
            filled=len(held),
            admitted=tuple(ids[ci] for _, ci in held),
            group_admitted=sum(1 for _, ci in held if member[ci]),
            group_on_reserved=sum(1 for _, ci in held if on_res[ci]),
            cutoff=cutoff,
            open_cutoff=open_cutoff,
        )
        why_member.append(WhyNot(code, Reason.FULL, cutoff))
        why_other.append(WhyNot(code, Reason.FULL, open_cutoff))
        why_unacceptable.append(WhyNot(code, Reason.NOT_ACCEPTABLE))

    placements: dict[str, str | None] = {}
    why_not: dict[str, tuple[WhyNot, ...]] = {}
    for ci, cid in enumerate(ids):
        placed = course_of[ci]
        placements[cid] = codes[placed] if placed >= 0 else None
        full_view = why_member if member[ci] else why_other
        acc = market.acceptable[ci]
        j = 0
        reasons = []
        for c in market.preferences[ci]:
            if c == placed:
                break
            if j < len(acc) and acc[j][0] == c:
                j += 1
                reasons.append(full_view[c])
            else:
                reasons.append(why_unacceptable[c])
        why_not[cid] = tuple(reasons)

    unmatched = tuple(cid for cid, code in placements.items() if code is None)
    placed_n = len(ids) - len(unmatched)
    summary = Summary(
        clients=len(ids),
        placed=placed_n,
        unmatched=len(unmatched),
        courses=len(codes),
        seats=sum(market.seats),
        seats_filled=placed_n,
        courses_full=sum(1 for r in courses.values() if r.cutoff is not None),
        group_clients=sum(member),
        group_placed=sum(1 for ci, c in enumerate(course_of) if c >= 0 and member[ci]),
        reserved_seats=sum(market.reserved),
        reserved_to_group=sum(on_res),
        proposals=assignment.proposals,
    )
    lottery = {cid: market.lottery[ci] for ci, cid in enumerate(ids)}
    return MatchResult(
        placements=placements,
        courses=courses,
        unmatched=unmatched,
        why_not=why_not,
        lottery=lottery,
        summary=summary,
    )
