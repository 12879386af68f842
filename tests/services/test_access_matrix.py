"""Every role against every RPC, over mutual TLS with certificates made for the test run.

The matrix is read from the service descriptors, not written out: an RPC added to a
proto and not to :data:`bekal.access.POLICY` is denied to everyone, and this test
fails until the policy names who may call it. Callers:

- each development agency (``bekal.certs.DEV_AGENCIES``: referrer, training provider,
  rule author, auditor, operator), identified by its certificate;
- a caller without a certificate on a plaintext loopback server (``public``);
- a certificate the server's CA signed but the identities file does not name
  (UNAUTHENTICATED on every RPC), and one from a stranger's CA (no connection at all).
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from google.longrunning import operations_proto_pb2

from bekal.access import POLICY, Role
from bekal.certs import DEV_AGENCIES, issue, make_ca
from bekal.v1 import audit_pb2, catalog_pb2, eligibility_pb2, matching_pb2, monitoring_pb2, replay_pb2, rules_pb2
from tests.support.servers import dev_certs

SERVICES = [eligibility_pb2.DESCRIPTOR.services_by_name["EligibilityService"],
            matching_pb2.DESCRIPTOR.services_by_name["MatchingService"],
            rules_pb2.DESCRIPTOR.services_by_name["RulesService"],
            audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
            replay_pb2.DESCRIPTOR.services_by_name["ReplayService"],
            catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"],
            operations_proto_pb2.DESCRIPTOR.services_by_name["Operations"],
            monitoring_pb2.DESCRIPTOR.services_by_name["MonitoringService"]]
METHODS = [(f"/{service.full_name}/{m.name}", m) for service in SERVICES for m in service.methods]
ROLE_OF = {a.name: Role(a.role) for a in DEV_AGENCIES}

# The matrix, written out as the specification (issue 8): who may call what. R referrer (a BNN
# office), T training provider (a BLK), A rule author, U auditor, O operator, P public (no certificate).
_LETTERS = {"R": Role.REFERRER, "T": Role.TRAINING_PROVIDER, "A": Role.RULE_AUTHOR, "U": Role.AUDITOR,
            "O": Role.OPERATOR, "P": Role.PUBLIC}
MATRIX = {
    "/bekal.v1.EligibilityService/CheckEligibility": "RTP",
    "/bekal.v1.EligibilityService/CheckEligibilityStream": "RTP",
    "/bekal.v1.MatchingService/Match": "RTP",
    "/bekal.v1.MatchingService/UploadCohort": "RT",
    "/bekal.v1.MatchingService/GetMatchJob": "RT",
    "/bekal.v1.MatchingService/StreamPlacements": "RT",
    "/bekal.v1.RulesService/ListRulesets": "RTAUOP",
    "/bekal.v1.RulesService/GetRuleset": "RTAUOP",
    "/bekal.v1.RulesService/ValidateRules": "A",
    "/bekal.v1.RulesService/ReloadRules": "A",
    "/bekal.v1.AuditService/ListDecisions": "RU",  # a BNN office: the entries of its own checks
    "/bekal.v1.AuditService/ListAuditEvents": "U",
    "/bekal.v1.ReplayService/ReplayDecision": "RU",  # a BNN office: its own checks
    "/bekal.v1.ReplayService/EraseClientFacts": "RU",  # a BNN office: the facts of its own checks
    "/bekal.v1.ReplayService/ReplayMatchJob": "RTU",  # a job's creator, or an auditor
    "/bekal.v1.CatalogService/ListCourses": "RTAUOP",
    "/bekal.v1.CatalogService/GetCourse": "RTAUOP",
    "/google.longrunning.Operations/GetOperation": "RT",
    "/google.longrunning.Operations/WaitOperation": "RT",
    "/google.longrunning.Operations/ListOperations": "RT",
    "/google.longrunning.Operations/DeleteOperation": "RT",
    "/google.longrunning.Operations/CancelOperation": "RT",
    # issue 13: monitoring after placement; alerts go to the referring BNN office only
    "/bekal.v1.MonitoringService/CreateEnrolments": "R",
    "/bekal.v1.MonitoringService/EndEnrolment": "RT",
    "/bekal.v1.MonitoringService/ListEnrolments": "RTU",
    "/bekal.v1.MonitoringService/GetEnrolmentRecord": "RTU",
    "/bekal.v1.MonitoringService/RecordTraining": "RT",
    "/bekal.v1.MonitoringService/ListAlerts": "RU",
    "/bekal.v1.MonitoringService/AcknowledgeAlert": "R",
    "/bekal.v1.MonitoringService/WatchAlerts": "R",
}


def allowed(method: str) -> set[Role]:
    return {_LETTERS[c] for c in MATRIX[method]}


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def call(channel: grpc.Channel, method: str, descriptor) -> grpc.StatusCode:
    """Call ``method`` with an empty request (an empty stream for client streams); its status code."""
    from google.protobuf import message_factory

    request = message_factory.GetMessageClass(descriptor.input_type)()
    kinds = {(False, False): channel.unary_unary, (False, True): channel.unary_stream,
             (True, False): channel.stream_unary, (True, True): channel.stream_stream}
    stub = kinds[(descriptor.client_streaming, descriptor.server_streaming)](
        method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=lambda b: b)
    try:
        result = stub(iter(()) if descriptor.client_streaming else request, timeout=20)
        if descriptor.server_streaming:
            list(result)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_the_policy_is_the_matrix_and_covers_every_rpc():
    assert {m for m, _ in METHODS} == set(MATRIX), "a new RPC needs its row in MATRIX (and in POLICY)"
    assert {m: set(POLICY.get(m, ())) for m in MATRIX} == {m: allowed(m) for m in MATRIX}


@pytest.mark.parametrize("agency", [a.name for a in DEV_AGENCIES])
def test_each_role_calls_what_the_policy_allows_it_and_nothing_else(server, agency):
    role = ROLE_OF[agency]
    with server.channel(as_=agency) as channel:
        got = {method: call(channel, method, d) for method, d in METHODS}
    denied = {m for m, code in got.items() if code == grpc.StatusCode.PERMISSION_DENIED}
    assert denied == {m for m, _ in METHODS if role not in allowed(m)}, got
    assert grpc.StatusCode.UNAUTHENTICATED not in got.values()
    assert not {m: c for m, c in got.items() if c in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)}


def test_a_caller_without_a_certificate_is_public_on_plain_loopback(start_server, rules_dir):
    plain = start_server(rules_dir, security="plain")
    with plain.channel(as_=None) as channel:
        got = {method: call(channel, method, d) for method, d in METHODS}
    denied = {m for m, code in got.items() if code == grpc.StatusCode.PERMISSION_DENIED}
    assert denied == {m for m, _ in METHODS if Role.PUBLIC not in allowed(m)}, got


def test_unauthenticated_callers_can_be_refused(start_server, rules_dir, tmp_path: Path):
    identities = tmp_path / "identities.toml"
    identities.write_text('unauthenticated = "refuse"\n', encoding="utf-8")
    plain = start_server(rules_dir, "--identities", str(identities), security="plain", wait="listening")
    with plain.channel(as_=None) as channel:
        got = {method: call(channel, method, d) for method, d in METHODS}
    assert set(got.values()) == {grpc.StatusCode.UNAUTHENTICATED}, got


def test_a_certificate_nobody_named_is_unauthenticated_and_a_strangers_is_not_even_heard(server):
    certs = dev_certs()
    ca_key = serialization.load_pem_private_key((certs.directory / "ca.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    key, cert = issue(ca_key, ca_cert, "someone-else", server=False)  # our CA, not in the identities file
    unnamed = grpc.ssl_channel_credentials(certs.ca.read_bytes(), _pem(key),
                                           cert.public_bytes(serialization.Encoding.PEM))
    with grpc.secure_channel(server.address, unnamed) as channel:
        got = {method: call(channel, method, d) for method, d in METHODS}
    assert set(got.values()) == {grpc.StatusCode.UNAUTHENTICATED}, got

    stranger_ca_key, stranger_ca = make_ca("a stranger's CA")
    key, cert = issue(stranger_ca_key, stranger_ca, "bnnk-banjarbaru", server=False)  # a name we trust, forged
    forged = grpc.ssl_channel_credentials(certs.ca.read_bytes(), _pem(key),
                                          cert.public_bytes(serialization.Encoding.PEM))
    with grpc.secure_channel(server.address, forged) as channel:
        method, d = METHODS[0]
        assert call(channel, method, d) == grpc.StatusCode.UNAVAILABLE  # the handshake fails


def test_health_answers_everyone(server):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    for agency in [a.name for a in DEV_AGENCIES]:
        with server.channel(as_=agency) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
