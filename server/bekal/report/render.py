"""The programme report as one self-contained HTML page (charts as inline SVG) and the same tables as CSV.

Charts are drawn with matplotlib (the Agg backend, no display) and written as SVG into the page, so
the file needs nothing else to show or print: no scripts, no fonts or images from elsewhere. Print
CSS keeps each section on its own page where it fits, tables unbroken, and the charts at page width.
Every figure cell carries ``data-stage``/``data-column`` attributes so a browser test can read what
is shown. Messages are in the current language (``--lang id`` or ``en``).
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bekal.i18n import _, language
from bekal.report.build import Cell, Report, Table

_CSS = """
:root { --ink: #1d2733; --muted: #5b6773; --line: #d5dbe1; --accent: #1f6f8b; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink); margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; color: var(--accent); }
.meta, .note { color: var(--muted); font-size: .9rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef2f5; }
tr.total td { font-weight: bold; border-top: 2px solid var(--ink); }
td.suppressed { color: var(--muted); font-style: italic; }
figure { margin: .6rem 0; } figure svg { width: 100%; height: auto; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section { break-inside: avoid; page-break-inside: avoid; }
  table, figure { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4; margin: 15mm; }
"""


def _cell_html(cell: Cell, table: str, row: str, column: str) -> str:
    classes = "suppressed" if cell.suppressed else "missing" if cell.value is None else "figure"
    return (f'<td class="{classes}" data-table="{html.escape(table)}" data-row="{html.escape(row)}" '
            f'data-column="{html.escape(column)}">{html.escape(cell.text)}</td>')


def table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(_(c))}</th>" for c in table.columns)
    body = []
    for i, (label, cells) in enumerate(table.rows):
        total = table.key == "funnel" and i == len(table.rows) - 1
        tds = "".join(_cell_html(c, table.key, label, col) for c, col in zip(cells, table.columns))
        css = ' class="total"' if total else ""
        body.append(f'<tr{css}><th scope="row">{html.escape(_(label))}</th>{tds}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{len(table.columns) + 1}">{html.escape(_("no records"))}</td></tr>')
    notes = "".join(f'<p class="note">{html.escape(_(n))}</p>' for n in table.notes)
    return (f'<table id="table-{table.key}"><thead><tr><th></th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>{notes}')


def _svg(figure: object) -> str:
    import matplotlib.pyplot as plt

    out = io.StringIO()
    # no date in the metadata: the same data gives the same page
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})  # type: ignore[attr-defined]
    plt.close(figure)  # type: ignore[arg-type]
    text = out.getvalue()
    return text[text.index("<svg"):]  # without the XML declaration and doctype: inline in the page


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "bekal-report", "font.size": 9,
                                "font.family": "DejaVu Sans"})
    import matplotlib.pyplot as plt

    return plt


def funnel_chart(table: Table) -> str:
    plt = _pyplot()
    _label, cells = table.rows[-1]
    labels = [_(c) for c in table.columns]
    values = [c.shown or 0.0 for c in cells]
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    bars = ax.barh(range(len(labels)), values, color="#1f6f8b")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    for bar, cell in zip(bars, cells):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {cell.text}", va="center")
    ax.set_xlabel(_("people"))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def attendance_chart(table: Table) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    months = list(table.columns)
    for course, cells in table.rows:
        ys = [c.shown if c.shown is not None else math.nan for c in cells]
        ax.plot(range(len(months)), ys, marker="o", label=course)
    ax.set_xticks(range(len(months)), months, rotation=60, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel(_("attendance (%)"))
    if table.rows:
        ax.legend(loc="lower left", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def grouped_chart(table: Table, columns: Sequence[int], ylabel: str) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    labels = [_(label) for label, _cells in table.rows]
    width = 0.8 / max(1, len(columns))
    for k, col in enumerate(columns):
        ys = [cells[col].shown or 0.0 for _label, cells in table.rows]
        ax.bar([i + k * width for i in range(len(labels))], ys, width, label=_(table.columns[col]))
    ax.set_xticks([i + width * (len(columns) - 1) / 2 for i in range(len(labels))], labels)
    ax.set_ylabel(ylabel)
    if table.rows:
        ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def render_html(report: Report) -> str:
    """The whole report as one HTML page."""
    office = report.office or _("every office")
    title = report.title or _("Programme report")
    sections = [
        (report.funnel, funnel_chart(report.funnel)),
        (report.attendance, attendance_chart(report.attendance) if report.attendance.rows else ""),
        (report.alerts, grouped_chart(report.alerts, [1, 2], _("alerts")) if report.alerts.rows else ""),
        (report.outcomes, grouped_chart(report.outcomes, list(range(len(report.outcomes.columns))), _("people"))
         if any(c.value is not None for _l, cells in report.outcomes.rows for c in cells) else ""),
    ]
    body = []
    for table, chart in sections:
        figure = f"<figure>{chart}</figure>" if chart else ""
        body.append(f'<section id="{table.key}"><h2>{html.escape(_(table.title))}</h2>{figure}'
                    f"{table_html(table)}</section>")
    lang = language()
    meta = _("{start} to {end} · referring office: {office} · cells of fewer than 3 people are shown as <3; "
             "no client is identified", start=report.period.start.isoformat(), end=report.period.end.isoformat(),
             office=office)
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f'<header><h1>{html.escape(title)}</h1><p class="meta">{html.escape(meta)}</p></header>'
            f'{"".join(body)}</body></html>\n')


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["", *[_(c) for c in table.columns]])
    for label, cells in table.rows:
        writer.writerow([_(label), *[c.csv for c in cells]])
    return out.getvalue()


def write_report(report: Report, out: Path) -> list[Path]:
    """Write ``out`` (HTML) and one CSV per table beside it (``report-funnel.csv``, ...); the files written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")
    written = [out]
    stem = re.sub(r"\.html?$", "", out.name)
    for table in report.tables:
        path = out.with_name(f"{stem}-{table.key}.csv")
        path.write_text(csv_text(table), encoding="utf-8")
        written.append(path)
    return written
