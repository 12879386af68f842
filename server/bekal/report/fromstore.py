"""The server's database as a :class:`~bekal.report.data.ProgrammeData` source, read-only.

What a bekal database holds answers every stage but BNN's own case numbers:

- **referred** and **eligible**: the decision log (``request``): every check a BNN office asked in
  its own view (audience ``bnn``) is a referral, counted once per person; ``ELIGIBLE`` in any of its
  courses makes the person eligible. The referring office is the agency that asked (its name in the
  identities file, e.g. ``bnnk-banjarbaru``: ``--office`` takes that name here);
- **placed**: the results of succeeded matching jobs (``match_job_result``), dated when the job
  finished, the office being the job's creator; and the seats recorded directly in the monitoring
  store (an enrolment that holds or held a seat and that no matching job placed), dated from its start;
- **enrolments**, **attendance**, **alerts**, **outcomes**: the monitoring store's tables
  (:mod:`bekal.store.monitoring`), read with SQL here rather than through
  :class:`~bekal.store.monitoring.SQLiteMonitoringStore`, because that store writes its schema
  version when it opens and the report must not write. An enrolment's office is the agency that
  created it (the caller of its CreateEnrolments request, kept in ``enrolment_request``), so that
  ``--office`` means the same agency name for every figure; the office's display name in
  ``referring_office`` is used only for an enrolment no request names.

Rehabilitation stages (BNN's case numbers) are not in it: those come from a scenario file. The
database is opened read-only (no keys needed: nothing sealed is read); a store whose tables are not
there yet answers nothing, and the report shows its stages as not recorded.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

from bekal.report.data import (
    AlertRecord,
    AttendanceRecord,
    DecisionRecord,
    EnrolmentRecord,
    OutcomeRecord,
    Period,
    PlacementRecord,
    StageCount,
)
from bekal.store.decisionlog import parse_summary

# the monitoring store's enrolment states as the report's (bekal.report.data.ENROLMENT_STATES); a client
# waiting for a seat, or withdrawn from the waiting list, never held one and is not enrolled
_ENROLMENT_STATES = {"enrolled": "active", "completed": "completed", "dropped_out": "dropped_out"}
# follow-ups as months after training; at completion is 0: it counts in the funnel (employed or
# self-employed) but is none of the report's 3, 6 and 12 months
_FOLLOW_UP_MONTHS = {"at_completion": 0, "month_3": 3, "month_6": 6, "month_12": 12}
_ATTENDED = ("present", "late")


@dataclass(frozen=True)
class _Enrolment:
    """What the report needs of a stored enrolment; ``office`` is the agency that created it."""

    client_id: str
    office: str
    course: str
    status: str  # the monitoring store's: enrolled, waiting, completed, dropped_out, withdrawn
    start: date
    end: date | None


class StoreData:
    """:class:`~bekal.report.data.ProgrammeData` from a bekal SQLite database file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no database {self.path}")

    def _rows(self, sql: str, args: Sequence[object] = ()) -> Iterator[tuple[object, ...]]:
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            try:
                yield from db.execute(sql, tuple(args))
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):  # a database without that store yet: no records
                    return
                raise

    @staticmethod
    def _span(period: Period) -> tuple[str, str]:
        return period.start.isoformat(), period.end.isoformat() + "T99"

    def stages(self, period: Period, office: str | None) -> Sequence[StageCount]:
        return []

    def decisions(self, period: Period, office: str | None) -> Sequence[DecisionRecord]:
        start, end = self._span(period)
        out = []
        for client_id, caller, summary, created in self._rows(
                "SELECT client_id, caller, summary, created_at FROM request WHERE audience = 'bnn' "
                "AND created_at >= ? AND created_at < ?", (start, end)):
            if office is not None and caller != office:
                continue
            day = date.fromisoformat(str(created)[:10])
            for d in parse_summary(str(summary)):
                out.append(DecisionRecord(str(client_id), str(caller), d.course_code, d.outcome, day))
        return out

    def _job_placements(self) -> list[PlacementRecord]:
        """Every succeeded matching job's placements (all periods, all offices)."""
        from bekal.v1 import matching_pb2

        jobs = {str(job_id): (str(creator), date.fromisoformat(str(updated)[:10])) for job_id, creator, updated in
                self._rows("SELECT job_id, creator, updated_at FROM match_job WHERE status = 'succeeded'")}
        out = []
        for job_id, payload in self._rows("SELECT job_id, payload FROM match_job_result ORDER BY job_id, first"):
            job = jobs.get(str(job_id))
            if job is None:
                continue
            msg = matching_pb2.StreamPlacementsResponse.FromString(zlib.decompress(cast(bytes, payload)))
            for p in msg.placements:
                if p.course_code:
                    out.append(PlacementRecord(p.client_id, job[0], p.course_code, job[1]))
        return out

    def placements(self, period: Period, office: str | None) -> Sequence[PlacementRecord]:
        """The matching jobs' placements, and the seats the monitoring store holds that no job gave: a
        direct enrolment, or a seat freed by a drop-out that went to the next on the waiting list. A seat
        a job placed counts once, on the job's day, whenever the enrolment that followed started (jobs
        of every period are read for that)."""
        jobs = self._job_placements()
        by_job = {(p.client_id, p.course) for p in jobs}
        out = [p for p in jobs if p.day in period and (office is None or p.office == office)]
        for e in self._enrolments(office).values():
            if e.status in _ENROLMENT_STATES and e.start in period and (e.client_id, e.course) not in by_job:
                out.append(PlacementRecord(e.client_id, e.office, e.course, e.start))
        return out

    def _enrolments(self, office: str | None) -> dict[str, _Enrolment]:
        """The monitoring store's enrolments by id (of ``office``: the agency that created them)."""
        agency: dict[str, str] = {}
        for caller, ids in self._rows("SELECT caller, enrolment_ids FROM enrolment_request ORDER BY rowid"):
            for enrolment_id in json.loads(str(ids)):
                agency.setdefault(str(enrolment_id), str(caller))  # a retry names the same enrolments again
        out = {}
        for enrolment_id, client_id, course, referring, status, start, end in self._rows(
                "SELECT enrolment_id, client_id, course_code, referring_office, status, start_date, end_date "
                "FROM enrolment"):
            who = agency.get(str(enrolment_id), str(referring))
            if office is None or who == office:
                out[str(enrolment_id)] = _Enrolment(str(client_id), who, str(course), str(status),
                                                    date.fromisoformat(str(start)),
                                                    None if end is None else date.fromisoformat(str(end)))
        return out

    def enrolments(self, period: Period, office: str | None) -> Sequence[EnrolmentRecord]:
        """Enrolments that held a seat at some time in the period: started by its end and not ended before
        its start, so that a course begun the year before and completed in the period counts as completed."""
        return [EnrolmentRecord(e.client_id, e.office, e.course, e.start, _ENROLMENT_STATES[e.status], e.end)
                for e in self._enrolments(office).values()
                if e.status in _ENROLMENT_STATES and e.start <= period.end
                and (e.end is None or e.end >= period.start)]

    def attendance(self, period: Period, office: str | None) -> Sequence[AttendanceRecord]:
        """Sessions of the period summed per enrolment (one client in one course) and month; every
        recorded session was held, present and late ones were attended."""
        enrolments = self._enrolments(office)
        out = []
        for enrolment_id, month, held, attended in self._rows(
                "SELECT enrolment_id, substr(session_date, 1, 7), count(*), "
                f"sum(status IN ({', '.join('?' * len(_ATTENDED))})) FROM attendance "
                "WHERE session_date >= ? AND session_date <= ? GROUP BY enrolment_id, substr(session_date, 1, 7)",
                (*_ATTENDED, period.start.isoformat(), period.end.isoformat())):
            e = enrolments.get(str(enrolment_id))
            if e is not None:
                out.append(AttendanceRecord(e.client_id, e.office, e.course, str(month), cast(int, held),
                                            cast(int, attended)))
        return out

    def alerts(self, period: Period, office: str | None) -> Sequence[AlertRecord]:
        """Alerts and warnings raised in the period (UTC days, as the store keeps its times), and the day
        the referring office acknowledged each, if it did."""
        enrolments = self._enrolments(office)
        start, end = self._span(period)
        out = []
        for enrolment_id, raised, acknowledged in self._rows(
                "SELECT enrolment_id, raised_at, acknowledged_at FROM alert WHERE raised_at >= ? AND raised_at < ? "
                "ORDER BY sequence", (start, end)):
            e = enrolments.get(str(enrolment_id))
            if e is not None:
                out.append(AlertRecord(e.client_id, e.office, e.course, date.fromisoformat(str(raised)[:10]),
                                       None if acknowledged is None else date.fromisoformat(str(acknowledged)[:10])))
        return out

    def outcomes(self, period: Period, office: str | None) -> Sequence[OutcomeRecord]:
        """Outcomes dated in the period, at completion (month 0) and at the 3, 6 and 12 month follow-ups."""
        enrolments = self._enrolments(office)
        out = []
        for enrolment_id, kind, day, follow_up in self._rows(
                "SELECT enrolment_id, kind, outcome_date, follow_up FROM outcome "
                "WHERE outcome_date >= ? AND outcome_date <= ?", (period.start.isoformat(), period.end.isoformat())):
            e = enrolments.get(str(enrolment_id))
            month = _FOLLOW_UP_MONTHS.get(str(follow_up))
            if e is not None and month is not None:
                out.append(OutcomeRecord(e.client_id, e.office, month, str(kind), date.fromisoformat(str(day))))
        return out
