"""Start without rules, drain on SIGTERM, worker processes, retries, TLS, the `bekal check` CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest

from bekal.client import BekalError, Check, Outcome, connect
from bekal.client.convert import client_message
from bekal.v1 import eligibility_pb2, eligibility_pb2_grpc
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import eligible_client, pb_date
from tests.support.servers import as_agency, free_port, mtls_args


def test_without_valid_rules_not_serving_until_fixed(rules_dir, start_server):
    good = (rules_dir / "eligibility.rules.yaml").read_text()
    broken = "ruleset: eligibility\nrules:\n  - id: x\n    when: client.agee > 1\n"
    (rules_dir / "eligibility.rules.yaml").write_text(broken)
    server = start_server(rules_dir, wait="listening")
    with server.connect(timeout=10) as api:
        assert api.health() == "NOT_SERVING"
        assert api.health("bekal.v1.RulesService") == "SERVING"
        with pytest.raises(BekalError) as err:
            api.check(eligible_client(), "LAS-01", as_of=AS_OF, audience="bnn")
        assert err.value.code == "FAILED_PRECONDITION"
        assert any("eligibility.rules.yaml" in s for _t, s, _d in err.value.preconditions)
        with server.connect(as_="rule-author", timeout=30) as author:
            with pytest.raises(BekalError) as err:
                author.reload_rules()
            assert err.value.code == "FAILED_PRECONDITION"
            assert "no ruleset is loaded" in err.value.message
            assert author.validate_rules({"eligibility.rules.yaml": good, "courses.yaml": (
                rules_dir / "courses.yaml").read_text()}).valid
        (rules_dir / "eligibility.rules.yaml").write_text(good)  # hot reload picks the fix up
        api.wait_until_serving(10)
        assert api.check(eligible_client(), "LAS-01", as_of=AS_OF, audience="bnn").decision.outcome is Outcome.ELIGIBLE
    assert "rejected" in server.log() and "eligibility.rules.yaml:3:5" in server.log()


def test_sigterm_drains_in_flight_calls(rules_dir, start_server):
    server = start_server(rules_dir)
    with server.channel() as channel:
        stub = eligibility_pb2_grpc.EligibilityServiceStub(channel)
        check = eligibility_pb2.CheckEligibilityRequest(
            client=client_message(eligible_client()), as_of_date=pb_date(AS_OF), audience=eligibility_pb2.AUDIENCE_BNN)

        def batch(n: int):
            out = eligibility_pb2.CheckEligibilityStreamRequest()
            for i in range(2000):
                item = out.checks.add()
                item.CopyFrom(check)
                item.request_id = f"d-{n}-{i}"
            return out

        answered, done = threading.Event(), threading.Event()

        def requests():
            yield batch(0)
            answered.wait(10)
            yield batch(1)  # sent after SIGTERM, while the server drains
            done.wait(20)  # a caller that keeps the stream open

        answers = []
        call = stub.CheckEligibilityStream(requests(), timeout=30)
        try:
            with pytest.raises(grpc.RpcError) as info:
                for response in call:
                    answers.append(response)
                    if len(answers) == 1:
                        os.kill(server.proc.pid, signal.SIGTERM)
                        time.sleep(0.3)
                        answered.set()
        finally:
            done.set()
        # every message answered in full (the second one only if it arrived before the drain
        # began: timing); then the stream was closed as retryable, not cut off
        assert [len(a.results) for a in answers] in ([2000], [2000, 2000]), info.value
        assert all(r.WhichOneof("result") == "response" for a in answers for r in a.results)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert server.proc.wait(15) == 0
    log = server.log()
    assert "draining" in log and "stopped" in log and "Traceback" not in log


def test_two_workers_share_the_port_and_reload_together(rules_dir, start_server):
    server = start_server(rules_dir, "--reload-interval", "0", workers=2)
    log = server.log()
    deadline = time.monotonic() + 20
    while log.count("listening on") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        log = server.log()
    assert log.count("listening on") == 2, log
    with server.connect(as_="rule-author", timeout=10) as api:
        before = api.list_rulesets().version
        path = rules_dir / "priority.rules.yaml"
        path.write_text(path.read_text().replace("+10", "+20").replace("(+10)", "(+20)"))
        reload = api.reload_rules()  # reaches one worker; it asks the supervisor to reload the others
        assert reload.changed and reload.previous_version == before
    time.sleep(1.0)
    versions = set()
    for _ in range(12):  # new connections spread over both workers
        with server.connect(timeout=10) as api:
            versions.add(api.check(eligible_client(), "JHT-01", as_of=AS_OF, audience="bnn").decision.priority)
    assert versions == {20}
    assert server.stop() == 0
    assert server.log().count("stopped") == 3  # two workers and the supervisor


def _server_on(port: int, tmp: Path, rules: Path, *args: str) -> subprocess.Popen:
    log = open(tmp / f"srv-{port}.log", "wb")
    return subprocess.Popen(
        [sys.executable, "-c", "from bekal.cli import main; main()", "serve", "--listen", f"127.0.0.1:{port}",
         "--rules", str(rules), "--db", str(tmp / "b.db"), *mtls_args(), *args], stdout=log,
        stderr=subprocess.STDOUT)


def test_client_retries_on_unavailable(rules_dir, tmp_path):
    port = free_port()
    result: dict = {}

    def call():
        try:
            with connect(f"127.0.0.1:{port}", timeout=30, retries=12, backoff=0.2, max_backoff=1.0,
                         **as_agency()) as api:
                result["r"] = api.check(eligible_client(), "LAS-01", as_of=AS_OF, audience="bnn")
        except BekalError as exc:
            result["e"] = exc

    t = threading.Thread(target=call)
    t.start()
    time.sleep(1.0)  # nothing listens yet: the first attempts fail with UNAVAILABLE
    proc = _server_on(port, tmp_path, rules_dir)
    try:
        t.join(40)
    finally:
        proc.terminate()
        proc.wait(20)
    assert "e" not in result, result.get("e")
    assert result["r"].decision.outcome is Outcome.ELIGIBLE


def test_unavailable_after_retries_is_reported(tmp_path):
    with connect(f"127.0.0.1:{free_port()}", timeout=2, retries=2, backoff=0.05) as api:
        with pytest.raises(BekalError) as err:
            api.check(eligible_client(), "LAS-01")
    assert err.value.code == "UNAVAILABLE"


def test_deadline_exceeded(rules_dir, start_server):
    server = start_server(rules_dir)
    with server.connect(timeout=0.0005, retries=0) as api:
        with pytest.raises(BekalError) as err:
            list(api.check_many([Check(eligible_client(id=f"c{i}")) for i in range(3000)], as_of=AS_OF, audience="bnn",
                                timeout=0.2))
    assert err.value.code == "DEADLINE_EXCEEDED"


def test_tls_without_client_certificates_gives_the_anonymous_view(rules_dir, start_server):
    """Server TLS only: callers are anonymous, a training centre's view; plaintext is refused."""
    server = start_server(rules_dir, security="tls", wait="listening")
    with server.connect(as_=None, timeout=10) as api:
        api.wait_until_serving(20)
        assert api.check(eligible_client(), "LAS-01", as_of=AS_OF).decision.outcome is Outcome.ELIGIBLE
        with pytest.raises(BekalError) as err:
            api.check(eligible_client(), "LAS-01", as_of=AS_OF, audience="bnn")
        assert err.value.code == "PERMISSION_DENIED"
    with connect(server.address, timeout=2, retries=0) as plain:  # plaintext is refused
        with pytest.raises(BekalError):
            plain.health()


