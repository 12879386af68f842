"""The service's logic in plain Python: rules snapshots, checks, the audience view.

Nothing here imports gRPC or protobuf; the servicers (``servicers.py``) only
translate messages to the types below and back. That keeps every behaviour
testable without a server.

Consistency under hot reload: a :class:`Snapshot` pairs one rulebook with the
engine built from it. A call leases the current snapshot once and uses it for
everything (course catalogue, rules, version), so a decision can never mix two
versions; a reload builds a new engine beside the old one, swaps the pointer
atomically, and closes the old engine when its last lease ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bekal.audience import BLK, BNN, for_audience, may_see
from bekal.decision import Decision, Refusal
from bekal.engine import Engine, NoRulesLoaded, NotInForce
from bekal.rulebook import load_rulebook, offered_courses, reload_problems  # noqa: F401 (re-exported)
from bekal.ruletests import gate
from bekal.sandbox import dry_run
from bekal.lang.diagnostics import Diagnostic, Location, RuleError
from bekal.service.errors import ServiceError, internal, invalid
from bekal.store import LoggedRequest, Recorded, Store, StoreUnavailable

log = logging.getLogger("bekal.service")

WITA = timezone(timedelta(hours=8), "WITA")  # Kalimantan Selatan's time zone

AUDIENCES = (BNN, BLK)


def today() -> date:
    """Today in Kalimantan Selatan, the default as-of date."""
    return datetime.now(WITA).date()


# --------------------------------------------------------------------------- rules snapshots


@dataclass(eq=False)
class Snapshot:
    """One loaded rulebook with its own engine; leased by calls, closed after its last lease."""

    rulebook: Any  # bekal.rulebook.Rulebook
    engine: Any  # bekal.engine.Engine
    loaded_at: float = field(default_factory=time.time)
    _users: int = 0
    _retired: bool = False

    @property
    def version(self) -> str:
        return self.rulebook.version


@dataclass(frozen=True)
class ReloadOutcome:
    version: str
    previous: str | None
    changed: bool


class RulesRejected(Exception):
    """Rule files that cannot be served; the previous version (if any) keeps serving."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


@dataclass(frozen=True)
class Validation:
    valid: bool
    version: str | None
    diagnostics: tuple[Diagnostic, ...]
    rulesets: tuple[str, ...] = ()


def diagnostics_of(error: BaseException) -> tuple[Diagnostic, ...]:
    """The located problems behind an error: a RuleError's own, else the error as one problem."""
    if isinstance(error, RuleError) and error.diagnostics:
        return tuple(error.diagnostics)
    return (_unlocated(str(error) or type(error).__name__),)


def _unlocated(message: str, file: str = "") -> Diagnostic:
    return Diagnostic(Location(file, 0, 0), message)


class Rules:
    """The rules a worker serves: load, reload (atomic swap), validate, lease."""

    def __init__(self, rules_dir: str | Path):
        self.rules_dir = Path(rules_dir)
        self._lock = threading.Lock()  # guards _current and lease counts
        self._reload_lock = threading.Lock()  # one reload at a time
        self._current: Snapshot | None = None
        self._listeners: list[Callable[[Snapshot], None]] = []
        self.last_error: tuple[Diagnostic, ...] = ()

    # -- reading
    @property
    def current(self) -> Snapshot | None:
        return self._current

    @property
    def version(self) -> str | None:
        snap = self._current
        return snap.version if snap else None

    def on_change(self, listener: Callable[[Snapshot], None]) -> None:
        """Call ``listener(snapshot)`` after every successful swap (health status, logging)."""
        self._listeners.append(listener)

    @contextmanager
    def lease(self) -> Iterator[Snapshot]:
        """The current snapshot, kept open for the block; FAILED_PRECONDITION when none is loaded."""
        with self._lock:
            snap = self._current
            if snap is None:
                raise no_rules_error(self.last_error)
            snap._users += 1
        try:
            yield snap
        finally:
            close = False
            with self._lock:
                snap._users -= 1
                close = snap._retired and snap._users == 0
            if close:
                self._close(snap)

    # -- changing
    def reload(self) -> ReloadOutcome:
        """Load the rules folder; swap it in if valid and different. Raises RulesRejected."""
        with self._reload_lock:
            try:
                rulebook = load_rulebook(self.rules_dir)
            except RuleError as exc:
                self.last_error = diagnostics_of(exc)
                raise RulesRejected(self.last_error) from None
            previous = self._current
            if previous is not None and previous.version == rulebook.version:
                # the same rules; the tests beside them may have changed: they must still pass
                failures = gate(rulebook, previous.engine)
                if failures:
                    self.last_error = tuple(failures)
                    raise RulesRejected(self.last_error)
                self.last_error = ()
                return ReloadOutcome(rulebook.version, previous.version, False)
            try:
                engine = Engine(rulebook)
            except Exception as exc:  # durable_rules refused what the checker accepted
                self.last_error = (_unlocated(f"{type(exc).__name__}: {exc}", str(self.rules_dir)),)
                raise RulesRejected(self.last_error) from None
            # the gate: nothing goes live that loses a ruleset or rules silently, or fails its own tests
            problems = reload_problems(previous.rulebook, rulebook) if previous is not None else []
            problems += gate(rulebook, engine)
            if problems:
                engine.close()
                self.last_error = tuple(problems)
                raise RulesRejected(self.last_error)
            self.install(rulebook, engine)
            self.last_error = ()
            return ReloadOutcome(rulebook.version, previous.version if previous else None, True)

    def install(self, rulebook: Any, engine: Engine | None = None) -> Snapshot:
        """Make ``rulebook`` current with ``engine`` (built for it if not given); the old one closes when idle."""
        engine = engine or Engine(rulebook)
        snap = Snapshot(rulebook, engine)
        with self._lock:
            old, self._current = self._current, snap
            close_old = False
            if old is not None:
                old._retired = True
                close_old = old._users == 0
        if close_old:
            self._close(old)
        for listener in list(self._listeners):
            try:
                listener(snap)
            except Exception as exc:  # a listener must not undo a swap
                internal("rules listener", exc)
        return snap

    def validate(self, files: Mapping[str, str], overlay: bool) -> Validation:
        """Dry run, as ``bekal rules check`` and ``test``: parse, check, compile, register, run the rule tests.

        Nothing changes. With ``overlay`` the files replace or add to the loaded ones
        (paths relative to the rules folder).
        """
        texts: dict[str, str] = {}
        if overlay:
            snap = self._current
            if snap is not None:
                texts.update({self.relative(k): v for k, v in snap.rulebook.sources.items()})
        texts.update(files)
        # rule text from a caller is untrusted: checked in a child process with time and memory limits
        result = dry_run(texts)
        return Validation(result.valid, result.version, result.diagnostics, result.rulesets)

    def relative(self, name: str) -> str:
        """A loaded file's name relative to the rules folder (as clients name it)."""
        try:
            return Path(name).resolve().relative_to(self.rules_dir.resolve()).as_posix()
        except ValueError:
            return name

    def close(self) -> None:
        with self._lock:
            snap, self._current = self._current, None
        if snap is not None:
            with self._lock:
                snap._retired = True
                idle = snap._users == 0
            if idle:
                self._close(snap)

    @staticmethod
    def _close(snap: Snapshot) -> None:
        try:
            snap.engine.close()
        except Exception as exc:
            internal("closing an old engine", exc)


