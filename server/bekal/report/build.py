"""The programme report's figures: aggregates of people, small cells suppressed, no ids.

Every figure counts *people* (distinct pseudonymous ids) or is a rate over people; a cell of 1 or 2
people is shown as ``<3`` (:data:`MIN_CELL`), and where one suppressed cell in a column could be
worked out from the others and the total, a second one is suppressed too. Ids are read to count
and never leave this module. A stage the source does not record is "not recorded" (None), never 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from bekal.i18n import N_
from bekal.report.data import FOLLOW_UP_MONTHS, OUTCOME_STATES, Period, ProgrammeData

MIN_CELL = 3  # cells of fewer people are suppressed

# the funnel's stages, in order (labels are translated when rendered)
FUNNEL = (
    ("in_rehabilitation", N_("in rehabilitation")),
    ("post_rehabilitation", N_("post-rehabilitation")),
    ("referred", N_("referred to the BLK")),
    ("eligible", N_("eligible")),
    ("placed", N_("placed in a course")),
    ("completed", N_("completed training")),
    ("working", N_("employed or self-employed")),
)
OUTCOME_LABELS = {"employed": N_("employed"), "self_employed": N_("self-employed"),
                  "seeking_work": N_("seeking work"), "further_training": N_("in further training")}


@dataclass(frozen=True)
class Cell:
    """One figure: ``value`` None when not recorded; ``suppressed`` when it counts too few people to show."""

    value: float | None
    suppressed: bool = False
    percent: bool = False

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        if self.suppressed:
            return f"<{MIN_CELL}"
        return f"{self.value:.0f}%" if self.percent else f"{self.value:.0f}"

    @property
    def csv(self) -> str:
        if self.value is None:
            return ""
        if self.suppressed:
            return f"<{MIN_CELL}"
        return f"{self.value:.1f}" if self.percent else f"{self.value:.0f}"

    @property
    def shown(self) -> float | None:
        """The value a chart may draw (None for suppressed or not recorded)."""
        return None if self.value is None or self.suppressed else self.value


def people(n: int | None) -> Cell:
    """A count of people, suppressed under :data:`MIN_CELL` (0 stays: it tells nothing about anyone)."""
    if n is None:
        return Cell(None)
    return Cell(float(n), 0 < n < MIN_CELL)


@dataclass(frozen=True)
class Table:
    """One table of the report: a key (its CSV file name), a title, column labels and labelled rows."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    period: Period
    office: str | None
    funnel: Table
    attendance: Table
    alerts: Table
    outcomes: Table
    notes: tuple[str, ...] = field(default=())

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.funnel, self.attendance, self.alerts, self.outcomes)


