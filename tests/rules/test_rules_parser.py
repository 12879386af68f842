"""The parser: the condition language (precedence, operators, literals), positions of every node
in the file (plain, multi-line, block and quoted scalars), and the shape of rule files."""

from __future__ import annotations

from datetime import date

import pytest

from bekal.lang import ast
from bekal.lang.diagnostics import Location, RuleError
from bekal.lang.expr import parse_condition
from bekal.lang.parser import parse_file
from bekal.rulebook import load_rulebook_from_texts
from tests.rules.rulefiles import ruleset_text

START = Location("c.yaml", 1, 1)


def sx(node) -> str:
    """A syntax tree as a compact s-expression, so a test shows the structure it expects."""
    if isinstance(node, ast.FactRef):
        return node.name
    if isinstance(node, ast.Literal):
        v = node.value
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, date):
            return f"date:{v.isoformat()}"
        return repr(v)
    if isinstance(node, (ast.Arith, ast.Compare)):
        return f"({node.op} {sx(node.left)} {sx(node.right)})"
    if isinstance(node, ast.In):
        return f"({'not-in' if node.negated else 'in'} {sx(node.value)} [{' '.join(sx(i) for i in node.items)}])"
    if isinstance(node, ast.Exists):
        return f"({'not-exists' if node.negated else 'exists'} {sx(node.value)})"
    if isinstance(node, ast.Match):
        return f'({node.op} {sx(node.value)} "{node.pattern}")'
    if isinstance(node, (ast.And, ast.Or)):
        return f"({'and' if isinstance(node, ast.And) else 'or'} {' '.join(sx(i) for i in node.items)})"
    if isinstance(node, ast.Not):
        return f"(not {sx(node.item)})"
    raise AssertionError(f"unexpected node {node!r}")


def cond(text: str) -> str:
    return sx(parse_condition(text, START))


# ---------------------------------------------------------------- the condition language

@pytest.mark.parametrize("text, expected", [
    # comparisons
    ("client.age <= 18", "(<= client.age 18)"),
    ("client.age<18", "(< client.age 18)"),
    ("client.age >= 18", "(>= client.age 18)"),
    ("client.age > 18", "(> client.age 18)"),
    ("client.referrer == \"bnn\"", '(== client.referrer "bnn")'),
    ("client.referrer != 'bnn'", '(!= client.referrer "bnn")'),
    ("18 >= client.age", "(>= 18 client.age)"),
    # precedence: not binds tighter than and, and tighter than or
    ("client.age < 1 or client.age > 2 and client.age != 5",
     "(or (< client.age 1) (and (> client.age 2) (!= client.age 5)))"),
    ("client.age < 1 and client.age > 2 or client.age != 5",
     "(or (and (< client.age 1) (> client.age 2)) (!= client.age 5))"),
    ("not client.age < 3 and client.age > 1", "(and (not (< client.age 3)) (> client.age 1))"),
    ("not (client.age < 3 and client.age > 1)", "(not (and (< client.age 3) (> client.age 1)))"),
    ("(client.age < 1 or client.age > 2) and client.age != 5",
     "(and (or (< client.age 1) (> client.age 2)) (!= client.age 5))"),
    ("not not client.consent_to_share", "(not (not client.consent_to_share))"),
    ("client.age < 1 and client.age < 2 and client.age < 3",
     "(and (< client.age 1) (< client.age 2) (< client.age 3))"),
    ("client.age < 1 or client.age < 2 or client.age < 3", "(or (< client.age 1) (< client.age 2) (< client.age 3))"),
    # arithmetic: * / before + -, left associative, parentheses
    ("client.age >= course.min_age + 2 * 3", "(>= client.age (+ course.min_age (* 2 3)))"),
    ("client.age > course.min_age - 1 - 2", "(> client.age (- (- course.min_age 1) 2))"),
    ("client.age > (course.min_age + 1) * 2", "(> client.age (* (+ course.min_age 1) 2))"),
    ("client.age < course.max_age / 2 + 1", "(< client.age (+ (/ course.max_age 2) 1))"),
    ("client.written_test_score >= -1.5", "(>= client.written_test_score -1.5)"),
    # in / not in
    ('client.education in ["sma", "smk"]', '(in client.education ["sma" "smk"])'),
    ("client.education not in ['sd']", '(not-in client.education ["sd"])'),
    ("client.age in [18, 19.5, -1]", "(in client.age [18 19.5 -1])"),
    ('not client.education in ["sd"]', '(not (in client.education ["sd"]))'),
    # exists / not exists
    ("client.interview_score exists", "(exists client.interview_score)"),
    ("client.interview_score not exists", "(not-exists client.interview_score)"),
    ("not client.interview_score exists", "(not (exists client.interview_score))"),
    ("course.min_age exists and client.age < course.min_age",
     "(and (exists course.min_age) (< client.age course.min_age))"),
    # matches / contains
    ('client.domicile matches "Banjar%a+"', '(matches client.domicile "Banjar%a+")'),
    ("client.domicile contains 'baru'", '(contains client.domicile "baru")'),
    # dates and booleans
    ("client.birth_date < 2001-05-16", "(< client.birth_date date:2001-05-16)"),
    ("client.consent_to_share == true", "(== client.consent_to_share true)"),
    ("client.consent_to_share == false", "(== client.consent_to_share false)"),
    ("client.consent_to_share", "client.consent_to_share"),
    # names that start with a keyword are names; comments and line breaks are ignored
    ("client.order > 1 and client.notes == 2", "(and (> client.order 1) (== client.notes 2))"),
    ("client.age <= 18  # the MoU says above 18", "(<= client.age 18)"),
    ("client.age <= 18\n  or\n  client.age > 60", "(or (<= client.age 18) (> client.age 60))"),
])
def test_condition_structure(text, expected):
    assert cond(text) == expected


