"""Worked examples for bekal.matching: published instances with known answers, the reserve
design cases, hand-made unstable matchings, and input validation."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from bekal.matching import (
    Client,
    Course,
    Instance,
    InvalidInstance,
    Reason,
    ReserveOrder,
    Standing,
    ViolationKind,
    check_stability,
    deferred_acceptance,
    lottery_numbers,
)


def strict(
    client_prefs: dict[str, list[str]], course_prefs: dict[str, list[str]], seats: dict[str, int] | None = None
) -> Instance:
    """A textbook instance: strict rankings on both sides; a pair is acceptable when both list it."""
    courses = tuple(Course(code, (seats or {}).get(code, 1), ranking=tuple(r)) for code, r in course_prefs.items())
    clients = tuple(Client(cid, tuple(p)) for cid, p in client_prefs.items())
    pairs = {(cid, code): 0 for cid, p in client_prefs.items() for code in p}
    return Instance(clients, courses, pairs)


def stable_matchings(inst: Instance) -> list[dict[str, str | None]]:
    """Every matching the library's checker calls stable (brute force over tiny instances)."""
    ids = [c.id for c in inst.clients]
    options = [[None, *c.preferences] for c in inst.clients]
    found = []
    for combo in itertools.product(*options):
        placements = dict(zip(ids, combo))
        if not check_stability(inst, placements):
            found.append(placements)
    return found


# ---------------------------------------------------------------- published instances

# Gale & Shapley, "College Admissions and the Stability of Marriage", American Mathematical
# Monthly 69 (1962) 9-15, Example 1. Rank matrix (man's rank of woman, woman's rank of man):
#          A     B     C
#   alpha  1,3   2,2   3,1
#   beta   3,1   1,3   2,2
#   gamma  2,2   3,1   1,3
# The paper lists exactly three stable matchings: every man gets his first choice, every
# woman gets her first choice, or everyone gets their second choice.
GS_MEN = {"alpha": ["A", "B", "C"], "beta": ["B", "C", "A"], "gamma": ["C", "A", "B"]}
GS_WOMEN = {"A": ["beta", "gamma", "alpha"], "B": ["gamma", "alpha", "beta"], "C": ["alpha", "beta", "gamma"]}


def test_gale_shapley_1962_example_1_men_proposing_gives_every_man_his_first_choice() -> None:
    inst = strict(GS_MEN, GS_WOMEN)
    result = deferred_acceptance(inst)
    assert result.placements == {"alpha": "A", "beta": "B", "gamma": "C"}
    assert result.summary.proposals == 3


def test_gale_shapley_1962_example_1_women_proposing_gives_every_woman_her_first_choice() -> None:
    result = deferred_acceptance(strict(GS_WOMEN, GS_MEN))
    assert result.placements == {"A": "beta", "B": "gamma", "C": "alpha"}


def test_gale_shapley_1962_example_1_has_exactly_the_three_stable_matchings_of_the_paper() -> None:
    found = stable_matchings(strict(GS_MEN, GS_WOMEN))
    assert sorted(found, key=lambda m: m["alpha"]) == [
        {"alpha": "A", "beta": "B", "gamma": "C"},  # men's first choices
        {"alpha": "B", "beta": "C", "gamma": "A"},  # everyone's second choice
        {"alpha": "C", "beta": "A", "gamma": "B"},  # women's first choices
    ]


# The stable marriage example of the `matching` library's README (daffidwilde/matching,
# "Playing a simple game"): the suitor-optimal answer printed there is {A: E, B: D, C: F}.
def test_matching_library_readme_stable_marriage_example() -> None:
    inst = strict(
        {"A": ["D", "E", "F"], "B": ["D", "F", "E"], "C": ["F", "D", "E"]},
        {"D": ["B", "C", "A"], "E": ["A", "C", "B"], "F": ["C", "B", "A"]},
    )
    result = deferred_acceptance(inst)
    assert result.placements == {"A": "E", "B": "D", "C": "F"}
    # A was turned down by D, whose single seat went to B (rank 0 in D's list)
    assert result.why_not["A"][0].reason is Reason.FULL
    assert result.why_not["A"][0].cutoff == Standing(priority=None, rank=0, lottery=result.lottery["B"])


