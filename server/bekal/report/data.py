"""What the programme report reads: plain records behind one small interface, :class:`ProgrammeData`.

The report is built from whatever can answer these questions for a period and (optionally) one
referring office: the decision log and the matching jobs on this server (:mod:`.fromstore`), a
scenario file (:mod:`.scenario`), and the monitoring store's enrolments, attendance, alerts and
outcomes in the same database (also :mod:`.fromstore`). Each source returns plain records; the report counts *people*
(distinct pseudonymous client ids) from them and never shows an id (:mod:`.build`).

To wire another source, implement the methods of :class:`ProgrammeData`;
a source that does not know a stage returns nothing for it (``stages`` an empty list, ``enrolments``
an empty list, ...), and the report says "not recorded" for it rather than 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

ATTENDANCE_STATES = ("present", "absent", "excused", "late")
ENROLMENT_STATES = ("active", "completed", "dropped_out")
OUTCOME_STATES = ("employed", "self_employed", "seeking_work", "further_training")
FOLLOW_UP_MONTHS = (3, 6, 12)


@dataclass(frozen=True)
class Period:
    """The report's period, both days included."""

    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))


@dataclass(frozen=True)
class StageCount:
    """How many people a referring office had at a stage of rehabilitation in a year: BNN's own case
    numbers (bekal decides on referred clients only, so it cannot count these itself)."""

    year: int
    office: str
    in_rehabilitation: int
    post_rehabilitation: int


@dataclass(frozen=True)
class DecisionRecord:
    """An eligibility decision about a referred client (the decision log)."""

    client_id: str
    office: str  # the referring office (for the log: the agency that asked)
    course: str
    outcome: str  # ELIGIBLE / INELIGIBLE / PENDING
    day: date  # when it was decided


@dataclass(frozen=True)
class PlacementRecord:
    """A seat given to a client (a matching job's result, or a placement recorded directly)."""

    client_id: str
    office: str
    course: str
    day: date


@dataclass(frozen=True)
class EnrolmentRecord:
    """A client in a course: started, then completed or dropped out (the monitoring store)."""

    client_id: str
    office: str
    course: str
    start: date
    status: str  # one of ENROLMENT_STATES
    end: date | None = None


@dataclass(frozen=True)
class AttendanceRecord:
    """One client's attendance in one course in one month: sessions held and attended (present or late)."""

    client_id: str
    office: str
    course: str
    month: str  # YYYY-MM
    held: int
    attended: int


@dataclass(frozen=True)
class AlertRecord:
    """A monitoring alert about a client in training, and when the referring office acknowledged it."""

    client_id: str
    office: str
    course: str
    raised: date
    acknowledged: date | None = None


@dataclass(frozen=True)
class OutcomeRecord:
    """Where a client stood at a follow-up 3, 6 or 12 months after training (or at its end: month 0,
    which the funnel's *employed or self-employed* counts and the follow-up table does not show)."""

    client_id: str
    office: str
    follow_up_month: int  # one of FOLLOW_UP_MONTHS, or 0: at completion (counts in the funnel only)
    status: str  # one of OUTCOME_STATES
    day: date


class ProgrammeData(Protocol):
    """A source of the programme report: every method returns the records of ``period`` (by the record's
    own date: decided, placed, started, month, raised, followed up) of ``office`` (None: every office)."""

    def stages(self, period: Period, office: str | None) -> Sequence[StageCount]: ...

    def decisions(self, period: Period, office: str | None) -> Sequence[DecisionRecord]: ...

    def placements(self, period: Period, office: str | None) -> Sequence[PlacementRecord]: ...

    def enrolments(self, period: Period, office: str | None) -> Sequence[EnrolmentRecord]: ...

    def attendance(self, period: Period, office: str | None) -> Sequence[AttendanceRecord]: ...

    def alerts(self, period: Period, office: str | None) -> Sequence[AlertRecord]: ...

    def outcomes(self, period: Period, office: str | None) -> Sequence[OutcomeRecord]: ...