def test_literal_types():
    c = parse_condition("client.birth_date < 2001-05-16", START)
    assert c.right.value == date(2001, 5, 16) and type(c.right.value) is date
    assert type(parse_condition("client.age < 18", START).right.value) is int
    assert type(parse_condition("client.age < 18.0", START).right.value) is float
    assert parse_condition("client.consent_to_share == true", START).right.value is True


@pytest.mark.parametrize("text, where, message", [
    ("client.age = 3", "c.yaml:1:12", "unexpected '='"),
    ("client.age > 3 && client.age < 9", "c.yaml:1:16", "unexpected '&'"),
    ("client.age >", "c.yaml:1:13", "condition ends too early"),
    ("client.age <= 18 or", "c.yaml:1:20", "condition ends too early"),
    ("client.age <= <= 18", "c.yaml:1:15", "unexpected <="),
    ('client.referrer == "bnn', "c.yaml:1:20", "unterminated string"),
    ("client.birth_date < 2019-02-30", "c.yaml:1:21", "not a real date: 2019-02-30"),
    ("client.age in [client.x]", "c.yaml:1:16", "unexpected client"),
    ("(client.age < 3", "c.yaml:1:16", "condition ends too early"),
    ("client.age < 3)", "c.yaml:1:15", "unexpected )"),
    ("   ", "c.yaml:1:1", "empty condition"),
    ("client.age <= 18\n  and > 2", "c.yaml:2:7", "unexpected >"),
])
def test_condition_syntax_errors(text, where, message):
    with pytest.raises(RuleError) as err:
        parse_condition(text, START)
    [d] = err.value.diagnostics
    assert (str(d.location), d.message) == (where, message)


def test_condition_error_hints():
    with pytest.raises(RuleError) as err:
        parse_condition("client.age = 3", START)
    assert "==" in err.value.diagnostics[0].hint
    with pytest.raises(RuleError) as err:
        parse_condition("client.age >", START)
    assert "a number" in err.value.diagnostics[0].hint and "a fact such as client.age" in err.value.diagnostics[0].hint


# ---------------------------------------------------------------- positions in the file

def _rules(text: str):
    return {r.id: r for r in parse_file("f.yaml", text).rulesets[0].rules}


def _at(text: str, loc: Location) -> str:
    """The file text from a location to the end of its line."""
    return text.splitlines()[loc.line - 1][loc.col - 1:]


