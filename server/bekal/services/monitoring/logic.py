"""Monitoring after placement, on plain types: enrolments, training records, alerts (tested without gRPC).

Who sees and writes what is decided here, per record, after :data:`bekal.access.POLICY` let
the call in (docs/integrators.md, "Monitoring"):

- a BNN office (referrer) creates the enrolments of its own clients (from its own finished
  matching job, or directly), ends them, reads them, records outcomes of its own clients, and
  alone receives their alerts (ListAlerts, AcknowledgeAlert, WatchAlerts);
- a training centre records attendance, conduct and outcomes for its own courses, ends its
  enrolments, and reads them in the training centre's view: no referring office, a drop-out
  reason only when marked shareable, no alerts;
- an auditor reads everything but the conduct notes the centre did not mark shareable.

Where the waiting list comes from. A matching job's placements say, per client, the course
it got and, for every course it preferred more, why not; a client turned away by a *full*
course was ELIGIBLE for it and waits on that course's list, ordered as the job ranked the
competition (panel rank, then priority, then the lottery number: the job's own order). When
an enrolled client drops out, the seat goes to the first on the list who still waits: a
client who meanwhile holds a seat elsewhere leaves the list (WITHDRAWN) instead.

Proof of eligibility. An enrolment gives a client a seat and shows the training centre a BNN
referral, so it needs the proof a placement has: a matching job places only ELIGIBLE pairs (its
enrolments and waiting lists come from them); a direct enrolment needs, in the decision log, an
eligibility check of that client for that course *by the same office* whose latest decision is
ELIGIBLE and was decided as of a date within :data:`PROOF_DAYS` days of the enrolment's first day
(consent to share and every rule in force included). Without it the enrolment is refused
(FAILED_PRECONDITION, ``ELIGIBILITY_NOT_PROVEN``, naming each enrolment and what its latest
check said); a server without a decision log refuses direct enrolments. A client on a waiting
list keeps the proof it was listed with when it is promoted (deciding again would need facts
the server does not keep for this; the office ends the enrolment when they changed).

Evaluation. The monitoring rules (:mod:`bekal.monitoring.rules`) are those of the served
rulebook (:attr:`bekal.rulebook.Rulebook.monitoring`): they change when the served rules change,
through the same reload gate (a broken monitoring file or a failing monitoring rule test is
refused, and the previous version keeps serving). Without monitoring rules a batch of training
records is refused (FAILED_PRECONDITION), never recorded without being watched. durable_rules
judges the rules for every enrolment a batch touches, as one batch of events
(:func:`bekal.monitoring.rules.judge`), inside the store's transaction; an enrolment without the
proof of having been judged refuses the whole batch (UNAVAILABLE, MONITORING_NOT_JUDGED, worth
retrying) and nothing of it is written: never recorded as "no alert".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bekal.access import Principal, Role
from bekal.engine import NotInForce, Unjudged
from bekal.monitoring.facts import derive
from bekal.monitoring.history import Summary
from bekal.monitoring.rules import Finding, MonitoringRules, judge
from bekal.services.errors import ServiceError, invalid, not_found, storage_unavailable
from bekal.services.pages import Page, not_ours, page_position, page_size, page_token
from bekal.store.errors import StoreUnavailable
from bekal.store.monitoring import (
    DROPPED_OUT,
    AlertRow,
    Batch,
    ConductRow,
    EnrolmentRow,
    MonitoringConflict,
    MonitoringStore,
    NewEnrolmentRow,
    OutcomeRow,
    Recorded,
    Scope,
)

log = logging.getLogger("bekal.service")



@dataclass(frozen=True)
class DirectEnrolment:
    client_id: str
    course_code: str
    start_date: date | None
    waiting: bool = False


PROOF_DAYS = 90  # a check proves eligibility for an enrolment starting at most this far from its as-of date


@dataclass(frozen=True)
class Checked:
    """One eligibility decision the decision log holds: what a direct enrolment is proven by."""

    course_code: str
    outcome: str  # ELIGIBLE / INELIGIBLE / PENDING / WITHHELD, as recorded
    as_of: date
    recorded_at: str = ""  # when the decision log recorded it (ISO; a batch's checks share one)


# (client id, the office's principal name) -> the decisions of that office's checks of that client,
# oldest first; raises StoreUnavailable
Checks = Callable[[str, str], Sequence[Checked]]


@dataclass(frozen=True)
class JobPlacement:
    """What enrolments need of one client's placement in a matching job."""

    client_id: str
    course_code: str  # "" when not placed
    waits_for: Sequence[tuple[str, tuple[float, ...]]] = ()  # (full course, standing sort key) it preferred


