"""The checker: every mistake an author can make that the YAML shape does not show, each reported
as ``file:line:col: message`` (with a did-you-mean where one helps)."""

from __future__ import annotations

import pytest

from bekal import facts as schema
from bekal.engine import Engine
from bekal.lang import checker
from bekal.lang.checker import check_rulesets
from bekal.lang.diagnostics import RuleError
from bekal.lang.parser import parse_file
from bekal.rulebook import load_rulebook_from_texts
from tests.rules.rulefiles import ruleset_text

WHEN_AT = "t.rules.yaml:8:7"  # where ruleset_text() puts the first rule's condition


def problems_of(when: str, effect="ineligible") -> list[tuple[str, str, str | None]]:
    """(location, message, hint) of every problem of a one-rule ruleset."""
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts({"t.rules.yaml": ruleset_text(("r", when, effect))})
    return [(str(d.location), d.message, d.hint) for d in err.value.diagnostics]


def one_problem(when: str, effect="ineligible") -> tuple[str, str, str | None]:
    found = problems_of(when, effect)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- facts and types

@pytest.mark.parametrize("when, col, message, hint", [
    ("client.agee <= 18", 7, "unknown fact 'client.agee'", "did you mean 'client.age'?"),
    ("client.age <= 18 and client.interview_scor > 1", 28, "unknown fact 'client.interview_scor'",
     "did you mean 'client.interview_score'?"),
    ("course.min_agee exists and client.age < 3", 7, "unknown fact 'course.min_agee'",
     "did you mean 'course.min_age'?"),
    ("client.rehab_stag == \"inpatient\"", 7, "unknown fact 'client.rehab_stag'", "did you mean 'client.rehab_stage'?"),
    ("client.qqqqqqqqqq > 1", 7, "unknown fact 'client.qqqqqqqqqq'", None),  # nothing close: no guess
    ("clinet.age > 1", 7, "unknown fact 'clinet.age'", "facts start with client. or course."),
    ("client.preferences == \"x\"", 7, "unknown fact 'client.preferences'", "did you mean 'client.referrer'?"),
])
def test_unknown_fact_with_did_you_mean(when, col, message, hint):
    loc, msg, h = one_problem(when)
    assert (loc, msg) == (f"t.rules.yaml:8:{col}", message)
    if hint is None:
        assert h and "did you mean" not in h  # says how to declare a new fact instead
    else:
        assert h.startswith(hint)


@pytest.mark.parametrize("when, col, message", [
    ('client.age <= "18"', 7, "cannot compare a number with a string"),
    ("client.referrer == 1", 7, "cannot compare an enum with a number"),
    ("client.birth_date < 3", 7, "cannot compare a date with a number"),
    ("client.consent_to_share == 1", 7, "cannot compare a bool with a number"),
    ("client.age == client.birth_date", 7, "cannot compare a number with a date"),
    ('client.age in ["a"]', 22, "client.age is a number, this is a string"),
    ("client.birth_date + 1 > client.age", 7, "arithmetic needs numbers, this is a date"),
    ("client.age matches \"%d\"", 7, "'matches' needs text, client.age is a number"),
    ("client.age", 7, "a number is not a condition"),
    ("client.domicile", 7, "a string is not a condition"),
    ("true", 7, "a constant is not a condition"),
    ("client.education in []", 7, "empty list after 'in'"),
    ('client.domicile contains ""', 32, "empty text after 'contains'"),
])
def test_type_mismatches(when, col, message):
    loc, msg, _ = one_problem(when)
    assert (loc, msg) == (f"t.rules.yaml:8:{col}", message)


def test_ordering_on_an_enum_is_rejected_with_the_numeric_alternative():
    loc, msg, hint = one_problem('client.education < "sma"')
    assert loc == WHEN_AT
    assert msg == "'<' needs numbers or dates; a enum can only be compared with == or !=" or \
        msg == "'<' needs numbers or dates; an enum can only be compared with == or !="
    assert hint == "for education use the number client.education_level"
    # equality on an enum is fine, and so is ordering the derived number
    load_rulebook_from_texts({"t.rules.yaml": ruleset_text(("r", 'client.education == "sma"'),
                                                           ("s", "client.education_level < 3"))})


