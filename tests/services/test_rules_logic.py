"""The rules service's logic without gRPC: what is loaded, one ruleset, dry runs, reloads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bekal.services.errors import ServiceError
from bekal.services.rules.logic import RulesAdmin
from bekal.services.snapshots import ServedRules


@pytest.fixture
def notified() -> list[str]:
    """What the other worker processes were told (a supervised worker sends its supervisor SIGHUP)."""
    return []


@pytest.fixture
def admin(rules_dir: Path, notified: list[str]) -> Iterator[RulesAdmin]:
    rules = ServedRules(rules_dir)
    rules.reload()
    yield RulesAdmin(rules, lambda: notified.append("reload"))
    rules.close()


def test_list_and_get(admin: RulesAdmin):
    loaded = admin.list_rulesets()
    assert loaded.version == admin.rules.version
    assert [(r.ruleset.name, r.file) for r in loaded.rulesets] == [("eligibility", "eligibility.rules.yaml"),
                                                                   ("priority", "priority.rules.yaml")]
    assert list(loaded.course_codes) == sorted(loaded.course_codes)
    found = admin.get_ruleset("priority")
    assert found.ruleset.file == "priority.rules.yaml" and "ruleset: priority" in found.source
    with pytest.raises(ServiceError) as err:
        admin.get_ruleset("nope")
    assert err.value.code == "NOT_FOUND" and err.value.resource == ("bekal.v1.Ruleset", "nope")
    with pytest.raises(ServiceError) as err:
        admin.get_ruleset("")
    assert err.value.violations == [("name", "required")]


def test_validate_checks_the_paths_first(admin: RulesAdmin):
    with pytest.raises(ServiceError) as err:
        admin.validate([("", "x"), ("../up.yaml", "x"), ("a.txt", "x"), ("a.yaml", "x"), ("a.yaml", "y")], False)
    assert [f for f, _ in err.value.violations] == [f"files[{i}].path" for i in (0, 1, 2, 4)]
    with pytest.raises(ServiceError) as err:
        admin.validate([], overlay=False)
    assert err.value.violations == [("files", "required: at least one rule file")]
    assert admin.validate([], overlay=True).valid  # the loaded files, unchanged


def test_reload_refusal_is_a_failed_precondition_and_success_tells_the_siblings(admin: RulesAdmin, rules_dir: Path,
                                                                               notified: list[str]):
    path = rules_dir / "priority.rules.yaml"
    text = path.read_text()
    path.write_text("ruleset: [broken\n")
    with pytest.raises(ServiceError) as err:
        admin.reload()
    assert err.value.code == "FAILED_PRECONDITION" and "keeps serving" in err.value.message
    assert err.value.preconditions[0][0] == "RULES" and notified == []
    path.write_text(text.replace("+10", "+15"))
    assert admin.reload().changed and notified == ["reload"]
    assert not admin.reload().changed and notified == ["reload"]  # nothing new: nobody is told
