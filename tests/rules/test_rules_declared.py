"""Declared facts: a rules folder adds client and course facts (facts.yaml) that rules, the catalogue,
rule tests, explain and cohort files know, checked like the API's own; nothing undeclared or out of
range reaches durable_rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bekal.cli import cohort_read
from bekal.cli.errors import FileProblems
from bekal.decision import Outcome
from bekal.engine import Engine, Refused
from bekal.facts import BNN_ONLY, DECLARED, SHAREABLE, FactError, parse_facts, resolve_declared
from bekal.lang.diagnostics import RuleError
from bekal.rulebook import load_rulebook, load_rulebook_from_texts
from bekal.ruletests import run_tests
from tests.rules.rulefiles import rule_text, ruleset_text
from tests.support.cli import bekal
from tests.support.people import READY

FACTS = """\
facts:
  client.driving_licence:
    type: bool
    description: {id: Klien memiliki SIM, en: The client holds a driving licence}
    sensitivity: shareable
  client.dependants:
    type: integer
    range: [0, 20]
    description: {id: Jumlah tanggungan, en: Number of dependants}
  client.licence_class:
    type: enum
    values: [a, c]
    description: {id: Golongan SIM, en: Licence class}
  course.needs_driving_licence:
    type: bool
    description: {id: Kejuruan mensyaratkan SIM, en: The course requires a driving licence}
    sensitivity: shareable