POSITIONS = """\
ruleset: t
title: T
source: S
rules:
  - id: plain
    description: d
    when: client.age <= 18 and client.referrer == "bnn"
    effect: ineligible
    reason: {id: a, en: b}
    source: {interpretation: s, of: t}
  - id: plain-multi-line
    description: d
    when: client.age <= 18
      and course.min_age exists
          and client.domicile contains "banjar"
    effect: ineligible
    reason: {id: a, en: b}
    source: {interpretation: s, of: t}
  - id: literal-block
    description: d
    when: |
      client.age <= 18 or
        client.education in ["sd", "smp"]
    effect: pending
    reason: {id: a, en: b}
    source: {interpretation: s, of: t}
  - id: folded-block
    description: d
    when: >-
        not client.interview_score exists and
        client.written_test_score < course.min_written_score + 5
    effect:
      priority: +3
    reason: {id: a, en: b}
    source: {interpretation: s, of: t}
  - id: double-quoted
    description: d
    when: "client.referrer == \\"bnn\\" and client.age < 3"
    effect: ineligible
    reason: {id: a, en: b}
    source: {interpretation: s, of: t}
  - id: single-quoted
    description: d
    when: 'client.referrer == ''bnn'' and client.age < 3'
    effect: ineligible
    reason: {id: a, en: b}
    source: {interpretation: s, of: t}
  - id: quoted-multi-line
    description: d
    when: "client.age <= 18 or
        client.age > 60"
    effect: ineligible
    reason: {id: a, en: b}
    source: {interpretation: s, of: t}
"""


@pytest.mark.parametrize("rule_id", ["plain", "plain-multi-line", "literal-block", "folded-block", "double-quoted",
                                     "single-quoted", "quoted-multi-line"])
def test_every_node_points_at_its_text_in_the_file(rule_id):
    rule = _rules(POSITIONS)[rule_id]
    refs = ast.facts_in(rule.when)
    assert refs
    for ref in refs:
        assert ref.loc.file == "f.yaml"
        assert _at(POSITIONS, ref.loc).startswith(ref.name), (ref.name, ref.loc)

    def literals(node):
        if isinstance(node, ast.Literal):
            yield node
        elif not isinstance(node, ast.FactRef):
            for name in node.__slots__:
                child = getattr(node, name)
                for c in child if isinstance(child, tuple) else (child,):
                    if hasattr(c, "__slots__") and not isinstance(c, Location):
                        yield from literals(c)

    for lit in literals(rule.when):
        text = _at(POSITIONS, lit.loc)
        if isinstance(lit.value, str):
            assert text[0] in "\"'\\" and lit.value in text.replace("''", "'"), (lit, text)
        else:
            assert text.startswith(str(lit.value)), (lit, text)


@pytest.mark.parametrize("rule_id, expected", [
    ("plain", [("client.age", 7, 11), ("client.referrer", 7, 32)]),
    ("plain-multi-line", [("client.age", 13, 11), ("course.min_age", 14, 11), ("client.domicile", 15, 15)]),
    ("literal-block", [("client.age", 22, 7), ("client.education", 23, 9)]),
    ("folded-block", [("client.interview_score", 30, 13), ("client.written_test_score", 31, 9),
                      ("course.min_written_score", 31, 37)]),
    ("double-quoted", [("client.referrer", 38, 12), ("client.age", 38, 43)]),
    ("single-quoted", [("client.referrer", 44, 12), ("client.age", 44, 43)]),
    ("quoted-multi-line", [("client.age", 50, 12), ("client.age", 51, 9)]),
])
def test_exact_positions(rule_id, expected):
    refs = ast.facts_in(_rules(POSITIONS)[rule_id].when)
    assert [(r.name, r.loc.line, r.loc.col) for r in refs] == expected


def test_rule_and_effect_positions():
    rules = _rules(POSITIONS)
    assert (rules["plain"].loc.line, rules["plain"].loc.col) == (5, 5)
    assert (rules["plain"].id_loc.line, rules["plain"].id_loc.col) == (5, 9)
    assert (rules["plain"].effect.loc.line, rules["plain"].effect.loc.col) == (8, 13)
    assert rules["folded-block"].effect.kind == "priority" and rules["folded-block"].effect.points == 3
    assert rules["plain-multi-line"].when.loc == Location("f.yaml", 13, 11)
    assert rules["literal-block"].reason_en.loc.line == 25