@pytest.mark.parametrize("when, col, message, hint", [
    ('client.education == "sma2"', 27, "client.education has no value 'sma2'", "did you mean 'sma'?"),
    ('client.rehab_stage in ["inpatient", "outpatiant"]', 43, "client.rehab_stage has no value 'outpatiant'",
     "did you mean 'outpatient'?"),
    ('client.rehab_stage != "post_rehab"', 29, "client.rehab_stage has no value 'post_rehab'",
     "did you mean 'post_rehabilitation'?"),
    ('"bnm" == client.referrer', 7, "client.referrer has no value 'bnm'", "did you mean 'bnn'?"),
])
def test_unknown_enum_value_with_did_you_mean(when, col, message, hint):
    loc, msg, h = one_problem(when)
    assert (loc, msg) == (f"t.rules.yaml:8:{col}", message)
    assert h.startswith(hint) and "values:" in h


def test_enum_values_come_from_the_protos():
    assert schema.SCHEMA["client.rehab_stage"].values == (
        "assessment", "inpatient", "outpatient", "post_rehabilitation", "dropped_out")
    assert schema.SCHEMA["client.referrer"].values == ("bnn", "self", "other_agency")
    assert schema.SCHEMA["client.birth_date"].type == schema.DATE
    assert schema.SCHEMA["course.min_age"].type == schema.NUMBER
    assert schema.SCHEMA["client.age"].derived_from == ("client.birth_date",)
    assert "client.preferences" not in schema.SCHEMA  # repeated fields are not facts


# ---------------------------------------------------------------- patterns and durable_rules' limits

@pytest.mark.parametrize("pattern, col, message", [
    ("ab(%d", 34, "bad pattern: '(' is never closed with ')'"),
    ("ab)", 34, "bad pattern: ')' without '('"),
    ("*ab", 32, "bad pattern: '*' has nothing to repeat"),
    ("[ab", 32, "bad pattern: '[' is never closed with ']'"),
    ("a%q", 33, "bad pattern: unknown class '%q'; classes are %a %c %d %l %p %s %u %w %x"),
    ("a{x}", 33, "bad pattern: a repeat is written {n} or {n,m} with whole numbers"),
    ("abc%", 35, "bad pattern: pattern ends with '%'; write %% for a percent sign"),
    ("", 32, "bad pattern: empty pattern"),
])
def test_bad_pattern_points_into_the_pattern(pattern, col, message):
    loc, msg, hint = one_problem(f'client.domicile matches "{pattern}"')
    assert (loc, msg) == (f"t.rules.yaml:8:{col}", message)
    assert "%d digit" in hint


@pytest.mark.parametrize("pattern", ["Banjar%a+", "%d%d%d", "(a|b)+c?", "[0-9-]{2,4}", "100%%", "a.b*"])
def test_good_patterns_pass(pattern):
    load_rulebook_from_texts({"t.rules.yaml": ruleset_text(("r", f'client.domicile matches "{pattern}"'))})


def test_a_pattern_durable_rules_cannot_read_is_reported_at_the_pattern():
    """durable_rules 2.0.28 does not take classes inside a set ([%d]): found by trying the pattern."""
    loc, msg, _hint = one_problem('client.domicile matches "[%d%-]{2,4}"')
    assert (loc, msg) == ("t.rules.yaml:8:31", "durable_rules cannot read this pattern")


@pytest.mark.parametrize("when", ['not client.domicile matches "a"', 'not client.domicile contains "a"',
                                  'not (client.age > 3 and client.domicile matches "a")'])
def test_negated_match_is_rejected(when):
    loc, msg, hint = one_problem(when)
    assert msg.startswith("durable_rules cannot negate '")
    assert hint == "write the rule the other way round, with a positive match"


