"""Client ids are pseudonyms: every client id the server receives must match the configured pattern."""

from __future__ import annotations

import pytest

from bekal.serve.config import resolve
from bekal.serve.errors import ConfigError
from bekal.services import limits
from bekal.services.errors import Violations


@pytest.fixture
def pattern():
    yield limits.set_pseudonym_pattern
    limits.set_pseudonym_pattern(limits.DEFAULT_PSEUDONYM_PATTERN)


@pytest.mark.parametrize("value", ["Budi Santoso", "budi.santoso@mail", "6371012345678901 ", "x" * 65, "Siti_A"])
def test_names_and_other_non_pseudonyms_are_refused_by_default(value):
    violations: Violations = []
    limits.check_client_id(value, "client.id", violations)
    assert [f for f, _ in violations] == ["client.id"]


@pytest.mark.parametrize("value", ["BNNK-BJB-2019-0007", "A", "x" * 64])
def test_pseudonyms_pass(value):
    violations: Violations = []
    limits.check_client_id(value, "client.id", violations)
    assert violations == []


def test_an_operator_sets_another_pattern(pattern):
    pattern(r"^BNNK-[0-9]{4}$")
    ok: Violations = []
    limits.check_client_id("BNNK-0007", "client.id", ok)
    refused: Violations = []
    limits.check_client_id("BNNK-BJB-2019-0007", "client.id", refused)
    assert ok == [] and refused[0][1] == r"not a pseudonymous id: must match ^BNNK-[0-9]{4}$"


def test_the_setting_refuses_a_pattern_that_lets_names_through():
    assert resolve(env={"BEKAL_PSEUDONYM_PATTERN": r"^[A-Z]+-\d+$"}).pseudonym_pattern == r"^[A-Z]+-\d+$"
    with pytest.raises(ConfigError, match="Budi Santoso"):
        resolve(env={"BEKAL_PSEUDONYM_PATTERN": r"^.+$"})
    with pytest.raises(ConfigError, match="not a regular expression"):
        resolve(env={"BEKAL_PSEUDONYM_PATTERN": r"^[A-Z"})
