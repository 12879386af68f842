"""A scenario file as a :class:`~bekal.report.data.ProgrammeData` source: the report without a server.

``examples/report-2019.yaml`` reproduces the programme's 2019 report (36 in rehabilitation, 7 in
post-rehabilitation, 3 directed to the BLK; 12 trained 2016-2018) with made-up pseudonymous
clients. The format::

    title: ...                    # optional
    office: BNNK Banjarbaru       # the referring office of every client (a client may name another)
    period: {from: 2016-01-01, to: 2019-12-31}   # the default period of the report
    stages:                       # BNN's yearly case numbers
      - {year: 2019, in_rehabilitation: 36, post_rehabilitation: 7}
    clients:
      - id: S19-01                # pseudonymous; never shown
        referred: 2019-05-20      # the day of the eligibility decision
        outcome: ELIGIBLE         # ELIGIBLE (default), INELIGIBLE or PENDING
        course: LAS-01
        placed: 2019-06-03        # optional: a seat from that day
        start: 2019-07-01         # optional: enrolled from that day ...
        end: 2019-09-30           # ... to that day,
        status: completed         # active (default), completed or dropped_out
        attendance: {2019-07: [20, 19]}    # per month: sessions held, attended
        alerts: [{raised: 2019-08-02, acknowledged: 2019-08-03}]
        follow_up: {3: self_employed, 12: employed}   # months after the end: status

A problem is reported as ``FILE: clients[3].status: ...`` and nothing is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from bekal.report.data import (
    ENROLMENT_STATES,
    FOLLOW_UP_MONTHS,
    OUTCOME_STATES,
    AlertRecord,
    AttendanceRecord,
    DecisionRecord,
    EnrolmentRecord,
    OutcomeRecord,
    Period,
    PlacementRecord,
    StageCount,
)

T = TypeVar("T")


class _Office(Protocol):
    @property
    def office(self) -> str: ...


class ScenarioError(ValueError):
    """A scenario file that cannot be read: every problem, as ``FILE: field: problem``."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


@dataclass
class ScenarioData:
    """The records of one scenario file; :class:`~bekal.report.data.ProgrammeData`."""

    title: str
    period: Period
    stage_counts: list[StageCount] = field(default_factory=list)
    decision_records: list[DecisionRecord] = field(default_factory=list)
    placement_records: list[PlacementRecord] = field(default_factory=list)
    enrolment_records: list[EnrolmentRecord] = field(default_factory=list)
    attendance_records: list[AttendanceRecord] = field(default_factory=list)
    alert_records: list[AlertRecord] = field(default_factory=list)
    outcome_records: list[OutcomeRecord] = field(default_factory=list)

    @staticmethod
    def _of(records: Sequence[_Office], office: str | None) -> list[Any]:
        return [r for r in records if office is None or r.office == office]

    def stages(self, period: Period, office: str | None) -> Sequence[StageCount]:
        return [s for s in self._of(self.stage_counts, office) if s.year in period.years]

    def decisions(self, period: Period, office: str | None) -> Sequence[DecisionRecord]:
        return self._of(self.decision_records, office)

    def placements(self, period: Period, office: str | None) -> Sequence[PlacementRecord]:
        return self._of(self.placement_records, office)

    def enrolments(self, period: Period, office: str | None) -> Sequence[EnrolmentRecord]:
        return self._of(self.enrolment_records, office)

    def attendance(self, period: Period, office: str | None) -> Sequence[AttendanceRecord]:
        return self._of(self.attendance_records, office)

    def alerts(self, period: Period, office: str | None) -> Sequence[AlertRecord]:
        return self._of(self.alert_records, office)

    def outcomes(self, period: Period, office: str | None) -> Sequence[OutcomeRecord]:
        return self._of(self.outcome_records, office)


