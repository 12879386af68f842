"""The engine: three-valued outcomes, priority, batches, thread safety, hot swap, effective dates."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta

import pytest

from bekal.decision import Outcome, RuleStatus
from bekal.engine import Engine, EngineError, NoRulesLoaded, NotInForce
from bekal.rulebook import load_rulebook_from_texts
from tests.rules.rulefiles import rulebook_of, ruleset_text
from tests.support.people import MOU_DATE as AS_OF
from tests.support.people import READY

E, I, P = Outcome.ELIGIBLE, Outcome.INELIGIBLE, Outcome.PENDING  # noqa: E741 (the outcomes' initials)


def born_years_before(years: int, on: date = AS_OF) -> date:
    return on.replace(year=on.year - years)


class _closing:
    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        return self.engine

    def __exit__(self, *exc):
        self.engine.close()


# ---------------------------------------------------------------- three-valued outcomes

@pytest.fixture(scope="module")
def small():
    book = rulebook_of(
        ("too-young", "client.age <= 18"),
        ("not-after-rehab", 'client.rehab_stage in ["assessment", "inpatient", "outpatient"]', "pending"),
        ("interview", "course.min_interview_score exists and client.interview_score < course.min_interview_score"),
        ("bnn", 'client.referrer == "bnn"', 10),
        ("sma-or-better", "client.education_level >= 3", 2),
        ("late", "client.days_since_rehab > 365", -3),
    )
    engine = Engine(book)
    yield engine
    engine.close()


# every fact the priority rules read is known too: an undecidable priority rule adds its facts to
# `missing` (see test_an_undecidable_priority_names_its_facts)
ADULT = {"birth_date": born_years_before(30), "rehab_stage": "post_rehabilitation", "interview_score": 70,
         "referrer": "self", "education": "smp", "rehab_completed_date": AS_OF - timedelta(days=100)}
COURSE = {"code": "X-01", "min_interview_score": 60}


@pytest.mark.parametrize("client, course, outcome, reasons, missing", [
    (ADULT, COURSE, E, [], ()),
    ({**ADULT, "birth_date": born_years_before(18)}, COURSE, I, ["too-young"], ()),
    ({**ADULT, "birth_date": born_years_before(19)}, COURSE, E, [], ()),
    ({**ADULT, "rehab_stage": "inpatient"}, COURSE, P, ["not-after-rehab"], ()),
    ({**ADULT, "interview_score": 59}, COURSE, I, ["interview"], ()),
    ({**ADULT, "interview_score": 60}, COURSE, E, [], ()),
    # a fact a rule needs is absent: PENDING, naming the input field to fill in
    ({k: v for k, v in ADULT.items() if k != "birth_date"}, COURSE, P, ["too-young"], ("client.birth_date",)),
    ({k: v for k, v in ADULT.items() if k != "interview_score"}, COURSE, P, ["interview"], ("client.interview_score",)),
    ({}, COURSE, P, ["too-young", "not-after-rehab", "interview"],
     ("client.birth_date", "client.rehab_stage", "client.interview_score",  # then the priority rules'
      "client.referrer", "client.education", "client.rehab_completed_date")),
    # a course without an interview does not wait for one
    ({k: v for k, v in ADULT.items() if k != "interview_score"}, {"code": "Y-01"}, E, [], ()),
    # INELIGIBLE wins over PENDING, PENDING over ELIGIBLE
    ({**ADULT, "birth_date": born_years_before(17), "rehab_stage": "outpatient", "interview_score": None}, COURSE, I,
     ["too-young", "not-after-rehab", "interview"], ("client.interview_score",)),
    ({**ADULT, "birth_date": born_years_before(40), "rehab_stage": "outpatient", "interview_score": 99}, COURSE, P,
     ["not-after-rehab"], ()),
])
def test_three_valued_outcomes(small, client, course, outcome, reasons, missing):
    d = small.decide({k: v for k, v in client.items() if v is not None}, course, AS_OF)
    assert d.outcome is outcome
    assert sorted(r.rule_id for r in d.reasons if r.outcome is not E) == sorted(reasons)
    assert d.missing == missing
    assert d.as_of == AS_OF and d.ruleset_version == small.version


def test_an_undecidable_priority_names_its_facts(small):
    """A priority rule that cannot be decided leaves the outcome alone but never silently counts 0:
    its facts are in `missing` and its reason says the priority may be incomplete."""
    d = small.decide({k: v for k, v in ADULT.items() if k != "referrer"}, COURSE, AS_OF)
    assert d.outcome is E and d.missing == ("client.referrer",) and d.priority_incomplete
    (reason,) = [r for r in d.reasons if r.missing]
    assert reason.rule_id == "bnn" and reason.priority == 0 and reason.outcome is E
    assert reason.message_en == "The priority may be incomplete: client.referrer is not known (rule bnn)."
    complete = small.decide(ADULT, COURSE, AS_OF)
    assert not complete.priority_incomplete and complete.missing == ()


def test_reasons_carry_everything_a_case_worker_needs(small):
    d = small.decide({**ADULT, "interview_score": 50}, COURSE, AS_OF)
    [r] = [r for r in d.reasons if r.rule_id == "interview"]
    assert r.outcome is I and r.ruleset == "eligibility" and r.source == "interpretation of t (not a quote): s"
    assert r.message_id == "a" and r.message_en == "b"
    assert {f.name: f.value for f in r.facts} == {"course.min_interview_score": 60, "client.interview_score": 50}
    pending = small.decide({k: v for k, v in ADULT.items() if k != "interview_score"}, COURSE, AS_OF)
    [r] = pending.reasons
    assert r.outcome is P and r.missing == ("client.interview_score",)
    assert "client.interview_score" in r.message_en and "client.interview_score" in r.message_id


def test_reason_templates_are_filled_with_the_facts():
    book = load_rulebook_from_texts({"t.rules.yaml": ruleset_text(("young", "client.age <= 18")).replace(
        'en: "b"', 'en: "The client is {client.age}; born {client.birth_date}, course {course.title}."')})
    with _closing(Engine(book)) as engine:
        d = engine.decide({"birth_date": date(2003, 1, 2)}, {"title": "Las"}, AS_OF)
    assert d.reasons[0].message_en == "The client is 16; born 2003-01-02, course Las."


@pytest.mark.parametrize("client, priority", [
    ({}, 0),
    ({"referrer": "bnn"}, 10),
    ({"referrer": "bnn", "education": "smk"}, 12),
    ({"referrer": "self", "education": "bachelor"}, 2),
    ({"referrer": "bnn", "education": "sd", "rehab_completed_date": AS_OF - timedelta(days=366)}, 7),
    ({"referrer": "bnn", "education": "sma", "rehab_completed_date": AS_OF - timedelta(days=365)}, 12),
    # priority is summed whatever the outcome: matching only looks at it for ELIGIBLE pairs
    ({"referrer": "bnn", "education": "smk", "birth_date": born_years_before(10)}, 12),
])
def test_priority_is_the_sum_of_fired_priority_effects(small, client, priority):
    d = small.decide(client, COURSE, AS_OF)
    assert d.priority == priority
    assert d.priority == sum(r.priority for r in d.reasons)


def test_default_rules_priority_for_bnn_referrals(default_engine, default_rulebook):
    for code, course in default_rulebook.courses.items():
        assert default_engine.decide(READY, course, AS_OF).priority == 10, code
        assert default_engine.decide({**READY, "referrer": "self"}, course, AS_OF).priority == 0, code


# ---------------------------------------------------------------- batches

def _random_client(rng: random.Random) -> dict:
    client = {
        "id": f"C-{rng.randrange(10**6)}",
        "birth_date": date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        "rehab_stage": rng.choice(["assessment", "inpatient", "outpatient", "post_rehabilitation", "dropped_out"]),
        "rehab_completed_date": date(2018, 1, 1) + timedelta(days=rng.randint(0, 500)),
        "referrer": rng.choice(["bnn", "self", "other_agency"]),
        "written_test_score": rng.choice([40, 55, 60, 64.5, 65, 72, 90]),
        "interview_score": rng.choice([40, 55, 60, 65, 80]),
        "education": rng.choice(["none", "sd", "smp", "sma", "smk", "diploma", "bachelor"]),
        "consent_to_share": rng.choice([True, False]),
    }
    for key in list(client):
        if key != "id" and rng.random() < 0.12:
            del client[key]
    return client


def test_decide_many_equals_decide_one_by_one(default_engine, default_rulebook):
    rng = random.Random(20190516)
    clients = [_random_client(rng) for _ in range(160)]
    courses = list(default_rulebook.courses.values())
    # more pairs than one durable_rules batch, the same mappings reused across pairs
    pairs = [(rng.choice(clients), rng.choice(courses)) for _ in range(1_200)]
    many = default_engine.decide_many(pairs, AS_OF, explain=True)
    assert len(many) == len(pairs)
    outcomes = set()
    for (client, course), d in zip(pairs, many):
        one = default_engine.decide(client, course, AS_OF, explain=True)
        assert d == one
        assert d.trace == one.trace
        assert (d.client_id, d.course_code) == (client["id"], course["code"])
        outcomes.add(d.outcome)
    assert outcomes == {E, I, P}  # the sample exercises every outcome


def test_judge_many_gives_decide_many_s_verdicts_shared_per_reasons(default_engine, default_rulebook):
    """The batch form: per pair the outcome, reasons and priority decide_many gives, objects shared
    by pairs with the same reasons, and a job's Shared preparation (reused across calls, and started
    over on another date) changes nothing."""
    from bekal.engine import Shared

    rng = random.Random(7)
    clients = [_random_client(rng) for _ in range(120)]
    courses = list(default_rulebook.courses.values())
    pairs = [(rng.choice(clients), rng.choice(courses)) for _ in range(1_100)]
    decided = default_engine.decide_many(pairs, AS_OF)
    shared = Shared()
    for on in (AS_OF, AS_OF + timedelta(days=400), AS_OF):
        verdicts = [v for start in range(0, len(pairs), 300)
                    for v in default_engine.judge_many(pairs[start:start + 300], on, shared).verdicts]
        again = default_engine.decide_many(pairs, on) if on != AS_OF else decided
        assert [(v.outcome, v.reasons, v.priority) for v in verdicts] == [
            (d.outcome, d.reasons, d.priority) for d in again]
    judged = default_engine.judge_many(pairs, AS_OF)
    assert judged.version == default_engine.version
    plain = [v for v in judged.verdicts if not v.reasons]
    assert plain and len({id(v) for v in plain}) == 1  # every pair no rule stopped: one object
    assert len({id(v) for v in judged.verdicts}) < len(pairs) / 2  # others shared by their reasons' identity


def test_dispatch_reads_every_event_of_an_action_whatever_its_shape(monkeypatch):
    """A capped rule's action lists its events; one the fast reading cannot account for wholly
    (an event whose index is not first, one event not in a list) is read as JSON; text inside an
    event never counts as one."""
    from bekal import engine

    messages = iter([
        '{"r1":[{"m":{"_i":3,"id":"1.3","_t":1}},{"m":{"_i":0,"id":"1.0","_t":1}}]}',
        '{"r2":[{"m":{"_i":5,"id":"1.5","x":"{\\"m\\":{","_t":1}},{"m":{"id":"1.6","_i":6,"_t":1}}]}',
        '{"r3":{"m":{"_i":7,"id":"1.7","_t":1}}}',
        '{"_s":{"m":{"_s":1,"id":"s","sid":"b1"}}}',
        None,
    ])

    class FakeDurable:
        @staticmethod
        def start_action_for_state(handle, state):
            return (state, next(messages))

        @staticmethod
        def complete_and_start_action(handle, state):
            return next(messages)

    monkeypatch.setattr(engine, "dre", FakeDurable)
    seen = []
    engine.dispatch(1, 1, lambda name, indexes: seen.extend((name, int(i)) for i in indexes))
    assert sorted(seen) == [("r1", 0), ("r1", 3), ("r2", 5), ("r2", 6), ("r3", 7)]


def test_empty_batch(default_engine):
    assert default_engine.decide_many([], AS_OF) == []


# ---------------------------------------------------------------- thread safety and hot swap

# Two versions that read different facts (and only A has effective dates), so a decision that
# mixed the facts prepared for one version with the rules of the other would come out wrong.
VERSION_A = load_rulebook_from_texts({"v.rules.yaml": ruleset_text(
    ("young", "client.age <= 18"), ("bnn", 'client.referrer == "bnn"', 5), effective=("2016-01-01", None))})
VERSION_B = load_rulebook_from_texts({"v.rules.yaml": ruleset_text(
    ("low-education", "client.education_level < 3"), ("written", "client.written_test_score >= 70", 1))})
THREAD_CLIENTS = [
    {"id": "young-smp", "birth_date": born_years_before(17), "education": "smp", "referrer": "bnn",
     "written_test_score": 80},
    {"id": "adult-smp", "birth_date": born_years_before(30), "education": "smp", "referrer": "self",
     "written_test_score": 50},
    {"id": "young-sma", "birth_date": born_years_before(16), "education": "sma", "referrer": "self",
     "written_test_score": 70},
    {"id": "adult-sma", "birth_date": born_years_before(40), "education": "diploma", "referrer": "bnn",
     "written_test_score": 69},
]
EXPECTED = {
    VERSION_A.version: {"young-smp": (I, 5), "adult-smp": (E, 0), "young-sma": (I, 0), "adult-sma": (E, 5)},
    VERSION_B.version: {"young-smp": (I, 1), "adult-smp": (I, 0), "young-sma": (E, 1), "adult-sma": (E, 0)},
}


def test_expected_outcomes_of_the_two_versions():
    for book in (VERSION_A, VERSION_B):
        engine = Engine(book)
        try:
            for c in THREAD_CLIENTS:
                d = engine.decide(c, {}, AS_OF)
                assert (d.outcome, d.priority) == EXPECTED[book.version][c["id"]]
        finally:
            engine.close()


def test_many_threads_deciding_while_another_swaps_versions():
    engine = Engine(VERSION_A)
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: dict[str, int] = {VERSION_A.version: 0, VERSION_B.version: 0}
    swaps = 0

    def decide_forever(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                if rng.random() < 0.5:
                    c = rng.choice(THREAD_CLIENTS)
                    got = [(c, engine.decide(c, {}, AS_OF))]
                else:
                    batch = [rng.choice(THREAD_CLIENTS) for _ in range(rng.randint(1, 30))]
                    decisions = engine.decide_many([(c, {}) for c in batch], AS_OF)
                    assert len({d.ruleset_version for d in decisions}) == 1  # one version per batch
                    got = list(zip(batch, decisions))
                for c, d in got:
                    assert d.ruleset_version in EXPECTED
                    assert (d.outcome, d.priority) == EXPECTED[d.ruleset_version][c["id"]], (c["id"], d)
                    seen[d.ruleset_version] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            stop.set()

    def swap_forever() -> None:
        nonlocal swaps
        try:
            while not stop.is_set():
                engine.load(VERSION_B if swaps % 2 == 0 else VERSION_A)
                swaps += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=decide_forever, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=swap_forever))
    for t in threads:
        t.start()
    stop.wait(3.0)
    stop.set()
    for t in threads:
        t.join(30)
    engine.close()
    assert not errors, errors[0]
    assert swaps > 20, swaps
    assert seen[VERSION_A.version] > 50 and seen[VERSION_B.version] > 50, seen


def test_swap_fifty_times_then_still_decide_and_close():
    before = threading.active_count()
    engine = Engine(VERSION_A)
    for i in range(50):
        engine.load(VERSION_B if i % 2 == 0 else VERSION_A)
    assert engine.version == VERSION_A.version
    c = THREAD_CLIENTS[0]
    assert (engine.decide(c, {}, AS_OF).outcome, engine.decide(c, {}, AS_OF).priority) == (I, 5)
    engine.load(VERSION_A)  # the same version again is a no-op, not a second registration
    engine.load(VERSION_B)
    assert engine.decide(c, {}, AS_OF).priority == 1
    # far more decisions than durable_rules' 1,024 live sessions: each batch's session is deleted
    for _ in range(1_500):
        engine.decide(c, {}, AS_OF)
    engine.close()
    with pytest.raises(NoRulesLoaded):
        engine.decide(c, {}, AS_OF)
    engine.load(VERSION_A)  # an engine can serve again after close
    assert engine.decide(c, {}, AS_OF).priority == 5
    engine.close()
    engine.close()  # closing twice is harmless
    # many engines, created and closed: no timer threads left behind
    for _ in range(20):
        Engine(VERSION_A).close()
    assert threading.active_count() <= before


def test_no_rules_loaded():
    engine = Engine()
    assert engine.version is None and engine.rulebook is None
    with pytest.raises(NoRulesLoaded):
        engine.decide({}, {}, AS_OF)


def test_a_ruleset_durable_rules_refuses_never_replaces_the_serving_one():
    engine = Engine(VERSION_A)
    broken = rulebook_of(("a", "client.age <= 17"))
    broken.compiled.definition["r0"]["all"][0]["m"] = {"$bogus": {"client_age": 1}}
    with pytest.raises(EngineError):
        engine.load(broken)
    assert engine.version == VERSION_A.version
    assert engine.decide(THREAD_CLIENTS[0], {}, AS_OF).outcome is I
    engine.close()


# ---------------------------------------------------------------- effective dates

def test_effective_dates_pick_the_version_in_force():
    v1 = ruleset_text(("age-limit", "client.age <= 18"), ("bnn", 'client.referrer == "bnn"', 10),
                      name="eligibility", effective=("2016-01-01", "2019-12-31"))
    v2 = ruleset_text(("age-limit", "client.age <= 20"), ("bnn", 'client.referrer == "bnn"', 20),
                      name="eligibility", effective=("2020-01-01", "2020-12-31"))
    book = load_rulebook_from_texts({"v1.rules.yaml": v1, "v2.rules.yaml": v2})
    engine = Engine(book)
    try:
        client = {"birth_date": date(2000, 1, 15), "referrer": "bnn"}
        in_v1, in_v2 = date(2019, 6, 1), date(2020, 6, 1)  # the client is 19, then 20
        d1 = engine.decide(client, {}, in_v1, explain=True)
        assert (d1.outcome, d1.priority, d1.as_of) == (E, 10, in_v1)
        assert [(t.location.split(":")[0], t.status) for t in d1.trace] == [
            ("v1.rules.yaml", RuleStatus.NOT_FIRED), ("v1.rules.yaml", RuleStatus.FIRED),
            ("v2.rules.yaml", RuleStatus.NOT_IN_FORCE), ("v2.rules.yaml", RuleStatus.NOT_IN_FORCE)]
        d2 = engine.decide(client, {}, in_v2, explain=True)
        assert (d2.outcome, d2.priority) == (I, 20)
        assert [r.rule_id for r in d2.reasons] == ["age-limit", "bnn"]
        assert [t.status for t in d2.trace][:2] == [RuleStatus.NOT_IN_FORCE] * 2
        # the first and last day of a window are in it
        assert engine.decide(client, {}, date(2019, 12, 31)).priority == 10
        assert engine.decide(client, {}, date(2020, 1, 1)).priority == 20
        assert engine.decide(client, {}, date(2016, 1, 1)).priority == 10
        # dates where no version is in force: before the first and after the last (a gap is a check error)
        for day in (date(2015, 12, 31), date(2021, 1, 1)):
            with pytest.raises(NotInForce):
                engine.decide(client, {}, day)
        # a batch is decided as of one date, with the version in force on it
        assert [d.priority for d in engine.decide_many([(client, {})] * 3, in_v2)] == [20] * 3
    finally:
        engine.close()


def test_derived_facts_are_computed_as_of_the_decision_date():
    book = rulebook_of(("young", "client.age <= 18"), ("recent", "client.days_since_rehab < 90", "pending"))
    engine = Engine(book)
    try:
        client = {"birth_date": date(2000, 5, 16), "rehab_completed_date": date(2019, 3, 1)}
        # 18 and 75 days after rehabilitation; 19 on the birthday; 90 days on 30 May
        assert [r.rule_id for r in engine.decide(client, {}, date(2019, 5, 15)).reasons] == ["young", "recent"]
        assert [r.rule_id for r in engine.decide(client, {}, date(2019, 5, 16)).reasons] == ["recent"]
        assert engine.decide(client, {}, date(2019, 5, 29)).outcome is P
        assert engine.decide(client, {}, date(2019, 5, 30)).outcome is E
        leap = {"birth_date": date(2000, 2, 29), "rehab_completed_date": date(2018, 1, 1)}
        assert engine.decide(leap, {}, date(2019, 2, 28)).outcome is I  # 18 until 1 March 2019
        assert engine.decide(leap, {}, date(2019, 3, 1)).outcome is E
    finally:
        engine.close()


def test_default_rules_outside_their_window_are_not_in_force(default_engine):
    with pytest.raises(NotInForce):
        default_engine.decide(READY, {}, date(2015, 12, 31))