# The hospital-resident example of the `matching` library's documentation
# (docs/discussion/hospital_resident/example.rst and docs/assets/discussion/tex/hr_*.tex):
# residents Ada, Sam, Dani, Jo, Luc; hospitals Mercy, City, General with 2 places each.
# The documented stable matching (both resident- and hospital-optimal) is
# City {A, D}, Mercy {S, L}, General {J}; the documented unstable matching
# City {A, D}, Mercy {S}, General {L, J} has exactly one blocking pair, (L, M).
HR_RESIDENTS = {"A": ["C"], "S": ["C", "M"], "D": ["C", "M", "G"], "J": ["C", "G", "M"], "L": ["M", "C", "G"]}
HR_HOSPITALS = {"M": ["D", "L", "S", "J"], "C": ["D", "A", "S", "L", "J"], "G": ["D", "J", "L"]}
HR_SEATS = {"M": 2, "C": 2, "G": 2}


def test_matching_library_docs_hospital_resident_example() -> None:
    inst = strict(HR_RESIDENTS, HR_HOSPITALS, HR_SEATS)
    result = deferred_acceptance(inst)
    assert result.placements == {"A": "C", "S": "M", "D": "C", "J": "G", "L": "M"}
    assert result.courses["C"].admitted == ("D", "A")  # in City's order
    assert result.courses["G"].cutoff is None  # one of two places filled: no cutoff
    assert stable_matchings(inst) == [dict(result.placements)]  # the docs: also hospital-optimal


def test_checker_finds_the_blocking_pair_of_the_docs_unstable_hospital_resident_matching() -> None:
    inst = strict(HR_RESIDENTS, HR_HOSPITALS, HR_SEATS)
    unstable = {"A": "C", "D": "C", "S": "M", "L": "G", "J": "G"}
    violations = check_stability(inst, unstable)
    assert [(v.kind, v.client, v.course) for v in violations] == [(ViolationKind.BLOCKING_PAIR, "L", "M")]


# ---------------------------------------------------------------- reserves


def reserve_market(order: ReserveOrder) -> Instance:
    """Course K: 2 seats, 1 reserved for the group. By priority m1 > x > m2 (m = group member)."""
    clients = (Client("m1", ("K",), True), Client("x", ("K",), False), Client("m2", ("K",), True))
    pairs = {("m1", "K"): 3, ("x", "K"): 2, ("m2", "K"): 1}
    return Instance(clients, (Course("K", 2, reserved_seats=1),), pairs, reserve_order=order)


def test_precedence_decides_who_gets_the_open_seat() -> None:
    """Dur, Kominers, Pathak & Sönmez (JPE 2018): filled first, the reserved seat absorbs m1,
    the group's best member, and the open seat goes to x; filled last, m1 wins the open seat
    on priority and the reserved seat still catches m2."""
    first = deferred_acceptance(reserve_market(ReserveOrder.RESERVED_FIRST))
    last = deferred_acceptance(reserve_market(ReserveOrder.OPEN_FIRST))
    assert set(first.courses["K"].admitted) == {"m1", "x"}
    assert set(last.courses["K"].admitted) == {"m1", "m2"}
    assert last.courses["K"].group_admitted > first.courses["K"].group_admitted
    assert Instance((), (), {}).reserve_order is ReserveOrder.OPEN_FIRST  # the default
    # x lost to a member on the reserved seat: x's cutoff is the open seat's holder, m1
    why = last.why_not["x"][0]
    assert why.reason is Reason.FULL and why.cutoff is not None and why.cutoff.priority == 3


@pytest.mark.parametrize("order", list(ReserveOrder))
def test_reserved_seats_no_member_wants_go_to_others(order: ReserveOrder) -> None:
    clients = (Client("m", ("K",), True),) + tuple(Client(f"x{i}", ("K",)) for i in range(4))
    pairs = {(c.id, "K"): 10 - i for i, c in enumerate(clients[1:])}  # x0 > x1 > x2 > x3
    pairs[("m", "K")] = 0  # the only member has the lowest priority of all
    inst = Instance(clients, (Course("K", 3, reserved_seats=2),), pairs, reserve_order=order)
    course = deferred_acceptance(inst).courses["K"]
    assert course.filled == 3  # the second reserved seat is not lost
    assert set(course.admitted) == {"m", "x0", "x1"}
    assert course.group_on_reserved == 1
    # without the member, every seat goes to the best non-members
    no_member = replace(inst, clients=clients[1:], priorities={p: s for p, s in pairs.items() if p[0] != "m"})
    assert set(deferred_acceptance(no_member).courses["K"].admitted) == {"x0", "x1", "x2"}


