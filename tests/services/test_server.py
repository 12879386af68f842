"""Every RPC against the real server (a subprocess on a free loopback port), good and bad requests."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid

import grpc
import pytest

from bekal.client import BekalError, Check, Outcome
from bekal.client.convert import client_message
from bekal.v1 import eligibility_pb2, eligibility_pb2_grpc, rules_pb2, rules_pb2_grpc
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import eligible_client, pb_date
from tests.support.servers import rpc_failure


@pytest.fixture(scope="module")
def api(server):
    with server.connect(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def channel(server):
    with server.channel() as ch:
        yield ch


@pytest.fixture(scope="module")
def author(server):
    """A rule author's connection: validating and reloading rules is theirs."""
    with server.connect(as_="rule-author", timeout=30) as client:
        yield client


def test_health_is_serving_for_every_service(api):
    assert api.health() == "SERVING"
    for service in ("bekal.v1.EligibilityService", "bekal.v1.RulesService", "bekal.v1.MatchingService",
                    "bekal.v1.AuditService", "bekal.v1.CatalogService", "google.longrunning.Operations"):
        assert api.health(service) == "SERVING", service


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection_lists_and_describes_the_services_in_both_versions(channel, version):
    """v1 is what grpcurl and buf curl ask first; grpcio-reflection serves only v1alpha by itself."""
    from grpc_reflection.v1alpha import reflection_pb2

    call = channel.stream_stream(f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                                 request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    listed, described = call(iter([
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="bekal.v1.CheckEligibilityRequest"),
    ]), timeout=10)
    services = {s.name for s in listed.list_services_response.service}
    assert {"bekal.v1.EligibilityService", "bekal.v1.RulesService", "bekal.v1.MatchingService",
            "bekal.v1.AuditService", "bekal.v1.CatalogService", "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} <= services
    from google.protobuf import descriptor_pb2
    files = [descriptor_pb2.FileDescriptorProto.FromString(b)
             for b in described.file_descriptor_response.file_descriptor_proto]
    assert "bekal/v1/eligibility.proto" in {f.name for f in files}


# ------------------------------------------------------------------------------ EligibilityService


def test_one_spelling_per_value_on_the_wire(channel):
    """Enum facts by their proto names, dates as google.type.Date, a decimal fact always a double (the test
    catalogue writes LAS-01's pass mark as the integer 60), texts in a list of locales."""
    stub = eligibility_pb2_grpc.EligibilityServiceStub(channel)
    res = stub.CheckEligibility(eligibility_pb2.CheckEligibilityRequest(
        request_id=f"wire-{uuid.uuid4()}", client=client_message(eligible_client()), course_code="LAS-01",
        as_of_date=pb_date(AS_OF), audience=eligibility_pb2.AUDIENCE_BNN, explain=True), timeout=10)
    assert res.as_of_date == pb_date(AS_OF) and res.decisions[0].as_of_date == pb_date(AS_OF)
    facts = {f.name: f for d in res.decisions for step in d.trace for f in step.facts}
    facts.update({f.name: f for d in res.decisions for r in d.reasons for f in r.facts})
    assert facts["client.referrer"].WhichOneof("value") == "enum_value"
    assert facts["client.referrer"].enum_value == "REFERRER_BNN"
    assert facts["course.min_written_score"].WhichOneof("value") == "double_value"
    assert facts["course.min_written_score"].double_value == 60.0
    reason = res.decisions[0].reasons[0]
    assert [m.locale for m in reason.messages] == ["id", "en"] and all(m.text for m in reason.messages)


def test_check_one_course(api):
    result = api.check(eligible_client(), "LAS-01", as_of=AS_OF, audience="bnn")
    d = result.decision
    assert d.outcome is Outcome.ELIGIBLE and d.priority == 10
    assert d.reasons[0].rule_id == "bnn-referral" and d.reasons[0].indonesian and d.reasons[0].english
    assert d.reasons[0].facts[0].name == "client.referrer" and d.reasons[0].facts[0].value == "bnn"
    assert d.reasons[0].source == "interpretation of tests (not a quote): Klien BNN diprioritaskan"
    assert result.ruleset_version.startswith("sha256:") and d.ruleset_version == result.ruleset_version
    assert str(result.as_of) == AS_OF


def test_check_all_offered_courses(api):
    result = api.check(eligible_client(written_test_score=50), as_of=AS_OF, audience="bnn")
    outcomes = {d.course_code: d.outcome for d in result.decisions}
    assert outcomes == {"JHT-01": Outcome.ELIGIBLE, "LAS-01": Outcome.INELIGIBLE}


def test_pending_names_missing_fact(api):
    d = api.check(eligible_client(written_test_score=None), "LAS-01", as_of=AS_OF, audience="bnn").decision
    assert d.outcome is Outcome.PENDING
    assert d.missing == ("client.written_test_score",)


def test_training_centre_view(api, server):
    outpatient = eligible_client(rehab_stage="outpatient")
    bnn = api.check(outpatient, "JHT-01", as_of=AS_OF, explain=True).decision
    assert "rehab-not-finished" in [r.rule_id for r in bnn.reasons] and bnn.trace
    preview = api.check(outpatient, "JHT-01", as_of=AS_OF, audience="blk", explain=True).decision
    with server.connect(as_="blk-kalsel", timeout=10) as blk_api:
        blk = blk_api.check(outpatient, "JHT-01", as_of=AS_OF, explain=True).decision
        assert (blk.outcome, blk.reasons, blk.trace, blk.priority) == (Outcome.WITHHELD, (), (), 0)
        assert preview == blk  # a BNN office previews exactly what the training centre sees
        low = blk_api.check(eligible_client(written_test_score=10), "LAS-01", as_of=AS_OF).decision
        assert low.outcome is Outcome.INELIGIBLE and [r.rule_id for r in low.reasons if r.outcome is Outcome.INELIGIBLE]


def test_only_a_bnn_office_gets_the_bnn_view(server):
    """Identity is proven: what a request declares changes nothing a certificate should decide."""
    for agency in ("blk-kalsel", None):
        with server.connect(as_=agency, timeout=10) as other, pytest.raises(BekalError) as err:
            other.check(eligible_client(), "JHT-01", as_of=AS_OF, audience="bnn")
        if agency is None:  # without a certificate the mutual-TLS server does not even talk
            assert err.value.code == "UNAVAILABLE"
        else:
            assert err.value.code == "PERMISSION_DENIED" and "audience" in err.value.fields


def test_explain_trace(api):
    d = api.check(eligible_client(), "LAS-01", as_of=AS_OF, audience="bnn", explain=True).decision
    assert {t.rule_id for t in d.trace} == {"min-age-18", "rehab-not-finished", "written-test", "bnn-referral"}
    assert all(t.location.endswith(tuple("0123456789")) for t in d.trace)


def test_stream_answers_every_check_in_order(api):
    checks = [Check(eligible_client(id=f"C-{i}"), "LAS-01" if i % 3 else None, request_id=f"s-{uuid.uuid4()}")
              for i in range(450)]
    checks[7] = Check(eligible_client(id=""), "LAS-01")
    checks[8] = Check(eligible_client(id="C-8"), "NOPE-1")
    results = list(api.check_many(checks, as_of=AS_OF, audience="bnn", batch_size=100))
    assert len(results) == 450
    assert results[7].error is not None and results[7].error.code == "INVALID_ARGUMENT"
    assert "client.id" in results[7].error.fields
    assert results[8].error is not None and results[8].error.code == "NOT_FOUND"
    for i, r in enumerate(results):
        if i in (7, 8):
            continue
        assert r.ok and r.request_id == checks[i].request_id
        assert {d.client_id for d in r.decisions} == {f"C-{i}"}
        assert len(r.decisions) == (1 if i % 3 else 2)


def test_stream_with_too_many_checks_in_one_message(channel):
    stub = eligibility_pb2_grpc.EligibilityServiceStub(channel)
    check = eligibility_pb2.CheckEligibilityRequest(request_id="x", client=client_message(eligible_client()))
    big = eligibility_pb2.CheckEligibilityStreamRequest(checks=[check] * 10_001)
    with pytest.raises(grpc.RpcError) as info:
        list(stub.CheckEligibilityStream(iter([big]), timeout=30))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "checks" in info.value.details()


def test_same_request_id_is_logged_once(api, server):
    rid = f"retry-{uuid.uuid4()}"
    first = api.check(eligible_client(), None, as_of=AS_OF, audience="bnn", request_id=rid)
    second = api.check(eligible_client(), None, as_of=AS_OF, audience="bnn", request_id=rid)
    assert first == second
    with sqlite3.connect(server.db) as db:
        rows = db.execute("SELECT client_id, ruleset_version, as_of, summary FROM request WHERE request_id = ?",
                          (rid,)).fetchall()
    assert rows == [("BNNK-BJB-2019-0001", first.ruleset_version, AS_OF,
                     "JHT-01 ELIGIBLE 10 priority/bnn-referral\nLAS-01 ELIGIBLE 10 priority/bnn-referral")]
    with pytest.raises(BekalError) as err:
        api.check(eligible_client(written_test_score=1), None, as_of=AS_OF, audience="bnn", request_id=rid)
    assert err.value.code == "INVALID_ARGUMENT" and "request_id" in err.value.fields


def test_log_and_db_hold_no_personal_facts(api, server):
    api.check(eligible_client(birth_date="1987-11-23", domicile="Martapura"), "LAS-01", as_of=AS_OF, audience="bnn")
    wal = server.db.parent / "bekal.db-wal"
    dump = server.db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"1987-11-23" not in dump and b"Martapura" not in dump
    assert "1987-11-23" not in server.log() and "Martapura" not in server.log()


# ------------------------------------------------------------------------------ bad requests


@pytest.mark.parametrize(
    "kwargs, code, field",
    [
        (dict(request_id=""), grpc.StatusCode.INVALID_ARGUMENT, "request_id"),
        (dict(client=eligible_client(id="")), grpc.StatusCode.INVALID_ARGUMENT, "client.id"),
        (dict(client=eligible_client(birth_date=pb_date("2019-02-30"))), grpc.StatusCode.INVALID_ARGUMENT,
         "client.birth_date"),
        (dict(client=eligible_client(id="Budi Santoso")), grpc.StatusCode.INVALID_ARGUMENT, "client.id"),
        (dict(client=eligible_client(rehab_completed_date=pb_date("2019-00-03"))),
         grpc.StatusCode.INVALID_ARGUMENT, "client.rehab_completed_date"),
        (dict(as_of_date=pb_date("2019-06-31")), grpc.StatusCode.INVALID_ARGUMENT, "as_of_date"),
        (dict(as_of_date=pb_date("2001-01-01")), grpc.StatusCode.FAILED_PRECONDITION,
         "as_of_date"),  # rules not in force
        (dict(course_code="NOPE-01"), grpc.StatusCode.NOT_FOUND, "course_code"),
        (dict(client=eligible_client(domicile="x" * 300)), grpc.StatusCode.INVALID_ARGUMENT, "client.domicile"),
    ],
)
def test_bad_request_gets_status_and_field(channel, kwargs, code, field):
    stub = eligibility_pb2_grpc.EligibilityServiceStub(channel)
    client = kwargs.pop("client", eligible_client())
    request = eligibility_pb2.CheckEligibilityRequest(
        request_id=kwargs.pop("request_id", f"bad-{uuid.uuid4()}"), client=client_message(client),
        as_of_date=kwargs.pop("as_of_date", pb_date(AS_OF)),
        audience=kwargs.pop("audience", eligibility_pb2.AUDIENCE_BNN),
        **kwargs,
    )
    got, violations, status = rpc_failure(stub.CheckEligibility, request)
    assert got == code
    assert field in violations, (status.message, violations)
    assert "Traceback" not in status.message


def test_missing_client_message(channel):
    stub = eligibility_pb2_grpc.EligibilityServiceStub(channel)
    code, violations, _ = rpc_failure(stub.CheckEligibility, eligibility_pb2.CheckEligibilityRequest(request_id="r"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations == {"client": "required"}


def test_oversized_message_is_resource_exhausted(channel):
    stub = eligibility_pb2_grpc.EligibilityServiceStub(channel)
    request = eligibility_pb2.CheckEligibilityRequest(
        request_id="big", client=client_message(eligible_client(domicile="x" * (5 * 1024 * 1024))))
    with pytest.raises(grpc.RpcError) as info:
        stub.CheckEligibility(request, timeout=10)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


# ------------------------------------------------------------------------------ RulesService


def test_list_and_get_rulesets(api):
    listing = api.list_rulesets()
    assert [r.name for r in listing.rulesets] == ["eligibility", "priority"]
    assert listing.rulesets[0].file == "eligibility.rules.yaml"
    assert listing.rulesets[0].rule_ids == ("min-age-18", "rehab-not-finished", "written-test")
    assert str(listing.rulesets[0].effective_from_date) == "2016-01-01"
    assert listing.course_codes == ("JHT-01", "LAS-01", "OLD-01")
    got = api.get_ruleset("priority")
    assert got.version == listing.version and "bnn-referral" in got.source
    with pytest.raises(BekalError) as err:
        api.get_ruleset("nope")
    assert err.value.code == "NOT_FOUND" and "name" in err.value.fields


def test_validate_rules_is_a_dry_run(api, author, server):
    before = api.list_rulesets().version
    broken = "ruleset: e\nrules:\n  - id: a\n    when: client.agee > 1\n"
    bad = author.validate_rules({"eligibility.rules.yaml": broken}, overlay=True)
    assert not bad.valid and bad.diagnostics
    d = bad.diagnostics[0]
    assert d.file == "eligibility.rules.yaml" and d.line >= 1 and d.col >= 1
    # the same problems `bekal rules check` prints for the same file
    path = server.tmp / "check-me" / "eligibility.rules.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("ruleset: e\nrules:\n  - id: a\n    when: client.agee > 1\n")
    cli = subprocess.run([sys.executable, "-c", "from bekal.cli import main; main()", "rules", "check",
                          str(path.parent)], capture_output=True, text=True)
    assert cli.returncode == 1
    for diag in bad.diagnostics:
        assert f":{diag.line}:{diag.col}: {diag.message}" in cli.stderr + cli.stdout
    good = author.validate_rules({"priority.rules.yaml": api.get_ruleset("priority").source.replace("+10", "+15")},
                              overlay=True)
    assert good.valid and good.version not in (None, before)
    assert api.list_rulesets().version == before  # nothing changed


def test_validate_rules_bad_paths(author):
    with pytest.raises(BekalError) as err:
        author.validate_rules({"../etc/x.yaml": "", "notes.txt": ""})
    assert err.value.code == "INVALID_ARGUMENT"
    assert set(err.value.fields) == {"files[0].path", "files[1].path"}


def test_reload_rules_without_changes(api, author):
    reload = author.reload_rules()
    assert not reload.changed and reload.version == reload.previous_version == api.list_rulesets().version


def test_rules_rpcs_raw(channel):
    """The raw stubs, for callers in other languages: every field the docs promise."""
    stub = rules_pb2_grpc.RulesServiceStub(channel)
    listing = stub.ListRulesets(rules_pb2.ListRulesetsRequest(), timeout=10)
    assert listing.rulesets[1].rule_count == 1
    code, violations, _ = rpc_failure(stub.GetRuleset, rules_pb2.GetRulesetRequest())
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "name" in violations


def test_health_watch_streams_the_status(channel):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub = health_pb2_grpc.HealthStub(channel)
    watch = stub.Watch(health_pb2.HealthCheckRequest(service="bekal.v1.EligibilityService"), timeout=10)
    first = next(watch)
    watch.cancel()
    assert first.status == health_pb2.HealthCheckResponse.SERVING


def test_port_in_use_is_a_clear_error(server, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from bekal.cli import main; main()", "serve", "--listen", server.address,
         "--rules", str(server.rules), "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "Traceback" not in result.stderr
