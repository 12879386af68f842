"""Monitoring rules fire on the right attendance and conduct sequences and not on others.

Random histories against a plain reference computation: the facts (:func:`reference_facts`)
and the default rules (:func:`reference_rules`) written out directly from their definitions,
independent of the running summary, the store's incremental updates and durable_rules, which
judges the rules here as in production (:func:`bekal.monitoring.rules.judge`).
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bekal.monitoring.facts import derive
from bekal.monitoring.history import Assessment, Session, summarise
from bekal.monitoring.rules import judge, load_monitoring_rules
from bekal.store.monitoring import (
    AttendanceRow,
    Batch,
    ConductRow,
    NewEnrolmentRow,
    Scope,
    SQLiteMonitoringStore,
)
from tests.support.paths import RULES as FIXTURE_RULES

START = date(2019, 7, 1)
RULES = load_monitoring_rules(FIXTURE_RULES)
STATUSES = st.sampled_from(["present", "absent", "excused", "late"])


def reference_facts(sessions: list[tuple[date, str, str]], ratings: list[tuple[date, str, int]]) -> dict:
    """The facts by their definitions, from the sorted history."""
    ordered = [s for _, _, s in sorted(sessions)]
    held = len(ordered)
    attended = sum(s in ("present", "late") for s in ordered)
    excused = ordered.count("excused")
    run = 0
    for s in ordered:
        if s in ("present", "late"):
            run = 0
        elif s == "absent":
            run += 1
    facts = {"enrolment.sessions_held": held, "enrolment.sessions_attended": attended,
             "enrolment.unexcused_absences": ordered.count("absent"), "enrolment.excused_absences": excused,
             "enrolment.consecutive_unexcused_absences": run, "enrolment.conduct_assessments": len(ratings),
             "enrolment.low_conduct_ratings": sum(r <= 2 for _, _, r in ratings)}
    if held - excused:
        facts["enrolment.attendance_rate"] = round(100.0 * attended / (held - excused), 2)
    if sessions:
        last = max(d for d, _, _ in sessions)
        seen = [d for d, _, s in sessions if s in ("present", "late")]
        facts["enrolment.days_since_last_attendance"] = (last - (max(seen) if seen else START)).days
    if ratings:
        facts["enrolment.latest_conduct_rating"] = max(ratings)[2]
        facts["enrolment.lowest_conduct_rating"] = min(r for _, _, r in ratings)
    return facts


def reference_rules(facts: dict) -> set[str]:
    """The default monitoring rules, as their descriptions say."""
    fired = set()
    if facts["enrolment.sessions_held"] >= 5 and facts.get("enrolment.attendance_rate", 100) < 80:
        fired.add("attendance-below-80")
    if facts["enrolment.consecutive_unexcused_absences"] >= 3:
        fired.add("three-unexcused-absences")
    if facts["enrolment.low_conduct_ratings"] >= 2:
        fired.add("two-low-conduct-ratings")
    return fired


@st.composite
def histories(draw, max_sessions: int = 40):
    statuses = draw(st.lists(STATUSES, max_size=max_sessions))
    days = sorted(draw(st.lists(st.integers(0, 120), min_size=len(statuses), max_size=len(statuses))))
    sessions = [(START + timedelta(days=d), f"a{k:04d}", s) for k, (d, s) in enumerate(zip(days, statuses))]
    ratings = draw(st.lists(st.integers(1, 5), max_size=8))
    rdays = draw(st.lists(st.integers(0, 120), min_size=len(ratings), max_size=len(ratings)))
    assessed = [(START + timedelta(days=d), f"c{k:04d}", r) for k, (d, r) in enumerate(zip(rdays, ratings))]
    return sessions, assessed


def _summary(sessions, ratings):
    return summarise(START, [Session(d, r, s) for d, r, s in sessions], [Assessment(d, r, g) for d, r, g in ratings])


@settings(max_examples=300, deadline=None)
@given(histories())
def test_derived_facts_match_their_definitions(history):
    sessions, ratings = history
    assert derive(_summary(sessions, ratings)) == reference_facts(sessions, ratings)


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_default_rules_fire_exactly_when_the_reference_says(history):
    sessions, ratings = history
    facts = derive(_summary(sessions, ratings))
    fired = {f.rule_id for f in judge(RULES, [(facts, START + timedelta(days=200))])[0]}
    assert fired == reference_rules(reference_facts(sessions, ratings))


def _store_with_enrolment():
    store = SQLiteMonitoringStore(":memory:")
    row = store.create_enrolments("r", "bnn", [NewEnrolmentRow("C-1", "LAS-SMAW-01", "BNNK Banjarbaru", "BLK",
                                                                START)])[0]
    return store, row.enrolment_id


def _judge(items):
    return judge(RULES, [(derive(summary), on) for summary, on in items])


@settings(max_examples=100, deadline=None)
@given(histories(), st.randoms(use_true_random=False), st.integers(1, 6))
def test_the_store_keeps_the_same_facts_whatever_the_order_and_batching(history, rnd, batches):
    """Records arrive in random order and random batches (late corrections included): the kept
    summary is the whole history's, and alerts are raised once per rule at most."""
    sessions, ratings = history
    store, eid = _store_with_enrolment()
    records = [("a", s) for s in sessions] + [("c", r) for r in ratings]
    rnd.shuffle(records)
    chunks = [records[k::batches] for k in range(batches)]
    raised: list[str] = []
    for chunk in chunks:
        if not chunk:
            continue
        batch = Batch([AttendanceRow(r, eid, d, s) for kind, (d, r, s) in chunk if kind == "a"],
                      [ConductRow(r, eid, d, g, "", False) for kind, (d, r, g) in chunk if kind == "c"])
        raised += [a.rule_id for a in store.record(batch, Scope(recorder="blk"), _judge, RULES.version).alerts]
    assert len(raised) == len(set(raised))
    state = store._one("SELECT state FROM enrolment_summary WHERE enrolment_id = ?", (eid,))
    if records:
        from bekal.store.monitoring import _summary as decode

        assert derive(decode(state[0])) == reference_facts(sessions, ratings)
    assert set(raised) <= {r.id for r in RULES.rules}
    store.close()