@pytest.mark.parametrize("order", list(ReserveOrder))
def test_a_late_member_takes_back_a_reverted_reserved_seat(order: ReserveOrder) -> None:
    """x1 and x2 apply first (clients apply in id order) and fill K, x2 on the reserved seat
    no member has claimed; member y, turned down by A, applies last and displaces x2 even
    though x2 has the higher priority."""
    clients = (
        Client("a", ("A",)),
        Client("x1", ("K",)),
        Client("x2", ("K",)),
        Client("y", ("A", "K"), True),
    )
    pairs = {("a", "A"): 5, ("y", "A"): 1, ("y", "K"): 0, ("x1", "K"): 9, ("x2", "K"): 8}
    courses = (Course("A", 1), Course("K", 2, reserved_seats=1))
    result = deferred_acceptance(Instance(clients, courses, pairs, reserve_order=order))
    assert result.placements == {"a": "A", "x1": "K", "x2": None, "y": "K"}
    assert result.courses["K"].group_on_reserved == 1
    # x2 competed only for the seat x1 holds
    assert result.why_not["x2"][0].cutoff == Standing(priority=9, rank=None, lottery=result.lottery["x1"])


def test_reserve_order_market_wide_is_not_monotone() -> None:
    """Reserves-last gives the group at least as many seats *at each course for a given pool*
    (see the property test), but not necessarily market-wide: at K the open seat goes to
    member m1 instead of non-member x, x then takes B from member m3, and m2 -- who under
    reserved-first would have gone to C -- now sits on K's reserved seat. Net: one member fewer.
    Kept as a documented limit of the Dur et al. comparative static."""
    clients = (
        Client("m1", ("K",), True),
        Client("x", ("K", "B")),
        Client("m2", ("K", "C"), True),
        Client("m3", ("B",), True),
    )
    pairs = {("m1", "K"): 3, ("x", "K"): 2, ("m2", "K"): 1, ("x", "B"): 2, ("m3", "B"): 1, ("m2", "C"): 0}
    courses = (Course("K", 2, reserved_seats=1), Course("B", 1), Course("C", 1))
    last = deferred_acceptance(Instance(clients, courses, pairs, reserve_order=ReserveOrder.OPEN_FIRST))
    first = deferred_acceptance(Instance(clients, courses, pairs, reserve_order=ReserveOrder.RESERVED_FIRST))
    assert last.courses["K"].group_admitted > first.courses["K"].group_admitted  # per course: holds
    assert last.summary.group_placed < first.summary.group_placed  # market-wide: does not


# ---------------------------------------------------------------- hand-made unstable matchings


def kinds(violations: list) -> list[tuple[ViolationKind, str | None, str | None]]:
    return sorted((v.kind, v.client, v.course) for v in violations)


def test_checker_flags_over_capacity_unacceptable_and_unknown() -> None:
    clients = (Client("a", ("K", "L")), Client("b", ("K",)), Client("c", ("L",)))
    pairs = {("a", "K"): 1, ("b", "K"): 1, ("a", "L"): 1}  # (c, L) is not ELIGIBLE
    inst = Instance(clients, (Course("K", 1), Course("L", 1)), pairs)
    assert kinds(check_stability(inst, {"a": "K", "b": "K", "c": None})) == [(ViolationKind.OVER_CAPACITY, None, "K")]
    assert (ViolationKind.NOT_ACCEPTABLE, "c", "L") in kinds(check_stability(inst, {"c": "L"}))
    assert (ViolationKind.NOT_ACCEPTABLE, "b", "L") in kinds(check_stability(inst, {"b": "L"}))  # b never ranked L
    found = kinds(check_stability(inst, {"zed": "K", "a": "Q"}))
    assert (ViolationKind.UNKNOWN_CLIENT, "zed", "K") in found
    assert (ViolationKind.UNKNOWN_COURSE, "a", "Q") in found