def secondary(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Per column: when exactly one cell is suppressed, also suppress the smallest other shown, non-zero
    cell, so the suppressed one cannot be worked out from a total."""
    if not rows:
        return rows
    for col in range(len(rows[0])):
        column = [r[col] for r in rows]
        if sum(1 for c in column if c.suppressed) != 1:
            continue
        shown = [(c.value, i) for i, c in enumerate(column) if c.value and not c.suppressed]
        if shown:
            _v, i = min(shown)
            rows[i][col] = replace(rows[i][col], suppressed=True)
    return rows


def _distinct(records: Iterable[object], key: Callable[[object], str]) -> int:
    return len({key(r) for r in records})


def _year_of(day: date | None) -> int | None:
    return None if day is None else day.year


def build(data: ProgrammeData, period: Period, office: str | None = None, title: str = "") -> Report:
    """The report of ``period`` (and ``office``) from ``data``."""
    stages = data.stages(period, office)
    decisions = [d for d in data.decisions(period, office) if d.day in period]
    placements = [p for p in data.placements(period, office) if p.day in period]
    enrolments = data.enrolments(period, office)
    attendance = data.attendance(period, office)
    alerts = [a for a in data.alerts(period, office) if a.raised in period]
    outcomes = [o for o in data.outcomes(period, office) if o.day in period]

    # -- the funnel: per year, people at each stage, and the whole period
    per_stage: dict[str, dict[int, set[str]]] = {key: defaultdict(set) for key, _ in FUNNEL[2:]}
    for d in decisions:
        per_stage["referred"][d.day.year].add(d.client_id)
        if d.outcome == "ELIGIBLE":
            per_stage["eligible"][d.day.year].add(d.client_id)
    for p in placements:
        per_stage["placed"][p.day.year].add(p.client_id)
    for e in enrolments:
        if e.status == "completed" and e.end is not None and e.end in period:
            per_stage["completed"][e.end.year].add(e.client_id)
    for o in outcomes:
        if o.status in ("employed", "self_employed"):
            per_stage["working"][o.day.year].add(o.client_id)
    recorded = {"referred": bool(decisions), "eligible": bool(decisions), "placed": bool(placements),
                "completed": bool(enrolments), "working": bool(outcomes)}
    if office is not None:  # none for this office is 0 people, if the source records the stage for others
        everyone = {"referred": data.decisions, "eligible": data.decisions, "placed": data.placements,
                    "completed": data.enrolments, "working": data.outcomes}
        recorded = {k: v or bool(everyone[k](period, None)) for k, v in recorded.items()}
    stage_years: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for s in stages:
        if s.year in period.years:
            stage_years[s.year][0] += s.in_rehabilitation
            stage_years[s.year][1] += s.post_rehabilitation
    rows: list[list[Cell]] = []
    for year in period.years:
        row = [people(stage_years[year][0]) if year in stage_years else Cell(None),
               people(stage_years[year][1]) if year in stage_years else Cell(None)]
        row += [people(len(per_stage[key][year])) if recorded[key] else Cell(None) for key, _ in FUNNEL[2:]]
        rows.append(row)
    rows = secondary(rows)
    total = [people(sum(v[0] for v in stage_years.values())) if stage_years else Cell(None),
             people(sum(v[1] for v in stage_years.values())) if stage_years else Cell(None)]
    total += [people(len(set().union(*per_stage[key].values()))) if recorded[key] else Cell(None)
              for key, _ in FUNNEL[2:]]
    funnel = Table("funnel", N_("The funnel: people at each stage"), tuple(label for _k, label in FUNNEL),
                   tuple([(str(y), tuple(r)) for y, r in zip(period.years, rows)]
                         + [(N_("whole period"), tuple(total))]),
                   (N_("in rehabilitation and post-rehabilitation are the referring office's yearly case numbers; "
                       "their whole-period figure is the sum of the years"),
                    N_("every other figure counts people; a person counts once a year and once in the whole "
                       "period")))

    # -- attendance over time, per course: the share of sessions held that were attended
    by_cell: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    who: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in attendance:
        if a.held > 0 and period.start.strftime("%Y-%m") <= a.month <= period.end.strftime("%Y-%m"):
            by_cell[(a.course, a.month)][0] += a.held
            by_cell[(a.course, a.month)][1] += a.attended
            who[(a.course, a.month)].add(a.client_id)
    months = sorted({m for _c, m in by_cell})
    courses = sorted({c for c, _m in by_cell})
    att_rows = []
    for course in courses:
        cells = []
        for month in months:
            held, attended = by_cell.get((course, month), (0, 0))
            n = len(who.get((course, month), ()))
            if n == 0:
                cells.append(Cell(None))
            else:
                cells.append(Cell(100.0 * attended / held, n < MIN_CELL, percent=True))
        att_rows.append((course, tuple(cells)))
    attendance_table = Table("attendance", N_("Attendance per course and month"), tuple(months), tuple(att_rows),
                             (N_("sessions attended (present or late) of the sessions held, over the course's "
                                 "clients; a month with fewer than 3 clients in a course is suppressed"),)
                             if attendance else (N_("not recorded by this source"),))

    # -- alerts raised and acknowledged, per month
    raised: dict[str, set[str]] = defaultdict(set)
    raised_n: dict[str, int] = defaultdict(int)
    acked_n: dict[str, int] = defaultdict(int)
    for alert in alerts:
        month = alert.raised.strftime("%Y-%m")
        raised[month].add(alert.client_id)
        raised_n[month] += 1
        if alert.acknowledged is not None:
            acked_n[month] += 1
    alert_rows = []
    for month in sorted(raised):
        few = len(raised[month]) < MIN_CELL
        alert_rows.append((month, (Cell(float(len(raised[month])), few), Cell(float(raised_n[month]), few),
                                   Cell(float(acked_n[month]), few))))
    alerts_table = Table("alerts", N_("Alerts raised and acknowledged, per month"),
                         (N_("people"), N_("alerts raised"), N_("acknowledged")), tuple(alert_rows),
                         (N_("a month with alerts about fewer than 3 people is suppressed"),) if alerts
                         else (N_("not recorded by this source"),))

    # -- outcomes at follow-up: people per status at 3, 6 and 12 months
    at: dict[tuple[int, str], set[str]] = defaultdict(set)
    for o in outcomes:
        at[(o.follow_up_month, o.status)].add(o.client_id)
    out_rows = []
    for follow in FOLLOW_UP_MONTHS:
        out_rows.append((str(follow), tuple(people(len(at[(follow, s)])) if outcomes else Cell(None)
                                            for s in OUTCOME_STATES)))
    outcomes_table = Table("outcomes", N_("Outcomes at follow-up (months after training)"),
                           tuple(OUTCOME_LABELS[s] for s in OUTCOME_STATES),
                           tuple((label, tuple(cells)) for label, cells in zip(
                               [r[0] for r in out_rows], secondary([list(r[1]) for r in out_rows]))),
                           () if outcomes else (N_("not recorded by this source"),))
    return Report(title, period, office, funnel, attendance_table, alerts_table, outcomes_table)


def totals(table: Table) -> dict[str, Cell]:
    """The last row of a table by column label (the funnel's whole period)."""
    label, cells = table.rows[-1]
    return dict(zip(table.columns, cells))


def row(table: Table, label: str) -> Sequence[Cell]:
    for name, cells in table.rows:
        if name == label:
            return cells
    raise KeyError(label)
