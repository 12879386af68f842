"""Eligibility checks on domain types: decided with the served rules, recorded in the decision log.

No gRPC and no protobuf here (:mod:`.codec` translates, :mod:`.servicer` serves),
so every behaviour is tested without a server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from bekal.access import ANONYMOUS, Denied, Principal, check_course, own_courses
from bekal.audience import BLK, BNN, for_audience
from bekal.decision import Decision, Refusal
from bekal.engine import NoRulesLoaded, NotInForce
from bekal.facts import DECLARED, Fact, FactError, resolve_declared
from bekal.rulebook import offered_courses, version_files
from bekal.services.errors import (
    ServiceError,
    denied,
    internal,
    invalid,
    not_found,
    not_in_force_error,
    refusal_error,
    storage_unavailable,
)
from bekal.services.snapshots import ServedRules, Snapshot, no_rules_error
from bekal.store import DecisionLog, LoggedRequest, Recorded, StoreUnavailable

log = logging.getLogger("bekal.service")

Facts = Mapping[str, Any]


@dataclass(frozen=True)
class Check:
    """One validated eligibility check (the domain form of CheckEligibilityRequest)."""

    request_id: str
    client: Facts  # facts, as bekal.facts.facts_from_message returns them
    course_code: str | None  # None: every course offered on as_of
    as_of: date
    audience: str = BLK  # the view the caller's certificate allows (bekal.access.audience_for)
    explain: bool = False
    fingerprint: str = ""  # digest of the request, for idempotent retries
    principal: Principal = ANONYMOUS  # who asks: per-record checks (bekal.access)

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


def with_declared(check: Check, declared: Mapping[str, Fact]) -> Check:
    """The check with the client's declared facts checked against the rules that decide it (their
    facts file); INVALID_ARGUMENT naming ``client.declared[KEY]`` for an undeclared key or a bad value."""
    if DECLARED not in check.client:
        return check
    try:
        return replace(check, client=resolve_declared("client", check.client, declared))
    except FactError as exc:
        raise invalid(exc.violations) from None


def summary_line(d: Decision) -> str:
    """One decision for the decision log: ``COURSE OUTCOME PRIORITY ruleset/rule,...`` (no facts)."""
    rules = ",".join([f"{r.ruleset}/{r.rule_id}" for r in d.reasons])
    return f"{d.course_code} {d.outcome.value} {d.priority} {rules}"


def parameters_json(snap: Snapshot, as_of: date) -> str:
    """The rule parameters in force on ``as_of`` as JSON (``{"min_age": 18}``): rule data, kept in the
    decision log beside each decision so a reader sees them without replaying."""
    values = snap.rulebook.compiled.param_values(as_of)
    return json.dumps({k.removeprefix("param."): v for k, v in sorted(values.items())}, default=str,
                      separators=(",", ":"))


def _logged(check: Check, snap: Snapshot, decisions: Sequence[Decision], parameters: str = "") -> LoggedRequest:
    return LoggedRequest(
        request_id=check.request_id,
        # the caller is part of what a retry must repeat: another agency reusing a request id
        # is a conflict, never a replay of someone else's request
        fingerprint=f"{check.principal.name}\n{check.fingerprint}",
        client_id=check.client_id,
        audience=check.audience,
        ruleset_version=snap.version,
        as_of=check.as_of.isoformat(),
        summary="\n".join([summary_line(d) for d in decisions]),
        caller=check.principal.name,
        parameters=parameters,
        facts=check.client,  # sealed by the store (bekal.store.sealing): what a replay decides again
    )


def engine_error(exc: Exception, as_of: date) -> ServiceError:
    """An exception from the engine as the error a caller should see."""
    if isinstance(exc, NotInForce):
        return not_in_force_error(exc, "as_of_date")
    if isinstance(exc, NoRulesLoaded):
        return no_rules_error()
    return internal("engine", exc)


Planned = tuple[int, Check, list[str]]  # (position in the batch, check, course codes to decide)


class Eligibility:
    """Decides checks with the current rules and records them in the decision log."""

    def __init__(self, rules: ServedRules, store: DecisionLog | None):
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
        results: list[CheckResult | ServiceError] = [
            c if isinstance(c, ServiceError) else _PLACEHOLDER for c in checks
        ]
        logged: list[tuple[int, LoggedRequest]] = []
        parameters: dict[date, str] = {}
        with self.rules.lease() as snap:
            if self.store is not None:
                self._keep_version(snap)
            planned: list[Planned] = []
            for i, check in enumerate(checks):
                if isinstance(check, ServiceError):
                    continue
                try:
                    check = with_declared(check, snap.rulebook.declared)
                    planned.append((i, check, self._plan(check, snap.rulebook.courses)))
                except ServiceError as err:
                    results[i] = err
            for (i, check, _codes), decisions in zip(planned, self._decide(snap, planned)):
                if isinstance(decisions, ServiceError):
                    results[i] = decisions
                    continue
                if check.as_of not in parameters:
                    parameters[check.as_of] = parameters_json(snap, check.as_of)
                logged.append((i, _logged(check, snap, decisions, parameters[check.as_of])))
                results[i] = CheckResult(
                    check.request_id, snap.version, check.as_of,
                    tuple(for_audience(d, check.audience, check.client) for d in decisions),
                )
        if logged and self.store is not None:
            self._record(logged, results)
        return results

    def _keep_version(self, snap: Snapshot) -> None:
        """The rules version that decides is kept (its text, by content hash) before any decision it
        makes is recorded: a logged decision can always be replayed. Nothing is decided otherwise."""
        assert self.store is not None
        try:
            self.store.keep_ruleset(snap.version, version_files(snap.rulebook))
        except StoreUnavailable as exc:
            log.error("decision log: %s", exc)
            raise storage_unavailable("the decision log", exc.retry_after) from None

    def _record(self, logged: Sequence[tuple[int, LoggedRequest]], results: list[CheckResult | ServiceError]) -> None:
        assert self.store is not None
        try:
            statuses = self.store.record([entry for _, entry in logged])
        except StoreUnavailable as exc:  # nothing acknowledged, nothing recorded: retry is safe
            log.error("decision log: %s", exc)
            raise storage_unavailable("the decision log", exc.retry_after) from None
        for (i, _entry), status in zip(logged, statuses):
            result = results[i]
            if status is Recorded.CONFLICT:
                results[i] = ServiceError(
                    "INVALID_ARGUMENT",
                    "request_id was already used for a different request; use a new id",
                    [("request_id", "already used for a different request")],
                )
            elif status is Recorded.DUPLICATE and isinstance(result, CheckResult):
                results[i] = replace(result, replayed=True)

    @staticmethod
    def _plan(check: Check, courses: Mapping[str, Facts]) -> list[str]:
        try:
            if check.course_code and check.course_code in courses:
                check_course(check.principal, courses[check.course_code])
        except Denied as exc:
            raise denied(exc, "COURSE_NOT_OWNED", "client") from None
        if check.course_code:
            if check.course_code not in courses:
                raise not_found(f"no course {check.course_code!r} in the loaded catalogue", "course_code", "course",
                                "bekal.v1.Course", check.course_code)
            return [check.course_code]
        mine = own_courses(check.principal, courses)
        return [code for code in offered_courses(courses, check.as_of) if code in mine]

    @staticmethod
    def _decide(snap: Snapshot, planned: Sequence[Planned]) -> list[list[Decision] | ServiceError]:
        courses = snap.rulebook.courses
        engine = snap.engine
        out: list[list[Decision] | ServiceError] = [[] for _ in planned]
        # one engine call per as-of date for the plain checks; explain checks (rare, heavier)
        # get a call each
        by_date: dict[date, list[tuple[int, Facts, Facts]]] = {}
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
    decisions: list[Decision] = []
    for result in results:
        if isinstance(result, Refusal):
            return refusal_error(result)
        decisions.append(result)
    return decisions


_PLACEHOLDER = ServiceError("INTERNAL", "check not decided")  # replaced for every check in check_many
