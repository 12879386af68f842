"""A missing fact never makes a client ELIGIBLE (property tests with hypothesis).

The expectation is worked out here, independently of the engine: from the text of the rule
files (which facts each rule reads, which ``course.X exists`` guards make it apply) and the
course catalogue, both read with plain YAML.
"""

from __future__ import annotations

import re
from datetime import date

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bekal.decision import Outcome
from tests.support.paths import RULES
from tests.support.people import MOU_DATE as AS_OF
from tests.support.people import READY

# derived facts and the input field each is computed from (docs: client.age from birth_date, ...)
DERIVED = {"client.age": "client.birth_date", "client.days_since_rehab": "client.rehab_completed_date",
           "client.education_level": "client.education", "course.min_education_level": "course.min_education"}
FACT_RE = re.compile(r"\b(client|course)\.([a-z_]+)\b")
GUARD_RE = re.compile(r"^\s*((?:client|course)\.[a-z_]+)\s+exists\s*$")


def _rules_from_files() -> list[dict]:
    """Every rule in force on AS_OF: its guards, the input facts it needs, and whether it can block
    (ineligible/pending) or only set the priority (an undecidable priority rule names its facts in
    ``missing`` but leaves the outcome alone)."""
    out = []
    for path in sorted(RULES.glob("*.rules.yaml")):
        doc = yaml.safe_load(path.read_text())
        eff = doc.get("effective") or {}
        if (eff.get("from") and eff["from"] > AS_OF) or (eff.get("until") and eff["until"] < AS_OF):
            continue
        for rule in doc["rules"]:
            when = " ".join(rule["when"].split())
            parts = [when] if "(" in when or " or " in when else when.split(" and ")
            guards = [DERIVED.get(m.group(1), m.group(1)) for p in parts if (m := GUARD_RE.match(p))]
            needs = {DERIVED.get(f"{k}.{f}", f"{k}.{f}") for p in parts if not GUARD_RE.match(p)
                     for k, f in FACT_RE.findall(p)}
            out.append({"id": rule["id"], "guards": guards, "needs": needs, "single": len(parts) - len(guards) == 1,
                        "blocks": rule["effect"] in ("ineligible", "pending")})
    return out


RULES_FROM_FILES = _rules_from_files()
COURSES = {c["code"]: c for c in yaml.safe_load((RULES / "courses.yaml").read_text())["courses"]}
CLIENT_FIELDS = sorted(READY)


def test_the_model_sees_the_default_rules():
    ids = {r["id"] for r in RULES_FROM_FILES}
    assert {"age-above-18", "rehab-not-finished", "consent-to-share", "interview-passed"} <= ids
    by_id = {r["id"]: r for r in RULES_FROM_FILES}
    assert by_id["interview-passed"]["guards"] == ["course.min_interview_score"]
    assert by_id["interview-passed"]["needs"] == {"client.interview_score", "course.min_interview_score"}
    assert by_id["age-above-18"]["needs"] == {"client.birth_date"}


def expectation(client: dict, course: dict) -> tuple[set[str], set[str], set[str]]:
    """(absent client inputs some applicable blocking rule needs, those only a priority rule needs,
    every input an applicable blocking rule needs)."""
    present = {f"client.{k}" for k, v in client.items() if v is not None}
    present |= {f"course.{k}" for k, v in course.items() if v is not None}
    absent, priority_absent, needed = set(), set(), set()
    for rule in RULES_FROM_FILES:
        if not all(g in present for g in rule["guards"]):
            continue  # e.g. a course without a written test: the written-test rule does not apply
        lacking = {n for n in rule["needs"] if n not in present and n.startswith("client.")}
        if rule["blocks"]:
            needed |= rule["needs"]
            absent |= lacking
        else:
            priority_absent |= lacking
    return absent, priority_absent - absent, needed


def test_ready_client_is_eligible_for_every_course(default_engine, default_rulebook):
    assert set(COURSES) == set(default_rulebook.courses)
    for code in COURSES:
        d = default_engine.decide(READY, default_rulebook.courses[code], AS_OF)
        assert d.outcome is Outcome.ELIGIBLE, (code, d.reasons)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dropped=st.sets(st.sampled_from(CLIENT_FIELDS)), code=st.sampled_from(sorted(COURSES)))
def test_dropping_facts_from_an_eligible_client(default_engine, default_rulebook, dropped, code):
    client = {k: v for k, v in READY.items() if k not in dropped}
    course = default_rulebook.courses[code]
    d = default_engine.decide(client, course, AS_OF)
    absent, priority_absent, _ = expectation(client, COURSES[code])
    assert absent == {f"client.{f}" for f in dropped} & absent  # sanity: only dropped facts can be absent
    if absent:
        assert d.outcome is Outcome.PENDING, (dropped, code, d.reasons)
        assert set(d.missing) == absent | priority_absent
    else:
        # only facts no blocking rule needs for this course were dropped (id, referrer, domicile, ...)
        assert d.outcome is Outcome.ELIGIBLE, (dropped, code, d.reasons)
        assert set(d.missing) == priority_absent and d.priority_incomplete == bool(priority_absent)


def _maybe(strategy):
    return st.one_of(st.none(), strategy)


random_clients = st.fixed_dictionaries({
    "id": st.just("C-1"),
    "birth_date": _maybe(st.dates(date(1950, 1, 1), date(2012, 12, 31))),
    "rehab_stage": _maybe(st.sampled_from(["assessment", "inpatient", "outpatient", "post_rehabilitation",
                                           "dropped_out"])),
    "rehab_completed_date": _maybe(st.dates(date(2015, 1, 1), date(2019, 5, 16))),
    "referrer": _maybe(st.sampled_from(["bnn", "self", "other_agency"])),
    "written_test_score": _maybe(st.integers(0, 100) | st.integers(0, 200).map(lambda x: x / 2)),
    "interview_score": _maybe(st.integers(0, 100)),
    "education": _maybe(st.sampled_from(["none", "sd", "smp", "sma", "smk", "diploma", "bachelor"])),
    "consent_to_share": _maybe(st.booleans()),
})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=random_clients, code=st.sampled_from(sorted(COURSES)))
def test_a_missing_needed_fact_never_gives_eligible(default_engine, default_rulebook, raw, code):
    client = {k: v for k, v in raw.items() if v is not None}
    d = default_engine.decide(client, default_rulebook.courses[code], AS_OF)
    absent, priority_absent, needed = expectation(client, COURSES[code])
    if absent:
        assert d.outcome is not Outcome.ELIGIBLE, (client, code)
    # what a decision says is missing is always something a rule needs and the input lacks
    assert set(d.missing) <= absent | priority_absent, (client, code, d.missing)
    assert set(d.missing) >= priority_absent  # a priority rule never waits on a known-false part here
    if all(r["single"] for r in RULES_FROM_FILES) and d.outcome is not Outcome.INELIGIBLE:
        assert set(d.missing) == absent | priority_absent
    if not absent:
        assert set(d.missing) == priority_absent
