"""The facts monitoring rules read: ``enrolment.*``, derived from an enrolment's :class:`~.history.Summary`.

One schema, in the same :class:`bekal.facts.Fact` terms as the eligibility facts, so the rule
language's checker reads monitoring rules exactly as it reads eligibility rules (types, ranges,
typos with "did you mean"). Every fact is BNN-only: alerts go to the referring office alone.

A fact with nothing to derive it from is absent (no conduct assessment yet: no
``enrolment.latest_conduct_rating``); a condition on an absent fact does not hold, so no
alert is ever raised without the records that show it.
"""

from __future__ import annotations

from typing import Any

from bekal.facts import BNN_ONLY, NUMBER, Fact
from bekal.monitoring.history import Summary

KIND = "enrolment"
_DAYS = 366 * 10  # no course lasts ten years


def _fact(name: str, low: float, high: float, doc: str, integer: bool = True) -> Fact:
    return Fact(f"{KIND}.{name}", NUMBER, doc=doc, minimum=low, maximum=high, integer=integer, sensitivity=BNN_ONLY)


MONITORING_FACTS: dict[str, Fact] = {
    f.name: f
    for f in (
        _fact("sessions_held", 0, 100_000, "sessions recorded for the enrolment so far"),
        _fact("sessions_attended", 0, 100_000, "sessions attended (present or late)"),
        _fact("attendance_rate", 0, 100, "sessions attended as a percentage of the sessions held that were not "
              "excused (absent while there is none)", integer=False),
        _fact("excused_absences", 0, 100_000, "sessions missed with an accepted excuse"),
        _fact("unexcused_absences", 0, 100_000, "sessions missed without an excuse"),
        _fact("consecutive_unexcused_absences", 0, 100_000,
              "unexcused absences since the last session attended (excused ones neither count nor break the run)"),
        _fact("days_since_last_attendance", 0, _DAYS,
              "days from the last session attended (or the start, if none) to the latest session held"),
        _fact("conduct_assessments", 0, 100_000, "conduct assessments recorded"),
        _fact("latest_conduct_rating", 1, 5, "the latest conduct rating, 1-5 (absent before the first)"),
        _fact("lowest_conduct_rating", 1, 5, "the lowest conduct rating so far, 1-5 (absent before the first)"),
        _fact("low_conduct_ratings", 0, 100_000, "conduct ratings of 2 or lower"),
    )
}


def derive(summary: Summary) -> dict[str, Any]:
    """The ``enrolment.*`` facts of a summary (by full name); absent facts are left out."""
    out: dict[str, Any] = {
        "enrolment.sessions_held": summary.sessions_held,
        "enrolment.sessions_attended": summary.attended,
        "enrolment.unexcused_absences": summary.unexcused,
        "enrolment.excused_absences": summary.excused,
        "enrolment.consecutive_unexcused_absences": summary.run,
        "enrolment.conduct_assessments": summary.assessments,
        "enrolment.low_conduct_ratings": summary.low_ratings,
    }
    counted = summary.sessions_held - summary.excused
    if counted:
        out["enrolment.attendance_rate"] = round(100.0 * summary.attended / counted, 2)
    if summary.last_session is not None:
        since = summary.last_attended or summary.start
        out["enrolment.days_since_last_attendance"] = max(0, (summary.last_session[0] - since).days)
    if summary.latest_rating is not None:
        out["enrolment.latest_conduct_rating"] = summary.latest_rating
    if summary.lowest_rating is not None:
        out["enrolment.lowest_conduct_rating"] = summary.lowest_rating
    return out
