"""Hot reload under concurrent calls: no failed call, no decision mixing two versions."""

from __future__ import annotations

import threading
import time
import uuid

from bekal.client import BekalError, Check, Outcome
from bekal.rulebook import load_rulebook
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import eligible_client

RULE_ID = "min-age-18"  # both versions keep the id (a reload that loses a rule id is refused)


def expected(decision, kinds: dict[str, str]) -> bool:
    """A 25-year-old: ELIGIBLE under the lenient rules, INELIGIBLE under the strict ones (age limit 30)."""
    kind = kinds.get(decision.ruleset_version)
    strict = [r for r in decision.reasons if r.rule_id == RULE_ID and "above 30" in r.english]
    if kind == "lenient":
        return decision.outcome is Outcome.ELIGIBLE and not strict
    if kind == "strict":
        return decision.outcome is Outcome.INELIGIBLE and bool(strict)
    return False


def test_hot_reload_under_load(rules_dir, start_server):
    path = rules_dir / "eligibility.rules.yaml"
    lenient = path.read_text()
    strict = lenient.replace("client.age <= 18", "client.age <= 30").replace("must be above 18.", "must be above 30.")
    kinds = {load_rulebook(rules_dir).version: "lenient"}
    path.write_text(strict)
    kinds[load_rulebook(rules_dir).version] = "strict"
    path.write_text(lenient)

    server = start_server(rules_dir)
    stop = threading.Event()
    failures: list[str] = []
    seen: dict[str, int] = {}
    calls = [0]
    lock = threading.Lock()

    def note(decisions, response_version):
        with lock:
            calls[0] += 1
            for d in decisions:
                seen[d.ruleset_version] = seen.get(d.ruleset_version, 0) + 1
                if d.ruleset_version != response_version or not expected(d, kinds):
                    failures.append(f"mixed: {d.ruleset_version} {d.outcome} {[r.rule_id for r in d.reasons]}")

    def unary(n: int) -> None:
        with server.connect(timeout=10) as api:
            while not stop.is_set():
                try:
                    r = api.check(eligible_client(id=f"U{n}"), None, as_of=AS_OF, audience="bnn")
                    note(r.decisions, r.ruleset_version)
                except BekalError as exc:
                    failures.append(f"unary failed: {exc}")

    def streaming() -> None:
        with server.connect(timeout=10) as api:
            def checks():
                i = 0
                while not stop.is_set():
                    i += 1
                    yield Check(eligible_client(id=f"S{i}"), None, request_id=str(uuid.uuid4()))
            try:
                for r in api.check_many(checks(), as_of=AS_OF, audience="bnn", batch_size=20, window=2):
                    if r.error is not None:
                        failures.append(f"stream item failed: {r.error}")
                    else:
                        note(r.decisions, r.ruleset_version)
            except BekalError as exc:
                failures.append(f"stream failed: {exc}")

    threads = [threading.Thread(target=unary, args=(n,)) for n in range(3)] + [threading.Thread(target=streaming)]
    for t in threads:
        t.start()
    try:
        with server.connect(as_="rule-author", timeout=10) as admin:
            for i in range(6):
                time.sleep(0.4)
                path.write_text(strict if i % 2 == 0 else lenient)
                if i == 2:  # an invalid edit in the middle: rejected, the current version keeps serving
                    time.sleep(0.4)
                    path.write_text("ruleset: eligibility\nrules: [broken\n")
                    time.sleep(0.5)
                    try:
                        admin.reload_rules()
                        failures.append("ReloadRules accepted broken rules")
                    except BekalError as exc:
                        assert exc.code == "FAILED_PRECONDITION" and exc.preconditions
                    path.write_text(strict if i % 2 == 0 else lenient)
                if i == 4:
                    admin.reload_rules()  # forced reload of what is on disk, alongside the watcher
            time.sleep(0.6)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not failures, failures[:5]
    assert set(seen) == set(kinds), seen  # both versions served
    assert calls[0] > 50
    log = server.log()
    assert "rejected" in log and "eligibility.rules.yaml" in log
    assert "Traceback" not in log
