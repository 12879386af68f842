"""`bekal log erase --db` and `bekal log purge` on a database file, as an operator on the server's machine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bekal.access import Principal, Role
from bekal.audience import BNN
from bekal.facts import parse_facts
from bekal.services.eligibility.logic import Check, Eligibility
from bekal.services.snapshots import ServedRules
from bekal.store import SQLiteDecisionLog, open_audit_log
from tests.support.cli import bekal
from tests.support.people import eligible_client

BNNK = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")


def test_erase_and_purge_on_the_database_file(rules_dir: Path, tmp_path: Path):
    rules = ServedRules(rules_dir)
    rules.reload()
    db = tmp_path / "bekal.db"
    log = SQLiteDecisionLog(db)
    service = Eligibility(rules, log)
    for cid in ("CLIENT-A", "CLIENT-B"):
        service.check(Check(f"r-{cid}", parse_facts("client", eligible_client(id=cid)), "LAS-01", date(2019, 6, 1),
                            BNN, fingerprint=cid, principal=BNNK))
    log.close()
    rules.close()

    erased = bekal("log", "erase", "CLIENT-A", "--db", str(db))
    assert erased.code == 0, erased.text
    assert "erased the facts of 1 logged check(s) of client CLIENT-A" in erased.out
    purged = bekal("log", "purge", "--db", str(db), "--retention-days", "30")
    assert purged.code == 0, purged.text
    assert "facts of 0 check(s)" in purged.out  # recorded just now: within any retention

    log = SQLiteDecisionLog(db)
    try:
        assert log.facts("r-CLIENT-A") is None and log.facts("r-CLIENT-B") is not None
        assert [e.erased_by for e in log.erasures("CLIENT-A")] == ["operator (bekal log erase)"]
    finally:
        log.close()
    trail = open_audit_log(db)
    try:
        events = trail.events(0, 100, None, "CLIENT-A")
        assert [(e.method, e.principal) for _seq, e in events] == [("bekal log erase", "operator")]
    finally:
        trail.close()

    wrong_key = tmp_path / "other.key"
    wrong_key.write_text("cd" * 32)
    wrong_key.chmod(0o600)
    refused = bekal("log", "purge", "--db", str(db), "--facts-key-file", str(wrong_key))
    assert refused.code == 1 and "another facts key" in refused.err