def no_rules_error(diagnostics: Sequence[Diagnostic] = ()) -> ServiceError:
    message = "no valid ruleset is loaded"
    if diagnostics:
        message += f"; the rule files have {len(diagnostics)} problem(s), first: {diagnostics[0]}"
    return ServiceError(
        "FAILED_PRECONDITION",
        message,
        preconditions=[("RULES", str(d), d.message) for d in diagnostics[:20]],
    )


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """One validated eligibility check (the domain form of CheckEligibilityRequest)."""

    request_id: str
    client: Mapping[str, Any]  # facts, as bekal.facts.facts_from_message returns them
    course_code: str | None  # None: every course offered on as_of
    as_of: date
    audience: str = BLK
    explain: bool = False
    fingerprint: str = ""  # digest of the request, for idempotent retries

    @property
    def client_id(self) -> str:
        return str(self.client.get("id", ""))


@dataclass(frozen=True)
class CheckResult:
    request_id: str
    ruleset_version: str
    as_of: date
    decisions: tuple[Decision, ...]
    replayed: bool = False  # a retry of a request already recorded


def summary_line(d: Decision) -> str:
    """One decision for the decision log: ``COURSE OUTCOME PRIORITY ruleset/rule,...`` (no facts)."""
    rules = ",".join([f"{r.ruleset}/{r.rule_id}" for r in d.reasons])
    return f"{d.course_code} {d.outcome.value} {d.priority} {rules}"


def _logged(check: Check, snap: Snapshot, decisions: Sequence[Decision]) -> LoggedRequest:
    return LoggedRequest(
        request_id=check.request_id,
        fingerprint=check.fingerprint,
        client_id=check.client_id,
        audience=check.audience,
        ruleset_version=snap.version,
        as_of=check.as_of.isoformat(),
        summary="\n".join([summary_line(d) for d in decisions]),
    )


