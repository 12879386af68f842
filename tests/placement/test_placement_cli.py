"""``bekal match --local`` end to end on the example files, in a subprocess: outputs, formats,
malformed rows named by file:row:column, and the exit codes."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.support.cli import bekal
from tests.support.paths import EXAMPLES, RULES
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.servers import free_port

COHORT = str(EXAMPLES / "cohort.csv")
COURSES = str(EXAMPLES / "courses.csv")
RANKINGS = str(EXAMPLES / "rankings.csv")


def match(*args: str):
    """``bekal match`` with the suite's rules (tests/fixtures/rules) unless a test names others or a server."""
    rules = () if "--rules" in args or "--server" in args else ("--rules", str(RULES))
    return bekal("match", "--as-of", AS_OF, "--no-progress", *args, *rules)


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    out, courses_out, summary = tmp / "placements.csv", tmp / "courses.jsonl", tmp / "summary.json"
    done = match("--local", "--clients", COHORT, "--courses", COURSES, "--rankings", RANKINGS, "--seed", "2019",
                 "--audience", "bnn", "--out", str(out), "--courses-out", str(courses_out),
                 "--summary-out", str(summary))
    return done, out, courses_out, summary


def test_the_examples_are_placed(example_run):
    done, out, courses_out, summary = example_run
    assert done.code == 0, done.err
    assert "placed 11 of 18 clients" in done.out and f"results: {out}" in done.out
    with open(out, newline="", encoding="utf-8") as fh:
        rows = {r["client_id"]: r for r in csv.DictReader(fh)}
    cohort_ids = [line.split(",")[0] for line in Path(COHORT).read_text().splitlines()[1:]]
    assert list(rows) == cohort_ids  # one row per client, in input order
    assert rows["BNNK-BJB-2019-0001"]["course"] == "LAS-SMAW-01" and rows["BNNK-BJB-2019-0001"]["choice"] == "1"
    minor = rows["BNNK-BJB-2019-0004"]
    assert minor["course"] == "" and "OTO-MTR-01:ineligible" in minor["why_not"]
    assert "above 18" in minor["why_not_en"] and "di atas 18 tahun" in minor["why_not_id"]
    assert "missing client.interview_score" in rows["BNNK-BJB-2019-0005"]["why_not_en"]
    full = rows["MANDIRI-2019-0011"]
    assert "LAS-SMAW-01:full" in full["why_not"] and "panel rank" in full["why_not_en"]
    fills = {f["course_code"]: f for f in map(json.loads, courses_out.read_text().splitlines())}
    assert fills["KOM-OP-01"]["ranked"] is True and fills["KOM-OP-01"]["filled"] == 2
    assert sum(f["filled"] for f in fills.values()) == 11
    figures = json.loads(summary.read_text())
    assert figures["placed"] == 11 and figures["as_of"] == AS_OF and figures["seed"] == 2019


def test_jsonl_output_and_a_training_centres_view(example_run, tmp_path):
    out = tmp_path / "placements.jsonl"
    done = match("--clients", COHORT, "--courses", COURSES, "--rankings", RANKINGS, "--seed", "2019",
                 "--out", str(out))
    assert done.code == 0, done.err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 18
    by_id = {r["client_id"]: r for r in lines}
    with open(example_run[2].parent / "placements.csv", newline="", encoding="utf-8") as fh:
        csv_rows = {r["client_id"]: r for r in csv.DictReader(fh)}
    assert {k: v["course"] for k, v in by_id.items()} == {k: v["course"] or None for k, v in csv_rows.items()}
    in_rehab = by_id["BNNK-BJB-2019-0008"]["why_not"][0]  # outpatient: a rehab detail, not shareable
    assert in_rehab["because"] == "withheld" and "reasons" not in in_rehab
    assert "outpatient" not in out.read_text()


