"""A training centre's view reveals nothing hidden, as a property (issue 8; docs/integrators.md).

For any two clients who are both held back for hidden reasons (a BNN-only fact: the
rehabilitation stage, its dates, consent -- or consent never given) and are otherwise alike,
what a training centre receives is identical byte for byte apart from ids: from
CheckEligibility (every course offered) and from Match (placements, why-nots, summary).
The same BNN-view responses differ, so the property is not met by showing nothing at all.

Runs on the service logic and codec (no network, many examples); test_server.py checks the
same view over a real mutual-TLS connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bekal.audience import BLK, BNN, withheld
from bekal.client.convert import client_message
from bekal.decision import Outcome
from bekal.facts import parse_facts
from bekal.services.eligibility import codec as eligibility_codec
from bekal.services.eligibility.logic import Check, Eligibility
from bekal.services.matching import codec as matching_codec
from bekal.services.matching.logic import Matching, MatchSettings
from bekal.services.snapshots import ServedRules
from bekal.store import SQLiteJobStore, open_decision_log
from bekal.v1 import matching_pb2
from tests.support.people import eligible_client

AS_OF = date(2019, 6, 1)
CLIENT_ID = "BNNK-BJB-2019-0042"

# What a training centre may not learn, one way or another: each is a reason to hold a client back
# that only BNN sees (or, for consent, a reason for the training centre to see nothing).
HIDDEN = [
    {"rehab_stage": "assessment", "rehab_completed_date": None},
    {"rehab_stage": "inpatient", "rehab_completed_date": None},
    {"rehab_stage": "outpatient", "rehab_completed_date": None},
    {"rehab_stage": "dropped_out", "rehab_completed_date": None},
    {"rehab_stage": None},  # the stage never recorded
    {"consent_to_share": False},
    {"consent_to_share": None},  # consent never recorded
    {"rehab_stage": "dropped_out", "consent_to_share": False},
]

# What a training centre may see: test scores, education, age, who referred, where the client lives.
shareable = st.fixed_dictionaries({
    "birth_date": st.dates(date(1955, 1, 1), date(2005, 12, 31)).map(date.isoformat),
    "written_test_score": st.none() | st.integers(0, 100),
    "interview_score": st.none() | st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)),
    "education": st.sampled_from(["sd", "smp", "sma", "smk", "diploma", "bachelor"]),
    "referrer": st.sampled_from(["bnn", "self", "other_agency"]),
    "domicile": st.sampled_from(["Banjarbaru", "Banjarmasin", "Martapura"]),
})


@pytest.fixture(scope="module")
def eligibility(rules: ServedRules) -> Iterator[Eligibility]:
    store = open_decision_log(":memory:")
    yield Eligibility(rules, store)
    store.close()


@pytest.fixture(scope="module")
def matching(rules: ServedRules, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matching]:
    store = SQLiteJobStore(tmp_path_factory.mktemp("blk-view") / "jobs.db")
    yield Matching(rules, store, matching_codec.ProtobufJobFormat())
    store.close()


def client(base: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    return eligible_client(id=CLIENT_ID, preferences=["JHT-01", "LAS-SMAW-01"], **{**base, **hidden})


_checks = iter(range(10**9))


def check_bytes(eligibility: Eligibility, facts: dict[str, Any], audience: str) -> tuple[bytes, tuple[Any, ...]]:
    """The CheckEligibility response for every offered course, with the request id made equal."""
    n = next(_checks)
    result = eligibility.check(Check(f"r{n}", parse_facts("client", facts), None, AS_OF, audience,
                                     explain=True, fingerprint=f"fp{n}"))
    response = eligibility_codec.response_pb(result)
    response.request_id = "same"
    return response.SerializeToString(deterministic=True), result.decisions


def match_bytes(matching: Matching, facts: dict[str, Any], audience: str) -> bytes:
    request = matching_pb2.MatchRequest(
        settings=matching_codec.settings_pb(MatchSettings(AS_OF, seed=1, audience=audience)),
        clients=[client_message(facts), client_message(eligible_client(id="other", preferences=["JHT-01"]))])
    placement = matching.match(matching_codec.match_request(request))
    return matching_codec.match_response(placement).SerializeToString(deterministic=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=shareable, first=st.sampled_from(HIDDEN), second=st.sampled_from(HIDDEN))
def test_clients_held_back_for_hidden_reasons_look_the_same_to_a_training_centre(eligibility, matching, base,
                                                                                 first, second):
    a, b = client(base, first), client(base, second)
    blk_a, decisions_a = check_bytes(eligibility, a, BLK)
    blk_b, decisions_b = check_bytes(eligibility, b, BLK)
    _, bnn_decisions = check_bytes(eligibility, a, BNN)
    assert all(withheld(d, parse_facts("client", a)) for d in bnn_decisions)  # every variant holds back
    assert blk_a == blk_b
    assert {d.outcome for d in decisions_a} == {Outcome.WITHHELD}
    assert match_bytes(matching, a, BLK) == match_bytes(matching, b, BLK)


def test_the_bnn_view_of_the_same_pairs_differs(eligibility, matching):
    """The property above is not met by hiding everything from everyone: BNN sees each reason."""
    base = {"written_test_score": 70, "interview_score": 80}
    seen = {check_bytes(eligibility, client(base, hidden), BNN)[0] for hidden in HIDDEN}
    assert len(seen) == len(HIDDEN)
    assert len({match_bytes(matching, client(base, hidden), BNN) for hidden in HIDDEN}) > 1
    assert len({check_bytes(eligibility, client(base, hidden), BLK)[0] for hidden in HIDDEN}) == 1


def test_shareable_reasons_still_show_and_never_contradict_the_outcome(eligibility):
    low = client({"written_test_score": 10}, {})  # fails the written test: a shareable reason
    _, bnn = check_bytes(eligibility, low, BNN)
    _, blk = check_bytes(eligibility, low, BLK)
    assert [d.outcome for d in blk] == [d.outcome for d in bnn] and Outcome.INELIGIBLE in {d.outcome for d in blk}
    for d in blk:
        assert all(r.shareable for r in d.reasons) and not d.trace
        if d.outcome is Outcome.INELIGIBLE:
            assert "written-test-passed" in {r.rule_id for r in d.reasons if r.outcome is Outcome.INELIGIBLE}, d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=shareable)
def test_the_training_centre_view_never_contradicts_itself(eligibility, base):
    facts = client(base, {})
    _, decisions = check_bytes(eligibility, facts, BLK)
    for d in decisions:
        shown = [r.outcome for r in d.reasons]
        if d.outcome is Outcome.INELIGIBLE:
            assert Outcome.INELIGIBLE in shown, d
        elif d.outcome is Outcome.PENDING:
            assert d.missing or Outcome.PENDING in shown, d
        elif d.outcome is Outcome.ELIGIBLE:
            assert Outcome.INELIGIBLE not in shown and Outcome.PENDING not in shown and not d.missing, d
        else:
            assert d.outcome is Outcome.WITHHELD and not d.reasons and not d.missing and d.priority == 0, d