@pytest.mark.parametrize("when, where", [
    # plain scalar, error on its first line and on a continuation line
    ("    when: client.age <= (18\n", "f.yaml:7:28"),
    ("    when: client.age <= 18\n      and client.agee > 2\n", "f.yaml:8:11"),
    # block scalar: the condition starts on the next line, at its own indentation
    ("    when: |\n      client.age <= 18 and\n        client.age >> 2\n", "f.yaml:9:21"),
    # quoted scalars, with an escape before the error
    ('    when: "client.referrer == \\"bnn\\" and client.agee < 3"\n', "f.yaml:7:43"),
    ("    when: 'client.referrer == ''bnn'' and client.agee < 3'\n", "f.yaml:7:43"),
    ('    when: "client.age <= 18 and\n      client.agee > 3"\n', "f.yaml:8:7"),
])
def test_error_positions_in_every_scalar_style(when, where):
    text = ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n" + when
            + "    effect: ineligible\n    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n")
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts({"f.yaml": text})
    assert str(err.value.diagnostics[0].location) == where, err.value


# ---------------------------------------------------------------- rule file shape

GOOD_RULE = "  - id: r\n    description: d\n    when: client.age <= 18\n    effect: ineligible\n" \
            "    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n"


def _problems(text: str) -> list[str]:
    with pytest.raises(RuleError) as err:
        parse_file("f.yaml", text)
    return [f"{d.location}: {d.message}" for d in err.value.diagnostics]


def test_a_well_formed_file_parses_completely():
    f = parse_file("f.yaml", ruleset_text(("r1", "client.age <= 18"), ("r2", 'client.referrer == "bnn"', 10),
                                          name="eligibility", effective=("2016-01-01", "2019-12-31")))
    [rs] = f.rulesets
    assert (rs.name, rs.title, rs.source) == ("eligibility", "T", "S")
    assert (rs.effective_from, rs.effective_until) == (date(2016, 1, 1), date(2019, 12, 31))
    assert [r.id for r in rs.rules] == ["r1", "r2"]
    assert str(rs.rules[1].effect) == "priority +10"
    assert rs.rules[0].reason_id.value == "a" and rs.rules[0].reason_en.value == "b"
    assert rs.rules[0].shareable is None  # undeclared: decided from the facts it reads (checker.shareable)
    assert rs.in_force(date(2019, 12, 31)) and not rs.in_force(date(2020, 1, 1))
    assert not rs.in_force(date(2015, 12, 31))


