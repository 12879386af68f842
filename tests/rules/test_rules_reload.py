"""A broken file never replaces a working ruleset: the engine keeps serving the old version, with
the same decisions, whatever broken input a reload meets."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bekal.engine import Engine
from bekal.lang.diagnostics import RuleError
from bekal.rulebook import load_rulebook
from tests.rules.rulefiles import BROKEN
from tests.support.paths import RULES
from tests.support.people import MOU_DATE as AS_OF, READY


def reload(engine: Engine, path: Path) -> list[str]:
    """What a server does on a change of the rules directory: load it all, swap only if it is good."""
    try:
        book = load_rulebook(path)
    except RuleError as exc:
        return [str(d.location) + ": " + d.message for d in exc.diagnostics]
    engine.load(book)
    return []


def sample(book) -> list[tuple[dict, dict]]:
    clients = [READY, {**READY, "birth_date": date(2001, 5, 16)}, {**READY, "interview_score": None},
               {**READY, "rehab_stage": "outpatient"}, {**READY, "referrer": "self", "written_test_score": 50},
               {k: v for k, v in READY.items() if k != "consent_to_share"}]
    clients = [{k: v for k, v in c.items() if v is not None} for c in clients]
    return [(c, course) for c in clients for course in book.courses.values()]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target


def test_broken_files_never_replace_the_working_ruleset(rules_dir: Path):
    good = load_rulebook(rules_dir)
    engine = Engine(good)
    try:
        pairs = sample(good)
        before = engine.decide_many(pairs, AS_OF, explain=True)
        assert {d.outcome.value for d in before} == {"ELIGIBLE", "INELIGIBLE", "PENDING"}
        for broken in sorted(BROKEN.iterdir()):
            # a broken file added next to the good ones ...
            added = rules_dir / broken.name
            shutil.copy(broken, added)
            problems = reload(engine, rules_dir)
            assert problems and all(p.startswith(str(added)) for p in problems), (broken.name, problems)
            assert engine.version == good.version and engine.rulebook is good
            assert engine.decide_many(pairs, AS_OF, explain=True) == before
            added.unlink()
            # ... or a good file replaced by a broken one
            target = rules_dir / "eligibility.rules.yaml"
            original = target.read_text()
            target.write_text(broken.read_text())
            assert reload(engine, rules_dir), broken.name
            assert engine.version == good.version
            assert [d.outcome for d in engine.decide_many(pairs, AS_OF)] == [d.outcome for d in before]
            target.write_text(original)
        # back to the good files: the same content is the same version
        assert reload(engine, rules_dir) == []
        assert engine.version == good.version
    finally:
        engine.close()


def test_one_broken_rule_in_an_otherwise_good_edit_keeps_the_old_version(rules_dir: Path):
    engine = Engine(load_rulebook(rules_dir))
    try:
        old = engine.version
        target = rules_dir / "eligibility.rules.yaml"
        text = target.read_text()
        # raise the age limit (a good change) and misspell a fact elsewhere (a bad one), in one save
        edited = text.replace("when: client.age <= 18", "when: client.age <= 20").replace(
            "client.rehab_stage == \"dropped_out\"", "client.rehab_stag == \"dropped_out\"")
        assert edited.count("client.age <= 20") == 1 and "client.rehab_stag " in edited
        target.write_text(edited)
        problems = reload(engine, rules_dir)
        assert len(problems) == 1 and "unknown fact 'client.rehab_stag'" in problems[0]
        nineteen = {**READY, "birth_date": date(2000, 1, 1)}
        assert engine.version == old
        assert engine.decide(nineteen, {}, AS_OF).outcome.value == "ELIGIBLE"  # the old limit still applies
        # fixing the typo lets the good change through: a new version, and its decisions
        target.write_text(edited.replace("client.rehab_stag ", "client.rehab_stage "))
        assert reload(engine, rules_dir) == []
        assert engine.version != old
        d = engine.decide(nineteen, {}, AS_OF)
        assert d.outcome.value == "INELIGIBLE" and d.ruleset_version == engine.version
    finally:
        engine.close()


def test_rule_tests_do_not_change_the_version(rules_dir: Path):
    before = load_rulebook(rules_dir).version
    tests = rules_dir / "eligibility.test.yaml"
    tests.write_text(tests.read_text() + "\n# a comment\n")
    assert load_rulebook(rules_dir).version == before
    (rules_dir / "courses.yaml").write_text((rules_dir / "courses.yaml").read_text() + "\n# a comment\n")
    assert load_rulebook(rules_dir).version != before  # the catalogue is part of the version
