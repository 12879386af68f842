"""One enrolment's training history, and its running summary.

The monitoring facts depend on the order of the sessions (consecutive absences). Recomputing
them from the whole history at every record would cost a year of sessions per record (a
year of attendance for 10,000 enrolments is two million records), so the store keeps a
:class:`Summary` per enrolment and :func:`add_session` / :func:`add_assessment` extend it
when a record comes after everything seen so far (the usual case: a training centre sends
each day's register). A record that lands earlier in the history (a late correction) makes
:func:`add_session` answer None, and the caller recomputes the summary from the whole
history with :func:`summarise`; the property tests check both paths against a plain
reference computation.

Order: sessions by (date, record id). Several sessions on one day are ordered by record id.
An EXCUSED session neither counts as an absence nor breaks a run of absences: the run of
"consecutive unexcused absences" is the number of ABSENT sessions since the last session
attended (PRESENT or LATE).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

PRESENT, ABSENT, EXCUSED, LATE = "present", "absent", "excused", "late"
ATTENDANCE = (PRESENT, ABSENT, EXCUSED, LATE)
ATTENDED = frozenset({PRESENT, LATE})
LOW_RATING = 2  # a conduct rating at or below this is low (enrolment.low_conduct_ratings)
RATINGS = (1, 5)


@dataclass(frozen=True, slots=True)
class Session:
    """One attendance record."""

    on: date
    record_id: str
    status: str  # one of ATTENDANCE


@dataclass(frozen=True, slots=True)
class Assessment:
    """One conduct assessment."""

    on: date
    record_id: str
    rating: int  # 1..5


@dataclass(frozen=True, slots=True)
class Summary:
    """What the monitoring facts need of one enrolment's history (see the module docstring)."""

    start: date
    sessions_held: int = 0
    attended: int = 0
    unexcused: int = 0
    excused: int = 0
    run: int = 0  # ABSENT sessions since the last one attended
    last_attended: date | None = None
    last_session: tuple[date, str] | None = None  # (date, record id) of the latest session
    assessments: int = 0
    low_ratings: int = 0
    lowest_rating: int | None = None
    latest_rating: int | None = None
    latest_assessment: tuple[date, str] | None = None


def add_session(summary: Summary, session: Session) -> Summary | None:
    """The summary with one more session, or None when the session is not the latest (recompute)."""
    key = (session.on, session.record_id)
    if summary.last_session is not None and key <= summary.last_session:
        return None
    attended = session.status in ATTENDED
    absent = session.status == ABSENT
    return replace(
        summary,
        sessions_held=summary.sessions_held + 1,
        attended=summary.attended + attended,
        unexcused=summary.unexcused + absent,
        excused=summary.excused + (session.status == EXCUSED),
        run=0 if attended else summary.run + absent,
        last_attended=session.on if attended else summary.last_attended,
        last_session=key,
    )


def add_assessment(summary: Summary, assessment: Assessment) -> Summary:
    """The summary with one more conduct assessment (order matters only for the latest rating)."""
    key = (assessment.on, assessment.record_id)
    latest = summary.latest_assessment is None or key > summary.latest_assessment
    lowest = assessment.rating if summary.lowest_rating is None else min(summary.lowest_rating, assessment.rating)
    return replace(
        summary,
        assessments=summary.assessments + 1,
        low_ratings=summary.low_ratings + (assessment.rating <= LOW_RATING),
        lowest_rating=lowest,
        latest_rating=assessment.rating if latest else summary.latest_rating,
        latest_assessment=key if latest else summary.latest_assessment,
    )


def summarise(start: date, sessions: Iterable[Session], assessments: Iterable[Assessment] = ()) -> Summary:
    """The summary of a whole history, in any order."""
    summary = Summary(start)
    for session in sorted(sessions, key=lambda s: (s.on, s.record_id)):
        added = add_session(summary, session)
        assert added is not None  # sorted: every session is the latest so far
        summary = added
    for assessment in assessments:
        summary = add_assessment(summary, assessment)
    return summary


def steps(summary: Summary, sessions: Iterable[Session], assessments: Iterable[Assessment] = ()
          ) -> list[tuple[Summary, date]] | None:
    """Each summary on the way from ``summary`` through new records in date order, with the day it holds
    from: what the monitoring rules judge, so a rule that holds on some day of a batch raises its alert
    even when a later record of the same batch makes it false again. None when a session is not the
    latest (the whole history must be walked again)."""
    merged: list[tuple[date, int, str, Session | Assessment]] = sorted(
        [(s.on, 0, s.record_id, s) for s in sessions] + [(a.on, 1, a.record_id, a) for a in assessments],
        key=lambda item: item[:3])
    out: list[tuple[Summary, date]] = []
    for on, _kind, _record, record in merged:
        if isinstance(record, Session):
            added = add_session(summary, record)
            if added is None:
                return None
            summary = added
        else:
            summary = add_assessment(summary, record)
        out.append((summary, on))
    return out

