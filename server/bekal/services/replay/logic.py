"""Replaying a logged eligibility check, and erasing one client's facts, on plain types.

A replay decides the logged facts again with the rules version that decided them -- rebuilt from
the text the decision log kept under its content hash (:meth:`bekal.store.DecisionLog.ruleset`),
checked to hash to the same version -- on the same as-of date, and compares each decision with
what the log recorded: outcome, priority and the rules behind it. Asked, it also decides the same
facts with the rules serving now and lists what differs. Fail closed: a replay that cannot use
exactly the logged version and facts says why and decides nothing.

Who: :data:`bekal.access.POLICY` lets an auditor and a BNN office in; here, per record, a BNN
office replays and erases only what it asked itself (another office's request is NOT_FOUND to it,
as one that does not exist).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from bekal.access import Principal, Role
from bekal.decision import Decision, Refusal
from bekal.engine import Engine, EngineError
from bekal.lang.diagnostics import RuleError
from bekal.placement import Placement
from bekal.rulebook import Rulebook, load_rulebook_from_texts
from bekal.services.eligibility.logic import engine_error, summary_line
from bekal.services.errors import ServiceError, not_found, refusal_error, storage_unavailable
from bekal.services.snapshots import ServedRules, Snapshot
from bekal.store import DecisionLog, FactsUnreadable, LoggedDecision, LoggedRequest, StoreUnavailable
from bekal.store.decisionlog import LoggedJob

_T = TypeVar("_T")

log = logging.getLogger("bekal.service")

CACHED_VERSIONS = 4  # rules versions kept compiled for replays (each is one durable_rules ruleset)


@dataclass(frozen=True)
class CourseReplay:
    """One course of a replayed check."""

    course_code: str
    logged: LoggedDecision
    replayed: Decision
    current: Decision | None = None  # with today's rules, when asked and decidable
    differences: tuple[str, ...] = ()  # replayed vs current, one line each

    @property
    def identical(self) -> bool:
        """The replayed decision is the logged one: outcome, priority and the rules behind it."""
        return summary_line(self.replayed) == self.logged.line()


@dataclass(frozen=True)
class Replay:
    """What replaying one logged check found."""

    entry: LoggedRequest
    parameters: Mapping[str, Any]
    courses: tuple[CourseReplay, ...]
    current_version: str = ""  # the version serving now, when compared

    @property
    def identical(self) -> bool:
        return bool(self.courses) and all(c.identical for c in self.courses)

    @property
    def same_as_current(self) -> bool:
        return bool(self.current_version) and all(c.current is not None and not c.differences
                                                  for c in self.courses)


@dataclass(frozen=True)
class JobReplay:
    """A matching job placed again with its kept rules version, input, seed and date."""

    job: LoggedJob
    replayed: tuple[tuple[str, str], ...]  # (client id, course or "") in upload order
    differences: tuple[tuple[str, str, str], ...]  # (client id, logged course, replayed course)

    @property
    def identical(self) -> bool:
        return not self.differences and len(self.replayed) == len(self.job.placed)


class JobPlacer(Protocol):
    """What replaying a job needs from the matching service (:meth:`bekal.services.matching.logic.Matching.replay`)."""

    def replay(self, kept: LoggedJob, snap: Snapshot) -> Placement: ...


@dataclass(frozen=True)
class Erased:
    client_id: str
    records: int


def differences(before: Decision, after: Decision | None) -> tuple[str, ...]:
    """What changes from ``before`` (the logged version) to ``after`` (today's rules), one line each."""
    if after is None:
        return ("today's rules do not decide this course (it is no longer in the catalogue)",)
    out = []
    if before.outcome is not after.outcome:
        out.append(f"outcome: {before.outcome.value} -> {after.outcome.value}")
    if before.priority != after.priority:
        out.append(f"priority: {before.priority} -> {after.priority}")
    old = {f"{r.ruleset}/{r.rule_id}" for r in before.reasons}
    new = {f"{r.ruleset}/{r.rule_id}" for r in after.reasons}
    out += [f"reason no longer given: {rule}" for rule in sorted(old - new)]
    out += [f"new reason: {rule}" for rule in sorted(new - old)]
    if before.missing != after.missing:
        out.append(f"missing facts: {', '.join(before.missing) or 'none'} -> {', '.join(after.missing) or 'none'}")
    return tuple(out)


def _facts_missing(entry: LoggedRequest, log_: DecisionLog) -> ServiceError:
    # only an erasure that could have taken these facts explains them: one of every agency's records, or of
    # the asking agency's own (another office erasing its own records of the client is not named: that
    # would tell this office another one had the client)
    erased = [e for e in log_.erasures(entry.client_id)
              if e.erased_at >= entry.created_at and e.scope in (None, entry.caller)]
    if erased:
        why = f"the client's facts were erased on {erased[0].erased_at[:10]} (by {erased[0].erased_by})"
    else:
        why = ("the decision log keeps no facts for it: deleted after the retention period, or logged before "
               "bekal kept facts")
    return ServiceError("FAILED_PRECONDITION", f"request {entry.request_id} cannot be replayed: {why}; the log "
                        "still shows its outcome (bekal audit decisions)",
                        preconditions=[("FACTS", entry.request_id, why)], reason="FACTS_NOT_KEPT")


class Replayer:
    """Replays logged checks with the kept rules versions; erases facts. Safe to call from many threads."""

    def __init__(self, decisions: DecisionLog, rules: ServedRules | None = None):
        self.decisions = decisions
        self.rules = rules
        self._lock = threading.Lock()  # one replay at a time: they are rare, and share the cached engines
        self._engines: OrderedDict[str, tuple[Rulebook, Engine]] = OrderedDict()
        self.jobs: JobPlacer | None = None

    def with_jobs(self, jobs: JobPlacer) -> Replayer:
        """Replay matching jobs too, placing them with ``jobs``; returns self."""
        self.jobs = jobs
        return self

    # ----------------------------------------------------------------- reading what was logged

    def _entry(self, request_id: str, principal: Principal) -> LoggedRequest:
        try:
            entry = self.decisions.get(request_id)
        except StoreUnavailable as exc:
            raise storage_unavailable("the decision log", exc.retry_after) from None
        if entry is None or not _may_see(principal, entry.caller):
            raise not_found(f"no logged check {request_id!r}", "request_id", "request", "bekal.v1.LoggedCheck",
                            request_id)
        return entry

    def _version(self, version: str) -> tuple[Rulebook, Engine]:
        """The kept rules version, compiled (cached); FAILED_PRECONDITION when it cannot be rebuilt exactly."""
        hit = self._engines.get(version)
        if hit is not None:
            self._engines.move_to_end(version)
            return hit
        files = self.decisions.ruleset(version)
        if files is None:
            raise ServiceError("FAILED_PRECONDITION", f"rules version {version} is not kept in the decision log",
                               preconditions=[("RULES_VERSION", version, "not kept")],
                               reason="RULES_VERSION_NOT_KEPT")
        try:
            rulebook = load_rulebook_from_texts(files)
        except RuleError as exc:
            raise ServiceError("FAILED_PRECONDITION", f"rules version {version} no longer compiles: "
                               f"{exc.diagnostics[0] if exc.diagnostics else exc}",
                               preconditions=[("RULES_VERSION", version, "does not compile")],
                               reason="RULES_VERSION_NOT_KEPT") from None
        if rulebook.version != version:  # the kept text is not what decided: refuse, never replay other rules
            raise ServiceError("FAILED_PRECONDITION", f"the text kept for rules version {version} hashes to "
                               f"{rulebook.version}", preconditions=[("RULES_VERSION", version, "hash differs")],
                               reason="RULES_VERSION_NOT_KEPT")
        try:
            engine = Engine(rulebook)
        except EngineError as exc:
            raise ServiceError("FAILED_PRECONDITION", f"rules version {version} cannot be loaded: {exc}",
                               preconditions=[("RULES_VERSION", version, "cannot be loaded")],
                               reason="RULES_VERSION_NOT_KEPT") from None
        self._engines[version] = (rulebook, engine)
        while len(self._engines) > CACHED_VERSIONS:
            _old, (_rb, old_engine) = self._engines.popitem(last=False)
            old_engine.close()
        return rulebook, engine

    # ----------------------------------------------------------------- replay

    def replay(self, request_id: str, principal: Principal, compare_current: bool = False) -> Replay:
        """Decide a logged check again with its rules version; with ``compare_current``, with today's too."""
        entry = self._entry(request_id, principal)
        facts = _opened(lambda: self.decisions.facts(request_id), request_id, f"the facts of request {request_id} do")
        if facts is None:
            raise _facts_missing(entry, self.decisions)
        as_of = date.fromisoformat(entry.as_of)
        logged = entry.decisions
        with self._lock:
            rulebook, engine = self._version(entry.ruleset_version)
            replayed = _decide(engine, rulebook.courses, facts, [d.course_code for d in logged], as_of)
        courses = []
        current: list[Decision | None] = [None] * len(logged)
        current_version = ""
        if compare_current:
            current_version, current = self._current(facts, [d.course_code for d in logged], as_of)
        for i, (d, again) in enumerate(zip(logged, replayed)):
            if again is None:  # the kept catalogue lacks the course: cannot happen for a kept version
                raise ServiceError("FAILED_PRECONDITION", f"rules version {entry.ruleset_version} has no course "
                                   f"{d.course_code}", preconditions=[("RULES_VERSION", entry.ruleset_version,
                                                                       "course missing")],
                                   reason="RULES_VERSION_NOT_KEPT")
            now = current[i]
            courses.append(CourseReplay(d.course_code, d, again, now,
                                        differences(again, now) if compare_current else ()))
        parameters = json.loads(entry.parameters) if entry.parameters else {}
        return Replay(entry, parameters, tuple(courses), current_version)

    def _current(self, facts: Mapping[str, Any], codes: Sequence[str], as_of: date
                 ) -> tuple[str, list[Decision | None]]:
        if self.rules is None:
            raise ServiceError("FAILED_PRECONDITION", "no rules are served here to compare with")
        with self.rules.lease() as snap:
            return snap.version, _decide(snap.engine, snap.rulebook.courses, facts, codes, as_of)

    def replay_job(self, job_id: str, principal: Principal) -> JobReplay:
        """Place a kept matching job again with its rules version and compare every client's course."""
        kept = _opened(lambda: self.decisions.job(job_id), job_id, f"the input of match job {job_id} does")
        if kept is None or not (principal.role is Role.AUDITOR or (kept.creator and kept.creator == principal.name)):
            raise not_found(f"no kept match job {job_id!r}", "job_id", "job", "bekal.v1.MatchJob", job_id)
        if not kept.sealed:
            why = ("its input is gone: a client of its cohort had their facts erased, or it is past the retention "
                   "period")
            raise ServiceError("FAILED_PRECONDITION", f"match job {job_id} cannot be replayed: {why}",
                               preconditions=[("FACTS", job_id, why)], reason="FACTS_NOT_KEPT")
        if self.jobs is None:
            raise ServiceError("FAILED_PRECONDITION", "this server does not run matching jobs", reason="JOBS_NOT_KEPT")
        with self._lock:
            rulebook, engine = self._version(kept.ruleset_version)
            placement = self.jobs.replay(kept, Snapshot(rulebook, engine))
        replayed = tuple((p.client_id, p.course or "") for p in placement.clients)
        logged = dict(kept.placed)
        differences = tuple((cid, logged.get(cid, ""), course) for cid, course in replayed
                            if logged.get(cid, "") != course)
        return JobReplay(kept, replayed, differences)

    # ----------------------------------------------------------------- erasure

    def erase(self, client_id: str, principal: Principal) -> Erased:
        """Erase the facts the log keeps about ``client_id``: all of them for an auditor, those of its own
        checks for a BNN office. Ids, versions and outcomes stay; other clients are untouched."""
        if principal.role not in (Role.AUDITOR, Role.REFERRER):  # the policy lets no one else in; fail closed
            raise ServiceError("PERMISSION_DENIED", "only an auditor or a BNN office erases a client's facts")
        caller = None if principal.role is Role.AUDITOR else principal.name
        try:
            records = self.decisions.erase_client(client_id, principal.name, caller)
        except StoreUnavailable as exc:
            raise storage_unavailable("the decision log", exc.retry_after) from None
        log.info("erased the facts of %d logged check(s) of one client at %s's request", records, principal.name)
        return Erased(client_id, records)

    def close(self) -> None:
        with self._lock:
            while self._engines:
                _v, (_rb, engine) = self._engines.popitem()
                engine.close()


def _may_see(principal: Principal, caller: str) -> bool:
    if principal.role is Role.AUDITOR:
        return True
    return principal.role is Role.REFERRER and caller == principal.name


def _decide(engine: Engine, courses: Mapping[str, Mapping[str, Any]], facts: Mapping[str, Any],
            codes: Sequence[str], as_of: date) -> list[Decision | None]:
    """The decisions on ``codes`` (None for a course the catalogue lacks); ServiceError when nothing decides."""
    known = [code for code in codes if code in courses]
    try:
        results = engine.decide_many([(facts, courses[code]) for code in known], as_of)
    except Exception as exc:
        raise engine_error(exc, as_of) from None
    by_code: dict[str, Decision] = {}
    for code, result in zip(known, results):
        if isinstance(result, Refusal):
            raise refusal_error(result)
        by_code[code] = result
    return [by_code.get(code) for code in codes]


def _opened(read: Callable[[], _T], subject: str, what_does: str) -> _T:
    """What ``read`` unseals from the decision log; FAILED_PRECONDITION (FACTS_KEY_MISMATCH) when it does
    not open with the server's facts key (``what_does`` names it: "the facts of request r1 do"),
    UNAVAILABLE when the log cannot be read now."""
    try:
        return read()
    except FactsUnreadable as exc:
        log.error("replay: %s not open: %s", what_does, exc)
        raise ServiceError("FAILED_PRECONDITION", f"{what_does} not open with the server's facts key; nothing was "
                           "replayed", preconditions=[("FACTS_KEY", subject, "does not open")],
                           reason="FACTS_KEY_MISMATCH") from None
    except StoreUnavailable as exc:
        raise storage_unavailable("the decision log", exc.retry_after) from None
