"""The hand-written encoding parses to exactly the message the generated classes build."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bekal.decision import Decision, FactValue, Outcome, Reason, RuleStatus, RuleTrace
from bekal.services.eligibility import codec
from bekal.services.eligibility.logic import CheckResult
from bekal.services.eligibility.wire import Encoder, varint
from bekal.services.errors import ServiceError
from bekal.v1 import eligibility_pb2

text = st.text(max_size=40)
values = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                   st.floats(allow_nan=False), text, st.dates())
facts = st.builds(FactValue, st.text(min_size=1, max_size=20), values)
outcomes = st.sampled_from(list(Outcome))
reasons = st.builds(
    Reason, rule_id=text, ruleset=text, outcome=outcomes, message_id=text, message_en=text,
    facts=st.lists(facts, max_size=3).map(tuple), source=text, shareable=st.booleans(),
    priority=st.integers(-(2**31), 2**31 - 1), missing=st.lists(text, max_size=2).map(tuple),
)


def decisions(trace: bool = False):
    traces = st.lists(st.builds(RuleTrace, text, text, st.sampled_from(list(RuleStatus)),
                                st.sampled_from(["ineligible", "pending", "priority +3", "priority -2"]),
                                st.lists(facts, max_size=2).map(tuple), text), max_size=2).map(tuple)
    return st.builds(
        Decision, client_id=text, course_code=text, outcome=outcomes,
        reasons=st.lists(reasons, max_size=4).map(tuple), priority=st.integers(-(2**31), 2**31 - 1),
        ruleset_version=text, as_of=st.dates(), trace=traces if trace else st.just(()),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(decisions(trace=True), max_size=4), text, text, st.dates())
def test_response_matches_generated_code(ds, request_id, version, as_of):
    result = CheckResult(request_id, version, as_of, tuple(ds))
    fast = eligibility_pb2.CheckEligibilityResponse.FromString(Encoder().response(result))
    assert fast == codec.response_pb(result)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.lists(decisions(), max_size=3), st.just(None)), min_size=1, max_size=5))
def test_stream_response_matches_generated_code(items):
    requests, results = [], []
    for i, ds in enumerate(items):
        requests.append(eligibility_pb2.CheckEligibilityRequest(request_id=f"r{i}"))
        if ds is None:
            results.append(ServiceError("NOT_FOUND", "no course", [("course_code", "unknown")]))
        else:
            results.append(CheckResult(f"r{i}", "v", date(2019, 6, 1), tuple(ds)))
    encoder = Encoder()
    for _ in range(2):  # second time from the caches
        fast = eligibility_pb2.CheckEligibilityStreamResponse.FromString(encoder.stream_response(requests, results))
        assert fast == codec.stream_response_pb(requests, results)


def test_shared_reason_is_encoded_once():
    r = Reason("a", "s", Outcome.ELIGIBLE, "id", "en", (), "src", priority=10)
    encoder = Encoder()
    assert encoder.reason(r) is encoder.reason(r)


def test_varint():
    assert varint(0) == b"\x00" and varint(300) == b"\xac\x02"
    assert varint(-1) == b"\xff" * 9 + b"\x01"
