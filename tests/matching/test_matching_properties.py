"""Property tests for bekal.matching against small, independent reference implementations.

The references here are deliberately naive (sort everything, enumerate every
matching) and share no code with the library beyond the public dataclasses:
the course order is rebuilt from the spec (priority, then one lottery that is
``random.Random(seed).shuffle`` of the sorted client ids), and a course's choice
function is rebuilt seat by seat (Kominers & Sönmez slot-specific priorities).
"""

from __future__ import annotations

import itertools
import random
import warnings
from collections import Counter
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bekal.matching import (
    Client,
    Course,
    Instance,
    Reason,
    ReserveOrder,
    Violation,
    ViolationKind,
    check_stability,
    deferred_acceptance,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BRUTE = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- strategies


@st.composite
def markets(
    draw: st.DrawFn,
    *,
    max_clients: int = 5,
    max_courses: int = 3,
    reserves: bool = True,
    rankings: bool = True,
    min_seats: int = 0,
    levels: int = 3,
) -> Instance:
    n_courses = draw(st.integers(1, max_courses))
    n_clients = draw(st.integers(1, max_clients))
    codes = [f"k{j}" for j in range(n_courses)]
    ids = [f"c{i}" for i in range(n_clients)]
    courses = []
    for code in codes:
        seats = draw(st.integers(min_seats, 3))
        reserved = draw(st.integers(0, seats)) if reserves else 0
        ranking = None
        if rankings and draw(st.booleans()):
            ranking = tuple(draw(st.permutations(ids))[: draw(st.integers(0, n_clients))])
        courses.append(Course(code, seats, reserved, ranking))
    clients = []
    priorities: dict[tuple[str, str], int] = {}
    for cid in ids:
        prefs = tuple(draw(st.permutations(codes))[: draw(st.integers(0, n_courses))])
        clients.append(Client(cid, prefs, priority_group=draw(st.booleans())))
        for code in codes:
            ranked = code in prefs
            # ~80% of ranked pairs are ELIGIBLE; a few unranked pairs carry scores too (ignored).
            if draw(st.integers(0, 9)) < (8 if ranked else 2):
                priorities[(cid, code)] = draw(st.integers(0, levels - 1))
    return Instance(
        clients=tuple(clients),
        courses=tuple(courses),
        priorities=priorities,
        seed=draw(st.integers(0, 2**16)),
        reserve_order=draw(st.sampled_from(list(ReserveOrder))),
    )


# ---------------------------------------------------------------- naive references


def spec_lottery(inst: Instance) -> dict[str, int]:
    ids = sorted(c.id for c in inst.clients)
    random.Random(inst.seed).shuffle(ids)
    return {cid: n for n, cid in enumerate(ids)}


class Naive:
    """Course orders, choice functions and stability, the slow and obvious way."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.lottery = spec_lottery(inst)
        self.course = {c.code: c for c in inst.courses}
        self.client = {c.id: c for c in inst.clients}

    def key(self, cid: str, code: str) -> tuple[int, ...] | None:
        """Lower is better; None when the pair is not acceptable."""
        if (cid, code) not in self.inst.priorities:
            return None
        ranking = self.course[code].ranking
        if ranking is not None:
            return (ranking.index(cid),) if cid in ranking else None
        return (-self.inst.priorities[(cid, code)], self.lottery[cid])

    def choose(self, code: str, applicants: set[str]) -> set[str]:
        """Fill the course seat by seat in precedence order; a reserved seat takes the best
        group member left, or the best applicant left when no member is left."""
        course = self.course[code]
        remaining = sorted(applicants, key=lambda a: self.key(a, code))
        open_seats, reserved = ["open"] * (course.seats - course.reserved_seats), ["reserved"] * course.reserved_seats
        slots = open_seats + reserved if self.inst.reserve_order is ReserveOrder.OPEN_FIRST else reserved + open_seats
        chosen = set()
        for slot in slots:
            if not remaining:
                break
            members = [a for a in remaining if self.client[a].priority_group]
            pick = members[0] if slot == "reserved" and members else remaining[0]
            remaining.remove(pick)
            chosen.add(pick)
        return chosen

    def rank(self, cid: str, code: str | None) -> int:
        prefs = self.client[cid].preferences
        return prefs.index(code) if code in prefs else len(prefs)

    def violations(self, placements: dict[str, str | None]) -> set[tuple[str, str | None, str | None]]:
        out: set[tuple[str, str | None, str | None]] = set()
        counts = Counter(code for code in placements.values() if code is not None)
        held: dict[str, set[str]] = {c.code: set() for c in self.inst.courses}
        for cid, code in placements.items():
            if code is None:
                continue
            if code not in self.client[cid].preferences or self.key(cid, code) is None:
                out.add((ViolationKind.NOT_ACCEPTABLE.value, cid, code))
            else:
                held[code].add(cid)
        for code, n in counts.items():
            if n > self.course[code].seats:
                out.add((ViolationKind.OVER_CAPACITY.value, None, code))
        for cid, client in self.client.items():
            here = placements.get(cid)
            for code in client.preferences[: self.rank(cid, here)]:
                if counts[code] > self.course[code].seats or self.key(cid, code) is None:
                    continue
                if cid in self.choose(code, held[code] | {cid}):
                    out.add((ViolationKind.BLOCKING_PAIR.value, cid, code))
        return out

    def all_stable(self) -> list[dict[str, str | None]]:
        ids = sorted(self.client)
        options = [[None] + [k for k in self.client[cid].preferences if self.key(cid, k) is not None] for cid in ids]
        stable = []
        for combo in itertools.product(*options):
            placements = dict(zip(ids, combo))
            counts = Counter(k for k in combo if k is not None)
            if any(n > self.course[k].seats for k, n in counts.items()):
                continue
            if not self.violations(placements):
                stable.append(placements)
        return stable


def as_set(violations: list[Violation]) -> set[tuple[str, str | None, str | None]]:
    return {(v.kind.value, v.client, v.course) for v in violations}


# ---------------------------------------------------------------- validity and stability


@FAST
@given(markets())
def test_da_output_is_valid_and_stable(inst: Instance) -> None:
    result = deferred_acceptance(inst)
    assert set(result.placements) == {c.id for c in inst.clients}
    assert check_stability(inst, result.placements) == []
    assert Naive(inst).violations(dict(result.placements)) == set()
    for code, course in result.courses.items():
        assert course.filled == len(course.admitted) <= course.seats
        assert all(result.placements[cid] == code for cid in course.admitted)
    assert set(result.unmatched) == {cid for cid, code in result.placements.items() if code is None}
    assert result.summary.placed + result.summary.unmatched == len(inst.clients)


@FAST
@given(markets(), st.data())
def test_checker_agrees_with_naive_definition_on_arbitrary_matchings(inst: Instance, data: st.DataObject) -> None:
    codes = [None] + [c.code for c in inst.courses]
    placements = {c.id: data.draw(st.sampled_from(codes)) for c in inst.clients}
    assert as_set(check_stability(inst, placements)) == Naive(inst).violations(placements)


@FAST
@given(markets(), st.data())
def test_checker_finds_the_damage_when_a_stable_matching_is_perturbed(inst: Instance, data: st.DataObject) -> None:
    placements = dict(deferred_acceptance(inst).placements)
    placed = [cid for cid, code in placements.items() if code is not None]
    if not placed:
        return
    victim = data.draw(st.sampled_from(placed))
    placements[victim] = None  # throw out a client who had an acceptable seat they wanted
    found = as_set(check_stability(inst, placements))
    assert found == Naive(inst).violations(placements)
    # the freed seat is one the victim wants and is acceptable for: they block with it
    assert (ViolationKind.BLOCKING_PAIR.value, victim, deferred_acceptance(inst).placements[victim]) in found


# ---------------------------------------------------------------- optimality


@BRUTE
@given(markets())
def test_da_is_client_optimal_among_all_stable_matchings(inst: Instance) -> None:
    naive = Naive(inst)
    stable = naive.all_stable()
    ours = dict(deferred_acceptance(inst).placements)
    assert ours in stable
    for other in stable:
        for cid in ours:
            assert naive.rank(cid, ours[cid]) <= naive.rank(cid, other[cid]), (cid, ours, other)


@st.composite
def common_score_markets(draw: st.DrawFn) -> Instance:
    inst = draw(markets(max_clients=12, max_courses=4, reserves=False, rankings=False, levels=4))
    score = {c.id: draw(st.integers(0, 3)) for c in inst.clients}
    return replace(inst, priorities={pair: score[pair[0]] for pair in inst.priorities})


@FAST
@given(common_score_markets())
def test_equals_serial_dictatorship_when_all_courses_share_one_score(inst: Instance) -> None:
    lottery = spec_lottery(inst)
    score = {cid: s for (cid, _), s in inst.priorities.items()}
    free = {c.code: c.seats for c in inst.courses}
    expected: dict[str, str | None] = {c.id: None for c in inst.clients}
    order = sorted(inst.clients, key=lambda c: (-score.get(c.id, 0), lottery[c.id]))
    for client in order:
        for code in client.preferences:
            if (client.id, code) in inst.priorities and free[code] > 0:
                free[code] -= 1
                expected[client.id] = code
                break
    assert dict(deferred_acceptance(inst).placements) == expected


@settings(max_examples=40, deadline=None)
@given(markets(max_clients=8, max_courses=3, reserves=False, min_seats=1))
def test_same_matching_as_the_pypi_matching_library(inst: Instance) -> None:
    """An independent implementation (resident-optimal HR), fed our tie-broken course orders."""
    from matching import games
    naive = Naive(inst)
    residents = {}
    for c in inst.clients:
        ok = [k for k in c.preferences if naive.key(c.id, k) is not None]
        if ok:
            residents[c.id] = ok
    hospitals = {
        k.code: sorted((r for r in residents if k.code in residents[r]), key=lambda r, k=k: naive.key(r, k.code))
        for k in inst.courses
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns about courses nobody ranks
        game = games.HospitalResident.create_from_dictionaries(
            residents, hospitals, {k.code: k.seats for k in inst.courses}
        )
        solved = game.solve(optimal="resident")
    theirs: dict[str, str | None] = {c.id: None for c in inst.clients}
    for hospital, matched in solved.items():
        for resident in matched:
            theirs[resident.name] = hospital.name
    assert dict(deferred_acceptance(inst).placements) == theirs


# ---------------------------------------------------------------- determinism


@FAST
@given(markets(max_clients=8, max_courses=4), st.randoms(use_true_random=False))
def test_same_output_for_same_seed_and_any_input_order(inst: Instance, rnd: random.Random) -> None:
    first = deferred_acceptance(inst)
    assert deferred_acceptance(inst) == first
    clients, courses, pairs = list(inst.clients), list(inst.courses), list(inst.priorities.items())
    rnd.shuffle(clients)
    rnd.shuffle(courses)
    rnd.shuffle(pairs)
    shuffled = replace(inst, clients=tuple(clients), courses=tuple(courses), priorities=dict(pairs))
    assert deferred_acceptance(shuffled) == first


def test_the_seed_is_what_breaks_ties() -> None:
    clients = tuple(Client(f"c{i}", ("k",)) for i in range(4))
    inst = Instance(clients, (Course("k", 1),), {(c.id, "k"): 1 for c in clients}, seed=0)
    winners = {next(iter(deferred_acceptance(replace(inst, seed=s)).courses["k"].admitted)) for s in range(40)}
    assert winners == {c.id for c in clients}  # every tied client wins under some seed
    for s in range(5):
        lottery = deferred_acceptance(replace(inst, seed=s)).lottery
        best = min(lottery, key=lottery.get)
        assert deferred_acceptance(replace(inst, seed=s)).placements[best] == "k"


# ---------------------------------------------------------------- explanations


@FAST
@given(markets(max_clients=7, max_courses=3))
def test_why_not_lists_every_better_course_with_a_true_reason(inst: Instance) -> None:
    naive = Naive(inst)
    result = deferred_acceptance(inst)
    for client in inst.clients:
        placed = result.placements[client.id]
        above = client.preferences[: naive.rank(client.id, placed)]
        reasons = result.why_not[client.id]
        assert [w.course for w in reasons] == list(above)
        for why in reasons:
            key = naive.key(client.id, why.course)
            course = result.courses[why.course]
            if key is None:
                assert why.reason is Reason.NOT_ACCEPTABLE
                continue
            assert why.reason is Reason.FULL
            assert course.filled == course.seats
            if why.cutoff is None:  # no seat was ever open to this client
                assert course.seats == 0 or (
                    not client.priority_group and course.group_on_reserved == course.seats
                )
            else:
                cut = (why.cutoff.rank,) if why.cutoff.rank is not None else (-why.cutoff.priority, why.cutoff.lottery)
                assert key > cut  # the client ranks below the cutoff that beat them
                if client.priority_group or not course.reserved_seats:
                    # every seat was open to them: the cutoff is the lowest admitted of all
                    assert cut == max(naive.key(cid, why.course) for cid in course.admitted)


@FAST
@given(markets(max_clients=7, max_courses=3))
def test_course_cutoff_is_the_lowest_admitted_and_only_for_full_courses(inst: Instance) -> None:
    naive = Naive(inst)
    for code, course in deferred_acceptance(inst).courses.items():
        keys = [naive.key(cid, code) for cid in course.admitted]
        assert keys == sorted(keys)  # admitted are listed best first
        if course.filled < course.seats or course.seats == 0:
            assert course.cutoff is None
            continue
        cut = course.cutoff
        assert keys[-1] == ((cut.rank,) if cut.rank is not None else (-cut.priority, cut.lottery))


# ---------------------------------------------------------------- reserves


@st.composite
def one_course_markets(draw: st.DrawFn) -> Instance:
    inst = draw(markets(max_clients=8, max_courses=1))
    code = inst.courses[0].code
    clients = tuple(replace(c, preferences=(code,)) for c in inst.clients)
    return replace(inst, clients=clients)


@FAST
@given(one_course_markets())
def test_reserves_last_never_give_the_group_fewer_seats_at_a_course(inst: Instance) -> None:
    """Dur, Kominers, Pathak & Sönmez (JPE 2018): for a given pool of applicants, lowering
    the precedence of reserved seats weakly increases the reserve group's share at the
    course. This is a statement about one course's choice: market-wide, see
    test_matching_examples.test_reserve_order_market_wide_is_not_monotone."""
    code = inst.courses[0].code
    last = deferred_acceptance(replace(inst, reserve_order=ReserveOrder.OPEN_FIRST)).courses[code]
    first = deferred_acceptance(replace(inst, reserve_order=ReserveOrder.RESERVED_FIRST)).courses[code]
    assert last.group_admitted >= first.group_admitted
    assert last.filled == first.filled  # precedence changes who, never how many


@FAST
@given(markets(max_clients=8, max_courses=3))
def test_reserved_seats_are_never_wasted(inst: Instance) -> None:
    """Seats nobody in the group wants revert to open competition: a course only turns
    down an acceptable applicant when every one of its seats is taken."""
    naive = Naive(inst)
    result = deferred_acceptance(inst)
    for course in inst.courses:
        outcome = result.courses[course.code]
        assert outcome.group_on_reserved <= course.reserved_seats
        if outcome.filled == course.seats:
            continue
        for client in inst.clients:
            if course.code in client.preferences and naive.key(client.id, course.code) is not None:
                # admitted there, or placed somewhere they like better
                assert naive.rank(client.id, result.placements[client.id]) <= client.preferences.index(course.code)
