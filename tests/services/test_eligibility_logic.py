"""The eligibility logic and the served rules without gRPC: snapshots, checks, audience view, idempotency,
validation."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from bekal.audience import BLK, BNN
from bekal.decision import Outcome
from bekal.facts import parse_facts
from bekal.rulebook import offered_courses
from bekal.services.eligibility.logic import Check, Eligibility
from bekal.services.errors import RulesRejected, ServiceError
from bekal.services.snapshots import ServedRules
from bekal.store import open_decision_log
from tests.support.people import eligible_client

AS_OF = date(2019, 6, 1)


def make_check(request_id="r1", course="LAS-01", audience=BNN, explain=False, **client) -> Check:
    return Check(request_id, parse_facts("client", eligible_client(**client)), course, AS_OF, audience, explain,
                 fingerprint=f"fp-{request_id}-{sorted(client.items())}-{course}-{audience}")


@pytest.fixture
def rules(rules_dir: Path):
    r = ServedRules(rules_dir)
    r.reload()
    yield r
    r.close()


@pytest.fixture
def service(rules):
    store = open_decision_log(":memory:")
    yield Eligibility(rules, store)
    store.close()


def test_eligible_client_gets_priority_reason(service):
    result = service.check(make_check())
    (d,) = result.decisions
    assert d.outcome is Outcome.ELIGIBLE
    assert d.priority == 10
    assert [r.rule_id for r in d.reasons] == ["bnn-referral"]
    assert result.ruleset_version == d.ruleset_version == service.rules.version


def test_all_offered_courses_skips_started_ones(service):
    result = service.check(make_check(course=None))
    assert [d.course_code for d in result.decisions] == ["JHT-01", "LAS-01"]  # OLD-01 started in January


def test_offered_courses_boundary():
    courses = {"A": {"start_date": date(2019, 6, 1)}, "B": {"start_date": date(2019, 5, 31)}, "C": {}}
    assert offered_courses(courses, AS_OF) == ["A", "C"]


def test_training_centre_sees_only_shareable_reasons(service):
    bnn = service.check(make_check("r-bnn", rehab_stage="inpatient", audience=BNN)).decisions[0]
    blk = service.check(make_check("r-blk", rehab_stage="inpatient", audience=BLK)).decisions[0]
    assert bnn.outcome is Outcome.PENDING and "rehab-not-finished" in [r.rule_id for r in bnn.reasons]
    # a hidden reason: the training centre sees WITHHELD and nothing else
    assert (blk.outcome, blk.reasons, blk.priority, blk.missing) == (Outcome.WITHHELD, (), 0, ())
    low = service.check(make_check("r-low", written_test_score=10, audience=BLK)).decisions[0]
    assert low.outcome is Outcome.INELIGIBLE and low.reasons and all(r.shareable for r in low.reasons)


def test_explain_trace_only_for_bnn(service):
    bnn = service.check(make_check("e1", explain=True, audience=BNN)).decisions[0]
    blk = service.check(make_check("e2", explain=True, audience=BLK)).decisions[0]
    assert len(bnn.trace) == 4
    assert blk.trace == ()


def test_without_consent_a_training_centre_sees_only_withheld(service):
    """No status code of its own (PERMISSION_DENIED told the BLK the client had not consented)."""
    for rid, consent in (("c-false", False), ("c-none", None)):
        d = service.check(make_check(rid, consent_to_share=consent, audience=BLK)).decisions[0]
        assert (d.outcome, d.reasons, d.priority, d.missing) == (Outcome.WITHHELD, (), 0, ())


def test_unknown_course_is_not_found(service):
    with pytest.raises(ServiceError) as err:
        service.check(make_check(course="NOPE-01"))
    assert err.value.code == "NOT_FOUND"
    assert err.value.violations == [("course_code", "unknown course 'NOPE-01'")]


def test_date_outside_every_ruleset_is_refused_naming_as_of_date(service):
    """A well-formed request on a date the rules do not cover: FAILED_PRECONDITION, nothing decided."""
    check = make_check()
    early = Check(check.request_id, check.client, check.course_code, date(2010, 1, 1), BNN, fingerprint="x")
    with pytest.raises(ServiceError) as err:
        service.check(early)
    assert err.value.code == "FAILED_PRECONDITION"
    assert err.value.violations[0][0] == "as_of_date"
    assert err.value.preconditions[0][:2] == ("RULES_IN_FORCE", "2010-01-01")


def test_retry_with_same_request_id_is_recorded_once(service):
    first = service.check(make_check("same"))
    again = service.check(make_check("same"))
    assert again.replayed and not first.replayed
    assert again.decisions == first.decisions
    assert service.store.count() == 1
    logged = service.store.get("same")
    assert logged is not None and logged.decisions[0].outcome == "ELIGIBLE"
    assert logged.decisions[0].rule_ids == ("priority/bnn-referral",)


def test_reused_request_id_for_other_request_is_rejected(service):
    service.check(make_check("dup"))
    with pytest.raises(ServiceError) as err:
        service.check(make_check("dup", written_test_score=10))
    assert err.value.code == "INVALID_ARGUMENT"
    assert err.value.violations[0][0] == "request_id"


def test_batch_keeps_order_and_passes_errors_through(service):
    bad = ServiceError("INVALID_ARGUMENT", "x", [("client.id", "required")])
    results = service.check_many([make_check("b1"), bad, make_check("b2", course="NOPE")])
    assert results[0].decisions[0].outcome is Outcome.ELIGIBLE
    assert results[1] is bad
    assert isinstance(results[2], ServiceError) and results[2].code == "NOT_FOUND"


def test_no_rules_is_failed_precondition(tmp_path):
    (tmp_path / "broken.yaml").write_text("ruleset: [\n")
    rules = ServedRules(tmp_path)
    with pytest.raises(RulesRejected) as rejected:
        rules.reload()
    assert rejected.value.diagnostics[0].file.endswith("broken.yaml")
    with pytest.raises(ServiceError) as err:
        Eligibility(rules, None).check(make_check())
    assert err.value.code == "FAILED_PRECONDITION"
    assert err.value.preconditions and err.value.preconditions[0][0] == "RULES"


def test_invalid_reload_keeps_previous_version(rules, rules_dir):
    before = rules.version
    (rules_dir / "eligibility.rules.yaml").write_text("ruleset: eligibility\nrules: [oops\n")
    with pytest.raises(RulesRejected):
        rules.reload()
    assert rules.version == before
    assert rules.last_error


def test_reload_swaps_and_closes_old_engine_after_last_lease(rules, rules_dir):
    path = rules_dir / "eligibility.rules.yaml"
    with rules.lease() as old:
        path.write_text(path.read_text().replace("client.age <= 18", "client.age <= 30"))
        outcome = rules.reload()
        assert outcome.changed and outcome.previous == old.version
        assert rules.version != old.version
        assert old.engine.version == old.version  # still usable while leased
        pair = (parse_facts("client", eligible_client()), old.rulebook.courses["LAS-01"])
        (d,) = old.engine.decide_many([pair], AS_OF)
        assert d.ruleset_version == old.version
    assert old.engine.version is None  # closed once its last user left


def test_reload_of_unchanged_files_is_a_no_op(rules):
    outcome = rules.reload()
    assert not outcome.changed and outcome.version == outcome.previous


def test_validate_reports_diagnostics_and_changes_nothing(rules, rules_dir):
    before = rules.version
    result = rules.validate({"eligibility.rules.yaml": "ruleset: x\nrules:\n  - id: a\n    when: client.agee > 1\n"},
                            overlay=True)
    assert not result.valid
    assert result.diagnostics
    assert all(d.file == "eligibility.rules.yaml" for d in result.diagnostics)
    assert rules.version == before
    text = (rules_dir / "priority.rules.yaml").read_text()
    ok = rules.validate({"priority.rules.yaml": text.replace("+10", "+20")}, overlay=True)
    assert ok.valid and ok.version != before and set(ok.rulesets) == {"eligibility", "priority"}
    # the priority rules alone would call everyone eligible: not a rulebook
    alone = rules.validate({"priority.rules.yaml": text}, overlay=False)
    assert not alone.valid and [d.message for d in alone.diagnostics] == ["no ruleset named 'eligibility'"]


def test_concurrent_checks_during_reloads_never_mix_versions(rules, rules_dir):
    service = Eligibility(rules, None)
    path = rules_dir / "eligibility.rules.yaml"
    original = path.read_text()
    # the same rule id (a reload that loses a rule id is refused), another limit and message
    strict = original.replace("client.age <= 18", "client.age <= 30").replace("must be above 18.", "must be above 30.")
    versions: dict[str, str] = {}
    stop = threading.Event()
    problems: list[str] = []

    def worker(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            for r in service.check_many([make_check(f"w{n}-{i}-{k}", course=None) for k in range(5)]):
                for d in r.decisions:
                    if d.ruleset_version != r.ruleset_version:
                        problems.append("decision version differs from response version")
                    ids = {x.rule_id for x in d.reasons}
                    above_30 = any("must be above 30" in x.message_en for x in d.reasons)
                    expect_strict = versions.get(d.ruleset_version) == "strict"
                    if expect_strict != (d.outcome is Outcome.INELIGIBLE and "min-age-18" in ids and above_30):
                        problems.append(f"{d.ruleset_version} {d.outcome} {ids}")

    versions[rules.version] = "lenient"
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            path.write_text(strict if i % 2 == 0 else original)
            text = path.read_text()
            from bekal.rulebook import load_rulebook

            versions[load_rulebook(rules_dir).version] = "strict" if text == strict else "lenient"
            rules.reload()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not problems, problems[:5]


def test_store_failure_is_unavailable_and_retryable(rules):
    from bekal.store import StoreUnavailable

    class Broken:
        def keep_ruleset(self, version, files):
            return False  # kept before: the disk filled up since

        def record(self, requests):
            raise StoreUnavailable("disk full")

    with pytest.raises(ServiceError) as err:
        Eligibility(rules, Broken()).check(make_check())
    assert err.value.code == "UNAVAILABLE"


def test_a_training_centre_asks_about_its_own_courses_only(service):
    from dataclasses import replace

    from bekal.access import Principal, Role

    own = Principal("blk-kalsel", Role.TRAINING_PROVIDER, provider="BLK Provinsi Kalsel")
    other = Principal("blk-banjarmasin", Role.TRAINING_PROVIDER, provider="BLK Banjarmasin")
    assert service.check(replace(make_check("o1", audience=BLK), principal=own)).decisions
    with pytest.raises(ServiceError) as err:
        service.check(replace(make_check("o2", audience=BLK), principal=other))
    assert err.value.code == "PERMISSION_DENIED" and err.value.violations[0][0] == "course_code"
    every = service.check(replace(make_check("o3", course=None, audience=BLK), principal=other))
    assert every.decisions == ()  # none of the offered courses is BLK Banjarmasin's
    assert service.check(replace(make_check("o4", course=None, audience=BLK), principal=own)).decisions
