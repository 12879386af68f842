"""Placement on several processes gives exactly what one process gives: the same placements, why-nots,
fills and summary, the same errors for refused pairs and dates out of force, and the same result when
the rules change mid-job; a worker that dies fails the job, and never leaves a partial placement.

Every comparison runs the single-process path (``processes=1``) and the parallel one (``processes=2``
or 3: this process and worker processes) on one seeded cohort, with small chunks so that a cohort of a
few hundred clients is cut into many chunks and tasks."""

from __future__ import annotations

import os
import random
import signal
from datetime import date

import pytest

from bekal.engine import Engine, NotInForce
from bekal.placement import CohortError, Unjudged, make_cohort, parallel, place
from bekal.placement.errors import WorkersFailed
from bekal.placement.results import Because
from bekal.rulebook import load_rulebook_from_texts, read_files
from tests.rules.rulefiles import ruleset_text
from tests.support.paths import RULES
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import applicant, course

CHUNK = 25  # pairs per engine call: a 300-client cohort makes ~40 chunks


def seeded_cohort(rulebook, n: int = 300, seed: int = 2019, **kw):
    """Clients of every kind the default rules tell apart: minors, clients in or out of rehabilitation,
    missing scores and education, low scores, refused consent, BNN referrals; popular courses fill up."""
    rng = random.Random(seed)
    codes = sorted(rulebook.courses)
    courses = [course(code, rng.randint(2, 12), reserved=rng.randint(0, 2)) for code in codes]
    clients = []
    for i in range(n):
        clients.append(applicant(
            f"K{i:04d}", *rng.sample(codes, rng.randint(0, min(5, len(codes)))),
            birth_date=f"{rng.randint(1960, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            referrer=rng.choice(["bnn", "self", "other_agency", None]),
            rehab_stage=rng.choice(["post_rehabilitation"] * 6 + ["outpatient", "inpatient", "dropped_out"]),
            written_test_score=rng.choice([None, 40, 55, 72.5, 90]),
            interview_score=rng.choice([None, 50, 70, 90]),
            education=rng.choice([None, "sd", "smp", "sma", "smk", "diploma"]),
            consent_to_share=rng.random() < 0.9,
        ))
    ranked = codes[0]
    rankings = [(ranked, [c["id"] for c in clients if ranked in c["preferences"]][::2])]
    return make_cohort(clients, courses, as_of=AS_OF, seed=seed, rankings=rankings, **kw)


def same(a, b):
    assert a.clients == b.clients
    assert a.courses == b.courses
    assert a.summary == b.summary
    assert a.instance == b.instance
    assert a.match == b.match


@pytest.mark.parametrize("audience", ["bnn", "blk"])
@pytest.mark.parametrize("processes", [2, 3])
def test_several_processes_place_exactly_as_one(default_engine, default_rulebook, audience, processes):
    cohort = seeded_cohort(default_rulebook)
    one = place(default_engine, cohort, audience=audience, chunk=CHUNK, processes=1)
    many = place(default_engine, cohort, audience=audience, chunk=CHUNK, processes=processes)
    assert parallel.pool().size >= processes - 1  # the workers did take part
    same(one, many)
    # the cohort exercises every kind of answer, so the comparison means something
    s = one.summary
    assert s.eligible_pairs and s.ineligible_pairs and s.pending_pairs and s.not_ranked_pairs
    kinds = {w.because for p in one.clients for w in p.why_not}
    if audience == "bnn":  # every kind but the training centre's WITHHELD
        assert kinds == set(Because) - {Because.WITHHELD}
    else:
        assert kinds == set(Because) and s.withheld_pairs
    assert any(w.reasons for p in one.clients for w in p.why_not)


def test_progress_counts_every_pair_once(default_engine, default_rulebook):
    cohort = seeded_cohort(default_rulebook)
    seen: list[tuple[str, int, int]] = []
    place(default_engine, cohort, chunk=CHUNK, processes=2, progress=lambda *p: seen.append(p))
    eligibility = [(d, t) for p, d, t in seen if p == "eligibility"]
    pairs = sum(len(c["preferences"]) for c in cohort.clients)
    assert eligibility[0] == (0, pairs) and eligibility[-1] == (pairs, pairs)
    assert [d for d, _ in eligibility] == sorted(d for d, _ in eligibility) and len(eligibility) > 5
    assert [p for p, _, _ in seen].index("matching") > [p for p, _, _ in seen].index("eligibility")


