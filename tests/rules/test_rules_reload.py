"""A broken file never replaces a working ruleset: through the served rules' real reload
(:class:`bekal.services.snapshots.ServedRules`, what the watcher, SIGHUP and ReloadRules call), the
version that was serving keeps serving, with the same decisions, whatever broken input a reload meets."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bekal.decision import Decision
from bekal.rulebook import load_rulebook
from bekal.services.errors import RulesRejected
from bekal.services.snapshots import ServedRules
from tests.rules.rulefiles import BROKEN
from tests.support.people import MOU_DATE as AS_OF
from tests.support.people import READY

Pair = tuple[dict, dict]


def sample(rules: ServedRules) -> list[Pair]:
    """Clients the default rules find ELIGIBLE, INELIGIBLE and PENDING, against every course."""
    clients = [READY, {**READY, "birth_date": date(2001, 5, 16)}, {**READY, "interview_score": None},
               {**READY, "rehab_stage": "outpatient"}, {**READY, "referrer": "self", "written_test_score": 50},
               {k: v for k, v in READY.items() if k != "consent_to_share"}]
    clients = [{k: v for k, v in c.items() if v is not None} for c in clients]
    with rules.lease() as snap:
        return [(c, course) for c in clients for course in snap.rulebook.courses.values()]


def decide(rules: ServedRules, pairs: list[Pair], explain: bool = False) -> list[Decision]:
    """What a call gets: the current snapshot's engine, leased for the call."""
    with rules.lease() as snap:
        return snap.engine.decide_many(pairs, AS_OF, explain=explain)


def rejected(rules: ServedRules) -> list[str]:
    """Reload, expecting the files to be refused; their problems as ``file:line:col: message``."""
    with pytest.raises(RulesRejected) as info:
        rules.reload()
    assert rules.last_error == info.value.diagnostics
    return [f"{d.location}: {d.message}" for d in info.value.diagnostics]


@pytest.fixture
def served(default_rules_dir: Path) -> Iterator[ServedRules]:
    rules = ServedRules(default_rules_dir)
    assert rules.reload().changed
    yield rules
    rules.close()


def test_broken_files_never_replace_the_working_ruleset(served: ServedRules, default_rules_dir: Path):
    good = served.version
    pairs = sample(served)
    before = decide(served, pairs, explain=True)
    assert {d.outcome.value for d in before} == {"ELIGIBLE", "INELIGIBLE", "PENDING"}
    assert {d.ruleset_version for d in before} == {good}
    for broken in sorted(BROKEN.iterdir()):
        # a broken file added next to the good ones ...
        added = default_rules_dir / broken.name
        shutil.copy(broken, added)
        problems = rejected(served)
        assert problems and all(p.startswith(str(added)) for p in problems), (broken.name, problems)
        assert served.version == good
        assert decide(served, pairs, explain=True) == before
        added.unlink()
        # ... or a good file replaced by a broken one
        target = default_rules_dir / "eligibility.rules.yaml"
        original = target.read_text()
        target.write_text(broken.read_text())
        assert rejected(served), broken.name
        assert served.version == good
        assert [d.outcome for d in decide(served, pairs)] == [d.outcome for d in before]
        target.write_text(original)
    # back to the good files: the same content is the same version, nothing to swap
    outcome = served.reload()
    assert not outcome.changed and outcome.version == good and served.last_error == ()


def test_one_broken_rule_in_an_otherwise_good_edit_keeps_the_old_version(served: ServedRules, default_rules_dir: Path):
    old = served.version
    target = default_rules_dir / "eligibility.rules.yaml"
    text = target.read_text()
    # raise the age limit (a good change) and misspell a fact elsewhere (a bad one), in one save
    edited = text.replace("when: client.age <= 18", "when: client.age <= 20").replace(
        "client.rehab_stage == \"dropped_out\"", "client.rehab_stag == \"dropped_out\"")
    assert edited.count("client.age <= 20") == 1 and "client.rehab_stag " in edited
    target.write_text(edited)
    problems = rejected(served)
    assert len(problems) == 1 and "unknown fact 'client.rehab_stag'" in problems[0]
    nineteen = {**READY, "birth_date": date(2000, 1, 1)}
    assert served.version == old
    (d,) = decide(served, [(nineteen, {})])
    assert d.outcome.value == "ELIGIBLE" and d.ruleset_version == old  # the old limit still applies
    # fixing the typo: the rules check, but the shipped rule test "19 is eligible" now fails: the gate
    target.write_text(edited.replace("client.rehab_stag ", "client.rehab_stage "))
    problems = rejected(served)
    assert any("rule test fails: 18 and one day short is still 18" in p for p in problems)
    assert served.version == old
    # without that test the good change goes through: a new version, and its decisions
    (default_rules_dir / "eligibility.test.yaml").unlink()
    outcome = served.reload()
    assert outcome.changed and outcome.previous == old and served.version == outcome.version != old
    (d,) = decide(served, [(nineteen, {})])
    assert d.outcome.value == "INELIGIBLE" and d.ruleset_version == served.version


def test_rule_tests_do_not_change_the_version(default_rules_dir: Path):
    before = load_rulebook(default_rules_dir).version
    tests = default_rules_dir / "eligibility.test.yaml"
    tests.write_text(tests.read_text() + "\n# a comment\n")
    assert load_rulebook(default_rules_dir).version == before
    courses = default_rules_dir / "courses.yaml"
    courses.write_text(courses.read_text() + "\n# a comment\n")
    assert load_rulebook(default_rules_dir).version != before  # the catalogue is part of the version
