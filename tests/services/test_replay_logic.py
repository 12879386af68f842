"""Replayable decisions without gRPC: the kept rules versions, sealed facts, replay after a rule change,
erasure of one client, retention, and the keys that guard the facts (fail closed)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bekal.access import Principal, Role
from bekal.audience import BNN
from bekal.decision import Outcome
from bekal.facts import parse_facts
from bekal.services.eligibility.logic import Check, Eligibility
from bekal.services.errors import ServiceError
from bekal.services.replay.logic import Replayer
from bekal.services.snapshots import ServedRules
from bekal.store import SQLiteDecisionLog, StoreError
from bekal.store.retention import purge_expired
from tests.support.people import eligible_client

AS_OF = date(2019, 6, 1)
BNNK = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")
OTHER_OFFICE = Principal("bnnp-kalsel", Role.REFERRER, office="BNNP Kalsel")
AUDITOR = Principal("auditor", Role.AUDITOR)


def check(request_id: str, client_id: str, principal: Principal = BNNK, course: str | None = "LAS-01",
          **client) -> Check:
    facts = parse_facts("client", eligible_client(id=client_id, **client))
    return Check(request_id, facts, course, AS_OF, BNN, fingerprint=f"fp-{request_id}", principal=principal)


def age_facts(db: Path, request_id: str, days: int) -> None:
    """Make one request's kept facts ``days`` old, as if recorded then (no command can)."""
    long_ago = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
    raw = sqlite3.connect(db)
    with raw:
        raw.execute("UPDATE request_facts SET created_at = ? WHERE request_id = ?", (long_ago, request_id))
    raw.close()


@pytest.fixture
def rules(rules_dir: Path):
    served = ServedRules(rules_dir)
    served.reload()
    yield served
    served.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "db" / "bekal.db"


@pytest.fixture
def log(db: Path):
    store = SQLiteDecisionLog(db)
    yield store
    store.close()


@pytest.fixture
def replayer(log, rules):
    r = Replayer(log, rules)
    yield r
    r.close()


def raise_pass_mark(rules: ServedRules, rules_dir: Path, mark: int) -> str:
    """A rule change: the written-test pass mark of LAS-01 becomes ``mark``; the new version, serving."""
    courses = rules_dir / "courses.yaml"
    courses.write_text(courses.read_text().replace("min_written_score: 60", f"min_written_score: {mark}"))
    outcome = rules.reload()
    assert outcome.changed
    return outcome.version


def test_replay_is_identical_after_a_rule_change(rules, rules_dir, log, replayer):
    service = Eligibility(rules, log)
    before = service.check(check("r-1", "C-1", written_test_score=72))
    assert before.decisions[0].outcome is Outcome.ELIGIBLE
    old_version = before.ruleset_version

    new_version = raise_pass_mark(rules, rules_dir, 75)
    assert new_version != old_version
    # today's rules decide the same client otherwise: the change matters
    assert service.check(check("r-2", "C-1", written_test_score=72)).decisions[0].outcome is Outcome.INELIGIBLE

    replay = replayer.replay("r-1", BNNK)
    assert replay.entry.ruleset_version == old_version
    assert replay.identical
    (course,) = replay.courses
    assert course.replayed.outcome is Outcome.ELIGIBLE
    assert course.replayed.ruleset_version == old_version
    assert course.replayed.as_of == AS_OF
    assert [r.rule_id for r in course.replayed.reasons] == ["bnn-referral"]
    assert course.current is None and not replay.current_version  # not asked

    compared = replayer.replay("r-1", BNNK, compare_current=True)
    assert compared.identical  # still the logged outcome with the logged rules
    assert compared.current_version == new_version
    assert not compared.same_as_current
    (course,) = compared.courses
    assert course.current is not None and course.current.outcome is Outcome.INELIGIBLE
    assert "outcome: ELIGIBLE -> INELIGIBLE" in course.differences
    assert "new reason: eligibility/written-test" in course.differences

    # and the decision made with the new rules replays as itself
    assert replayer.replay("r-2", BNNK, compare_current=True).same_as_current


def test_replay_notices_a_logged_outcome_the_rules_do_not_give(rules, log, replayer, db):
    Eligibility(rules, log).check(check("r-1", "C-1"))
    raw = sqlite3.connect(db)
    with raw:  # a log entry changed behind bekal's back: the replay must not call it identical
        raw.execute("UPDATE request SET summary = replace(summary, 'ELIGIBLE', 'INELIGIBLE')")
    raw.close()
    replay = replayer.replay("r-1", AUDITOR)
    assert not replay.identical
    assert not replay.courses[0].identical