def test_the_wire_format_keeps_every_fact():
    clients = [
        {"id": "a", "birth_date": date(1990, 1, 2), "interview_score": 70.5, "preferences": ("X",)},
        {"id": "b", "birth_date": None, "consent_to_share": False},  # None is kept apart from absent
        {"id": "c", "rehab_completed_date": "2019-01-01", "birth_date": date(1985, 5, 6)},  # text in a date field
    ]
    packed = parallel.pack_clients(clients)
    assert parallel.unpack_clients(*packed) == [{k: v for k, v in c.items() if k != "preferences"} for c in clients]


# ------------------------------------------------------------------------------ the same errors


def broken_cohort(rulebook):
    """Facts that passed as already parsed but the engine refuses (out of range), in two chunks far apart."""
    cohort = seeded_cohort(rulebook)
    clients = [dict(c) for c in cohort.clients]
    for i in (131, 140, 262):
        clients[i] = {**clients[i], "preferences": clients[0]["preferences"] or ("LAS-SMAW-01",),
                      "interview_score": 500.0 + i}
    return make_cohort(clients, list(cohort.courses), as_of=AS_OF, parsed=True)


@pytest.mark.parametrize("processes", [2, 3])
def test_refused_input_is_the_same_error(default_engine, default_rulebook, processes):
    cohort = broken_cohort(default_rulebook)
    with pytest.raises(CohortError) as one:
        place(default_engine, cohort, chunk=CHUNK, processes=1)
    with pytest.raises(CohortError) as many:
        place(default_engine, cohort, chunk=CHUNK, processes=processes)
    assert many.value.violations == one.value.violations
    assert str(many.value) == str(one.value)
    assert one.value.violations[0][0] == "clients[131].interview_score"  # the first chunk with a refusal


def test_a_pair_without_proof_is_the_same_error():
    """0 / 0 is no verdict: the rule's judge does not fire and the pair is refused (Unjudged)."""
    book = load_rulebook_from_texts({"t.rules.yaml": ruleset_text(
        ("ratio", "client.written_test_score < course.min_written_score / course.min_interview_score * 10"))})
    courses = [course("A", 50), course("Z", 50, min_written_score=0, min_interview_score=0)]
    clients = [applicant(f"K{i:03d}", *(["A", "Z"] if i in (77, 150) else ["A"])) for i in range(200)]
    cohort = make_cohort(clients, courses, as_of=AS_OF)
    engine = Engine(book)
    try:
        with pytest.raises(Unjudged) as one:
            place(engine, cohort, chunk=10, processes=1)
        with pytest.raises(Unjudged) as many:
            place(engine, cohort, chunk=10, processes=2)
        assert str(many.value) == str(one.value) and "ratio" in str(one.value)
        # and the pool still works for the next job
        fine = make_cohort([c for c in clients if "Z" not in c["preferences"]], courses, as_of=AS_OF)
        same(place(engine, fine, chunk=10, processes=1), place(engine, fine, chunk=10, processes=2))
    finally:
        engine.close()


def test_a_date_out_of_force_is_the_same_error(default_engine):
    early = [{k: v for k, v in applicant(f"K{i}", "X").items() if k != "rehab_completed_date"} for i in range(60)]
    cohort = make_cohort(early, [course("X", 1)], as_of="2015-01-01")
    with pytest.raises(NotInForce) as one:
        place(default_engine, cohort, chunk=5, processes=1)
    with pytest.raises(NotInForce) as many:
        place(default_engine, cohort, chunk=5, processes=2)
    assert (many.value.on, many.value.rulesets) == (one.value.on, one.value.rulesets)


# ------------------------------------------------------------------------------ rules changing mid-job


def stricter_rules():
    texts = read_files(RULES)
    name = next(n for n in texts if n.endswith("eligibility.rules.yaml"))
    assert "when: client.age <= 18" in texts[name]
    return load_rulebook_from_texts({**{n: t for n, t in texts.items() if ".test." not in n},
                                     name: texts[name].replace("when: client.age <= 18", "when: client.age <= 30")})


