"""The compiler: the durable_rules JSON produced for representative conditions."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bekal.compiler import AS_OF, INDEX, MAX_EXPRESSION_ENTRIES, TAG, day_number, expression_entries
from bekal.rulebook import load_rulebook_from_texts
from tests.rules.rulefiles import rulebook_of, ruleset_text

T = {TAG: 1}


def readable(compiled, cond):
    """A durable condition with its event properties (f0, f1, ...: short, see bekal.compiler.event_keys)
    spelled as the facts they stand for (client_age), as these tests write conditions."""
    names = {key: name.replace(".", "_") for name, key in compiled.keys.items()}

    def walk(x):
        if isinstance(x, dict):
            return {names.get(k, k): (names.get(v, v) if k == "$m" else walk(v)) for k, v in x.items()}
        return [walk(i) for i in x] if isinstance(x, list) else x

    return walk(cond)


def condition(when: str) -> dict:
    """The durable condition of a one-rule ruleset, without the tag every rule tests."""
    compiled = rulebook_of(("r", when)).compiled
    m = readable(compiled, compiled.definition["r0"]["all"][0]["m"])
    items = m["$and"]
    assert items[0] == T  # every durable rule tests the tag first
    rest = items[1:]
    return rest[0] if len(rest) == 1 else {"$and": rest}


@pytest.mark.parametrize("when, expected", [
    # comparisons; equality is {prop: value}; a constant on the left is flipped to the right
    ("client.age <= 18", {"$lte": {"client_age": 18}}),
    ("client.age > 18", {"$gt": {"client_age": 18}}),
    ('client.referrer == "bnn"', {"client_referrer": "bnn"}),
    ('client.referrer != "bnn"', {"$neq": {"client_referrer": "bnn"}}),
    ("18 >= client.age", {"$lte": {"client_age": 18}}),
    # negation is pushed down to the leaves (durable_rules has no general 'not' on a message)
    ("not client.age < 18", {"$gte": {"client_age": 18}}),
    ('not client.referrer == "bnn"', {"$neq": {"client_referrer": "bnn"}}),
    ('not (client.age < 18 or client.referrer == "bnn")',
     {"$and": [{"$gte": {"client_age": 18}}, {"$neq": {"client_referrer": "bnn"}}]}),
    ("not (client.age < 18 and client.age > 60)",
     {"$or": [{"$gte": {"client_age": 18}}, {"$lte": {"client_age": 60}}]}),
    ("not not client.age < 18", {"$lt": {"client_age": 18}}),
    ("client.age < 18 and not (client.age > 3 or not client.age == 5)",
     {"$and": [{"$lt": {"client_age": 18}}, {"$lte": {"client_age": 3}}, {"client_age": 5}]}),
    # in / not in
    ('client.education in ["sd", "smp"]', {"$or": [{"client_education": "sd"}, {"client_education": "smp"}]}),
    ('client.education in ["sd"]', {"client_education": "sd"}),
    ('client.education not in ["sd", "smp"]',
     {"$and": [{"$neq": {"client_education": "sd"}}, {"$neq": {"client_education": "smp"}}]}),
    ('not client.education in ["sd", "smp"]',
     {"$and": [{"$neq": {"client_education": "sd"}}, {"$neq": {"client_education": "smp"}}]}),
    ('not client.education not in ["sd", "smp"]',
     {"$or": [{"client_education": "sd"}, {"client_education": "smp"}]}),
    # exists
    ("client.interview_score exists", {"$ex": {"client_interview_score": 1}}),
    ("client.interview_score not exists", {"$nex": {"client_interview_score": 1}}),
    ("not client.interview_score not exists", {"$ex": {"client_interview_score": 1}}),
    # arithmetic reads other facts of the same event with $m, after testing they exist (durable_rules
    # reads an absent $m property as uninitialised memory); constants are folded
    ("client.age >= course.min_age + 2",
     {"$and": [{"$ex": {"course_min_age": 1}},
               {"$gte": {"client_age": {"$add": {"$l": {"$m": "course_min_age"}, "$r": 2}}}}]}),
    ("client.age < course.max_age - course.min_age * 2",
     {"$and": [{"$ex": {"course_max_age": 1}}, {"$ex": {"course_min_age": 1}},
               {"$lt": {"client_age": {"$sub": {"$l": {"$m": "course_max_age"},
                                                "$r": {"$mul": {"$l": {"$m": "course_min_age"}, "$r": 2}}}}}}]}),
    ("client.age < course.min_age + course.min_age",
     {"$and": [{"$ex": {"course_min_age": 1}},
               {"$lt": {"client_age": {"$add": {"$l": {"$m": "course_min_age"}, "$r": {"$m": "course_min_age"}}}}}]}),
    ("client.age > 10 + 4 * 2", {"$gt": {"client_age": 18}}),
    ("client.age > 45 / 2", {"$gt": {"client_age": 22.5}}),
    # division: the dividend is made a float, so durable_rules divides truly (and never by an int zero)
    ("client.age >= course.max_age / 2",
     {"$and": [{"$ex": {"course_max_age": 1}},
               {"$gte": {"client_age": {"$div": {"$l": {"$mul": {"$l": {"$m": "course_max_age"}, "$r": 1.0}},
                                                 "$r": 2}}}}]}),
    ("client.age > 100 / course.min_age",
     {"$and": [{"$ex": {"course_min_age": 1}},
               {"$gt": {"client_age": {"$div": {"$l": 100.0, "$r": {"$m": "course_min_age"}}}}}]}),
    # a fact on both sides, also negated
    ("client.written_test_score < course.min_written_score",
     {"$and": [{"$ex": {"course_min_written_score": 1}},
               {"$lt": {"client_written_test_score": {"$m": "course_min_written_score"}}}]}),
    ("not client.age < course.min_age",
     {"$and": [{"$ex": {"course_min_age": 1}}, {"$gte": {"client_age": {"$m": "course_min_age"}}}]}),
    ("client.age == course.min_age or client.age < 3",
     {"$or": [{"$and": [{"$ex": {"course_min_age": 1}}, {"client_age": {"$m": "course_min_age"}}]},
              {"$lt": {"client_age": 3}}]}),
    # dates are day numbers since 1970-01-01
    ("client.birth_date < 2001-05-16", {"$lt": {"client_birth_date": 11458}}),
    ("client.rehab_completed_date >= 1970-01-01", {"$gte": {"client_rehab_completed_date": 0}}),
    # booleans
    ("client.consent_to_share", {"client_consent_to_share": True}),
    ("not client.consent_to_share", {"client_consent_to_share": False}),
    ("client.consent_to_share == false", {"client_consent_to_share": False}),
    # patterns: matches is durable's dialect as written, contains is a case-insensitive escaped pattern
    ('client.domicile matches "Banjar%a+"', {"$mt": {"client_domicile": "Banjar%a+"}}),
    ('client.domicile contains "a.b(1)"', {"$imt": {"client_domicile": ".*a%.b%(1%).*"}}),
])
def test_condition_json(when, expected):
    assert condition(when) == expected


def test_day_numbers():
    assert day_number(date(1970, 1, 1)) == 0
    assert day_number(date(2001, 5, 16)) == (date(2001, 5, 16) - date(1970, 1, 1)).days == 11458
    assert day_number(date(1969, 12, 31)) == -1


def test_effective_window_guards_every_rule_and_its_missing_check():
    compiled = rulebook_of(("a", "client.age <= 18"), ("p", 'client.referrer == "bnn"', 10),
                           effective=("2016-01-01", "2019-12-31")).compiled
    assert compiled.dated
    window = [{"$gte": {AS_OF: day_number(date(2016, 1, 1))}}, {"$lte": {AS_OF: day_number(date(2019, 12, 31))}}]
    for name in ("r0", "m0", "r1"):
        assert compiled.definition[name]["all"][0]["m"]["$and"][:3] == [T, *window], name
    only_from = rulebook_of(("a", "client.age <= 18"), effective=("2016-01-01", None)).compiled
    assert only_from.definition["r0"]["all"][0]["m"]["$and"][:2] == [T, window[0]]
    undated = rulebook_of(("a", "client.age <= 18")).compiled
    assert not undated.dated
    assert readable(undated, undated.definition["r0"]["all"][0]["m"]) == {"$and": [T, {"$lte": {"client_age": 18}}]}


def test_missing_checks_for_every_rule_that_needs_a_fact():
    """Priority rules too: a priority that cannot be decided is named (issue: never silently 0)."""
    compiled = rulebook_of(("i", "client.age <= 18"), ("p", "client.interview_score < 60", "pending"),
                           ("prio", 'client.referrer == "bnn"', 10), ("neg", "client.age > 90", -5)).compiled
    assert sorted(compiled.definition) == ["j0", "m0", "m1", "m2", "m3", "r0", "r1", "r2", "r3"]
    assert compiled.actions == {"r0": ("fired", 0), "m0": ("missing", 0), "r1": ("fired", 1), "m1": ("missing", 1),
                                "r2": ("fired", 2), "m2": ("missing", 2), "r3": ("fired", 3), "m3": ("missing", 3),
                                "j0": ("judged", 0)}
    # the missing check of a one-fact rule: the rule is not known false, and the fact is absent
    assert readable(compiled, compiled.definition["m0"]["all"][0]["m"]) == {"$and": [
        T, {"$or": [{"$lte": {"client_age": 18}}, {"$nex": {"client_age": 1}}]}, {"$nex": {"client_age": 1}}]}


def test_the_marker_judges_every_event_and_fallible_rules_get_judges_of_their_own():
    """The marker fires for every event read; a rule dividing by a fact (NaN is possible: 0 / 0) is
    judged on its own: applies, does not apply, or a needed fact is absent."""
    compiled = rulebook_of(("i", "client.age <= 18"),
                           ("ratio", "client.age < course.min_written_score / client.interview_score"),
                           ("const", "client.age < client.interview_score / 2")).compiled
    assert compiled.definition["j0"]["all"][0]["m"] == T
    assert [(j.index, j.rules) for j in compiled.judges] == [(0, ()), (1, (1,))]
    condition = compiled.definition["j1"]["all"][0]["m"]
    text = str(condition)
    assert "$lt" in text and "$gte" in text and "$nex" in text  # C, not C, or a needed fact absent
    assert compiled.actions["j1"] == ("judged", 1)


def test_judges_follow_effective_windows():
    book = load_rulebook_from_texts({
        "a.rules.yaml": ruleset_text(("x", "client.age > 1 / course.min_age"), effective=(None, "2019-12-31")),
        "b.rules.yaml": ruleset_text(("x", "client.age > 2 / course.min_age"), effective=("2020-01-01", None)),
    })
    judges = book.compiled.judges
    assert [(j.rules, j.effective_from, j.effective_until) for j in judges[1:]] == [
        ((0,), None, date(2019, 12, 31)), ((1,), date(2020, 1, 1), None)]
    assert [j.index for j in book.compiled.judges_in_force(date(2019, 6, 1))] == [0, 1]
    assert [j.index for j in book.compiled.judges_in_force(date(2020, 6, 1))] == [0, 2]


def test_missing_check_respects_exists_guards():
    """``course.X exists and ...``: no wait for a course without X, but a wait for the client's fact."""
    compiled = rulebook_of(("w", "course.min_written_score exists and "
                                 "client.written_test_score < course.min_written_score")).compiled
    assert compiled.rules[0].needs == ("client.written_test_score", "course.min_written_score")
    assert readable(compiled, compiled.definition["r0"]["all"][0]["m"]) == {"$and": [
        T, {"$ex": {"course_min_written_score": 1}}, {"$ex": {"course_min_written_score": 1}},
        {"$lt": {"client_written_test_score": {"$m": "course_min_written_score"}}}]}
    assert readable(compiled, compiled.definition["m0"]["all"][0]["m"]) == {"$and": [
        T,
        {"$ex": {"course_min_written_score": 1}},
        {"$or": [{"$and": [{"$ex": {"course_min_written_score": 1}},
                           {"$lt": {"client_written_test_score": {"$m": "course_min_written_score"}}}]},
                 {"$nex": {"client_written_test_score": 1}}, {"$nex": {"course_min_written_score": 1}}]},
        {"$or": [{"$nex": {"client_written_test_score": 1}}, {"$nex": {"course_min_written_score": 1}}]},
    ]}


