"""The report's figures on plain data: people counted once, small cells suppressed (and the one that a
total would give away), stages not recorded shown as such; scenario files checked field by field; the
database as a source; the command in Indonesian."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bekal.access import Principal, Role
from bekal.audience import BNN
from bekal.facts import parse_facts
from bekal.report.build import Cell, build, people, secondary
from bekal.report.data import DecisionRecord, Period, StageCount
from bekal.report.fromstore import StoreData
from bekal.report.scenario import ScenarioData, ScenarioError, read_scenario
from bekal.services.eligibility.logic import Check, Eligibility
from bekal.services.snapshots import ServedRules
from bekal.store import SQLiteDecisionLog
from tests.support.cli import bekal
from tests.support.paths import ROOT, TEST_RULES, copy_of
from tests.support.people import eligible_client

YEAR = Period(date(2019, 1, 1), date(2019, 12, 31))


def test_people_under_three_are_suppressed_zero_is_not():
    assert [people(n).text for n in (0, 1, 2, 3, 36)] == ["0", "<3", "<3", "3", "36"]
    assert people(None).text == "—"
    assert people(2).shown is None and people(3).shown == 3


def test_a_lone_suppressed_cell_takes_a_second_one_with_it():
    rows = [[people(2)], [people(5)], [people(9)]]
    assert [r[0].text for r in secondary(rows)] == ["<3", "<3", "9"]  # 5 goes too: 2 = total - 5 - 9
    two = [[people(1)], [people(2)], [people(9)]]
    assert [r[0].text for r in secondary(two)] == ["<3", "<3", "9"]  # already two: nothing more


def test_a_person_counts_once_per_stage_and_ids_never_reach_the_report():
    data = ScenarioData("t", YEAR, stage_counts=[StageCount(2019, "X", 10, 4)], decision_records=[
        DecisionRecord(f"C-{i}", "X", course, "ELIGIBLE" if i < 3 else "INELIGIBLE", date(2019, 5, 1))
        for i in range(5) for course in ("A", "B")])
    report = build(data, YEAR)
    total = dict(zip(report.funnel.columns, report.funnel.rows[-1][1]))
    assert total["referred to the BLK"].text == "5"  # 5 people, 10 decisions
    assert total["eligible"].text == "3"
    assert total["placed in a course"].text == "—"  # this source records no placements
    text = repr(report)
    assert "C-1" not in text and "C-4" not in text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_scenario_problems_name_the_field(tmp_path: Path):
    bad = write(tmp_path, """
period: {from: 2019-01-01, to: 2018-12-31}
stages: [{year: 2019, in_rehabilitation: -1, post_rehabilitation: 2}]
clients:
  - {id: A, referred: 2019-02-30, course: X}
  - {id: A, referred: 2019-02-01, course: X, status: finished, start: 2019-03-01}
  - {id: B, referred: 2019-02-01, course: X, attendance: {2019-04: [5, 9]}, follow_up: {3: employed}}
""")
    with pytest.raises(ScenarioError) as err:
        read_scenario(bad)
    text = str(err.value)
    for expected in ("period.to: before period.from", "stages[0].in_rehabilitation", "clients[0].referred",
                     "clients[1].id: 'A' appears twice", "clients[1].status", "clients[2].attendance[2019-04]",
                     "clients[2].follow_up: only after a completed training"):
        assert expected in text, text
    assert all(line.startswith(str(bad)) for line in err.value.problems)


def test_the_database_is_a_source(tmp_path: Path):
    rules = ServedRules(copy_of(TEST_RULES, tmp_path))
    rules.reload()
    db = tmp_path / "bekal.db"
    log = SQLiteDecisionLog(db)
    bnn = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")
    service = Eligibility(rules, log)
    for i in range(4):
        facts = parse_facts("client", eligible_client(id=f"C-{i}", written_test_score=72 if i else 40))
        for course in ("LAS-01", "JHT-01"):
            service.check(Check(f"r-{i}-{course}", facts, course, date(2019, 6, 1), BNN, fingerprint=f"f{i}{course}",
                                principal=bnn))
    log.close()
    rules.close()
    today = date.today()
    report = build(StoreData(db), Period(date(today.year, 1, 1), today), "bnnk-banjarbaru")
    total = dict(zip(report.funnel.columns, report.funnel.rows[-1][1]))
    assert total["referred to the BLK"].text == "4"
    assert total["eligible"].text == "4"  # C-0 fails LAS-01's written test but is eligible for JHT-01
    assert total["in rehabilitation"].text == "—"  # BNN's case numbers are not in the database
    other = build(StoreData(db), Period(date(today.year, 1, 1), today), "bnnp-kalsel")
    assert dict(zip(other.funnel.columns, other.funnel.rows[-1][1]))["referred to the BLK"].text == "0"


def test_the_command_writes_the_page_and_csv_in_indonesian(tmp_path: Path):
    out = tmp_path / "laporan.html"
    result = bekal("report", "--scenario", str(ROOT / "examples" / "report-2019.yaml"), "--from", "2019-01-01",
                   "--out", str(out), env={"BEKAL_LANG": "id"})
    assert result.code == 0, result.text
    page = out.read_text()
    assert 'lang="id"' in page and "dalam rehabilitasi" in page
    funnel = (tmp_path / "laporan-funnel.csv").read_text().splitlines()
    assert funnel[1].startswith("2019,36,7,3,")
    bad = bekal("report", "--scenario", str(ROOT / "examples" / "report-2019.yaml"), "--from", "2019-13-01",
                "--out", str(out))
    assert bad.code == 2 and "--from" in bad.err
    assert isinstance(Cell(1.0).text, str)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), min_size=3, max_size=3), min_size=1, max_size=6))
def test_no_small_cell_is_shown_and_no_lone_suppressed_cell_stands(counts):
    rows = secondary([[people(n) for n in row] for row in counts])
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            n = counts[r][c]
            if 0 < n < 3:
                assert cell.suppressed and cell.text == "<3" and cell.csv == "<3" and cell.shown is None
            if not cell.suppressed:
                assert cell.text == str(n)
    for c in range(3):
        column = [row[c] for row in rows]
        lone = sum(1 for cell in column if cell.suppressed) == 1
        # a lone suppressed cell is left only when nothing else in its column could be suppressed with it
        assert not lone or all(not cell.value for cell in column if not cell.suppressed)