def test_jsonl_input_and_the_catalogue_by_default(tmp_path):
    clients = tmp_path / "cohort.jsonl"
    clients.write_text(
        json.dumps({"id": "A", "birth_date": "1994-03-01", "rehab_stage": "post_rehabilitation", "referrer": "bnn",
                    "written_test_score": 70, "interview_score": 75, "education": "sma", "consent_to_share": True,
                    "preferences": ["JHT-01", "BOG-01"]}) + "\n\n"
        + json.dumps({"id": "B", "preferences": "BOG-01; JHT-01"}) + "\n")
    out = tmp_path / "out.jsonl"
    done = match("--clients", str(clients), "--out", str(out), "--seed", "1")
    assert done.code == 0, done.err
    got = {r["client_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert got["A"]["course"] == "JHT-01" and got["B"]["course"] is None
    assert [w["because"] for w in got["B"]["why_not"]] == ["withheld", "withheld"]  # consent unknown: no


def test_same_seed_same_output(tmp_path):
    outs = []
    for name in ("one.csv", "two.csv"):
        done = match("--clients", COHORT, "--courses", COURSES, "--seed", "5", "--out", str(tmp_path / name))
        assert done.code == 0, done.err
        outs.append((tmp_path / name).read_text())
    assert outs[0] == outs[1]


# ------------------------------------------------------------------------------ bad input


def test_malformed_rows_are_named_by_file_row_and_column(tmp_path):
    lines = Path(COHORT).read_text().splitlines()
    lines[3] = lines[3].replace("1997-05-20", "1997-02-30")  # row 4
    lines[5] = lines[5].replace(",58,,smp,true,", ",58,,smp,maybe,")  # row 6
    lines[7] = lines[7].replace("LAS-SMAW-01;OTO-MTR-01;KOM-OP-01", "LAS-SMAW-01;OTO-MTR-9")  # row 8
    lines[10] = lines[10].replace(",77,82,", ",77,eighty,")  # row 11
    bad = tmp_path / "cohort.csv"
    bad.write_text("\n".join(lines) + "\n")
    done = match("--clients", str(bad), "--courses", COURSES, "--out", str(tmp_path / "out.csv"))
    assert done.code == 1
    assert f"{bad}:6:consent_to_share: expected true or false, got 'maybe'" in done.err
    assert f"{bad}:11:interview_score: expected a number, got 'eighty'" in done.err
    assert "Traceback" not in done.err
    assert not (tmp_path / "out.csv").exists()
    # once the cells parse, the cross-checks name their rows too
    lines[5] = lines[5].replace("maybe", "true")
    lines[10] = lines[10].replace("eighty", "82")
    bad.write_text("\n".join(lines) + "\n")
    done = match("--clients", str(bad), "--courses", COURSES, "--out", str(tmp_path / "out.csv"))
    assert done.code == 1
    assert f"{bad}:4:birth_date: not a real date in YYYY-MM-DD form: '1997-02-30'" in done.err
    assert (f"{bad}:8:preferences: preference 2: unknown course 'OTO-MTR-9' (did you mean 'OTO-MTR-01'?)"
            in done.err)


def test_bad_headers_json_and_rankings(tmp_path):
    clients = tmp_path / "c.csv"
    clients.write_text("id,birth_dat,preferences\nA,1990-01-01,JHT-01\n")
    done = match("--clients", str(clients), "--out", str(tmp_path / "o.csv"))
    assert done.code == 1
    assert f"{clients}:1:birth_dat: unknown column 'birth_dat' (did you mean 'birth_date'?)" in done.err

    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text('{"id": "A", "preferences": ["JHT-01"]}\n{"id": "B", \n[1]\n')
    done = match("--clients", str(jsonl), "--out", str(tmp_path / "o.csv"))
    assert done.code == 1
    assert f"{jsonl}:2:" in done.err and "not valid JSON" in done.err
    assert f"{jsonl}:3:1: expected a JSON object" in done.err

    rankings = tmp_path / "r.csv"
    rankings.write_text("course_code,client_id,rank\nKOM-OP-01,MANDIRI-2019-0013,1\nKOM-OP-01,GHOST,2\n"
                        "KOM-OP-01,MANDIRI-2019-0011,1\nKOM-OP-01,MANDIRI-2019-0012,first\n")
    done = match("--clients", COHORT, "--courses", COURSES, "--rankings", str(rankings),
                 "--out", str(tmp_path / "o.csv"))
    assert done.code == 1
    assert f"{rankings}:4:rank: rank 1 for KOM-OP-01 is already given at row 2" in done.err
    assert f"{rankings}:5:rank: expected a whole number >= 1" in done.err
    rankings.write_text("course_code,client_id,rank\nKOM-OP-01,GHOST,2\n")
    done = match("--clients", COHORT, "--courses", COURSES, "--rankings", str(rankings),
                 "--out", str(tmp_path / "o.csv"))
    assert done.code == 1 and f"{rankings}:2:client_id: unknown client 'GHOST'" in done.err

    courses = tmp_path / "k.csv"
    courses.write_text("code,seats,reserved_bnn_seats\nJHT-01,2,3\nBOG-01,two,0\n")
    done = match("--clients", COHORT, "--courses", str(courses), "--out", str(tmp_path / "o.csv"))
    assert done.code == 1
    assert f"{courses}:3:seats: expected a whole number, got 'two'" in done.err


def test_exit_codes_for_usage_rules_and_an_absent_server(tmp_path):
    out = str(tmp_path / "o.csv")
    done = match("--clients", COHORT, "--out", str(tmp_path / "o.txt"))
    assert done.code == 2 and "name the file .csv or .jsonl" in done.err
    done = match("--clients", COHORT, "--out", out, "--local", "--server", "127.0.0.1:1")
    assert done.code == 2
    done = match("--clients", str(tmp_path / "missing.csv"), "--out", out)
    assert done.code == 1 and "cannot read" in done.err
    broken = tmp_path / "rules"
    broken.mkdir()
    (broken / "x.rules.yaml").write_text("ruleset: x\nrules:\n  - id: a\n    when: client.agee > 1\n")
    done = match("--clients", COHORT, "--out", out, "--rules", str(broken))
    assert done.code == 1 and re.search(r"x\.rules\.yaml:\d+:\d+: ", done.err), done.err
    done = match("--clients", COHORT, "--out", out, "--server", f"127.0.0.1:{free_port()}", "--timeout", "1")
    assert done.code == 3 and "no server answers" in done.err


def test_exotic_numbers_never_place_a_dropped_out_minor(tmp_path):
    """The reported case: one row scored 0.00001, and every dropped-out minor after it was placed.
    A tiny score is still a score (decided exactly); NaN, infinities and scores outside 0-100 are bad
    input named by file:row:column; nothing is written then."""
    head = ("id,birth_date,rehab_stage,referrer,written_test_score,interview_score,education,consent_to_share,"
            "preferences")
    minors = [f"MINOR-{i},2005-01-01,dropped_out,bnn,5,5,sma,false,JHT-01" for i in range(5)]
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("\n".join([head, "TINY-1,1994-03-01,post_rehabilitation,bnn,72,0.00001,sma,true,JHT-01",
                                 *minors]) + "\n")
    out = tmp_path / "out.csv"
    done = match("--clients", str(cohort), "--out", str(out), "--audience", "bnn")
    assert done.code == 0, done.err
    with open(out, newline="", encoding="utf-8") as fh:
        rows = {r["client_id"]: r for r in csv.DictReader(fh)}
    assert all(rows[f"MINOR-{i}"]["course"] == "" for i in range(5))
    assert rows["TINY-1"]["course"] == ""  # 0.00001 is below JHT-01's interview pass mark
    for bad, message in (("nan", "expected a finite number, got nan"), ("inf", "expected a finite number, got inf"),
                         ("1e308", "must be between 0 and 100, got 1e+308"), ("-1", "must be between 0 and 100")):
        cohort.write_text("\n".join([head, f"BAD-1,1994-03-01,post_rehabilitation,bnn,72,{bad},sma,true,JHT-01",
                                     *minors]) + "\n")
        out.unlink(missing_ok=True)
        done = match("--clients", str(cohort), "--out", str(out))
        assert done.code == 1 and not out.exists()
        assert f"{cohort}:2:interview_score: {message}" in done.err, done.err
    cohort.write_text("\n".join([head, "LATE-1,2030-01-01,post_rehabilitation,bnn,72,80,sma,true,JHT-01"]) + "\n")
    done = match("--clients", str(cohort), "--out", str(out))
    assert done.code == 1
    assert f"{cohort}:2:birth_date: 2030-01-01 is after the decision date {AS_OF}" in done.err


def test_a_date_the_rules_do_not_cover_places_nobody(tmp_path):
    done = bekal("match", "--as-of", "2015-06-01", "--no-progress", "--clients", COHORT, "--courses", COURSES,
                 "--out", str(tmp_path / "out.csv"), "--rules", str(RULES))
    assert done.code == 5 and not (tmp_path / "out.csv").exists()
    assert "are not in force on 2015-06-01 (not in force: eligibility, priority); nothing is placed" in done.err


def test_processes_is_a_local_setting_that_changes_nothing_placed(example_run, tmp_path):
    done, out, _courses_out, _summary = example_run
    again = tmp_path / "placements.csv"
    two = match("--local", "--processes", "2", "--clients", COHORT, "--courses", COURSES, "--rankings", RANKINGS,
                "--seed", "2019", "--audience", "bnn", "--out", str(again))
    assert two.code == 0, two.err
    assert again.read_text() == out.read_text()
    refused = match("--server", "127.0.0.1:1", "--processes", "2", "--clients", COHORT, "--out", str(again))
    assert refused.code == 2 and "--processes is for --local" in refused.err
    assert match("--local", "--processes", "0", "--clients", COHORT, "--out", str(again)).code == 2
