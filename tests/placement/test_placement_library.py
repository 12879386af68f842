"""bekal.placement on the default rules: only ELIGIBLE pairs get seats, the rest is reported with
reasons; cutoffs, reserved seats, panel rankings, stability, determinism and input validation."""

from __future__ import annotations

import random

import pytest

from bekal.engine import NotInForce
from bekal.matching import ReserveOrder, Standing, check_stability
from bekal.placement import Because, CohortError, describe, make_cohort, place
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import applicant as client
from tests.support.people import course


def run(engine, clients, courses, **kw):
    audience = kw.pop("audience", "bnn")
    cohort = make_cohort(clients, courses, as_of=kw.pop("as_of", AS_OF), **kw)
    result = place(engine, cohort, audience=audience)
    assert check_stability(result.instance, result.match.placements) == []
    return result


def by_id(result):
    return {p.client_id: p for p in result.clients}


# ------------------------------------------------------------------------------ acceptable pairs


def test_ineligible_and_pending_pairs_get_no_seat_and_are_reported(default_engine):
    courses = [course("X", 5), course("Y", 5)]
    clients = [
        client("ok", "X", "Y"),
        client("minor", "X", "Y", birth_date="2002-01-01"),  # 17 on the as-of date
        client("no-interview", "X", "Y", interview_score=None),
        client("no-consent", "X", "Y", consent_to_share=False),
        client("in-rehab", "X", "Y", rehab_stage="inpatient"),
    ]
    result = run(default_engine, clients, courses)
    got = by_id(result)
    assert got["ok"].course == "X" and got["ok"].choice == 1 and got["ok"].why_not == ()
    for cid in ("minor", "no-interview", "no-consent", "in-rehab"):
        assert got[cid].course is None
        assert [w.course for w in got[cid].why_not] == ["X", "Y"]  # every course, in preference order

    minor = got["minor"].why_not[0]
    assert minor.because is Because.INELIGIBLE
    assert [r.rule_id for r in minor.reasons] == ["age-above-18"]
    assert "17" in minor.reasons[0].message_en and "17" in minor.reasons[0].message_id

    waiting = got["no-interview"].why_not[0]
    assert waiting.because is Because.PENDING and waiting.missing == ("client.interview_score",)
    assert "missing client.interview_score" in describe(waiting)

    assert [r.rule_id for r in got["no-consent"].why_not[0].reasons] == ["consent-to-share"]
    assert [r.rule_id for r in got["in-rehab"].why_not[0].reasons] == ["rehab-not-finished"]

    s = result.summary
    assert (s.clients, s.placed, s.unmatched) == (5, 1, 4)
    assert (s.pairs, s.eligible_pairs, s.ineligible_pairs, s.pending_pairs) == (10, 2, 2, 6)
    assert s.ruleset_version.startswith("sha256:")
    # the matching never saw the refused pairs
    assert set(result.instance.priorities) == {("ok", "X"), ("ok", "Y")}


def test_a_training_centre_sees_only_shareable_reasons(default_engine):
    courses = [course("X", 5)]
    clients = [client("in-rehab", "X", rehab_stage="outpatient"), client("minor", "X", birth_date="2002-01-01")]
    bnn = by_id(run(default_engine, clients, courses, audience="bnn"))
    blk = by_id(run(default_engine, clients, courses, audience="blk"))
    assert bnn["in-rehab"].why_not[0].reasons and not bnn["in-rehab"].why_not[0].reasons[0].shareable
    hidden = blk["in-rehab"].why_not[0]
    assert hidden.because is Because.WITHHELD and hidden.reasons == () and hidden.missing == ()
    assert "outpatient" not in describe(hidden) and "outpatient" in describe(bnn["in-rehab"].why_not[0])
    assert blk["minor"].why_not[0].reasons == bnn["minor"].why_not[0].reasons  # shareable: shown to both
    # without consent to share, a training centre learns only that the course did not work out: the
    # same WITHHELD as for a client still in rehabilitation
    quiet = [client("minor-no-consent", "X", birth_date="2002-01-01", consent_to_share=False)]
    assert by_id(run(default_engine, quiet, courses, audience="bnn"))["minor-no-consent"].why_not[0].reasons
    assert by_id(run(default_engine, quiet, courses, audience="blk"))["minor-no-consent"].why_not[0] == hidden


# ------------------------------------------------------------------------------ order, cutoffs, reserves