"""
RULES = ruleset_text(  # a course without the fact needs no licence: the exists-guard says so
    ("licence", "course.needs_driving_licence exists and course.needs_driving_licence and not client.driving_licence"),
    ("dependants", "client.dependants > 0", 5),
)
COURSES = "courses:\n  - {code: OTO-01, needs_driving_licence: true}\n  - {code: JHT-01}\n"
DAY = date(2019, 5, 16)


def book(facts: str = FACTS, rules: str = RULES, **extra: str):
    return load_rulebook_from_texts({"facts.yaml": facts, "e.rules.yaml": rules, "courses.yaml": COURSES, **extra})


def problems(**kw) -> list[str]:
    with pytest.raises(RuleError) as err:
        book(**kw)
    return [f"{d.location}: {d.message}" + (f" | {d.hint}" if d.hint else "") for d in err.value.diagnostics]


def test_declared_facts_are_facts_of_the_schema_with_their_sensitivity():
    declared = book().declared
    assert declared["client.dependants"].type == "number" and declared["client.dependants"].integer
    assert (declared["client.dependants"].minimum, declared["client.dependants"].maximum) == (0, 20)
    assert declared["client.licence_class"].values == ("a", "c")
    assert declared["client.driving_licence"].sensitivity == SHAREABLE
    assert declared["client.dependants"].sensitivity == BNN_ONLY  # the safe default
    assert declared["client.dependants"].doc_id == "Jumlah tanggungan"


def test_rules_read_declared_facts_and_a_missing_one_is_named():
    rulebook = book()
    engine = Engine(rulebook)
    oto, jht = rulebook.courses["OTO-01"], rulebook.courses["JHT-01"]
    try:
        d = engine.decide({**READY, "driving_licence": False, "dependants": 2}, oto, DAY, explain=True)
        assert d.outcome is Outcome.INELIGIBLE and d.priority == 5 and [r.rule_id for r in d.reasons] == [
            "licence", "dependants"]
        assert engine.decide({**READY, "driving_licence": True, "dependants": 2}, oto, DAY).priority == 5
        d = engine.decide(dict(READY), oto, DAY)  # neither fact known: never a quiet yes
        assert d.outcome is Outcome.PENDING and set(d.missing) == {"client.driving_licence", "client.dependants"}
        assert engine.decide(dict(READY), jht, DAY).outcome is Outcome.ELIGIBLE  # the course needs no licence
        with pytest.raises(Refused) as refused:  # a mapping that skipped parse_facts is still checked
            engine.decide({**READY, "dependants": 21}, jht, DAY)
        assert refused.value.refusal.violations == (("client.dependants", "must be between 0 and 20, got 21"),)
    finally:
        engine.close()


@pytest.mark.parametrize("facts, expected", [
    (FACTS + "  client.age:\n    type: integer\n    range: [0, 1]\n    description: {id: a, en: b}\n",
     "facts.yaml:19:5: client.age is already a fact of the API: it needs no declaration"),
    (FACTS + "  client.preferences:\n    type: string\n    description: {id: a, en: b}\n",
     "facts.yaml:19:5: client.preferences is already a fact of the API"),
    (FACTS + "  clients.x:\n    type: bool\n    description: {id: a, en: b}\n",
     "facts.yaml:19:5: fact name 'clients.x' must be client.NAME or course.NAME"),
    (FACTS + "  client.x:\n    type: boolean\n    description: {id: a, en: b}\n",
     "facts.yaml:19:11: type must be one of: bool, integer, decimal, date, enum, string | did you mean 'bool'?"),
    (FACTS + "  client.x:\n    type: integer\n    description: {id: a, en: b}\n",
     "facts.yaml:19:5: missing 'range' | a number fact says the values it can take, e.g. range: [0, 20]"),
    (FACTS + "  client.x:\n    type: decimal\n    range: [10, 1]\n    description: {id: a, en: b}\n",
     "facts.yaml:20:12: range must be [LOWEST, HIGHEST], two numbers, the lowest first"),
    (FACTS + "  client.x:\n    type: integer\n    range: [0, 2.5]\n    description: {id: a, en: b}\n",
     "facts.yaml:20:12: the range of an integer fact is two whole numbers"),
    (FACTS + "  client.x:\n    type: enum\n    description: {id: a, en: b}\n",
     "facts.yaml:19:5: an enum fact lists its values"),
    (FACTS + "  client.x:\n    type: enum\n    values: [A, b]\n    description: {id: a, en: b}\n",
     "facts.yaml:20:14: an enum value is written in lower case"),
    (FACTS + "  client.x:\n    type: bool\n", "facts.yaml:19:5: missing 'description'"),
    (FACTS + "  client.x:\n    type: bool\n    description: {id: a, en: b}\n    sensitivity: public\n",
     "facts.yaml:21:18: sensitivity must be one of: bnn_only, shareable"),
    (FACTS + "  client.x:\n    type: bool\n    range: [0, 1]\n    description: {id: a, en: b}\n",
     "facts.yaml:20:12: only an integer or decimal fact has a range"),
])
def test_declarations_are_checked(facts, expected):
    found = problems(facts=facts)
    assert any(p.startswith(expected) for p in found), found


def test_a_fact_is_declared_once():
    found = problems(**{"more.yaml": "facts:\n  client.dependants:\n    type: bool\n    description: {id: a, en: b}\n"})
    assert any(p.startswith("more.yaml:3:5: client.dependants is also declared at facts.yaml:") for p in found), found


def test_rules_are_checked_against_the_declared_types():
    wrong = ruleset_text(("r", 'client.dependants == "two"'), ("s", 'client.licence_class == "b"'),
                         ("t", "client.driving_licence > 1"))
    found = problems(rules=wrong)
    assert "e.rules.yaml:8:7: cannot compare a number with a string" in found
    assert "e.rules.yaml:15:31: client.licence_class has no value 'b' | values: a, c" in found
    assert "e.rules.yaml:22:7: cannot compare a bool with a number" in found


def test_removing_a_declaration_rules_still_use_is_a_check_error():
    without = FACTS.split("  client.dependants:")[0] + "  client.licence_class:" + FACTS.split(
        "  client.licence_class:")[1]
    found = problems(facts=without)
    assert any(p.startswith("e.rules.yaml:15:7: unknown fact 'client.dependants' | a new fact is declared in the "
                            "rules folder's facts file") for p in found), found


def test_the_catalogue_and_rule_tests_take_declared_facts(tmp_path: Path):
    bad_course = "courses:\n  - {code: OTO-01, needs_driving_licence: maybe, min_days_since_rehab: 30}\n"
    found = problems(**{"courses.yaml": bad_course})
    assert "courses.yaml:2:43: course.needs_driving_licence: expected true or false, got 'maybe'" in found
    assert ("courses.yaml:2:72: course.min_days_since_rehab: unknown field; a new fact is declared in the rules "
            "folder's facts file") in found
    tests = ("tests:\n  - name: no licence\n    as_of: 2019-05-16\n"
             "    client: {birth_date: 1990-01-01, driving_licence: false, dependants: 1}\n"
             "    course: OTO-01\n    expect: {outcome: INELIGIBLE, priority: 5, reasons: [licence, dependants]}\n"
             "  - name: licence unknown\n    as_of: 2019-05-16\n    client: {birth_date: 1990-01-01}\n"
             "    course: OTO-01\n"
             "    expect: {outcome: PENDING, missing: [client.driving_licence, client.dependants]}\n")
    report = run_tests(book(**{"t.test.yaml": tests}))
    assert report.failed == () and len(report.results) == 2
    found = problems(**{"t.test.yaml": tests.replace("dependants: 1", "dependants: 99")})
    assert found == ["t.test.yaml:4:74: client.dependants: must be between 0 and 20, got 99"]


def test_explain_knows_declared_facts(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in {"facts.yaml": FACTS, "e.rules.yaml": RULES, "courses.yaml": COURSES}.items():
        (rules / name).write_text(text)
    client = tmp_path / "c.yaml"
    client.write_text("birth_date: 1990-01-01\ndriving_licence: false\ndependants: 3\n")
    result = bekal("rules", "explain", "--client", str(client), "--course", "OTO-01", "--as-of", "2019-05-16",
                   "--rules", str(rules))
    assert result.code == 0, result
    assert "outcome: INELIGIBLE" in result.out
    assert "client.driving_licence = false" in result.out and "client.dependants = 3" in result.out
    client.write_text("birth_date: 1990-01-01\ndriving_licence: 1\n")
    result = bekal("rules", "explain", "--client", str(client), "--course", "OTO-01", "--as-of", "2019-05-16",
                   "--rules", str(rules))
    assert result.code == 1 and result.err == f"{client}:2:18: client.driving_licence: expected true or false, got 1\n"


def test_cohort_files_take_declared_facts_as_columns(tmp_path: Path):
    declared = book().declared
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("id,birth_date,driving_licence,dependants,licence_class\nA,1990-01-01,ya,2,c\nB,1990-01-01,,,\n")
    records = cohort_read.read_records(str(cohort), "client", declared).records
    assert records == [{"id": "A", "birth_date": "1990-01-01", "driving_licence": True, "dependants": 2,
                        "licence_class": "c"}, {"id": "B", "birth_date": "1990-01-01"}]
    assert parse_facts("client", records[0], declared)["dependants"] == 2
    cohort.write_text("id,dependants,driving_licens\nA,2.5,1\n")
    with pytest.raises(FileProblems) as err:
        cohort_read.read_records(str(cohort), "client", declared)
    assert err.value.problems == [f"{cohort}:1:driving_licens: unknown column 'driving_licens' "
                                  "(did you mean 'driving_licence'?)"]
    cohort.write_text("id,dependants\nA,2.5\n")
    with pytest.raises(FileProblems) as err:
        cohort_read.read_records(str(cohort), "client", declared)
    assert err.value.problems == [f"{cohort}:2:dependants: expected a whole number, got '2.5'"]
    # for a server, any other column is sent as a declared fact (the server checks it), typos of the API's
    # own fields aside
    cohort.write_text("id,dependants,height,birthdate\nA,2,1.7,x\n")
    with pytest.raises(FileProblems) as err:
        cohort_read.read_records(str(cohort), "client", open_columns=True)
    assert err.value.problems == [f"{cohort}:1:birthdate: unknown column 'birthdate' (did you mean 'birth_date'?)"]
    cohort.write_text("id,dependants,height,sim\nA,2,1.7,ya\n")
    assert cohort_read.read_records(str(cohort), "client", open_columns=True).records == [
        {"id": "A", "dependants": 2, "height": 1.7, "sim": True}]


def test_resolving_declared_values_names_each_bad_key():
    declared = book().declared
    facts = {"id": "A", DECLARED: {"dependants": 2, "driving_licence": True, "licence_class": "a"}}
    assert resolve_declared("client", facts, declared) == {"id": "A", "dependants": 2, "driving_licence": True,
                                                            "licence_class": "a"}
    bad = {DECLARED: {"dependents": 2, "driving_licence": "yes", "dependants": 2.5, "licence_class": "b"}}
    with pytest.raises(FactError) as err:
        resolve_declared("client", bad, declared)
    assert dict(err.value.violations) == {
        "client.declared[dependents]": "the rules declare no fact 'client.dependents' (did you mean 'dependants'?)",
        "client.declared[driving_licence]": "expected true or false, got 'yes'",
        "client.declared[dependants]": "expected a whole number, got 2.5",
        "client.declared[licence_class]": "unknown value 'b'; one of a, c",
    }


def test_a_rules_folder_on_disk_with_declared_facts(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "facts.yaml").write_text(FACTS)
    (rules / "e.rules.yaml").write_text(ruleset_text(("r", "client.age < 18")) + rule_text(
        "d", "client.dependants > 3", 2))
    assert set(load_rulebook(rules).declared) == {"client.driving_licence", "client.dependants",
                                                  "client.licence_class", "course.needs_driving_licence"}


def test_bekal_match_takes_declared_columns_in_process(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    courses = COURSES.replace("{code: OTO-01, needs_driving_licence: true}",
                              "{code: OTO-01, seats: 1, needs_driving_licence: true}").replace(
        "{code: JHT-01}", "{code: JHT-01, seats: 1}")
    for name, text in {"facts.yaml": FACTS, "e.rules.yaml": RULES, "courses.yaml": courses}.items():
        (rules / name).write_text(text)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("id,birth_date,driving_licence,dependants,preferences\n"
                      "A,1990-01-01,tidak,0,OTO-01;JHT-01\nB,1990-01-01,ya,3,OTO-01\n")
    out = tmp_path / "out.csv"
    done = bekal("match", "--clients", str(cohort), "--rules", str(rules), "--as-of", "2019-05-16", "--out",
                 str(out), "--no-progress", "--audience", "bnn")
    assert done.code == 0, done
    placed = {line.split(",")[0]: line.split(",")[1] for line in out.read_text().splitlines()[1:]}
    assert placed == {"A": "JHT-01", "B": "OTO-01"}  # A has no licence: not eligible for OTO-01
    cohort.write_text("id,birth_date,dependants,preferences\nA,1990-01-01,30,JHT-01\n")
    bad = bekal("match", "--clients", str(cohort), "--rules", str(rules), "--as-of", "2019-05-16", "--out",
                str(out), "--no-progress")
    assert bad.code == 1 and f"{cohort}:2:dependants: must be between 0 and 20, got 30" in bad.err, bad.err