def test_every_version_that_decided_is_kept_by_content_hash(rules, rules_dir, log):
    service = Eligibility(rules, log)
    first = service.check(check("r-1", "C-1")).ruleset_version
    second = raise_pass_mark(rules, rules_dir, 75)
    service.check(check("r-2", "C-1"))
    for version in (first, second):
        files = log.ruleset(version)
        assert files is not None and "courses.yaml" in files
    assert "min_written_score: 60" in log.ruleset(first)["courses.yaml"]
    assert "min_written_score: 75" in log.ruleset(second)["courses.yaml"]
    assert log.ruleset("sha256:0000000000000000") is None


def test_facts_are_sealed_and_bound_to_their_request(rules, log, replayer, db):
    Eligibility(rules, log).check(check("r-1", "C-1", birth_date="1993-11-27"))
    Eligibility(rules, log).check(check("r-2", "C-1", birth_date="1991-04-09"))
    log.close()
    data = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith("bekal.db"))
    assert b"1993-11-27" not in data and b"post_rehabilitation" not in data  # never stored in the clear
    raw = sqlite3.connect(db)  # without any key: ids, versions and outcomes are there to read
    rows = raw.execute("SELECT request_id, client_id, ruleset_version, summary FROM request ORDER BY request_id")
    assert [(r[0], r[1], r[2].startswith("sha256:"), r[3].split(" ")[1]) for r in rows] == [
        ("r-1", "C-1", True, "ELIGIBLE"), ("r-2", "C-1", True, "ELIGIBLE")]
    raw.close()
    raw = sqlite3.connect(db)
    with raw:  # r-2's sealed facts copied onto r-1: they must not open as r-1's
        raw.execute("UPDATE request_facts SET sealed = (SELECT sealed FROM request_facts WHERE request_id = 'r-2') "
                    "WHERE request_id = 'r-1'")
    raw.close()
    reopened = SQLiteDecisionLog(db)
    try:
        with pytest.raises(ServiceError) as err:
            Replayer(reopened).replay("r-1", AUDITOR)
        assert err.value.code == "FAILED_PRECONDITION"
        assert err.value.preconditions[0][0] == "FACTS_KEY"
        assert Replayer(reopened, rules).replay("r-2", AUDITOR).identical
    finally:
        reopened.close()


def test_erasure_removes_one_clients_facts_and_nothing_else(rules, log, replayer):
    service = Eligibility(rules, log)
    for i in range(3):
        service.check(check(f"a-{i}", "CLIENT-A"))
        service.check(check(f"b-{i}", "CLIENT-B", written_test_score=55))  # INELIGIBLE: outcomes differ
    before = {e.request_id: e for e in log.list(limit=100)}
    b_before = {f"b-{i}": log.facts(f"b-{i}") for i in range(3)}

    erased = replayer.erase("CLIENT-A", AUDITOR)
    assert erased.records == 3

    # A: no facts, no data key, no replay -- with the reason; its ids, versions and outcomes stay
    for i in range(3):
        assert log.facts(f"a-{i}") is None
        with pytest.raises(ServiceError) as err:
            replayer.replay(f"a-{i}", AUDITOR)
        assert err.value.code == "FAILED_PRECONDITION"
        assert "erased" in err.value.message
    assert {e.request_id: e for e in log.list(limit=100)} == before
    # B: untouched, still replays as logged
    for i in range(3):
        assert log.facts(f"b-{i}") == b_before[f"b-{i}"]
        replay = replayer.replay(f"b-{i}", AUDITOR)
        assert replay.identical and replay.courses[0].replayed.outcome is Outcome.INELIGIBLE
    (entry,) = log.erasures("CLIENT-A")
    assert (entry.erased_by, entry.records) == ("auditor", 3)
    assert log.erasures("CLIENT-B") == []


def test_erasure_leaves_no_key_for_the_client(rules, log, db):
    Eligibility(rules, log).check(check("a-1", "CLIENT-A"))
    Eligibility(rules, log).check(check("b-1", "CLIENT-B"))
    log.erase_client("CLIENT-A", "auditor")
    raw = sqlite3.connect(db)
    keys = {row[0] for row in raw.execute("SELECT client_id FROM client_key")}
    facts = {row[0] for row in raw.execute("SELECT request_id FROM request_facts")}
    raw.close()
    assert keys == {"CLIENT-B"}  # crypto-shredded: A's data key is gone with its facts
    assert facts == {"b-1"}


def test_a_bnn_office_replays_and_erases_only_its_own_checks(rules, log, replayer):
    service = Eligibility(rules, log)
    service.check(check("mine", "C-1", principal=BNNK))
    service.check(check("theirs", "C-1", principal=OTHER_OFFICE))
    assert replayer.replay("mine", BNNK).identical
    with pytest.raises(ServiceError) as err:
        replayer.replay("theirs", BNNK)
    assert (err.value.code, err.value.reason) == ("NOT_FOUND", "REQUEST_NOT_FOUND")  # as if it did not exist
    assert replayer.replay("theirs", AUDITOR).identical
    assert replayer.erase("C-1", BNNK).records == 1  # its own record of the client only
    assert log.facts("mine") is None
    assert log.facts("theirs") is not None
    with pytest.raises(ServiceError) as err:
        replayer.erase("C-1", Principal("blk-kalsel", Role.TRAINING_PROVIDER, provider="BLK Provinsi Kalsel"))
    assert err.value.code == "PERMISSION_DENIED"


