"""Fuzzing request handling: any message, any bytes, never INTERNAL or UNKNOWN, never a crash.

Two layers, the house way: the codecs that read requests, on many generated messages
without a network (every outcome is a domain value or a :class:`ServiceError` the
caller can act on); then the real server over mutual TLS, on generated messages and on
raw bytes for every RPC, with health answering afterwards.
"""

from __future__ import annotations

import grpc
import pytest
from google.longrunning import operations_proto_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bekal.services.eligibility import codec as eligibility_codec
from bekal.services.errors import ServiceError
from bekal.services.matching import codec as matching_codec
from bekal.v1 import audit_pb2, catalog_pb2, eligibility_pb2, matching_pb2, replay_pb2, rules_pb2
from tests.support.messages import messages

BUGS = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
SERVICES = [eligibility_pb2.DESCRIPTOR.services_by_name["EligibilityService"],
            matching_pb2.DESCRIPTOR.services_by_name["MatchingService"],
            rules_pb2.DESCRIPTOR.services_by_name["RulesService"],
            audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
            replay_pb2.DESCRIPTOR.services_by_name["ReplayService"],
            catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"],
            operations_proto_pb2.DESCRIPTOR.services_by_name["Operations"]]
METHODS = {f"/{s.full_name}/{m.name}": m for s in SERVICES for m in s.methods}
AGENCY = {"ValidateRules": "rule-author", "ReloadRules": "rule-author", "ListAuditEvents": "auditor",
          "ListDecisions": "auditor", "ReplayDecision": "auditor", "ReplayMatchJob": "auditor",
          "EraseClientFacts": "auditor"}  # the rest: a BNN office (the most seen)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


# ---------------------------------------------------------------------------------------- codecs


@settings(max_examples=300, deadline=None)
@given(messages(eligibility_pb2.CheckEligibilityRequest.DESCRIPTOR))
def test_any_check_request_reads_or_is_refused_field_by_field(request):
    try:
        check = eligibility_codec.parse_check(request)
    except ServiceError as err:
        assert err.code == "INVALID_ARGUMENT" and err.violations and all(f for f, _ in err.violations)
    else:
        assert check.request_id == request.request_id


@settings(max_examples=200, deadline=None)
@given(messages(eligibility_pb2.CheckEligibilityStreamRequest.DESCRIPTOR))
def test_any_stream_batch_reads_item_by_item(batch):
    items = eligibility_codec.parse_stream_request(batch)
    assert len(items) == len(batch.checks)
    assert all(i.code == "INVALID_ARGUMENT" for i in items if isinstance(i, ServiceError))


@settings(max_examples=300, deadline=None)
@given(messages(matching_pb2.MatchRequest.DESCRIPTOR))
def test_any_match_request_reads_or_is_refused_field_by_field(request):
    try:
        matching_codec.match_request(request)
    except ServiceError as err:
        assert err.code == "INVALID_ARGUMENT" and err.violations


@settings(max_examples=200, deadline=None)
@given(st.lists(messages(matching_pb2.UploadCohortRequest.DESCRIPTOR), max_size=4))
def test_any_upload_reads_or_is_refused_field_by_field(parts):
    reader = matching_codec.UploadReader()
    try:
        for part in parts:
            reader.add(part)
        reader.finish()
    except ServiceError as err:
        assert err.code == "INVALID_ARGUMENT" and err.violations


# ---------------------------------------------------------------------------------------- the server


def _stub(channel: grpc.Channel, method: str, serialize=lambda m: m.SerializeToString()):
    d = METHODS[method]
    kinds = {(False, False): channel.unary_unary, (False, True): channel.unary_stream,
             (True, False): channel.stream_unary, (True, True): channel.stream_stream}
    return kinds[(d.client_streaming, d.server_streaming)](
        method, request_serializer=serialize, response_deserializer=lambda b: b)


def _code(channel: grpc.Channel, method: str, requests: list, serialize=lambda m: m.SerializeToString()):
    d = METHODS[method]
    stub = _stub(channel, method, serialize)
    try:
        result = stub(iter(requests) if d.client_streaming else requests[0], timeout=30)
        if d.server_streaming:
            list(result)
    except grpc.RpcError as exc:
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


@pytest.fixture(scope="module")
def channels(server):
    opened = {name: server.channel(as_=name) for name in {"bnnk-banjarbaru", *AGENCY.values()}}
    yield opened
    for ch in opened.values():
        ch.close()


def _channel(channels, method: str) -> grpc.Channel:
    return channels[AGENCY.get(method.rsplit("/", 1)[-1], "bnnk-banjarbaru")]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_any_message_to_the_server_gets_a_status_a_caller_can_act_on(server, channels, method):
    d = METHODS[method]

    @FUZZ
    @given(st.lists(messages(d.input_type), min_size=1, max_size=3))
    def run(requests):
        code, details = _code(_channel(channels, method), method, requests)
        assert code not in BUGS, (code, details, requests)

    run()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_any_bytes_to_the_server_are_invalid_argument_not_a_crash(server, channels, method):
    @FUZZ
    @given(st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=3))
    def run(blobs):
        code, details = _code(_channel(channels, method), method, blobs, serialize=lambda b: b)
        assert code not in BUGS, (code, details, blobs)

    run()


def test_the_server_still_answers_after_the_fuzzing(server):
    with server.connect(timeout=10) as client:
        assert client.health() == "SERVING"
    assert "Traceback" not in server.log()