@dataclass(frozen=True)
class EnrolmentsRequest:
    request_id: str
    job_id: str = ""
    direct: Sequence[DirectEnrolment] = ()


@dataclass(frozen=True)
class EndRequest:
    enrolment_id: str
    status: str  # COMPLETED or DROPPED_OUT
    end_date: date
    reason: str = ""
    reason_shareable: bool = False


@dataclass(frozen=True)
class ListQuery:
    course_code: str | None = None
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class AlertQuery:
    page_size: int = 0
    page_token: str = ""
    unacknowledged_only: bool = False


@dataclass(frozen=True)
class EnrolmentRecord:
    enrolment: EnrolmentRow
    attendance: Sequence[Any]
    conduct: Sequence[ConductRow]
    outcomes: Sequence[OutcomeRow]
    alerts: Sequence[AlertRow]


@dataclass(frozen=True)
class Ended:
    enrolment: EnrolmentRow
    promoted: EnrolmentRow | None


@dataclass
class _Held:
    rules: MonitoringRules | None = None
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


def blk_view(row: EnrolmentRow) -> EnrolmentRow:
    """What a training centre sees of an enrolment: no referring office, a reason only if shareable."""
    return replace(row, referring_office="", end_reason=row.end_reason if row.end_reason_shareable else "")


def unproven_by(checks: Sequence[Checked], course_code: str, start: date) -> str:
    """Why ``checks`` (oldest first) do not prove a client eligible for ``course_code`` from ``start``;
    "" when they do: the latest decision for that course is ELIGIBLE, as of a date on ``start`` or at
    most PROOF_DAYS before it. A check as of a later date proves nothing about the first day (a client
    who is 18 then and 19 at that date, say).

    Checks recorded at the same instant (one batch, or calls within a millisecond) have no order
    among themselves: each of them counts as the latest, so all must be ELIGIBLE and in the window."""
    mine = [c for c in checks if c.course_code == course_code]
    if not mine:
        return (f"no eligibility check of this client for {course_code} by this office in the decision log: "
                "check eligibility first (CheckEligibility), then enrol")
    last = mine[-1].recorded_at
    tied = [c for c in mine if c.recorded_at == last] if last else mine[-1:]
    latest = (next((c for c in tied if c.outcome != "ELIGIBLE"), None)
              or next((c for c in tied if not 0 <= (start - c.as_of).days <= PROOF_DAYS), tied[-1]))
    if latest.outcome != "ELIGIBLE":
        return (f"the latest check of this client for {course_code} by this office decided {latest.outcome} "
                f"(as of {latest.as_of.isoformat()})")
    if latest.as_of > start:
        return (f"the latest check of this client for {course_code} was as of {latest.as_of.isoformat()}, after the "
                f"enrolment's first day {start.isoformat()}: check eligibility as of that day or before it")
    if (start - latest.as_of).days > PROOF_DAYS:
        return (f"the latest check of this client for {course_code} was as of {latest.as_of.isoformat()}, more than "
                f"{PROOF_DAYS} days before the enrolment's first day {start.isoformat()}: check eligibility again")
    return ""


