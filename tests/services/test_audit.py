"""The AuditService: the decision log and the audit trail for auditors, a BNN office's own checks for it.

Logic first (paging, filters, tokens, who reads what), then the real server: calls --
refused ones too -- show up in the trail with who made them and about which client,
never with facts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import code_pb2

from bekal.access import ANONYMOUS, Principal, Role
from bekal.client import BekalError
from bekal.services.audit.logic import Audit, DecisionQuery, EventQuery
from bekal.services.errors import ServiceError
from bekal.store import AuditEvent, open_stores
from bekal.store.decisionlog import LoggedRequest
from bekal.v1 import audit_pb2, audit_pb2_grpc
from tests.support.people import INTAKE_DATE, eligible_client
from tests.support.servers import rpc_failure

AUDITOR = Principal("auditor", Role.AUDITOR)
BNN = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")
BLK = Principal("blk-kalsel", Role.TRAINING_PROVIDER, provider="BLK Provinsi Kalsel")


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[Audit]:
    stores = open_stores(tmp_path / "b.db")
    for i in range(12):
        caller = "blk-kalsel" if i % 3 == 0 else "bnnk-banjarbaru"
        stores.decisions.record([LoggedRequest(f"r{i:02d}", f"fp{i}", f"C-{i % 2}", "bnn", "v1", "2019-06-01",
                                               "K-1 INELIGIBLE 0 eligibility/rehab-not-finished", caller=caller)])
        stores.audit.record(AuditEvent.now(caller, "referrer", "/bekal.v1.EligibilityService/CheckEligibility",
                                           (f"C-{i % 2}",)))
    stores.audit.flush()  # type: ignore[attr-defined]
    yield Audit(stores.decisions, stores.audit)
    stores.close()


def every_page(fetch, query_type, **filters):
    items, token, pages = [], "", 0
    while True:
        page = fetch(query_type(page_size=5, page_token=token, **filters))
        items += list(page.items)
        pages += 1
        token = page.next_page_token
        if not token:
            return items, pages


def test_an_auditor_pages_through_every_decision_and_event(audit: Audit):
    decisions, pages = every_page(lambda q: audit.decisions(q, AUDITOR), DecisionQuery)
    assert [d.request_id for d in decisions] == [f"r{i:02d}" for i in range(12)] and pages == 3
    events, _ = every_page(lambda q: audit.events(q, AUDITOR), EventQuery)
    assert [seq for seq, _ in events] == sorted(seq for seq, _ in events) and len(events) == 12
    about, _ = every_page(lambda q: audit.events(q, AUDITOR), EventQuery, subject="C-1")
    assert len(about) == 6 and all(e.subjects == ("C-1",) for _, e in about)


def test_a_bnn_office_reads_only_its_own_checks(audit: Audit):
    own, _ = every_page(lambda q: audit.decisions(q, BNN), DecisionQuery)
    assert own and {d.caller for d in own} == {"bnnk-banjarbaru"}
    asked_for_more, _ = every_page(lambda q: audit.decisions(q, BNN), DecisionQuery, caller="blk-kalsel")
    assert asked_for_more == own  # the filter cannot widen what it sees
    for who in (BLK, ANONYMOUS):
        with pytest.raises(ServiceError) as err:
            audit.decisions(DecisionQuery(), who)
        assert err.value.code == "PERMISSION_DENIED"
    with pytest.raises(ServiceError):
        audit.events(EventQuery(), BNN)


def test_page_tokens_are_checked(audit: Audit):
    first = audit.decisions(DecisionQuery(page_size=5), AUDITOR)
    for token, query in ((first.next_page_token, DecisionQuery(page_token=first.next_page_token, client_id="C-1")),
                         ("garbage!", DecisionQuery(page_token="garbage!")),
                         ("e30", DecisionQuery(page_token="e30"))):  # "{}"
        with pytest.raises(ServiceError) as err:
            audit.decisions(query, AUDITOR)
        assert err.value.code == "INVALID_ARGUMENT" and err.value.violations[0][0] == "page_token", token
    with pytest.raises(ServiceError) as err:
        audit.decisions(DecisionQuery(page_size=-1), AUDITOR)
    assert err.value.violations[0][0] == "page_size"
    assert len(audit.decisions(DecisionQuery(page_size=10_000), AUDITOR).items) == 12


def _events(channel: grpc.Channel, **filters) -> list[audit_pb2.AuditEvent]:
    stub = audit_pb2_grpc.AuditServiceStub(channel)
    out, token = [], ""
    while True:
        page = stub.ListAuditEvents(audit_pb2.ListAuditEventsRequest(page_size=500, page_token=token, **filters),
                                    timeout=10)
        out += list(page.events)
        token = page.next_page_token
        if not token:
            return out


def test_the_server_audits_every_call_refused_ones_too(server):
    client = eligible_client(id="BNNK-BJB-2019-0099")
    with server.connect(timeout=10) as bnn:
        bnn.check(client, "JHT-01", as_of=INTAKE_DATE, request_id="audited-1")
    with server.connect(as_="blk-kalsel", timeout=10) as blk, pytest.raises(BekalError):
        blk.check(client, "JHT-01", as_of=INTAKE_DATE, audience="bnn")
    with server.channel(as_="auditor") as channel:
        deadline = time.monotonic() + 10
        while True:  # the trail is written in the background, within about 50 ms
            about = _events(channel, subject="BNNK-BJB-2019-0099")
            if len(about) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        calls = {(e.principal, audit_pb2.Role.Name(e.role), e.method.rsplit("/", 1)[-1], code_pb2.Code.Name(e.code))
                 for e in about}
        assert ("bnnk-banjarbaru", "ROLE_REFERRER", "CheckEligibility", "OK") in calls
        assert ("blk-kalsel", "ROLE_TRAINING_PROVIDER", "CheckEligibility", "PERMISSION_DENIED") in calls
        stub = audit_pb2_grpc.AuditServiceStub(channel)
        logged = stub.ListDecisions(audit_pb2.ListDecisionsRequest(client_id="BNNK-BJB-2019-0099"), timeout=10)
        assert [(e.request_id, e.caller) for e in logged.entries] == [("audited-1", "bnnk-banjarbaru")]
        assert logged.entries[0].decisions[0].course_code == "JHT-01"
    with server.channel() as channel:  # a BNN office: its own checks, not the trail
        own = audit_pb2_grpc.AuditServiceStub(channel).ListDecisions(audit_pb2.ListDecisionsRequest(), timeout=10)
        assert own.entries and {e.caller for e in own.entries} == {"bnnk-banjarbaru"}
        code, _, _ = rpc_failure(audit_pb2_grpc.AuditServiceStub(channel).ListAuditEvents,
                                 audit_pb2.ListAuditEventsRequest())
        assert code == grpc.StatusCode.PERMISSION_DENIED
    files = [server.db, server.db.with_name(server.db.name + "-wal")]
    stored = b"".join(f.read_bytes() for f in files if f.exists())
    assert b"BNNK-BJB-2019-0099" in stored and b"1994-03-01" not in stored  # ids, never facts


def test_bekal_audit_prints_json_lines_for_an_auditor_and_refuses_others(server):
    import json

    from tests.support.cli import bekal

    with server.connect(timeout=10) as bnn:
        bnn.check(eligible_client(id="BNNK-BJB-2019-0123"), "JHT-01", as_of=INTAKE_DATE, request_id="cli-audit")
    done = bekal("audit", "decisions", *server.cli_args(as_="auditor"), "--client-id", "BNNK-BJB-2019-0123")
    assert done.code == 0, done.err
    [entry] = [json.loads(line) for line in done.out.splitlines()]
    assert (entry["request_id"], entry["caller"], entry["decisions"][0]["course_code"]) == (
        "cli-audit", "bnnk-banjarbaru", "JHT-01")
    refused = bekal("audit", "events", *server.cli_args(as_="blk-kalsel"))
    assert refused.code == 1 and "PERMISSION_DENIED" in refused.err
