"""ReplayService on the real server over mutual TLS: a BNN office's check, a rule change hot-reloaded,
`bekal replay` showing the same decision (and today's differences), erasure of one client through the
client and the CLI, a restart in between: the kept versions and sealed facts live in the database."""

from __future__ import annotations

import json
import time
from pathlib import Path

import grpc

from bekal.client import BekalError
from bekal.v1 import replay_pb2, replay_pb2_grpc
from tests.support.cli import bekal
from tests.support.people import INTAKE_DATE, eligible_client
from tests.support.servers import rpc_failure


def wait_for_version(client, old: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = client.list_rulesets().version
        if version and version != old:
            return str(version)
        time.sleep(0.1)
    raise AssertionError("the rule change was not loaded")


def test_replay_after_a_rule_change_and_erasure(start_server, rules_dir: Path, tmp_path: Path):
    server = start_server(rules_dir)
    with server.connect(timeout=20) as bnn:
        kept = bnn.check(eligible_client(id="CLIENT-A", written_test_score=72), "LAS-01", as_of=INTAKE_DATE,
                         request_id="bnn-a-1")
        other = bnn.check(eligible_client(id="CLIENT-B", written_test_score=72), "LAS-01", as_of=INTAKE_DATE,
                          request_id="bnn-b-1")
        assert kept.decision.outcome.value == other.decision.outcome.value == "ELIGIBLE"
        old = kept.decision.ruleset_version

        courses = rules_dir / "courses.yaml"  # the rule change: a higher pass mark, hot-reloaded
        courses.write_text(courses.read_text().replace("min_written_score: 60", "min_written_score: 75"))
        new = wait_for_version(bnn, old)
        now = bnn.check(eligible_client(id="CLIENT-A", written_test_score=72), "LAS-01", as_of=INTAKE_DATE,
                        request_id="bnn-a-2")
        assert now.decision.outcome.value == "INELIGIBLE"

        replay = bnn.replay_decision("bnn-a-1")
        assert replay.identical and replay.ruleset_version == old
        assert replay.decisions[0].replayed.outcome.value == "ELIGIBLE"
        assert replay.decisions[0].logged_rule_ids == ("priority/bnn-referral",)
        compared = bnn.replay_decision("bnn-a-1", current_rules=True)
        assert compared.current_ruleset_version == new and not compared.same_as_current
        assert compared.decisions[0].current is not None
        assert compared.decisions[0].current.outcome.value == "INELIGIBLE"

    # a restart: the versions and facts are in the database, not in the process
    assert server.stop() == 0
    server = start_server(rules_dir, "--db", str(server.db))
    cli = bekal("replay", "bnn-a-1", "--current-rules", *server.cli_args())
    assert cli.code == 0, cli.text
    assert "identical: every course decided as logged" in cli.out
    assert "outcome: ELIGIBLE -> INELIGIBLE" in cli.out
    as_json = bekal("replay", "bnn-b-1", "--json", *server.cli_args("auditor"))
    assert as_json.code == 0, as_json.text
    assert json.loads(as_json.out)["decisions"][0]["replayed"]["outcome"] == "ELIGIBLE"

    # another role may not replay; a training centre not at all
    code, _fields, _status = rpc_failure(replay_pb2_grpc.ReplayServiceStub(server.channel("blk-kalsel")).ReplayDecision,
                                         replay_pb2.ReplayDecisionRequest(request_id="bnn-a-1"))
    assert code is grpc.StatusCode.PERMISSION_DENIED

    # erasure of CLIENT-A by the office that asked: A no longer replays, B does, the log keeps A's outcomes
    erased = bekal("log", "erase", "CLIENT-A", *server.cli_args())
    assert erased.code == 0, erased.text
    assert "erased the facts of 2 logged check(s)" in erased.out
    with server.connect("auditor", timeout=20) as auditor:
        try:
            auditor.replay_decision("bnn-a-1")
            raise AssertionError("an erased client's check replayed")
        except BekalError as exc:
            assert exc.code == "FAILED_PRECONDITION" and "erased" in exc.message
            assert exc.reason == "FACTS_NOT_KEPT"
        assert auditor.replay_decision("bnn-b-1").identical
        entries = {e.request_id: e for e in auditor.decision_log(client_id="CLIENT-A")}
        assert set(entries) == {"bnn-a-1", "bnn-a-2"}
        assert entries["bnn-a-1"].decisions[0].outcome == "ELIGIBLE"
        trail = list(auditor.audit_trail(subject="CLIENT-A"))
        assert any(e.method.endswith("/EraseClientFacts") and e.principal == "bnnk-banjarbaru" and e.code == "OK"
                   for e in trail)


def test_the_server_purges_facts_past_retention_at_start(start_server, rules_dir: Path, tmp_path: Path):
    import sqlite3
    from datetime import UTC, datetime, timedelta

    server = start_server(rules_dir)
    with server.connect(timeout=20) as bnn:
        for rid in ("old", "new"):
            bnn.check(eligible_client(id=f"CLIENT-{rid}"), "LAS-01", as_of=INTAKE_DATE, request_id=rid)
    assert server.stop() == 0
    long_ago = (datetime.now(UTC) - timedelta(days=45)).isoformat(timespec="milliseconds")
    with sqlite3.connect(server.db) as raw:
        raw.execute("UPDATE request_facts SET created_at = ? WHERE request_id = 'old'", (long_ago,))
    raw.close()
    server = start_server(rules_dir, "--db", str(server.db), "--retention-days", "30")
    assert "facts of 1 check(s) older than 30 days deleted" in server.log()
    with server.connect("auditor", timeout=20) as auditor:
        assert auditor.replay_decision("new").identical
        try:
            auditor.replay_decision("old")
            raise AssertionError("facts past retention replayed")
        except BekalError as exc:
            assert exc.code == "FAILED_PRECONDITION" and "retention" in exc.message
            assert exc.reason == "FACTS_NOT_KEPT"
        assert {e.request_id for e in auditor.decision_log()} == {"old", "new"}  # the outcomes stay


def test_a_matching_job_replays_over_grpc(start_server, rules_dir: Path):
    from tests.support.people import applicant

    server = start_server(rules_dir)
    cohort = [applicant(f"J{i:02d}", "LAS-01", "JHT-01", referrer="bnn" if i % 2 else "self") for i in range(12)]
    with server.connect(timeout=60) as bnn:
        result = bnn.place_cohort(cohort, as_of=INTAKE_DATE, seed=2019)
        job_id = result.job.job_id
        replay = bnn.replay_match_job(job_id)
        assert replay.identical and replay.clients == 12 and replay.placed == result.summary.placed
    cli = bekal("replay", "--job", job_id, *server.cli_args("auditor"))
    assert cli.code == 0, cli.text
    assert "identical: every client placed as logged" in cli.out
    code, _fields, _status = rpc_failure(replay_pb2_grpc.ReplayServiceStub(server.channel("blk-kalsel")).ReplayMatchJob,
                                         replay_pb2.ReplayMatchJobRequest(job_id=job_id))
    assert code is grpc.StatusCode.NOT_FOUND  # another agency's job