@pytest.mark.parametrize("effect, hint", [
    ("ineligable", "did you mean 'ineligible'? use ineligible, pending or priority: +N"),
    ("pendin", "did you mean 'pending'? use ineligible, pending or priority: +N"),
    ("allow", "use ineligible, pending or priority: +N"),
])
def test_unknown_effect(effect, hint):
    assert one_problem("client.age <= 18", effect) == ("t.rules.yaml:9:13", f"unknown effect '{effect}'", hint)


@pytest.mark.parametrize("when, message", [
    ("client.age + 1 > 18", "one side of a comparison must be a single fact"),
    ("client.age + 1 > course.min_age - 1", "one side of a comparison must be a single fact"),
    ("(client.age) * 2 > 18", "one side of a comparison must be a single fact"),
    ("3 > 2", "this compares two constants"),
])
def test_one_side_must_be_a_fact(when, message):
    assert one_problem(when)[:2] == (WHEN_AT, message)


def test_arithmetic_on_the_other_side_is_fine():
    load_rulebook_from_texts({"t.rules.yaml": ruleset_text(("r", "client.age >= course.min_age + 2 * 3"),
                                                           ("s", "18 + 1 < client.age"))})


@pytest.mark.parametrize("when, col", [("client.age > course.min_age / 0", 37),
                                       ("client.age > 1 / (2 - 2)", 25)])
def test_division_by_a_constant_zero(when, col):
    assert one_problem(when)[:2] == (f"t.rules.yaml:8:{col}", "division by zero")


def test_too_many_expressions_for_one_durable_rule():
    ok = " or ".join(f"client.age == {i}" for i in range(checker.MAX_RULE_EXPRESSIONS))
    load_rulebook_from_texts({"t.rules.yaml": ruleset_text(("r", ok))})
    too_many = ok + " or client.age == 99"
    assert one_problem(too_many)[:2] == (WHEN_AT, "condition has 33 comparisons; durable_rules allows 32")
    values = ", ".join(f"{i}" for i in range(33))
    assert one_problem(f"client.age in [{values}]")[1] == "condition has 33 comparisons; durable_rules allows 32"


@pytest.mark.parametrize("when, effect, n_ok", [
    # each top-level part of an ineligible rule costs its missing-fact check an $or group
    (lambda n: " and ".join(f"client.written_test_score != {i}" for i in range(n)), "ineligible", 14),
    (lambda n: " and ".join(f"client.written_test_score != course.min_written_score + {i}" for i in range(n)),
     "ineligible", 5),
    # a priority rule has a missing-fact check too (an undecidable priority is named, not silently 0)
    (lambda n: " or ".join(f"client.written_test_score == course.min_written_score + {i}" for i in range(n)), 7, 8),
])
def test_conditions_durable_rules_would_refuse_are_found_by_the_check(when, effect, n_ok):
    """durable_rules refuses a rule whose expression sequence reaches 32 entries (error 113). The
    check must say so at the condition, not leave it to the engine's load: exactly at the limit
    the engine accepts the rule, one part more and the check refuses it."""
    book = load_rulebook_from_texts({"t.rules.yaml": ruleset_text(("r", when(n_ok), effect))})
    Engine(book).close()
    loc, msg, hint = one_problem(when(n_ok + 1), effect)
    assert loc == WHEN_AT
    assert msg.startswith("condition is too complex for durable_rules: it takes ") and msg.endswith(", at most 31")
    assert hint == "split it into several rules"


def test_too_many_facts_for_one_durable_rules_event():
    """All rulesets run in one event of at most 255 properties (4 reserved): a synthetic schema
    with 300 facts, read 32 per rule, overflows it; the problem is reported once, at the ruleset
    where the limit is crossed."""
    facts = {f"client.f{i}": schema.Fact(f"client.f{i}", schema.NUMBER) for i in range(300)}

    def rulesets(n_facts: int):
        rules = []
        for r, start in enumerate(range(0, n_facts, 32)):
            when = " or ".join(f"client.f{i} > 0" for i in range(start, min(start + 32, n_facts)))
            rules.append((f"r{r}", when))
        half = len(rules) // 2
        a = parse_file("a.yaml", ruleset_text(*rules[:half], name="a")).rulesets[0]
        b = parse_file("b.yaml", ruleset_text(*rules[half:], name="b")).rulesets[0]
        return [a, b]

    assert check_rulesets(rulesets(251), facts) == []
    found = check_rulesets(rulesets(252), facts)
    assert [(str(d.location), d.message) for d in found] == [
        ("b.yaml:1:1", "the rules read 252 facts; one durable_rules event holds at most 251")]
    found = check_rulesets(rulesets(300), facts)
    assert len(found) == 1 and "read 300 facts" in found[0].message
    # the same 300 facts with the real schema are simply unknown: the schema decides what exists
    assert all("unknown fact" in d.message for d in check_rulesets(rulesets(40)))


