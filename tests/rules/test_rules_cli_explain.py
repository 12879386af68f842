"""``bekal rules explain``: the trace of every rule with its status and the facts it read; bad
client files, unknown courses and dates give a message naming what is wrong, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.rules.rulefiles import BROKEN
from tests.support.cli import bekal
from tests.support.paths import RULES

CLIENT = """\
id: BNNK-BJB-2019-0042
birth_date: 1996-08-17
rehab_stage: post_rehabilitation
rehab_completed_date: 2019-03-30
referrer: bnn
written_test_score: 71
education: smk
consent_to_share: true
preferences: [LAS-SMAW-01, OTO-MTR-01]
"""
TRACE_LINE = re.compile(r"^  \[(?P<status>[a-z ]+?)\s*\] (?P<id>\S+)\s+(?P<effect>.+?)\s+(?P<loc>\S+:\d+:\d+)$")


@pytest.fixture
def client_file(tmp_path: Path) -> Path:
    path = tmp_path / "client.yaml"
    path.write_text(CLIENT)
    return path


def explain(client: Path, *extra: str, course: str = "LAS-SMAW-01", as_of: str = "2019-05-16"):
    return bekal("rules", "explain", "--client", str(client), "--course", course, "--as-of", as_of,
                 "--rules", str(RULES), *extra)


def trace_of(out: str) -> dict[str, dict]:
    """rule id -> {status, effect, location, facts} from the printed trace."""
    lines = out.splitlines()
    start = lines.index("trace (every rule):")
    rules: dict[str, dict] = {}
    current = None
    for line in lines[start + 1:]:
        m = TRACE_LINE.match(line)
        if m:
            current = rules[m["id"]] = {"status": m["status"], "effect": m["effect"], "loc": m["loc"], "facts": {}}
        else:
            name, value = line.strip().split(" = ", 1)
            current["facts"][name] = value
    return rules


def test_explain_prints_every_rule_with_status_and_facts(client_file, default_rulebook):
    result = explain(client_file)
    assert result.code == 0, result
    assert "Traceback" not in result.text
    out = result.out
    assert out.splitlines()[0] == "client BNNK-BJB-2019-0042 × course LAS-SMAW-01 as of 2019-05-16"
    assert f"outcome: PENDING   priority: 10   ruleset version: {default_rulebook.version}" in out.splitlines()
    assert "             missing: client.interview_score" in out.splitlines()
    trace = trace_of(out)
    assert list(trace) == [r.id for r in default_rulebook.compiled.rules]  # every rule, in order
    assert trace["interview-passed"]["status"] == "missing facts"
    assert trace["interview-passed"]["facts"] == {"course.min_interview_score": "65",
                                                  "client.interview_score": "(absent)"}
    assert trace["bnn-referral-priority"]["status"] == "fired"
    assert trace["bnn-referral-priority"]["effect"] == "priority +10"
    assert trace["bnn-referral-priority"]["facts"] == {"client.referrer": '"bnn"'}
    assert trace["age-above-18"] == {"status": "not fired", "effect": "ineligible",
                                     "loc": f"{RULES / 'eligibility.rules.yaml'}:12:5",
                                     "facts": {"client.age": "22"}}
    assert trace["course-min-education"]["facts"] == {"course.min_education_level": "2", "client.education_level": "3"}
    for rule in default_rulebook.compiled.rules:
        assert trace[rule.id]["loc"] == rule.location
        assert set(trace[rule.id]["facts"]) == set(rule.facts)


def test_explain_a_fired_ineligible_rule(client_file):
    client_file.write_text(CLIENT.replace("written_test_score: 71", "written_test_score: 59"
                                          ).replace("birth_date: 1996-08-17", "birth_date: 2001-05-16"))
    result = explain(client_file, course="LIS-INST-01")
    assert result.code == 0, result
    assert "outcome: INELIGIBLE" in result.out
    trace = trace_of(result.out)
    assert {k for k, v in trace.items() if v["status"] == "fired"} == {
        "age-above-18", "written-test-passed", "bnn-referral-priority"}
    assert trace["written-test-passed"]["facts"] == {"course.min_written_score": "65",
                                                     "client.written_test_score": "59"}
    assert trace["course-min-age"] == {"status": "not fired", "effect": "ineligible",
                                       "loc": trace["course-min-age"]["loc"],
                                       "facts": {"course.min_age": "18", "client.age": "18"}}
    assert "The client is 18; the programme requires an age above 18." in result.out


def test_explain_json(client_file, default_rulebook):
    result = explain(client_file, "--json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert (data["outcome"], data["priority"], data["as_of"]) == ("PENDING", 10, "2019-05-16")
    assert data["ruleset_version"] == default_rulebook.version
    assert [t["rule_id"] for t in data["trace"]] == [r.id for r in default_rulebook.compiled.rules]
    statuses = {t["rule_id"]: t["status"] for t in data["trace"]}
    assert statuses["interview-passed"] == "missing facts" and statuses["age-above-18"] == "not fired"


@pytest.mark.parametrize("content, expected", [
    ("birth_date: 2019-02-30\nrehab_stage: post_rehabilitation\n",
     ["{f}:1:13: client.birth_date: not a real date in YYYY-MM-DD form: '2019-02-30'"]),
    ("birth_date: 1990-01-01\nrehab_stag: post_rehabilitation\n",
     ["{f}:2:13: client.rehab_stag: unknown field (did you mean 'rehab_stage'?)"]),
    ("birth_date: 2019-02-30\nrehab_stag: post_rehabilitation\nwritten_test_score: high\n",
     ["{f}:1:13: client.birth_date: not a real date in YYYY-MM-DD form: '2019-02-30'",
      "{f}:2:13: client.rehab_stag: unknown field (did you mean 'rehab_stage'?)",
      "{f}:3:21: client.written_test_score: expected a number, got 'high'"]),
    ("rehab_stage: post_rehab\n",
     ["{f}:1:14: client.rehab_stage: unknown value 'post_rehab'; one of assessment, inpatient, outpatient, "
      "post_rehabilitation, dropped_out (did you mean 'post_rehabilitation'?)"]),
    ("consent_to_share: yes please\n", ["{f}:1:19: client.consent_to_share: expected true or false, got 'yes please'"]),
    ("- just\n- a list\n", ["{f}:1:1: expected a mapping of client fields, e.g. birth_date: 1995-03-01"]),
    ("birth_date: [\n", ["{f}:2:1: not valid YAML: while parsing a flow node expected the node content, but found "
                         "'<stream end>'",
                         "    hint: check indentation, colons and closing quotes"]),
    ("dependants: 2\n", ["{f}:1:13: client.dependants: unknown field; a new fact is declared in the rules folder's "
                         "facts file"]),
])
def test_bad_client_file_names_the_field(tmp_path, content, expected):
    path = tmp_path / "client.yaml"
    path.write_text(content)
    result = explain(path)
    assert result.code == 1, result
    assert "Traceback" not in result.text and result.out == ""
    assert result.err.splitlines() == [e.format(f=path) for e in expected]


def test_client_file_as_json(tmp_path):
    path = tmp_path / "client.json"
    path.write_text(json.dumps({"birth_date": "1990-01-01", "rehab_stage": "post_rehabilitation",
                                "written_test_score": 99, "interview_score": 99, "education": "sma",
                                "consent_to_share": True}))
    result = explain(path)
    assert result.code == 0, result
    assert "outcome: ELIGIBLE   priority: 0" in result.out


def test_missing_client_file(tmp_path):
    result = explain(tmp_path / "nope.yaml")
    assert result.code == 1 and "Traceback" not in result.text
    assert result.err.startswith(f"{tmp_path / 'nope.yaml'}: cannot read:")


def test_unknown_course_gives_did_you_mean(client_file, default_rulebook):
    result = explain(client_file, course="LAS-SMAW01")
    assert result.code == 1 and "Traceback" not in result.text
    known = ", ".join(sorted(default_rulebook.courses))
    assert result.err.splitlines() == [f"--course: unknown course 'LAS-SMAW01'; did you mean 'LAS-SMAW-01'? "
                                       f"(known: {known})"]
    result = explain(client_file, course="ZZZ")
    assert result.code == 1 and "did you mean" not in result.err and "unknown course 'ZZZ'" in result.err


@pytest.mark.parametrize("as_of, code, message", [
    ("2019-02-30", 2, "--as-of: not a real date in YYYY-MM-DD form: '2019-02-30'"),
    ("16-05-2019", 2, "--as-of: not a real date in YYYY-MM-DD form: '16-05-2019'"),
    ("2015-12-31", 3, "--as-of: the rules are not in force on 2015-12-31 (not in force: eligibility, priority)"),
])
def test_bad_or_uncovered_decision_date(client_file, as_of, code, message):
    result = explain(client_file, as_of=as_of)
    assert result.code == code and "Traceback" not in result.text
    assert result.err.splitlines() == [message]


def test_explain_with_broken_rules_exits_1_with_the_diagnostics(client_file):
    result = bekal("rules", "explain", "--client", str(client_file), "--course", "JHT-01", "--as-of", "2019-05-16",
                   "--rules", str(BROKEN / "unknown_effect.rules.yaml"))
    assert result.code == 1 and "Traceback" not in result.text
    assert f"{BROKEN / 'unknown_effect.rules.yaml'}:9:13: unknown effect 'ineligable'" in result.err.splitlines()