def test_another_offices_erasure_of_its_own_records_is_never_named(rules, log, replayer, db):
    """This office's facts went with the retention purge; another office later erased its own records of
    the same client. The replay says retention, not "erased by" the other office: that would tell this
    office another one had the client. Its own erasure, or an auditor's, is named."""
    service = Eligibility(rules, log)
    service.check(check("mine", "C-1", principal=BNNK))
    service.check(check("theirs", "C-1", principal=OTHER_OFFICE))
    age_facts(db, "mine", days=400)
    assert purge_expired(log, 365) == 1
    assert replayer.erase("C-1", OTHER_OFFICE).records == 1
    assert [e.scope for e in log.erasures("C-1")] == [OTHER_OFFICE.name]
    with pytest.raises(ServiceError) as err:
        replayer.replay("mine", BNNK)
    assert "retention" in err.value.message and OTHER_OFFICE.name not in err.value.message
    assert "erased" not in err.value.message
    replayer.erase("C-1", BNNK)  # nothing of its own is left, but its own erasure is named
    with pytest.raises(ServiceError) as err:
        replayer.replay("mine", BNNK)
    assert f"by {BNNK.name}" in err.value.message
    replayer.erase("C-1", AUDITOR)
    assert [e.scope for e in log.erasures("C-1")] == [OTHER_OFFICE.name, BNNK.name, None]


def test_unknown_request_is_not_found(replayer):
    with pytest.raises(ServiceError) as err:
        replayer.replay("nope", AUDITOR)
    assert err.value.code == "NOT_FOUND"


def test_retention_purge_deletes_old_facts_only(rules, log, replayer, db):
    service = Eligibility(rules, log)
    service.check(check("old", "C-OLD"))
    service.check(check("new", "C-NEW"))
    age_facts(db, "old", days=400)
    assert purge_expired(log, 365) == 1
    assert log.facts("old") is None and log.facts("new") is not None
    with pytest.raises(ServiceError) as err:
        replayer.replay("old", AUDITOR)
    assert "retention" in err.value.message
    assert log.get("old") is not None  # the outcome stays
    assert replayer.replay("new", AUDITOR).identical
    assert purge_expired(log, 365) == 0


def test_another_facts_key_is_refused(rules, log, db, tmp_path):
    Eligibility(rules, log).check(check("r-1", "C-1"))
    log.close()
    other = tmp_path / "other.key"
    other.write_text("ab" * 32 + "\n")
    other.chmod(0o600)
    with pytest.raises(StoreError, match="another facts key"):
        SQLiteDecisionLog(db, facts_key_file=other)


def test_a_missing_facts_key_is_refused_not_replaced(rules, log, db):
    Eligibility(rules, log).check(check("r-1", "C-1"))
    log.close()
    key = db.parent / "bekal-facts.key"
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(StoreError, match="facts key file .* is missing"):
        SQLiteDecisionLog(db)
    assert not key.exists()  # no new key made for a log that holds facts sealed with another
    key.write_bytes(saved)
    key.chmod(0o600)
    reopened = SQLiteDecisionLog(db)
    try:
        assert reopened.facts("r-1") is not None
    finally:
        reopened.close()


def test_nothing_is_decided_when_the_rules_version_cannot_be_kept(rules):
    from bekal.store import StoreUnavailable

    class Full:
        recorded: list = []

        def keep_ruleset(self, version, files):
            raise StoreUnavailable("disk full", 30)

        def record(self, requests):
            self.recorded.extend(requests)
            return []

    store = Full()
    with pytest.raises(ServiceError) as err:
        Eligibility(rules, store).check(check("r-1", "C-1"))
    assert err.value.code == "UNAVAILABLE"
    assert store.recorded == []  # a decision whose rules could not be kept is neither answered nor logged


def test_a_kept_version_that_does_not_hash_to_its_name_is_refused(rules, log, replayer, db):
    Eligibility(rules, log).check(check("r-1", "C-1"))
    raw = sqlite3.connect(db)
    with raw:  # the kept text changed behind bekal's back: replaying it would be replaying other rules
        raw.execute("UPDATE ruleset_version SET files = replace(files, 'min_written_score: 60', "
                    "'min_written_score: 99')")
    raw.close()
    with pytest.raises(ServiceError) as err:
        replayer.replay("r-1", AUDITOR)
    assert err.value.code == "FAILED_PRECONDITION" and "hashes to" in err.value.message
    assert err.value.reason == "RULES_VERSION_NOT_KEPT"
