"""`bekal rules diff`: what changes between two versions of the rules (folders, git revisions, dates), side
by side, and over a cohort whose decision or priority changes and why (the what-if)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bekal.lang import ast
from bekal.lang.diagnostics import Location
from bekal.lang.expr import parse_condition
from bekal.rulebook import load_rulebook
from bekal.rulesdiff import Side, compare, what_if
from tests.rules.test_rules_semantics import CONDITIONS
from tests.support.cli import bekal
from tests.support.paths import EXAMPLES, RULES
from tests.support.people import READY

PARAMS = """\
parameters:
  min_age:
    description: {id: Umur yang harus dilampaui klien, en: The age a client must be above}
    source: {quote: "minimal umur sudah mencukupi yakni diatas 18 tahun", of: mou-2019-05-16, at: K1}
    values:
      2016-01-01: 18
"""
FACTS = """\
facts:
  client.dependants:
    type: integer
    range: [0, 20]
    description: {id: Jumlah tanggungan, en: Number of dependants}
"""
DEPENDANTS = """
  - id: dependants-priority
    description: Klien yang menanggung keluarga diprioritaskan.
    when: client.dependants > 0
    effect:
      priority: +5
    shareable: false
    reason: {id: "Menanggung {client.dependants} orang (+5).", en: "{client.dependants} dependants (+5)."}
    source: {interpretation: Contoh perubahan program., of: rapat program}
