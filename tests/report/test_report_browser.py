"""The programme report rendered by a real headless Chromium: the figures the page shows, read back
from the DOM the browser built, match the 2019 report; the page prints (PDF); no client id appears.

Chromium is Debian's package (``make test`` installs it when missing: ``make browser``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bekal.report.build import build
from bekal.report.data import Period
from bekal.report.render import write_report
from bekal.report.scenario import read_scenario
from tests.support.paths import ROOT

SCENARIO = ROOT / "examples" / "report-2019.yaml"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: run `make browser` (apt-get install chromium)"
    return found


def run_chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "profile"
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120)


class Cells(HTMLParser):
    """The report's figure cells as the browser has them: (table, row, column) -> text; and the charts."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str], str] = {}
        self.svgs = 0
        self._open: tuple[str, str, str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "td" and "data-table" in a:
            self._open = (a["data-table"] or "", a["data-row"] or "", a["data-column"] or "")
            self.cells[self._open] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._open = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open is not None:
            self.cells[self._open] += data.strip()


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, Cells, str]:
    tmp = tmp_path_factory.mktemp("report")
    data = read_scenario(SCENARIO)
    out = tmp / "report.html"
    write_report(build(data, data.period, None, data.title), out)
    dumped = run_chromium(tmp, "--dump-dom", out.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    cells = Cells()
    cells.feed(dumped.stdout)
    return out, cells, dumped.stdout


def test_the_browser_shows_the_2019_report(page):
    _out, dom, _html = page
    cell = dom.cells
    # 2019: 36 in rehabilitation -> 7 in post-rehabilitation -> 3 directed to the BLK
    assert cell[("funnel", "2019", "in rehabilitation")] == "36"
    assert cell[("funnel", "2019", "post-rehabilitation")] == "7"
    assert cell[("funnel", "2019", "referred to the BLK")] == "3"
    # 12 trained 2016-2018
    trained = [cell[("funnel", str(y), "completed training")] for y in (2016, 2017, 2018)]
    assert sum(int(t) for t in trained) == 12
    assert cell[("funnel", "whole period", "completed training")] == "12"
    assert cell[("funnel", "2016", "in rehabilitation")] == "—"  # not recorded, not 0


def test_small_cells_are_suppressed_and_no_id_is_shown(page):
    _out, dom, html = page
    # the 2017 sewing course had 2 clients: its attendance is not shown
    assert dom.cells[("attendance", "JHT-BUSANA-01", "2017-05")] == "<3"
    assert dom.cells[("attendance", "LAS-SMAW-01", "2019-08")].endswith("%")  # 3 clients: shown
    for (_t, _r, _c), text in dom.cells.items():
        assert text in ("<3", "—") or int(text.rstrip("%")) == 0 or int(text.rstrip("%")) >= 3 or "%" in text
    for client in ("S16-01", "S19-03", "S18-05"):
        assert client not in html


def test_charts_are_inline_svg_and_the_page_needs_nothing_else(page):
    out, dom, _html = page
    assert dom.svgs == 4  # funnel, attendance, alerts, outcomes
    source = out.read_text()
    assert "<script" not in source and "<link" not in source and "<img" not in source
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", source)  # nothing fetched from elsewhere
    assert "@media print" in source


def test_the_page_prints(page, tmp_path: Path):
    out, _dom, _html = page
    pdf = tmp_path / "report.pdf"
    printed = run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", out.as_uri())
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2


def test_the_csv_tables_match_the_page(page):
    out, dom, _html = page
    funnel = (out.parent / "report-funnel.csv").read_text().splitlines()
    assert funnel[0].startswith(",in rehabilitation,post-rehabilitation,referred to the BLK")
    assert funnel[4].startswith("2019,36,7,3,")
    assert funnel[-1].split(",")[6] == dom.cells[("funnel", "whole period", "completed training")] == "12"


def test_a_period_and_office_narrow_the_report(tmp_path: Path):
    data = read_scenario(SCENARIO)
    only_2019 = build(data, Period(data.period.start.replace(year=2019), data.period.end), "BNNK Banjarbaru")
    assert [r[0] for r in only_2019.funnel.rows] == ["2019", "whole period"]
    assert only_2019.funnel.rows[-1][1][2].text == "3"
    nobody = build(data, data.period, "BNNP Kalsel")
    assert nobody.funnel.rows[-1][1][2].text == "0"