# ---------------------------------------------------------------- rule ids and rulesets

def test_duplicate_rule_id_in_one_file():
    found = problems_of_files({"t.rules.yaml": ruleset_text(("same", "client.age <= 18"), ("same", "client.age > 60"))})
    assert found == [("t.rules.yaml:12:9", "duplicate rule id 'same' (first at t.rules.yaml:5:9)")]


def test_duplicate_rule_id_across_files():
    found = problems_of_files({"a.rules.yaml": ruleset_text(("same", "client.age <= 18"), name="a"),
                               "b.rules.yaml": ruleset_text(("same", "client.age > 60"), name="b")})
    assert found == [("b.rules.yaml:5:9", "duplicate rule id 'same' (first at a.rules.yaml:5:9)")]


def test_versions_of_one_ruleset_may_reuse_ids_but_not_overlap():
    v1 = ruleset_text(("age", "client.age <= 18"), effective=("2016-01-01", "2019-12-31"))
    v2 = ruleset_text(("age", "client.age <= 17"), effective=("2020-01-01", None))
    load_rulebook_from_texts({"v1.rules.yaml": v1, "v2.rules.yaml": v2})
    v2_overlapping = ruleset_text(("age", "client.age <= 17"), effective=("2019-12-31", None))
    found = problems_of_files({"v1.rules.yaml": v1, "v2.rules.yaml": v2_overlapping})
    assert found == [("v2.rules.yaml:1:1", "ruleset 'eligibility' in v2.rules.yaml overlaps its version in "
                                           "v1.rules.yaml (v1.rules.yaml:1:1): a date would have two versions")]
    # no dates at all means always in force: two such versions overlap
    found = problems_of_files({"a.rules.yaml": ruleset_text(("x", "client.age <= 18")),
                               "b.rules.yaml": ruleset_text(("x", "client.age <= 18"))})
    assert [m for _, m in found] == ["ruleset 'eligibility' in b.rules.yaml overlaps its version in a.rules.yaml "
                                     "(a.rules.yaml:1:1): a date would have two versions"]


def test_a_gap_between_versions_is_a_check_error_naming_both_files():
    """The README's old recipe: close the file on 2019-12-30 and start the new version on 2020-01-01.
    2019-12-31 would have no eligibility rules: refused at check time, with the fix."""
    v1 = ruleset_text(("age", "client.age <= 18"), effective=("2016-01-01", "2019-12-30"))
    v2 = ruleset_text(("age", "client.age <= 17"), effective=("2020-01-01", None))
    (problem,) = [d for d in _diagnostics({"v1.rules.yaml": v1, "v2.rules.yaml": v2})]
    assert str(problem.location) == "v2.rules.yaml:1:1"
    assert problem.message == ("ruleset 'eligibility' is not in force from 2019-12-31 to 2019-12-31: "
                               "v1.rules.yaml ends on 2019-12-30, v2.rules.yaml starts on 2020-01-01")
    assert problem.hint == "let v2.rules.yaml start on 2019-12-31, or v1.rules.yaml end on 2019-12-31"