def test_checker_flags_an_empty_seat_someone_wanted() -> None:
    inst = Instance((Client("a", ("K",)),), (Course("K", 1),), {("a", "K"): 0})
    assert kinds(check_stability(inst, {"a": None})) == [(ViolationKind.BLOCKING_PAIR, "a", "K")]
    assert check_stability(inst, {"a": "K"}) == []


def test_checker_flags_a_lower_priority_client_holding_the_seat() -> None:
    clients = (Client("hi", ("K", "L")), Client("lo", ("K",)))
    inst = Instance(clients, (Course("K", 1), Course("L", 1)), {("hi", "K"): 2, ("lo", "K"): 1, ("hi", "L"): 0})
    assert kinds(check_stability(inst, {"hi": "L", "lo": "K"})) == [(ViolationKind.BLOCKING_PAIR, "hi", "K")]


def test_checker_judges_reserves_by_the_choice_function() -> None:
    # open first: with {m1, m2} seated, x (between them) does not block -- m1 takes the open
    # seat, m2 the reserved one; with reserved first, x does block: the open seat is x's.
    held = {"m1": "K", "m2": "K", "x": None}
    assert check_stability(reserve_market(ReserveOrder.OPEN_FIRST), held) == []
    assert kinds(check_stability(reserve_market(ReserveOrder.RESERVED_FIRST), held)) == [
        (ViolationKind.BLOCKING_PAIR, "x", "K")
    ]
    # two non-members seated while a member wants in: the member blocks under either order
    for order in ReserveOrder:
        assert kinds(check_stability(reserve_market(order), {"m1": None, "x": "K", "m2": "K"})) == [
            (ViolationKind.BLOCKING_PAIR, "m1", "K")
        ]
    extra = replace(
        reserve_market(ReserveOrder.OPEN_FIRST),
        clients=reserve_market(ReserveOrder.OPEN_FIRST).clients + (Client("y", ("K",)),),
        priorities={**reserve_market(ReserveOrder.OPEN_FIRST).priorities, ("y", "K"): 5},
    )
    for order in ReserveOrder:
        placements = {"m1": None, "m2": None, "x": "K", "y": "K"}
        found = kinds(check_stability(replace(extra, reserve_order=order), placements))
        assert (ViolationKind.BLOCKING_PAIR, "m2", "K") in found  # the reserved seat is m2's to claim


# ---------------------------------------------------------------- rankings, lottery, explanations


def test_explicit_ranking_replaces_scores_and_excludes_the_unranked() -> None:
    clients = tuple(Client(c, ("K",)) for c in ("a", "b", "c"))
    pairs = {("a", "K"): 9, ("b", "K"): 1, ("c", "K"): 5}
    inst = Instance(clients, (Course("K", 2, ranking=("b", "a")),), pairs)
    result = deferred_acceptance(inst)
    assert result.courses["K"].admitted == ("b", "a")
    assert result.why_not["c"] == (result.why_not["c"][0],)
    assert result.why_not["c"][0].reason is Reason.NOT_ACCEPTABLE  # c is not in the panel's ranking
    # a ranked client whose pair the rules did not make ELIGIBLE is still not acceptable
    no_b = replace(inst, priorities={p: s for p, s in pairs.items() if p[0] != "b"})
    assert deferred_acceptance(no_b).placements == {"a": "K", "b": None, "c": None}


def test_why_not_explains_a_lottery_tie_and_an_ineligible_pair() -> None:
    clients = (Client("p", ("X", "K", "L")), Client("q", ("K",)), Client("r", ("L",)))
    pairs = {("p", "K"): 1, ("q", "K"): 1, ("p", "L"): 0, ("r", "L"): 0}
    inst = Instance(clients, (Course("X", 5), Course("K", 1), Course("L", 5)), pairs, seed=7)
    result = deferred_acceptance(inst)
    lottery = result.lottery
    winner, loser = sorted(["p", "q"], key=lottery.get)
    assert result.placements[winner] == "K"
    if loser == "p":
        x, k = result.why_not["p"]
        assert x.reason is Reason.NOT_ACCEPTABLE and x.cutoff is None
        assert k.reason is Reason.FULL and k.cutoff == Standing(priority=1, rank=None, lottery=lottery["q"])
        assert result.placements["p"] == "L"
    else:
        assert result.why_not["q"][0].cutoff == Standing(priority=1, rank=None, lottery=lottery["p"])
        assert result.placements["q"] is None and result.unmatched == ("q",)