def test_priority_decides_and_the_cutoff_explains_a_full_course(default_engine):
    courses = [course("X", 1), course("Y", 3)]
    clients = [client("self", "X", "Y"), client("bnn", "X", "Y", referrer="bnn")]
    result = run(default_engine, clients, courses)
    got = by_id(result)
    assert got["bnn"].course == "X" and got["bnn"].standing.priority == 10 and got["bnn"].priority_group
    assert got["self"].course == "Y" and got["self"].choice == 2
    (why,) = got["self"].why_not
    assert why.because is Because.FULL
    assert why.cutoff == Standing(priority=10, rank=None, lottery=got["bnn"].lottery)
    assert why.standing == Standing(priority=0, rank=None, lottery=got["self"].lottery)
    assert "priority 10" in describe(why) and "prioritas 10" in describe(why, "id")
    fill = {f.code: f for f in result.courses}
    assert fill["X"].filled == 1 and fill["X"].cutoff.priority == 10 and fill["X"].applicants == 2
    assert fill["Y"].cutoff is None and fill["Y"].filled == 1  # not full: no cutoff
    assert result.summary.first_choice == 1 and result.summary.courses_full == 1


def test_equal_priority_is_settled_by_one_seeded_lottery(default_engine):
    courses = [course("X", 1), course("Y", 5)]
    clients = [client(f"c{i}", "X", "Y") for i in range(6)]
    result = run(default_engine, clients, courses, seed=7)
    winner = next(p for p in result.clients if p.course == "X")
    assert winner.lottery == min(p.lottery for p in result.clients)
    for p in result.clients:
        if p is not winner:
            assert p.why_not[0].cutoff.lottery == winner.lottery < p.why_not[0].standing.lottery


def reserve_case(engine, order: str):
    """A panel ranks member b1 first, non-member s1 second, member b2 third, for 2 seats, 1 reserved."""
    courses = [course("X", 2, reserved=1), course("Z", 5)]
    clients = [client("b1", "X", "Z", referrer="bnn"), client("s1", "X", "Z"), client("b2", "X", "Z", referrer="bnn")]
    return run(engine, clients, courses, rankings={"X": ["b1", "s1", "b2"]}, reserve_order=order)


def test_reserved_seats_filled_last_favour_the_group(default_engine):
    last = reserve_case(default_engine, "open_first")
    first = reserve_case(default_engine, "reserved_first")
    got_last, got_first = by_id(last), by_id(first)
    # open first: b1 takes the open seat on merit, the reserve catches b2
    assert (got_last["b1"].course, got_last["b2"].course, got_last["s1"].course) == ("X", "X", "Z")
    # reserved first: the reserve absorbs b1, the open seat goes to s1
    assert (got_first["b1"].course, got_first["s1"].course, got_first["b2"].course) == ("X", "X", "Z")
    fill_last = {f.code: f for f in last.courses}["X"]
    fill_first = {f.code: f for f in first.courses}["X"]
    assert fill_last.group_admitted == 2 > fill_first.group_admitted == 1
    assert last.summary.reserved_to_group == 1 and last.summary.reserve_order is ReserveOrder.OPEN_FIRST
    # s1 competed only for the open seat, held by b1 (panel rank 1)
    (why,) = got_last["s1"].why_not
    assert why.because is Because.FULL and why.cutoff.rank == 0 and why.standing.rank == 1
    assert "panel rank 1" in describe(why) and "panel rank 2" in describe(why)


def test_a_panel_ranking_orders_a_course_but_never_overrides_the_rules(default_engine):
    courses = [course("X", 3), course("Y", 3)]
    clients = [client("a", "X", "Y"), client("b", "X", "Y"), client("minor", "X", "Y", birth_date="2002-01-01")]
    result = run(default_engine, clients, courses, rankings=[("X", ["minor", "a"])])
    got = by_id(result)
    assert got["a"].course == "X" and got["a"].standing == Standing(None, 1, got["a"].lottery)
    assert got["b"].course == "Y" and got["b"].why_not[0].because is Because.NOT_RANKED
    assert "ranking" in describe(got["b"].why_not[0])
    assert got["minor"].course is None and got["minor"].why_not[0].because is Because.INELIGIBLE
    assert result.summary.not_ranked_pairs == 1
    assert {f.code: f.ranked for f in result.courses} == {"X": True, "Y": False}


# ------------------------------------------------------------------------------ stability, determinism


def random_cohort(rulebook, n: int, seed: int):
    rng = random.Random(seed)
    codes = sorted(rulebook.courses)
    courses = [course(code, rng.randint(1, 4), reserved=rng.randint(0, 1)) for code in codes]
    clients = []
    for i in range(n):
        clients.append(client(
            f"K{i:03d}", *rng.sample(codes, rng.randint(0, 4)),
            birth_date=f"{rng.randint(1975, 2003)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            referrer=rng.choice(["bnn", "self", "other_agency"]),
            interview_score=rng.choice([None, 50, 70, 90]),
            consent_to_share=rng.random() < 0.9,
        ))
    return clients, courses


