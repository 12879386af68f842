"""Sensitivity by construction: a rule that reads a BNN-only fact (in its condition or its reason text) is
BNN-only, without a flag; ``shareable: true`` on such a rule is a check error; a declared client fact is
BNN-only unless its facts file says ``sensitivity: shareable``."""

from __future__ import annotations

import pytest

from bekal.facts import BNN_ONLY_FACTS, SCHEMA, bnn_only
from bekal.lang.diagnostics import RuleError
from bekal.rulebook import load_rulebook_from_texts
from tests.rules.rulefiles import DECLARED_FACTS as FACTS
from tests.rules.rulefiles import ruleset_text


def shared(*rules: tuple, facts: str | None = None) -> dict[str, bool]:
    files = {"t.rules.yaml": ruleset_text(*rules)}
    if facts:
        files["facts.yaml"] = facts
    book = load_rulebook_from_texts(files)
    return {r.id: r.shareable for r in book.compiled.rules}


def with_line(text: str, rule_id: str, line: str) -> str:
    """``text`` with ``line`` added to the rule ``rule_id`` (after its id line)."""
    marker = f"  - id: {rule_id}\n"
    return text.replace(marker, marker + f"    {line}\n")


def test_what_a_rule_reads_decides_whether_a_training_centre_sees_it():
    got = shared(("scores", "client.written_test_score < 50"), ("stage", 'client.rehab_stage == "inpatient"'),
                 ("months", "client.days_since_rehab < 30"), ("consent", "not client.consent_to_share"))
    assert got == {"scores": True, "stage": False, "months": False, "consent": False}


def test_a_reason_that_quotes_a_bnn_only_fact_is_bnn_only_too():
    text = ruleset_text(("r", "client.age < 18", "ineligible", "stage {client.rehab_stage}"))
    book = load_rulebook_from_texts({"t.rules.yaml": text})
    assert [r.shareable for r in book.compiled.rules] == [False]


def test_shareable_true_on_a_rule_reading_a_bnn_only_fact_is_an_error_at_the_rule():
    text = with_line(ruleset_text(("stage", 'client.rehab_stage == "inpatient"')), "stage", "shareable: true")
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts({"t.rules.yaml": text})
    (d,) = err.value.diagnostics
    assert "client.rehab_stage, which only BNN may see" in d.message and d.location.line == 5


def test_shareable_false_hides_a_rule_that_reads_nothing_hidden():
    text = with_line(ruleset_text(("scores", "client.written_test_score < 50")), "scores", "shareable: false")
    assert [r.shareable for r in load_rulebook_from_texts({"t.rules.yaml": text}).compiled.rules] == [False]


def test_declared_client_facts_are_bnn_only_unless_declared_shareable():
    got = shared(("deps", "client.dependants > 5"), ("licence", "not client.driving_licence"), facts=FACTS)
    assert got == {"deps": False, "licence": True}


def test_the_schema_marks_exactly_the_rehabilitation_and_consent_facts_and_what_derives_from_them():
    hidden = {n for n, f in SCHEMA.items() if f.sensitivity == "bnn_only"}
    assert BNN_ONLY_FACTS <= hidden and "client.days_since_rehab" in hidden
    assert {n for n in hidden if not (n in BNN_ONLY_FACTS or set(SCHEMA[n].derived_from) & BNN_ONLY_FACTS)} == set()
    assert bnn_only(["client.no_such_fact", "param.min_age", "client.age"]) == ["client.no_such_fact"]