class Eligibility:
    """Decides checks with the current rules and records them in the decision log."""

    def __init__(self, rules: Rules, store: Store | None):
        self.rules = rules
        self.store = store

    def check(self, check: Check) -> CheckResult:
        """One check; raises ServiceError."""
        (result,) = self.check_many([check])
        if isinstance(result, ServiceError):
            raise result
        return result

    def check_many(self, checks: Sequence[Check | ServiceError]) -> list[CheckResult | ServiceError]:
        """A batch of checks decided by one snapshot and recorded in one transaction.

        Items that are already errors (failed validation) pass through in place,
        so results line up with the input.
        """
        results: list[CheckResult | ServiceError | None] = [None] * len(checks)
        with self.rules.lease() as snap:
            courses = snap.rulebook.courses
            planned: list[tuple[int, Check, list[str]]] = []
            for i, check in enumerate(checks):
                if isinstance(check, ServiceError):
                    results[i] = check
                    continue
                try:
                    planned.append((i, check, self._plan(check, courses)))
                except ServiceError as err:
                    results[i] = err
            decided = self._decide(snap, planned)
            logged: list[tuple[int, LoggedRequest]] = []
            for (i, check, _codes), decisions in zip(planned, decided):
                if isinstance(decisions, ServiceError):
                    results[i] = decisions
                    continue
                logged.append((i, _logged(check, snap, decisions)))
                results[i] = CheckResult(
                    check.request_id, snap.version, check.as_of,
                    tuple(for_audience(d, check.audience) for d in decisions),
                )
        if logged and self.store is not None:
            try:
                statuses = self.store.record([entry for _, entry in logged])
            except StoreUnavailable as exc:  # nothing acknowledged, nothing recorded: retry is safe
                log.error("decision log: %s", exc)
                raise ServiceError("UNAVAILABLE", "the decision log cannot be written now; retry") from None
            for (i, _entry), status in zip(logged, statuses):
                if status is Recorded.CONFLICT:
                    results[i] = ServiceError(
                        "INVALID_ARGUMENT",
                        "request_id was already used for a different request; use a new id",
                        [("request_id", "already used for a different request")],
                    )
                elif status is Recorded.DUPLICATE:
                    results[i] = replace(results[i], replayed=True)  # type: ignore[arg-type]
        return results  # type: ignore[return-value]

    @staticmethod
    def _plan(check: Check, courses: Mapping[str, Mapping[str, Any]]) -> list[str]:
        if not may_see(check.client, check.audience):
            raise ServiceError(
                "PERMISSION_DENIED",
                "the client has not consented to sharing with a training centre",
                [("client.consent_to_share", "must be true for a training centre (audience AUDIENCE_BLK)")],
            )
        if check.course_code:
            if check.course_code not in courses:
                raise ServiceError(
                    "NOT_FOUND",
                    f"no course {check.course_code!r} in the loaded catalogue",
                    [("course_code", f"unknown course {check.course_code!r}")],
                    resource=("bekal.v1.Course", check.course_code),
                )
            return [check.course_code]
        return offered_courses(courses, check.as_of)

    @staticmethod
    def _decide(
        snap: Snapshot, planned: Sequence[tuple[int, Check, list[str]]]
    ) -> list[list[Decision] | ServiceError]:
        courses = snap.rulebook.courses
        engine = snap.engine
        out: list[list[Decision] | ServiceError] = [[] for _ in planned]
        # one engine call per as-of date for the plain checks; explain checks (rare, heavier)
        # get a call each
        by_date: dict[date, list[tuple[int, Mapping, Mapping]]] = {}
        for slot, (_i, check, codes) in enumerate(planned):
            if check.explain and check.audience == BNN:
                try:
                    out[slot] = _decided(engine.decide_many(
                        [(check.client, courses[code]) for code in codes], check.as_of, explain=True
                    ))
                except Exception as exc:
                    out[slot] = engine_error(exc, check.as_of)
                continue
            for code in codes:
                by_date.setdefault(check.as_of, []).append((slot, check.client, courses[code]))
        for as_of, items in by_date.items():
            try:
                decisions = engine.decide_many([(c, k) for _s, c, k in items], as_of)
            except Exception as exc:
                err = engine_error(exc, as_of)
                for slot, _c, _k in items:
                    out[slot] = err
                continue
            for (slot, _c, _k), decision in zip(items, decisions):
                bucket = out[slot]
                if isinstance(decision, Refusal):  # this check fails; the others of the batch stand
                    out[slot] = refusal_error(decision)
                elif isinstance(bucket, list):
                    bucket.append(decision)
        return out


def _decided(results: Sequence[Decision | Refusal]) -> list[Decision] | ServiceError:
    """All of one check's decisions, or the error of the first pair the engine refused."""
    for result in results:
        if isinstance(result, Refusal):
            return refusal_error(result)
    return list(results)  # type: ignore[arg-type]


def refusal_error(refusal: Refusal) -> ServiceError:
    """A pair the engine would not decide: bad input names its fields; no proof is a fault."""
    if refusal.bad_input:
        return invalid(list(refusal.violations))
    log.error("engine gave no verdict for a pair (course %s): rules %s", refusal.course_code,
              ", ".join(refusal.unjudged))
    return ServiceError("INTERNAL", "the rules engine gave no verdict for this check; nothing was decided "
                                    "(the server log has the rule ids)")


def engine_error(exc: BaseException, as_of: date) -> ServiceError:
    """An exception from the engine as the error a caller should see."""
    if isinstance(exc, NotInForce):
        return not_in_force_error(exc, "as_of_date")
    if isinstance(exc, NoRulesLoaded):
        return no_rules_error()
    return internal("engine", exc)


def not_in_force_error(exc: NotInForce, field: str) -> ServiceError:
    """FAILED_PRECONDITION: the request is well formed, but the rules do not cover its date."""
    return ServiceError(
        "FAILED_PRECONDITION", str(exc),
        [(field, str(exc))],
        preconditions=[("RULES_IN_FORCE", exc.on.isoformat(),
                        f"not in force: {', '.join(exc.rulesets)}")],
    )