@pytest.mark.parametrize("order", ["open_first", "reserved_first"])
def test_placements_are_stable_and_independent_of_input_order(default_engine, default_rulebook, order):
    clients, courses = random_cohort(default_rulebook, 120, seed=3)
    result = run(default_engine, clients, courses, seed=11, reserve_order=order)
    assert result.summary.placed > 0 and result.summary.unmatched > 0
    for p in result.clients:
        if p.course is not None:  # never a seat from a refused pair
            assert (p.client_id, p.course) in result.instance.priorities
    rng = random.Random(5)
    shuffled_clients, shuffled_courses = clients[:], courses[:]
    rng.shuffle(shuffled_clients)
    rng.shuffle(shuffled_courses)
    again = run(default_engine, shuffled_clients, shuffled_courses, seed=11, reserve_order=order)
    assert by_id(again) == by_id(result)
    assert again.courses == result.courses


def test_progress_is_reported_per_phase(default_engine, default_rulebook):
    clients, courses = random_cohort(default_rulebook, 50, seed=1)
    seen = []
    cohort = make_cohort(clients, courses, as_of=AS_OF)
    place(default_engine, cohort, progress=lambda phase, done, total: seen.append((phase, done, total)), chunk=20)
    phases = [p for p, _, _ in seen]
    assert phases.index("eligibility") < phases.index("matching") < phases.index("explaining")
    eligibility = [(d, t) for p, d, t in seen if p == "eligibility"]
    pairs = sum(len(c["preferences"]) for c in clients)
    assert len(eligibility) > 3 and eligibility[-1][0] == eligibility[-1][1] == pairs


# ------------------------------------------------------------------------------ input validation


def test_every_bad_field_is_named():
    courses = [course("X", 2), course("X", 1), {"code": "Y"}, course("Z", 1, reserved=2)]
    clients = [
        client("a", "X"),
        client("b", "X", "XYZ", "X"),
        client("a", birth_date="1990-02-30"),
        client("c", rehab_stage="recovered"),
        {"preferences": ["X"]},
    ]
    with pytest.raises(CohortError) as info:
        make_cohort(clients, courses, as_of=AS_OF, rankings=[("X", ["a", "ghost", "a"]), ("NOPE", ["a"])])
    problems = dict(info.value.violations)
    assert problems["courses[1].code"] == "duplicate course code 'X'"
    assert problems["courses[2].seats"].startswith("required")
    assert problems["courses[3].reserved_bnn_seats"] == "2 reserved seats but only 1 seats"
    assert problems["clients[1].preferences[1]"] == "unknown course 'XYZ'"
    assert "already listed at position 1" in problems["clients[1].preferences[2]"]
    assert problems["clients[2].birth_date"].startswith("not a real date")
    assert problems["clients[2].id"] == "duplicate client id 'a'"
    assert "unknown value 'recovered'" in problems["clients[3].rehab_stage"]
    assert problems["clients[4].id"].startswith("required")
    assert problems["rankings[0].client_ids[1]"] == "unknown client 'ghost'"
    assert "already ranked" in problems["rankings[0].client_ids[2]"]
    assert problems["rankings[1].course_code"] == "unknown course 'NOPE'"


def test_settings_are_checked():
    with pytest.raises(CohortError) as info:
        make_cohort([], [], as_of="2019-13-01", seed="x", reserve_order="members_first")
    assert {f for f, _ in info.value.violations} == {"as_of", "seed", "reserve_order"}


def test_a_date_no_ruleset_covers_is_refused(default_engine):
    early = {k: v for k, v in client("a", "X").items() if k != "rehab_completed_date"}
    cohort = make_cohort([early], [course("X", 1)], as_of="2015-01-01")
    with pytest.raises(NotInForce) as info:
        place(default_engine, cohort)
    assert info.value.rulesets == ("eligibility", "priority")


def test_impossible_facts_on_the_cohort_date_name_the_client_field():
    with pytest.raises(CohortError) as info:
        make_cohort([client("a", "X")], [course("X", 1)], as_of="2015-01-01")
    assert info.value.violations == [
        ("clients[0].rehab_completed_date", "2019-02-28 is after the decision date 2015-01-01")]


def test_an_empty_cohort_places_nobody(default_engine):
    result = run(default_engine, [client("a")], [course("X", 1)])
    assert result.clients[0].course is None and result.clients[0].why_not == ()
    assert result.summary.pairs == 0