@pytest.mark.parametrize("text, expected", [
    ("", ["f.yaml:1:1: empty file"]),
    ("# only a comment\n", ["f.yaml:1:1: empty file"]),
    ("- a\n- b\n", ["f.yaml:1:1: a rule file must be a mapping of key: value"]),
    ("title: x\n", ["f.yaml:1:1: cannot tell what this file is"]),
    ("ruleset: a\ncourses: []\n", ["f.yaml:1:1: cannot tell what this file is"]),
    ("ruleset: t\ntitle: T\nsource: S\n", ["f.yaml:1:1: missing 'rules'"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules: []\n", ["f.yaml:4:8: 'rules' must be a non-empty list of rules"]),
    ("ruleset: t\ntitle: T\nrules:\n" + GOOD_RULE, ["f.yaml:1:1: missing 'source'"]),
    ("ruleset: Bad Name\ntitle: T\nsource: S\nrules:\n" + GOOD_RULE,
     ["f.yaml:1:10: ruleset name 'Bad Name' must be lower case letters, digits, '-', '_' or '.'"]),
    ("ruleset: t\ntitle: T\nsource: S\nrule:\n" + GOOD_RULE,
     ["f.yaml:1:1: missing 'rules'", "f.yaml:5:3: unknown key 'rule' in ruleset"]),
    ("ruleset: t\ntitle: T\nsource: S\neffective: {from: 2020-01-01, until: 2019-01-01}\nrules:\n" + GOOD_RULE,
     ["f.yaml:4:38: effective.until is before effective.from"]),
    ("ruleset: t\ntitle: T\nsource: S\neffective: {from: soon}\nrules:\n" + GOOD_RULE,
     ["f.yaml:4:19: effective.from must be a date YYYY-MM-DD"]),
    ("ruleset: t\ntitle: T\nsource: S\ntitle: U\nrules:\n" + GOOD_RULE, ["f.yaml:4:1: duplicate key 'title'"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    when: client.age <= 18\n"
     "    effect: ineligible\n    source: {interpretation: s, of: t}\n", ["f.yaml:5:5: missing 'reason'"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    effect: ineligible\n"
     "    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n", ["f.yaml:5:5: missing 'when'"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: R 1\n    description: d\n    when: client.age <= 18\n"
     "    effect: ineligible\n    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n",
     ["f.yaml:5:9: rule id 'R 1' must be lower case letters, digits, '-', '_' or '.'"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    when: client.age <= 18\n"
     "    effect: ineligible\n    reason: {id: a}\n    source: {interpretation: s, of: t}\n",
     ["f.yaml:9:13: missing 'en'"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    when: client.age <= 18\n"
     "    effect: {priority: 0}\n    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n",
     ["f.yaml:8:24: priority must be a whole number of points, e.g. +10 or -5"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    when: client.age <= 18\n"
     "    effect: ineligible\n    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n"
     "    shareable: maybe\n",
     ["f.yaml:11:16: 'shareable' must be true or false"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    when: client.age <= 18\n"
     "    efect: ineligible\n    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n",
     ["f.yaml:5:5: missing 'effect'", "f.yaml:8:12: unknown key 'efect' in rule"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    when: [client.age]\n"
     "    effect: ineligible\n    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n",
     ["f.yaml:7:11: 'when' must be a condition written as text"]),
    ("ruleset: t\ntitle: T\nsource: S\nrules:\n  - just text\n",
     ["f.yaml:5:5: a rule must be a mapping of key: value"]),
])
def test_rule_file_shape_errors(text, expected):
    assert _problems(text) == expected


def test_every_problem_of_a_file_is_reported_at_once():
    text = ruleset_text(("a", "client.age <= <= 18"), ("b", 'client.referrer == "bnn'), ("c", "client.age > 1"))
    problems = _problems(text)
    assert len(problems) == 2
    assert "unexpected <=" in problems[0] and "unterminated string" in problems[1]


def test_unknown_key_suggests_the_right_one():
    text = "ruleset: t\ntitle: T\nsource: S\nrules:\n  - id: r\n    description: d\n    when: client.age <= 18\n" \
           "    effect: ineligible\n    reason: {id: a, en: b}\n    source: {interpretation: s, of: t}\n" \
           "    sharable: false\n"
    with pytest.raises(RuleError) as err:
        parse_file("f.yaml", text)
    [d] = err.value.diagnostics
    assert d.message == "unknown key 'sharable' in rule" and d.hint == "did you mean 'shareable'?"


def test_course_and_test_files_parse():
    courses = parse_file("c.yaml", "courses:\n  - code: LAS-01\n    title: Las\n    min_age: 18\n")
    [c] = courses.courses
    assert (c.code, c.facts["min_age"], c.loc.line) == ("LAS-01", 18, 2)
    tests = parse_file("t.yaml", "tests:\n  - name: n\n    as_of: 2019-05-16\n    client: {birth_date: 1990-01-01}\n"
                                 "    course: LAS-01\n"
                                 "    expect: {outcome: PENDING, reasons: [a], missing: [client.x]}\n")
    [t] = tests.tests
    assert (t.name, t.as_of, t.course, t.expect_outcome) == ("n", date(2019, 5, 16), "LAS-01", "PENDING")
    assert t.expect_reasons == ("a",) and t.expect_missing == ("client.x",) and t.loc.line == 2


def test_impossible_date_in_a_rule_file_is_a_located_error_not_a_crash():
    text = ruleset_text(("r", "client.age <= 18")).replace("source: S\n", "source: S\neffective: {from: 2019-02-30}\n")
    problems = _problems(text)
    assert problems == ["f.yaml:4:19: not a real date: 2019-02-30"]