@pytest.mark.parametrize("processes", [1, 2])
def test_rules_changing_mid_job_decide_the_whole_cohort_again(default_rulebook, processes):
    stricter = stricter_rules()
    cohort = seeded_cohort(default_rulebook)
    expected_engine = Engine(stricter)
    engine = Engine(default_rulebook)
    try:
        expected = place(expected_engine, cohort, chunk=CHUNK, processes=1)
        reloaded = []

        def reload_once(phase, done, total):
            if phase == "eligibility" and done > 0 and not reloaded:
                engine.load(stricter)
                reloaded.append(done)

        got = place(engine, cohort, chunk=CHUNK, processes=processes, progress=reload_once)
        assert reloaded and reloaded[0] < sum(len(c["preferences"]) for c in cohort.clients)
        assert got.summary.ruleset_version == stricter.version != default_rulebook.version
        same(got, expected)
    finally:
        engine.close()
        expected_engine.close()


# ------------------------------------------------------------------------------ failures


def test_a_worker_that_dies_fails_the_job_and_the_next_job_works(default_engine, default_rulebook):
    cohort = seeded_cohort(default_rulebook)
    parallel.start_workers(2)
    victims = parallel.pool().pids()
    killed = []

    def kill_once(phase, done, total):
        if phase == "eligibility" and done > 0 and not killed:
            os.kill(victims[0], signal.SIGKILL)
            killed.append(done)

    with pytest.raises(WorkersFailed, match="died"):
        place(default_engine, cohort, chunk=5, processes=2, progress=kill_once)
    assert killed
    again = place(default_engine, cohort, chunk=CHUNK, processes=2)
    assert victims[0] not in parallel.pool().pids()
    same(again, place(default_engine, cohort, chunk=CHUNK, processes=1))


def test_processes_are_checked_and_chosen(default_engine, default_rulebook):
    from bekal.placement.run import PARALLEL_MIN_PAIRS, resolve_processes

    cohort = seeded_cohort(default_rulebook, n=20)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="processes"):
            place(default_engine, cohort, processes=bad)
    assert resolve_processes(None, PARALLEL_MIN_PAIRS - 1) == 1
    assert resolve_processes(None, PARALLEL_MIN_PAIRS) == (os.cpu_count() or 1)
    assert resolve_processes(4, 10) == 4


def test_garbage_collection_is_paused_only_while_a_job_runs(default_engine, default_rulebook):
    import gc

    cohort = seeded_cohort(default_rulebook, n=30)
    seen = []
    assert gc.isenabled()
    place(default_engine, cohort, progress=lambda *p: seen.append(gc.isenabled()))
    assert gc.isenabled() and seen and not any(seen)
    gc.disable()
    try:
        place(default_engine, cohort)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


@pytest.mark.parametrize("audience", ["bnn", "blk"])
def test_counts_agree_with_a_pair_by_pair_count(default_engine, default_rulebook, audience):
    """The fills' applicants and eligible clients and the summary's pairs per outcome, counted here the
    plain way, pair by pair, from the engine's decisions: what the placement counts in bulk."""
    from bekal.audience import withheld
    from bekal.decision import Outcome

    cohort = seeded_cohort(default_rulebook)
    placed = place(default_engine, cohort, audience=audience, processes=1)
    ranked = {code: set(ids) for code, ids in cohort.rankings.items()}
    applicants: dict[str, int] = {}
    eligible: dict[str, int] = {}
    outcomes = dict.fromkeys(Outcome, 0)
    not_ranked = 0
    for client in cohort.clients:
        for code in client["preferences"]:
            d = default_engine.decide(client, next(c for c in cohort.courses if c["code"] == code), cohort.as_of)
            applicants[code] = applicants.get(code, 0) + 1
            outcome = Outcome.WITHHELD if audience != "bnn" and withheld(d, client) else d.outcome
            outcomes[outcome] += 1
            if outcome is Outcome.ELIGIBLE:
                eligible[code] = eligible.get(code, 0) + 1
                not_ranked += code in ranked and client["id"] not in ranked[code]
    assert {f.code: f.applicants for f in placed.courses if f.applicants} == applicants
    assert {f.code: f.eligible for f in placed.courses if f.eligible} == eligible
    s = placed.summary
    assert (s.eligible_pairs, s.ineligible_pairs, s.pending_pairs, s.withheld_pairs) == (
        outcomes[Outcome.ELIGIBLE], outcomes[Outcome.INELIGIBLE], outcomes[Outcome.PENDING], outcomes[Outcome.WITHHELD])
    assert s.not_ranked_pairs == not_ranked and s.pairs == sum(applicants.values())
    assert (s.withheld_pairs > 0) == (audience != "bnn") and not_ranked > 0