def test_a_version_that_drops_a_rule_must_retire_it_with_a_reason():
    v1 = ruleset_text(("age", "client.age <= 18"), ("edu", "client.education_level < 1"),
                      effective=("2016-01-01", "2019-12-31"))
    v2 = ruleset_text(("age", "client.age <= 17"), effective=("2020-01-01", None))
    (problem,) = _diagnostics({"v1.rules.yaml": v1, "v2.rules.yaml": v2})
    assert (str(problem.location), problem.message) == (
        "v2.rules.yaml:1:1", "this version of ruleset 'eligibility' drops rule(s) edu of v1.rules.yaml")
    assert "retired: [{id: edu, reason: ...}]" in problem.hint
    retiring = v2.replace("rules:\n", "retired:\n  - id: edu\n    reason: dihapus oleh MoU 2020\nrules:\n", 1)
    book = load_rulebook_from_texts({"v1.rules.yaml": v1, "v2.rules.yaml": retiring})
    assert book.rulesets[1].retired[0].reason == "dihapus oleh MoU 2020"
    wrong = v2.replace("rules:\n", "retired:\n  - {id: age, reason: x}\n  - {id: nope, reason: y}\nrules:\n", 1)
    found = {d.message for d in _diagnostics({"v1.rules.yaml": v1, "v2.rules.yaml": wrong})}
    assert found == {"retired rule 'age' is still in this version",
                     "retired rule 'nope' is not in the previous version (v1.rules.yaml)",
                     "this version of ruleset 'eligibility' drops rule(s) edu of v1.rules.yaml"}


def _diagnostics(files: dict[str, str]):
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts(files)
    return err.value.diagnostics


def test_nothing_is_decided_without_the_eligibility_ruleset():
    """Priority rules alone would call everyone ELIGIBLE."""
    (problem,) = _diagnostics({"p.rules.yaml": ruleset_text(("bnn", 'client.referrer == "bnn"', 10), name="priority")})
    assert problem.message == "no ruleset named 'eligibility'"


def test_reason_template_must_name_known_facts():
    text = ruleset_text(("r", "client.age <= 18")).replace('en: "b"', 'en: "age {client.agee}"')
    found = problems_of_files({"t.rules.yaml": text})
    assert found == [("t.rules.yaml:10:25", "reason mentions unknown fact {client.agee}")]


def test_every_problem_across_files_is_reported_in_file_order():
    found = problems_of_files({
        "b.rules.yaml": ruleset_text(("b1", "client.agee <= 18"), name="b"),
        "a.rules.yaml": ruleset_text(("a1", 'client.education < "sma"'), ("a2", "client.age <= 18"), name="a"),
    })
    assert [loc for loc, _ in found] == ["a.rules.yaml:8:7", "b.rules.yaml:8:7"]


def test_well_formed_rules_of_a_broken_file_are_still_checked():
    text = ruleset_text(("a", "client.age <= 18", "ineligable"), ("b", "client.agee > 1"))
    found = problems_of_files({"t.rules.yaml": text})
    assert [m for _, m in found] == ["unknown effect 'ineligable'", "unknown fact 'client.agee'"]


def problems_of_files(files: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts(files)
    return [(str(d.location), d.message) for d in err.value.diagnostics]


@pytest.mark.parametrize("when, col", [("client.written_test_score < 1e20", 35),
                                       ("client.written_test_score < 0.00001", 35),
                                       ("client.written_test_score < 0.001 * 0.01", 35),
                                       ("client.written_test_score < 99999999999999999", 35)])
def test_numbers_durable_rules_would_misread_are_refused_where_written(when, col):
    """durable_rules 2.0.28 reads 1e-05 or 1E2 as no number at all: a rule constant must be plain."""
    loc, msg, hint = one_problem(when)
    assert loc == f"t.rules.yaml:8:{col}" and msg.endswith("cannot be handed to durable_rules exactly")
    assert "written out plainly" in hint


def test_reason_templates_with_stray_braces_are_refused():
    text = ruleset_text(("r", "client.age <= 18")).replace('en: "b"', 'en: "age {client.age"')
    (problem,) = _diagnostics({"t.rules.yaml": text})
    assert problem.message == "reason: unbalanced '{'"
    text = ruleset_text(("r", "client.age <= 18")).replace('en: "b"', 'en: "age {Client.Age}"')
    (problem,) = _diagnostics({"t.rules.yaml": text})
    assert problem.message == "reason: {Client.Age} is not a fact placeholder such as {client.age}"