class _Reader:
    def __init__(self, name: str):
        self.name = name
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{self.name}: {where}: {problem}")

    def get(self, data: Any, key: str, where: str, convert: Callable[[Any], T], required: bool = True
            ) -> T | None:
        if not isinstance(data, dict) or key not in data or data[key] is None:
            if required:
                self.fail(f"{where}{key}", "required")
            return None
        try:
            return convert(data[key])
        except (TypeError, ValueError) as exc:
            self.fail(f"{where}{key}", f"{exc} (got {data[key]!r})")
            return None


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def _one_of(choices: Sequence[str]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return str(value)
    return convert


class _TextDates(yaml.SafeLoader):
    """YAML with dates left as text: an impossible date is then a problem of its field, not of the file."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_scenario(path: str | Path) -> ScenarioData:
    """Read a scenario file; raises :class:`ScenarioError` naming every problem."""
    path = Path(path)
    r = _Reader(str(path))
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDates)  # noqa: S506 (a safe loader)
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read it ({exc.strerror or exc})"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{path}: not YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise ScenarioError([f"{path}: expected a mapping with period, stages and clients"])
    office = r.get(raw, "office", "", str) or ""
    span = raw.get("period")
    start = r.get(span, "from", "period.", _date)
    end = r.get(span, "to", "period.", _date)
    if start and end and end < start:
        r.fail("period.to", "before period.from")
    data = ScenarioData(str(raw.get("title") or ""), Period(start or date.min, end or date.max))
    for i, s in enumerate(raw.get("stages") or []):
        where = f"stages[{i}]."
        year = r.get(s, "year", where, _count)
        rehab = r.get(s, "in_rehabilitation", where, _count)
        post = r.get(s, "post_rehabilitation", where, _count)
        if year is not None and rehab is not None and post is not None:
            data.stage_counts.append(StageCount(year, str(s.get("office") or office), rehab, post))
    seen: set[str] = set()
    for i, c in enumerate(raw.get("clients") or []):
        _client(r, data, c, f"clients[{i}].", office, seen)
    if r.problems:
        raise ScenarioError(r.problems)
    return data


def _client(r: _Reader, data: ScenarioData, c: Any, where: str, office: str, seen: set[str]) -> None:
    cid = r.get(c, "id", where, str)
    if cid is None:
        return
    if cid in seen:
        r.fail(f"{where}id", f"{cid!r} appears twice")
    seen.add(cid)
    who = str(c.get("office") or office)
    course = r.get(c, "course", where, str) or ""
    referred = r.get(c, "referred", where, _date)
    outcome = r.get(c, "outcome", where, _one_of(("ELIGIBLE", "INELIGIBLE", "PENDING")), required=False)
    if referred is not None:
        data.decision_records.append(DecisionRecord(cid, who, course, outcome or "ELIGIBLE", referred))
    placed = r.get(c, "placed", where, _date, required=False)
    if placed is not None:
        data.placement_records.append(PlacementRecord(cid, who, course, placed))
    start = r.get(c, "start", where, _date, required=False)
    end = r.get(c, "end", where, _date, required=False)
    status = r.get(c, "status", where, _one_of(ENROLMENT_STATES), required=False) or "active"
    if start is not None:
        if status != "active" and end is None:
            r.fail(f"{where}end", f"required for status {status}")
        if end is not None and end < start:
            r.fail(f"{where}end", "before start")
        data.enrolment_records.append(EnrolmentRecord(cid, who, course, start, status, end))
    for month, pair in (c.get("attendance") or {}).items():
        month_text = str(month)
        try:
            date.fromisoformat(month_text + "-01")
            held, attended = (_count(v) for v in pair)
            if attended > held:
                raise ValueError("more sessions attended than held")
        except (TypeError, ValueError) as exc:
            r.fail(f"{where}attendance[{month_text}]", f"expected [held, attended] for a YYYY-MM month: {exc}")
            continue
        data.attendance_records.append(AttendanceRecord(cid, who, course, month_text, held, attended))
    for j, a in enumerate(c.get("alerts") or []):
        raised = r.get(a, "raised", f"{where}alerts[{j}].", _date)
        acked = r.get(a, "acknowledged", f"{where}alerts[{j}].", _date, required=False)
        if raised is not None:
            data.alert_records.append(AlertRecord(cid, who, course, raised, acked))
    follow = c.get("follow_up") or {}
    if follow and (end is None or status != "completed"):
        r.fail(f"{where}follow_up", "only after a completed training (status completed, with an end date)")
        return
    for month, state in follow.items():
        if month not in FOLLOW_UP_MONTHS:
            r.fail(f"{where}follow_up[{month}]", f"follow-ups are at {', '.join(map(str, FOLLOW_UP_MONTHS))} months")
            continue
        if state not in OUTCOME_STATES:
            r.fail(f"{where}follow_up[{month}]", f"expected one of {', '.join(OUTCOME_STATES)}")
            continue
        assert end is not None
        data.outcome_records.append(OutcomeRecord(cid, who, int(month), str(state), _add_months(end, int(month))))
