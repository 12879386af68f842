"""Request checks in the protobuf layer: every bad field named."""

from __future__ import annotations

import pytest

from bekal.client.convert import client_message
from bekal.services.eligibility.codec import parse_check, parse_stream_request
from bekal.services.errors import ServiceError
from bekal.v1 import eligibility_pb2
from tests.support.people import eligible_client, pb_date


def request(**kw) -> eligibility_pb2.CheckEligibilityRequest:
    client = kw.pop("client", eligible_client())
    kw.setdefault("as_of_date", pb_date("2019-06-01"))
    return eligibility_pb2.CheckEligibilityRequest(
        request_id=kw.pop("request_id", "r1"), client=client_message(client), **kw)


def fields(req) -> dict[str, str]:
    with pytest.raises(ServiceError) as err:
        parse_check(req)
    assert err.value.code == "INVALID_ARGUMENT"
    return dict(err.value.violations)


def test_good_request():
    check = parse_check(request(course_code="LAS-01", audience=eligibility_pb2.AUDIENCE_BNN))
    assert check.client["rehab_stage"] == "post_rehabilitation"
    assert check.audience == "bnn" and check.course_code == "LAS-01"
    assert len(check.fingerprint) == 32


def test_unspecified_audience_is_left_to_the_callers_certificate():
    assert parse_check(request()).audience == ""  # the caller's own view (access.audience_for)


def test_all_bad_fields_at_once():
    client = eligible_client(id="", birth_date="2019-02-30")
    bad = fields(request(request_id="", client=client, as_of_date=pb_date("2019-13-01")))
    assert set(bad) == {"request_id", "client.id", "client.birth_date", "as_of_date"}
    bad = fields(request(client=eligible_client(birth_date="2019-02-30", rehab_completed_date=pb_date("2019-02-00"))))
    assert set(bad) == {"client.birth_date", "client.rehab_completed_date"}
    assert "2019-02-30" in bad["client.birth_date"]


def test_missing_client():
    req = eligibility_pb2.CheckEligibilityRequest(request_id="r")
    assert fields(req) == {"client": "required"}


def test_size_limits_name_the_field():
    bad = fields(request(request_id="x" * 200, client=eligible_client(domicile="y" * 1000, preferences=["A"] * 101)))
    assert set(bad) == {"request_id", "client.domicile", "client.preferences"}


def test_stream_items_fail_alone():
    stream = eligibility_pb2.CheckEligibilityStreamRequest(checks=[request(), request(request_id="")])
    good, bad = parse_stream_request(stream)
    assert good.request_id == "r1"
    assert isinstance(bad, ServiceError) and bad.violations[0][0] == "request_id"


def test_client_message_accepts_short_and_full_enum_names():
    assert client_message({"rehab_stage": "REHAB_STAGE_INPATIENT"}).rehab_stage == 2
    assert client_message({"rehab_stage": "inpatient"}).rehab_stage == 2
    with pytest.raises(ValueError, match="one of"):
        client_message({"rehab_stage": "in patient"})
    with pytest.raises(ValueError, match="unknown Client field 'birthdate' \\(did you mean 'birth_date'\\?\\)"):
        client_message({"birthdate": "2000-01-01"})
    # any other key is a fact the server's rules declare (their facts file): the server checks it
    declared = client_message({"dependants": 2, "driving_licence": True, "declared": {"height": 1.7}}).declared
    assert {k: v.WhichOneof("value") for k, v in declared.items()} == {
        "dependants": "int_value", "driving_licence": "bool_value", "height": "double_value"}