"""


@pytest.mark.parametrize("condition", CONDITIONS + ["client.age <= param.min_age", "not not client.consent_to_share",
                                                    "client.age < course.max_age - (2 - 1)"])
def test_a_condition_as_text_reads_back_the_same(condition):
    here = Location("f", 1, 1)
    text = ast.to_text(parse_condition(condition, here))
    assert ast.to_text(parse_condition(text, here)) == text
    assert " ".join(condition.split()) == text or "(" in condition  # only redundant parentheses go


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    """The programme's rules with the age limit as a parameter (old), and the worked change (new): 21 from
    2020, a declared fact and a priority rule reading it."""
    old = tmp_path / "old"
    shutil.copytree(RULES, old)
    (old / "parameters.yaml").write_text(PARAMS)
    eligibility = old / "eligibility.rules.yaml"
    eligibility.write_text(eligibility.read_text().replace("when: client.age <= 18",
                                                           "when: client.age <= param.min_age"))
    new = tmp_path / "new"
    shutil.copytree(old, new)
    (new / "parameters.yaml").write_text(PARAMS + "      2020-01-01: 21\n")
    (new / "facts.yaml").write_text(FACTS)
    (new / "priority.rules.yaml").write_text((new / "priority.rules.yaml").read_text() + DEPENDANTS)
    return old, new


def test_two_dates_of_one_folder_differ_by_the_parameter(versions):
    _old, new = versions
    book = load_rulebook(new)
    changes = compare(Side("a", book, date(2019, 12, 31)), Side("b", book, date(2020, 1, 1)))
    assert [(c.kind, c.key, c.status, c.fields) for c in changes] == [
        ("parameter", "param.min_age", "changed", (("value", "18", "21"),))]
    assert compare(Side("a", book, date(2020, 1, 1)), Side("b", book, date(2021, 1, 1))) == []


def test_two_folders_differ_by_what_was_added_and_changed(versions):
    old, new = versions
    changes = compare(Side("old", load_rulebook(old)), Side("new", load_rulebook(new)))
    found = {(c.kind, c.key, c.status): c for c in changes}
    assert set(found) == {("rule", "priority/dependants-priority [2016-01-01]", "added"),
                          ("parameter", "param.min_age", "changed"), ("fact", "client.dependants", "added")}
    values = found["parameter", "param.min_age", "changed"].fields
    assert values == (("values", "2016-01-01: 18", "2016-01-01: 18, 2020-01-01: 21"),)
    added = dict((n, a) for n, _b, a in found["rule", "priority/dependants-priority [2016-01-01]", "added"].fields)
    assert added["when"] == "client.dependants > 0" and added["effect"] == "priority +5"
    # a changed condition, reason and course, field by field
    book = load_rulebook(new)
    [rule] = [r for rs in book.rulesets if rs.name == "eligibility" for r in rs.rules if r.id == "course-max-age"]
    courses = {**book.courses, "BRB-01": {**book.courses["BRB-01"], "seats": 99}}
    changed = replace(book, courses=courses, rulesets=tuple(
        replace(rs, rules=tuple(replace(r, when=parse_condition("client.age >= course.max_age", r.loc))
                                if r is rule else r for r in rs.rules)) for rs in book.rulesets))
    diff = {c.key: c.fields for c in compare(Side("a", book), Side("b", changed))}
    assert diff == {"eligibility/course-max-age [2016-01-01]": (("when", "course.max_age exists and client.age > "
                                                                 "course.max_age", "client.age >= course.max_age"),),
                    "BRB-01": (("seats", "12", "99"),)}


def test_what_if_counts_the_clients_whose_decision_changes_and_says_why(versions):
    old, new = versions
    before, after = Side("old", load_rulebook(old)), Side("new", load_rulebook(new))
    on = date(2020, 6, 1)
    ages = {"A": 19, "B": 20, "C": 25, "D": 30}
    clients = [{**READY, "id": cid, "birth_date": on.replace(year=on.year - age)} for cid, age in ages.items()]
    clients[3] = {**clients[3], "dependants": 2}
    pairs = [(c, code) for c in clients for code in ("JHT-01", "BOG-01")]
    old_pairs = [({k: v for k, v in c.items() if k != "dependants"}, code) for c, code in pairs]
    result = what_if(before, after, old_pairs, pairs, before.rulebook.courses, after.rulebook.courses, on)
    assert (result.clients, result.pairs) == (4, 8)
    lines = [str(g) for g in result.groups]
    assert lines[0] == ("2 client(s) go from ELIGIBLE to INELIGIBLE (4 client x course pairs): age-above-18 now "
                        "applies (param.min_age 18 \u2192 21)")
    assert lines[1] == ("1 client(s): priority 10 becomes 15 (2 client x course pairs): dependants-priority now "
                        "applies")
    assert lines[2] == ("1 client(s) keep their outcome (2 client x course pairs): dependants-priority waits for "
                        "client.dependants (the priority may be incomplete)")
    assert {(c.client_id, c.course_code) for c in result.changes if c.decided_differently} == {
        ("A", "JHT-01"), ("A", "BOG-01"), ("B", "JHT-01"), ("B", "BOG-01"), ("D", "JHT-01"), ("D", "BOG-01")}
    # the same rules on both sides change nothing
    same = what_if(after, after, pairs, pairs, after.rulebook.courses, after.rulebook.courses, on)
    assert same.changes == () and same.groups == ()


def test_the_command_shows_both_side_by_side_and_the_what_if_as_text_and_csv(versions, tmp_path: Path):
    old, new = versions
    out = tmp_path / "changes.csv"
    result = bekal("rules", "diff", str(old), str(new), "--as-of", "2020-06-01", "--cohort",
                   str(EXAMPLES / "cohort.csv"), "--csv", str(out))
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].startswith(f"--- {old}@2020-06-01  (version sha256:")
    assert any(line.startswith("~ parameter param.min_age") for line in lines)
    assert any(line.split() == ["value", "18", "|", "21"] for line in lines), result.out
    assert "+ rule priority/dependants-priority  (" in result.out
    assert ("  2 client(s) go from ELIGIBLE to INELIGIBLE (4 client x course pairs): age-above-18 now applies "
            "(param.min_age 18 \u2192 21)") in lines
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    changed = [r for r in rows if r["outcome_before"] != r["outcome_after"]]
    assert {r["client_id"] for r in changed} == {"MANDIRI-2019-0013", "DINSOS-BJB-2019-0015"}
    assert all(r["now_apply"] == "age-above-18" and r["outcome_after"] == "INELIGIBLE" for r in changed)
    dates = bekal("rules", "diff", f"{new}@2019-12-31", "@2020-01-01")
    assert dates.code == 0 and "1 difference(s): 0 added, 0 removed, 1 changed" in dates.out


def test_a_git_revision_is_compared_with_the_working_copy(versions, tmp_path: Path):
    old, new = versions
    repo = tmp_path / "repo"
    shutil.copytree(old, repo / "rules")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "rules"]):
        subprocess.run([*git, *args], cwd=repo, check=True)
    shutil.rmtree(repo / "rules")
    shutil.copytree(new, repo / "rules")
    result = bekal("rules", "diff", "HEAD:rules", "rules", cwd=repo)
    assert result.code == 0, result
    assert result.out.splitlines()[0].startswith("--- HEAD:rules  (version sha256:")
    assert "+ declared fact client.dependants" in result.out
    assert "3 difference(s): 2 added, 0 removed, 1 changed" in result.out
    bad = bekal("rules", "diff", "nope:rules", "rules", cwd=repo)
    assert bad.code == 2 and "nope:rules: not a rules folder, nor a git revision of one" in bad.err


def test_rules_that_cannot_be_used_and_bad_usage(versions, tmp_path: Path):
    old, new = versions
    (new / "facts.yaml").write_text(FACTS.replace("integer", "integr"))
    broken = bekal("rules", "diff", str(old), str(new))
    assert broken.code == 1 and f"{new / 'facts.yaml'}:3:11: type must be one of" in broken.err
    assert bekal("rules", "diff", str(old), "nowhere").code == 2
    assert bekal("rules", "diff", str(old), str(old), "--csv", "x.csv").code == 2  # --csv needs --cohort
    assert bekal("rules", "diff", str(old), str(old), "--as-of", "2020-02-30").code == 2
    cohort = tmp_path / "c.csv"
    cohort.write_text("id,birth_date,dependants\nA,2030-01-01,2\n")
    bad = bekal("rules", "diff", str(old), str(old), "--as-of", "2020-06-01", "--cohort", str(cohort))
    assert bad.code == 1 and bad.err.splitlines() == [
        f"{cohort}:1:dependants: unknown column 'dependants'; a new fact is declared in the rules folder's facts "
        "file"]