def test_lottery_is_one_seeded_permutation_of_the_sorted_ids() -> None:
    ids = [f"c{i:02d}" for i in range(30)]
    expected = sorted(ids)
    random.Random(123).shuffle(expected)
    assert lottery_numbers(ids, 123) == {cid: n for n, cid in enumerate(expected)}
    shuffled = ids[:]
    random.Random(0).shuffle(shuffled)
    assert lottery_numbers(shuffled, 123) == lottery_numbers(ids, 123)
    assert lottery_numbers(ids, 124) != lottery_numbers(ids, 123)


def test_empty_and_seatless_markets() -> None:
    assert deferred_acceptance(Instance((), (), {})).placements == {}
    inst = Instance((Client("a", ("K",)),), (Course("K", 0),), {("a", "K"): 1})
    result = deferred_acceptance(inst)
    assert result.placements == {"a": None}
    assert result.why_not["a"][0].reason is Reason.FULL and result.why_not["a"][0].cutoff is None
    assert check_stability(inst, result.placements) == []


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("clients", "courses", "pairs", "field"),
    [
        ((Client("a", ()), Client("a", ())), (), {}, "clients[1].id"),
        ((Client("", ()),), (), {}, "clients[0].id"),
        ((Client("a", ("K", "Q")),), (Course("K", 1),), {}, "clients[0].preferences[1]"),
        ((Client("a", ("K", "K")),), (Course("K", 1),), {}, "clients[0].preferences"),
        ((), (Course("K", 1), Course("K", 2)), {}, "courses[1].code"),
        ((), (Course("K", -1),), {}, "courses[0].seats"),
        ((), (Course("K", 1, reserved_seats=2),), {}, "courses[0].reserved_seats"),
        ((Client("a", ()),), (Course("K", 1, ranking=("a", "b")),), {}, "courses[0].ranking[1]"),
        ((Client("a", ()),), (Course("K", 1, ranking=("a", "a")),), {}, "courses[0].ranking[1]"),
        ((Client("a", ()),), (Course("K", 1),), {("b", "K"): 1}, "priorities[('b', 'K')]"),
        ((Client("a", ()),), (Course("K", 1),), {("a", "Q"): 1}, "priorities[('a', 'Q')]"),
        ((Client("a", ()),), (Course("K", 1),), {("a", "K"): 1.5}, "priorities[('a', 'K')]"),
        ((Client("a", ()),), (Course("K", 1),), {("a", "K"): True}, "priorities[('a', 'K')]"),
        ((Client("a", ()),), (Course("K", 1),), {"aK": 1}, "priorities['aK']"),
        ((Client("a", ()),), (Course("K", 1),), {("a", "K", "x"): 1}, "priorities[('a', 'K', 'x')]"),
        # one bad pair among many good ones is still found and named
        (tuple(Client(f"c{i}", ("K",)) for i in range(50)), (Course("K", 1),),
         {**{(f"c{i}", "K"): i for i in range(50)}, ("c7", "Q"): 1}, "priorities[('c7', 'Q')]"),
    ],
)
def test_bad_input_names_the_field(clients, courses, pairs, field) -> None:
    inst = Instance(clients, courses, pairs)
    with pytest.raises(InvalidInstance) as err:
        deferred_acceptance(inst)
    assert err.value.field == field
    with pytest.raises(InvalidInstance):
        check_stability(inst, {})


def test_bad_reserve_order_names_the_field() -> None:
    with pytest.raises(InvalidInstance) as err:
        Instance((), (), {}, reserve_order="members_first")
    assert err.value.field == "reserve_order"
    assert Instance((), (), {}, reserve_order="reserved_first").reserve_order is ReserveOrder.RESERVED_FIRST