def test_cli_check(rules_dir, start_server, tmp_path):
    server = start_server(rules_dir)
    client_file = tmp_path / "client.yaml"
    client_file.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in eligible_client().items()) + "\n")
    bekal = [sys.executable, "-c", "from bekal.cli import main; main()"]

    def run(*args):
        return subprocess.run([*bekal, "check", *server.cli_args(), "--client", str(client_file), *args],
                              capture_output=True, text=True, timeout=60)

    ok = run("--course", "LAS-01", "--as-of", AS_OF, "--audience", "bnn")
    assert ok.returncode == 0, ok.stderr
    assert "outcome: ELIGIBLE" in ok.stdout and "bnn-referral" in ok.stdout
    every = run("--as-of", AS_OF, "--json", "--audience", "bnn")
    data = json.loads(every.stdout)
    assert [d["course_code"] for d in data["decisions"]] == ["JHT-01", "LAS-01"]
    missing = run("--course", "NOPE-01", "--as-of", AS_OF)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr and "course_code" in missing.stderr
    client_file.write_text("id: X-1\nbirth_date: 2019-02-30\nconsent_to_share: true\n")
    bad = run("--course", "LAS-01", "--as-of", AS_OF)
    assert bad.returncode == 1 and "client.birth_date" in bad.stderr and "Traceback" not in bad.stderr


def test_acknowledged_checks_survive_kill_9(rules_dir, start_server):
    server = start_server(rules_dir)
    ids = [f"k9-{i}" for i in range(50)]
    with server.connect(timeout=10) as api:
        for rid in ids:
            api.check(eligible_client(), "LAS-01", as_of=AS_OF, audience="bnn", request_id=rid)
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)
    with closing_db(server.db) as db:
        got = {r[0] for r in db.execute("SELECT request_id FROM request WHERE request_id LIKE 'k9-%'")}
    assert got == set(ids)


def closing_db(path):
    import sqlite3
    from contextlib import closing

    return closing(sqlite3.connect(path))


def test_stream_survives_a_server_restart_without_duplicates(rules_dir, tmp_path):
    """The client resends unanswered batches on a new stream; request ids keep the log exact."""
    port = free_port()
    first = _server_on(port, tmp_path, rules_dir, "--grace", "5")
    checks = [Check(eligible_client(id=f"R-{i}"), "LAS-01", request_id=f"restart-{i}") for i in range(3000)]
    results: list = []
    errors: list = []
    second = None

    def consume():
        try:
            with connect(f"127.0.0.1:{port}", timeout=30, retries=20, backoff=0.2, max_backoff=1.0,
                         **as_agency()) as api:
                api.wait_until_serving(30)
                for r in api.check_many(iter(checks), as_of=AS_OF, audience="bnn", batch_size=50, window=2):
                    results.append(r)
        except BekalError as exc:
            errors.append(exc)

    t = threading.Thread(target=consume)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while len(results) < 300 and time.monotonic() < deadline and t.is_alive():
            time.sleep(0.01)
        at_restart = len(results)
        first.send_signal(signal.SIGTERM)
        assert first.wait(20) == 0
        second = _server_on(port, tmp_path, rules_dir)
        t.join(90)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(20)
    assert not errors, errors
    assert 300 <= at_restart < 3000  # the server really went away mid-stream
    assert [r.request_id for r in results] == [c.request_id for c in checks]
    assert all(r.ok and r.decision.client_id == f"R-{i}" for i, r in enumerate(results))
    with closing_db(tmp_path / "b.db") as db:
        (n,) = db.execute("SELECT count(*) FROM request WHERE request_id LIKE 'restart-%'").fetchone()
    assert n == 3000