class Monitoring:
    """The monitoring service's behaviour over a :class:`MonitoringStore`."""

    def __init__(self, store: MonitoringStore, courses: Callable[[], Mapping[str, Mapping[str, Any]]],
                 placements: Callable[[str, str], Sequence[JobPlacement]] | None = None,
                 today: Callable[[], date] | None = None, checks: Checks | None = None):
        from bekal import clock

        self.store = store
        self.courses = courses  # the served course catalogue: code -> course facts
        self.placements = placements  # (job id, viewer) -> the job's placements; raises ServiceError
        self.checks = checks  # the decision log's checks; None: direct enrolments are refused
        self.today = today or clock.today
        self._held = _Held()

    # -------------------------------------------------------------------------- rules

    def use_rules(self, rules: MonitoringRules | None) -> None:
        """Evaluate with these monitoring rules from now on (None: none, training records are refused)."""
        with self._held.lock:
            before = self._held.rules
            self._held.rules = rules if rules is not None and rules.rulesets else None
            self._held.error = "" if self._held.rules else "the rules folder has no monitoring*.rules.yaml"
        if rules is not None and (before is None or before.version != rules.version):
            log.info("monitoring rules %s: %d rule(s)", rules.version, len(rules.rules))

    @property
    def rules(self) -> MonitoringRules | None:
        return self._held.rules

    # -------------------------------------------------------------------------- enrolments

    def create_enrolments(self, request: EnrolmentsRequest, principal: Principal) -> list[EnrolmentRow]:
        if principal.role is not Role.REFERRER or not principal.office:
            raise ServiceError("PERMISSION_DENIED", "only a BNN office (with its office named) creates enrolments")
        office = principal.office
        catalogue = self.courses()
        violations: list[tuple[str, str]] = []
        new: list[NewEnrolmentRow] = []

        def course(code: str, where: str) -> Mapping[str, Any] | None:
            found = catalogue.get(code)
            if found is None:
                violations.append((where, f"unknown course {code!r} (not in the served catalogue)"))
            return found

        if request.job_id:
            if self.placements is None:
                raise ServiceError("FAILED_PRECONDITION", "matching jobs are not served here", reason="JOBS_NOT_KEPT")
            placements = self.placements(request.job_id, principal.name)
            waiting: dict[str, list[tuple[tuple[float, ...], str]]] = {}
            for k, p in enumerate(placements):
                if p.course_code:
                    c = course(p.course_code, f"job[{k}].course_code")
                    if c is not None:
                        new.append(self._new(p.client_id, p.course_code, c, None, office, request.job_id, False,
                                             f"job[{k}]", violations))
                for code, standing in p.waits_for:
                    waiting.setdefault(code, []).append((standing, p.client_id))
            for code in sorted(waiting):
                c = course(code, f"job.waiting[{code}]")
                if c is None:
                    continue
                for _standing, client_id in sorted(waiting[code]):
                    new.append(self._new(client_id, code, c, None, office, request.job_id, True,
                                         f"job.waiting[{code}]", violations))
        else:
            for k, d in enumerate(request.direct):
                c = course(d.course_code, f"enrolments[{k}].course_code")
                if c is not None:
                    new.append(self._new(d.client_id, d.course_code, c, d.start_date, office, "", d.waiting,
                                         f"enrolments[{k}]", violations))
        if violations:
            raise invalid(violations)
        if not request.job_id:
            self._prove(new, principal)
        try:
            return self.store.create_enrolments(request.request_id, principal.name, new)
        except MonitoringConflict as exc:
            raise _conflict(exc) from None
        except StoreUnavailable as exc:
            raise storage_unavailable("the monitoring store", exc.retry_after) from None

    def _prove(self, rows: Sequence[NewEnrolmentRow], principal: Principal) -> None:
        """FAILED_PRECONDITION unless every row is proven by an ELIGIBLE check of this office (module docstring)."""
        if self.checks is None:
            raise ServiceError("FAILED_PRECONDITION", "direct enrolments need the decision log, which this server "
                               "does not keep; enrol from a matching job", reason="ELIGIBILITY_NOT_PROVEN")
        unproven: list[tuple[str, str]] = []
        by_client: dict[str, Sequence[Checked]] = {}
        for k, row in enumerate(rows):
            try:
                if row.client_id not in by_client:
                    by_client[row.client_id] = self.checks(row.client_id, principal.name)
            except StoreUnavailable as exc:
                raise storage_unavailable("the decision log", exc.retry_after) from None
            problem = unproven_by(by_client[row.client_id], row.course_code, row.start_date)
            if problem:
                unproven.append((f"enrolments[{k}]", problem))
        if unproven:
            raise ServiceError(
                "FAILED_PRECONDITION",
                f"{len(unproven)} enrolment(s) without an ELIGIBLE check of the client for the course by this office; "
                "nothing was enrolled", unproven, reason="ELIGIBILITY_NOT_PROVEN")

    @staticmethod
    def _new(client_id: str, code: str, course: Mapping[str, Any], start: date | None, office: str, job_id: str,
             waiting: bool, where: str, violations: list[tuple[str, str]]) -> NewEnrolmentRow:
        first = start or course.get("start_date")
        if not isinstance(first, date):
            violations.append((f"{where}.start_date", f"required: course {code} has no start date in the catalogue"))
            first = date.min
        return NewEnrolmentRow(client_id, code, office, str(course.get("blk") or ""), first, waiting, job_id)

    def end_enrolment(self, request: EndRequest, principal: Principal) -> Ended:
        if request.end_date > self.today():
            raise invalid([("end_date", f"{request.end_date} is in the future (today is {self.today()})")])
        if request.status == DROPPED_OUT and not request.reason:
            raise invalid([("reason", "required when the client dropped out")])
        try:
            row, promoted = self.store.end_enrolment(request.enrolment_id, _scope(principal), request.status,
                                                     request.end_date, request.reason, request.reason_shareable)
        except MonitoringConflict as exc:
            raise _conflict(exc) from None
        except StoreUnavailable as exc:
            raise storage_unavailable("the monitoring store", exc.retry_after) from None
        if principal.role is Role.TRAINING_PROVIDER:
            return Ended(blk_view(row), blk_view(promoted) if promoted else None)
        return Ended(row, promoted)

    def list_enrolments(self, query: ListQuery, principal: Principal) -> Page[EnrolmentRow]:
        size = page_size(query.page_size)
        scope = _scope(principal)
        filters = [query.course_code]
        position = page_position(query.page_token, filters)
        if position is not None and not (isinstance(position, list) and len(position) == 4):
            raise not_ours()
        rows = self._read(self.store.enrolments, query.course_code, scope.office, scope.provider,
                          tuple(position) if position else None, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        token = ""
        if more:
            last = rows[-1]
            token = page_token([last.course_code, int(last.status == "waiting"), last.waiting_position,
                                last.enrolment_id], filters)
        if principal.role is Role.TRAINING_PROVIDER:
            rows = [blk_view(r) for r in rows]
        return Page(rows, token)

    def record_of(self, enrolment_id: str, principal: Principal) -> EnrolmentRecord:
        row = self._read(self.store.enrolment, enrolment_id)
        if row is None or not _scope(principal).allows(row):
            raise not_found(f"unknown enrolment {enrolment_id!r}", "enrolment_id", "enrolment", "Enrolment",
                            enrolment_id)
        centre = principal.role is Role.TRAINING_PROVIDER
        conduct = self._read(self.store.conduct, enrolment_id)
        if not centre:
            conduct = [c if c.note_shareable else replace(c, note="") for c in conduct]
        alerts = [] if centre else self._read(self.store.alerts, None, 0, 10_000, False, enrolment_id)
        return EnrolmentRecord(blk_view(row) if centre else row, self._read(self.store.attendance, enrolment_id),
                               conduct, self._read(self.store.outcomes, enrolment_id), alerts)

    # -------------------------------------------------------------------------- records

    def record(self, batch: Batch, principal: Principal) -> Recorded:
        if principal.role is Role.REFERRER and (batch.attendance or batch.conduct):
            field_name = "attendance" if batch.attendance else "conduct"
            raise ServiceError("PERMISSION_DENIED", "a BNN office records outcomes only; attendance and conduct come "
                               "from the training centre", [(field_name, "recorded by the training centre")])
        future = self.today()
        violations = [(f"attendance[{k}].session_date", f"{a.session_date} is in the future (today is {future})")
                      for k, a in enumerate(batch.attendance) if a.session_date > future]
        violations += [(f"conduct[{k}].assessment_date", f"{c.assessment_date} is in the future (today is {future})")
                       for k, c in enumerate(batch.conduct) if c.assessment_date > future]
        violations += [(f"outcomes[{k}].outcome_date", f"{o.outcome_date} is in the future (today is {future})")
                       for k, o in enumerate(batch.outcomes) if o.outcome_date > future]
        if violations:
            raise invalid(violations)
        rules = self._held.rules
        if rules is None:
            raise ServiceError("FAILED_PRECONDITION", "no monitoring rules are loaded (" + (self._held.error or
                               "none found") + "); training records are not taken unwatched",
                               preconditions=[("MONITORING_RULES", "rules", "not loaded")],
                               reason="MONITORING_RULES_NOT_LOADED")

        def judged(items: Sequence[tuple[Summary, date]]) -> Sequence[Sequence[Finding]]:
            return judge(rules, [(derive(summary), on) for summary, on in items])

        try:
            return self.store.record(batch, _scope(principal), judged, rules.version)
        except Unjudged as exc:  # the transaction rolled back: nothing of the batch is recorded
            log.error("monitoring rules %s: %s", rules.version, exc)
            raise ServiceError("UNAVAILABLE", "the monitoring rules could not be judged for every enrolment of "
                               "the batch; nothing was recorded, send it again", retry_after=1.0,
                               reason="MONITORING_NOT_JUDGED") from None
        except NotInForce as exc:  # rolled back too: records nothing is dated to judge are not taken unwatched
            raise ServiceError("FAILED_PRECONDITION", f"the monitoring rules: {exc}; nothing was recorded",
                               preconditions=[("RULES_IN_FORCE", exc.on.isoformat(), str(exc))],
                               reason="RULES_NOT_IN_FORCE") from None
        except MonitoringConflict as exc:
            raise _conflict(exc) from None
        except StoreUnavailable as exc:
            raise storage_unavailable("the monitoring store", exc.retry_after) from None

    # -------------------------------------------------------------------------- alerts

    def list_alerts(self, query: AlertQuery, principal: Principal) -> Page[AlertRow]:
        office = _alert_office(principal)
        size = page_size(query.page_size)
        filters = [query.unacknowledged_only]
        position = page_position(query.page_token, filters)
        if position is not None and (not isinstance(position, int) or position < 0):
            raise not_ours()
        rows = self._read(self.store.alerts, office, position or 0, size + 1, query.unacknowledged_only)
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, page_token(rows[-1].sequence, filters) if more else "")

    def acknowledge(self, alert_id: str, principal: Principal) -> AlertRow:
        if principal.role is not Role.REFERRER:
            raise ServiceError("PERMISSION_DENIED", "only the referring BNN office acknowledges its alerts")
        try:
            row = self.store.acknowledge(alert_id, principal.office or "", principal.name)
        except StoreUnavailable as exc:
            raise storage_unavailable("the monitoring store", exc.retry_after) from None
        if row is None:
            raise not_found(f"unknown alert {alert_id!r}", "alert_id", "alert", "Alert", alert_id)
        return row

    def alerts_after(self, after: int, principal: Principal, limit: int = 500) -> list[AlertRow]:
        """WatchAlerts' read: the caller's alerts with a sequence above ``after``, in order."""
        if after < 0:
            raise invalid([("after_sequence", "must not be negative")])
        return list(self._read(self.store.alerts, _alert_office(principal), after, limit))

    @staticmethod
    def _read(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except StoreUnavailable as exc:
            raise storage_unavailable("the monitoring store", exc.retry_after) from None


def _alert_office(principal: Principal) -> str | None:
    """Whose alerts a caller reads: a BNN office its own, an auditor all; nobody else any (fail closed)."""
    if principal.role is Role.AUDITOR:
        return None
    if principal.role is Role.REFERRER and principal.office:
        return principal.office
    raise ServiceError("PERMISSION_DENIED", "alerts go to the referring BNN office only")


def _scope(principal: Principal) -> Scope:
    """The enrolments a caller may touch: a training centre its courses', a BNN office its clients'."""
    if principal.role is Role.TRAINING_PROVIDER:
        if not principal.provider:
            raise ServiceError("PERMISSION_DENIED", "this training centre's certificate names no provider")
        return Scope(provider=principal.provider, recorder=principal.name)
    if principal.role is Role.REFERRER:
        if not principal.office:
            raise ServiceError("PERMISSION_DENIED", "this BNN office's certificate names no office")
        return Scope(office=principal.office, recorder=principal.name)
    if principal.role is Role.AUDITOR:
        return Scope(recorder=principal.name)
    raise ServiceError("PERMISSION_DENIED", f"{principal} reads no enrolments")


def _conflict(exc: MonitoringConflict) -> ServiceError:
    if exc.code == "NOT_FOUND":
        name = exc.violations[0][1].split("'")[1] if "'" in exc.violations[0][1] else ""
        return not_found(exc.violations[0][1], exc.violations[0][0], "enrolment", "Enrolment", name)
    if exc.code == "INVALID_ARGUMENT":
        return invalid(exc.violations)
    first = exc.violations[0][1] if exc.violations else exc.code
    return ServiceError(exc.code, first, exc.violations)