def test_a_rule_that_only_tests_existence_has_no_missing_check():
    compiled = rulebook_of(("x", "client.interview_score not exists", "pending")).compiled
    assert sorted(compiled.definition) == ["j0", "r0"] and compiled.rules[0].needs == ()


def test_metadata_for_the_engine_and_explanations():
    book = rulebook_of(("a", "client.age <= 18 and course.min_age exists"), ("b", "course.max_age > client.age", 3))
    compiled = book.compiled
    assert compiled.client_facts == ("client.age",)
    assert compiled.course_facts == ("course.min_age", "course.max_age")
    a, b = compiled.rules
    assert (a.id, a.effect, a.points, a.facts, a.location) == ("a", "ineligible", 0, ("client.age", "course.min_age"),
                                                              "t.rules.yaml:5:5")
    assert (b.effect, b.points, b.effect_text) == ("priority", 3, "priority +3")
    json.dumps(compiled.definition)  # plain JSON, nothing Python-only


def test_event_properties_are_short_and_never_the_engines_own():
    """Every fact and parameter a version reads gets its own short property, the same for the same
    rules; none is one the engine puts in every event (tag, index, date, id, session)."""
    book = rulebook_of(("a", "client.age <= 18 and course.min_age exists"),
                       ("b", "course.max_age > client.age + course.min_age", 3))
    keys = book.compiled.keys
    assert sorted(keys) == ["client.age", "course.max_age", "course.min_age"]
    assert len(set(keys.values())) == len(keys) and all(len(k) <= 4 for k in keys.values())
    assert not set(keys.values()) & {TAG, AS_OF, INDEX, "id", "sid"}
    again = rulebook_of(("a", "client.age <= 18 and course.min_age exists"),
                        ("b", "course.max_age > client.age + course.min_age", 3))
    assert again.compiled.keys == keys and again.compiled.definition == book.compiled.definition
    text = json.dumps(book.compiled.definition)
    assert "client_age" not in text and "course_min_age" not in text


