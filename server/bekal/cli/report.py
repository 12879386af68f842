"""``bekal report``: the programme report as a self-contained HTML page, and its tables as CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from bekal.i18n import _


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("expected a date YYYY-MM-DD, got {value!r}", value=value)) from None


@click.command()
@click.option("--from", "start", callback=_day, metavar="DATE", help="first day of the period (YYYY-MM-DD)")
@click.option("--to", "end", callback=_day, metavar="DATE", help="last day of the period (YYYY-MM-DD)")
@click.option("--office", default=None, help="only this referring office's clients")
@click.option("--scenario", type=click.Path(dir_okay=False, exists=True), default=None,
              help="read a scenario file (examples/report-2019.yaml) instead of a database")
@click.option("--db", metavar="PATH", envvar="BEKAL_DB", default="bekal.db", show_default=True,
              help="the server's SQLite database (read-only)")
@click.option("--title", default=None, help="the report's title")
@click.option("--out", type=click.Path(dir_okay=False), default="report.html", show_default=True,
              help="the HTML file; the tables are written beside it as OUT-funnel.csv, ...")
def report(start: date | None, end: date | None, office: str | None, scenario: str | None, db: str,
           title: str | None, out: str) -> None:
    """The programme report: funnel, attendance, alerts and outcomes (aggregates only; cells under 3
    people suppressed, no ids)."""
    from bekal.report.build import build
    from bekal.report.data import Period, ProgrammeData
    from bekal.report.render import write_report

    source: ProgrammeData
    if scenario is not None:
        from bekal.report.scenario import ScenarioError, read_scenario

        try:
            data = read_scenario(scenario)
        except ScenarioError as exc:
            raise click.ClickException(str(exc)) from None
        source, default, name = data, data.period, data.title
    else:
        from bekal.report.fromstore import StoreData

        try:
            source = StoreData(db)
        except FileNotFoundError:
            raise click.ClickException(_("no database {path}: give --db, or --scenario FILE", path=db)) from None
        today = date.today()
        default, name = Period(date(today.year, 1, 1), today), ""
    period = Period(start or default.start, end or default.end)
    if period.end < period.start:
        raise click.BadParameter(_("--to is before --from"), param_hint="--to")
    built = build(source, period, office, title or name)
    for path in write_report(built, Path(out)):
        click.echo(str(path))
