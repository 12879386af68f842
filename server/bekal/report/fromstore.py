"""The server's database as a :class:`~bekal.report.data.ProgrammeData` source, read-only.

What a bekal database holds today answers three stages of the funnel:

- **referred** and **eligible**: the decision log (``request``): every check a BNN office asked in
  its own view (audience ``bnn``) is a referral, counted once per person; ``ELIGIBLE`` in any of its
  courses makes the person eligible. The referring office is the agency that asked (its name in the
  identities file, e.g. ``bnnk-banjarbaru``: ``--office`` takes that name here);
- **placed**: the results of succeeded matching jobs (``match_job_result``), dated when the job
  finished, the office being the job's creator.

Rehabilitation stages (BNN's case numbers), enrolments, attendance, alerts and outcomes are not in
it: those come from the monitoring store (issue 13, part A) through the same interface, or from a
scenario file. The database is opened read-only (no keys needed: nothing sealed is read).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing
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

    def placements(self, period: Period, office: str | None) -> Sequence[PlacementRecord]:
        from bekal.v1 import matching_pb2

        start, end = self._span(period)
        jobs = {str(job_id): (str(creator), date.fromisoformat(str(updated)[:10])) for job_id, creator, updated in
                self._rows("SELECT job_id, creator, updated_at FROM match_job WHERE status = 'succeeded' "
                           "AND updated_at >= ? AND updated_at < ?", (start, end))
                if office is None or creator == office}
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

    def enrolments(self, period: Period, office: str | None) -> Sequence[EnrolmentRecord]:
        return []

    def attendance(self, period: Period, office: str | None) -> Sequence[AttendanceRecord]:
        return []

    def alerts(self, period: Period, office: str | None) -> Sequence[AlertRecord]:
        return []

    def outcomes(self, period: Period, office: str | None) -> Sequence[OutcomeRecord]:
        return []