def test_durable_name_follows_the_content():
    a1 = rulebook_of(("a", "client.age <= 18"))
    a2 = rulebook_of(("a", "client.age <= 18"))
    b = rulebook_of(("a", "client.age <= 17"))
    assert a1.version == a2.version and a1.compiled.name == a2.compiled.name
    assert a1.version != b.version and a1.compiled.name != b.compiled.name
    assert a1.version.startswith("sha256:") and a1.compiled.name.startswith("bekal_")


@pytest.mark.parametrize("cond, entries", [
    ({"$lt": {"a": 1}}, 0),
    ({"a": "x"}, 0),
    ({"$ex": {"a": 1}}, 0),
    ({"$mt": {"a": "%d+"}}, 0),
    ({"$lt": {"a": {"$m": "b"}}}, 1),
    ({"a": {"$m": "b"}}, 1),
    ({"$gte": {"a": {"$add": {"$l": {"$m": "b"}, "$r": 2}}}}, 1),
    ({"$and": [{"$lt": {"a": 1}}, {"$gt": {"a": 0}}]}, 2),
    ({"$and": [{"_t": 1}, {"$or": [{"$lt": {"a": {"$m": "b"}}}, {"$nex": {"a": 1}}]}]}, 5),
])
def test_expression_entries_count_durable_rules_sequence(cond, entries):
    assert expression_entries(cond) == entries


def test_default_rules_fit_durable_rules_limits(default_rulebook):
    for name, rule in default_rulebook.compiled.definition.items():
        assert expression_entries(rule["all"][0]["m"]) <= MAX_EXPRESSION_ENTRIES, name