@settings(max_examples=100, deadline=None)
@given(histories())
def test_records_in_order_raise_exactly_the_rules_some_prefix_fires(history):
    """A training centre sending each day's register: an alert for a rule iff the rule held after some day."""
    sessions, ratings = history
    store, eid = _store_with_enrolment()
    raised: set[str] = set()
    expected: set[str] = set()
    for k, (d, r, s) in enumerate(sessions):
        result = store.record(Batch([AttendanceRow(r, eid, d, s)]), Scope(recorder="blk"), _judge, RULES.version)
        raised |= {a.rule_id for a in result.alerts}
        expected |= reference_rules(reference_facts(sessions[:k + 1], []))
    assert raised == expected
    store.close()


@settings(max_examples=100, deadline=None)
@given(histories(), st.integers(min_value=1, max_value=6))
def test_however_a_register_is_batched_the_rules_some_prefix_fires_are_raised(history, batches):
    """The same days in fewer, larger batches: a rule that held after some day raises its alert even when a
    later record of the same batch makes it false again (three absences, then a present, in one batch)."""
    sessions, _ratings = history
    store, eid = _store_with_enrolment()
    expected: set[str] = set()
    for k in range(len(sessions)):
        expected |= reference_rules(reference_facts(sessions[:k + 1], []))
    size = -(-len(sessions) // batches) if sessions else 1
    raised: set[str] = set()
    for first in range(0, len(sessions), size):
        chunk = sessions[first:first + size]
        batch = Batch([AttendanceRow(r, eid, d, s) for d, r, s in chunk])
        raised |= {a.rule_id for a in store.record(batch, Scope(recorder="blk"), _judge, RULES.version).alerts}
    assert raised == expected
    store.close()


def test_three_absences_then_a_present_in_one_batch_still_alert():
    store, eid = _store_with_enrolment()
    days = [START + timedelta(days=k) for k in range(4)]
    batch = Batch([AttendanceRow(f"r{k}", eid, d, s)
                   for k, (d, s) in enumerate(zip(days, ["absent", "absent", "absent", "present"]))])
    alerts = store.record(batch, Scope(recorder="blk"), _judge, RULES.version).alerts
    assert [a.rule_id for a in alerts] == ["three-unexcused-absences"]
    store.close()
