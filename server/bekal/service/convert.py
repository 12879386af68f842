"""Protobuf messages <-> the service's plain Python types. No logic beyond translation and input checks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from bekal.decision import Decision, FactValue, Outcome, Reason, RuleStatus
from bekal.service.core import BLK, BNN, Check, CheckResult, Diagnostic, today
from bekal.service.errors import CODES, ServiceError, invalid
from bekal.v1 import decision_pb2, eligibility_pb2, facts_pb2, rules_pb2

MAX_ID = 128  # request_id, client.id, course_code
MAX_TEXT = 256  # any other text field of a client
MAX_PREFERENCES = 100
MAX_CHECKS = 10_000  # checks per stream message

OUTCOME_PB = {
    Outcome.ELIGIBLE: decision_pb2.OUTCOME_ELIGIBLE,
    Outcome.INELIGIBLE: decision_pb2.OUTCOME_INELIGIBLE,
    Outcome.PENDING: decision_pb2.OUTCOME_PENDING,
}
STATUS_PB = {
    RuleStatus.FIRED: decision_pb2.RULE_STATUS_FIRED,
    RuleStatus.NOT_FIRED: decision_pb2.RULE_STATUS_NOT_FIRED,
    RuleStatus.MISSING: decision_pb2.RULE_STATUS_MISSING_FACTS,
    RuleStatus.NOT_IN_FORCE: decision_pb2.RULE_STATUS_NOT_IN_FORCE,
}
AUDIENCE = {  # unspecified gets the narrowest view (bekal.audience)
    eligibility_pb2.AUDIENCE_UNSPECIFIED: BLK,
    eligibility_pb2.AUDIENCE_BLK: BLK,
    eligibility_pb2.AUDIENCE_BNN: BNN,
}
_CLIENT_TEXT = [
    f.name for f in facts_pb2.Client.DESCRIPTOR.fields
    if f.type == f.TYPE_STRING and not f.name.endswith("_date") and not f.is_repeated
]


# ----------------------------------------------------------------------------- requests


def parse_date(text: str, field: str, violations: list[tuple[str, str]]) -> date | None:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        violations.append((field, f"not a real date in YYYY-MM-DD form: {text[:40]!r}"))
        return None


def _check_id(value: str, field: str, violations: list[tuple[str, str]]) -> None:
    if not value:
        violations.append((field, "required"))
    elif len(value) > MAX_ID:
        violations.append((field, f"at most {MAX_ID} characters, got {len(value)}"))
    elif not value.isprintable():
        violations.append((field, "must not contain control characters"))


def fingerprint(request: eligibility_pb2.CheckEligibilityRequest) -> str:
    """Digest identifying a request's content: a retry has the same one."""
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()[:32]


def parse_check(request: eligibility_pb2.CheckEligibilityRequest) -> Check:
    """A CheckEligibilityRequest as a :class:`Check`; INVALID_ARGUMENT naming every bad field."""
    from bekal.facts import FactError, facts_from_message

    violations: list[tuple[str, str]] = []
    _check_id(request.request_id, "request_id", violations)
    client: dict[str, Any] = {}
    if not request.HasField("client"):
        violations.append(("client", "required"))
    else:
        msg = request.client
        _check_id(msg.id, "client.id", violations)
        for name in _CLIENT_TEXT:
            if name != "id" and len(getattr(msg, name)) > MAX_TEXT:
                violations.append((f"client.{name}", f"at most {MAX_TEXT} characters"))
        for name in ("birth_date", "rehab_completed_date"):
            value = getattr(msg, name)
            if value and len(value) > 10:
                violations.append((f"client.{name}", f"not a real date in YYYY-MM-DD form: {value[:40]!r}"))
        if len(msg.preferences) > MAX_PREFERENCES:
            violations.append(("client.preferences", f"at most {MAX_PREFERENCES} course codes"))
        try:
            client = facts_from_message(msg)
        except FactError as exc:
            flagged = {f for f, _ in violations}
            violations.extend(v for v in exc.violations if v[0] not in flagged)
    if request.course_code:
        if len(request.course_code) > MAX_ID:
            violations.append(("course_code", f"at most {MAX_ID} characters"))
    as_of = today()
    if request.as_of_date:
        as_of = parse_date(request.as_of_date, "as_of_date", violations) or as_of
    audience = AUDIENCE.get(request.audience)
    if audience is None:
        violations.append(("audience", f"unknown audience {request.audience}"))
    if violations:
        raise invalid(violations)
    return Check(
        request_id=request.request_id,
        client=client,
        course_code=request.course_code or None,
        as_of=as_of,
        audience=audience or BLK,
        explain=request.explain,
        fingerprint=fingerprint(request),
    )


def parse_stream_request(
    request: eligibility_pb2.CheckEligibilityStreamRequest,
) -> list[Check | ServiceError]:
    """Each check parsed on its own: a bad one becomes its error, the others go on."""
    if len(request.checks) > MAX_CHECKS:
        raise invalid([("checks", f"at most {MAX_CHECKS} checks per message, got {len(request.checks)}")])
    out: list[Check | ServiceError] = []
    for check in request.checks:
        try:
            out.append(parse_check(check))
        except ServiceError as err:
            out.append(err)
    return out


# ----------------------------------------------------------------------------- decisions


def fact_value_pb(fact: FactValue, out: decision_pb2.FactValue) -> None:
    out.name = fact.name
    value = fact.value
    if value is None:
        return
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, date):
        out.string_value = value.isoformat()
    else:
        out.string_value = str(value)


def reason_pb(reason: Reason, out: decision_pb2.Reason) -> None:
    out.rule_id = reason.rule_id
    out.ruleset = reason.ruleset
    out.outcome = OUTCOME_PB[reason.outcome]
    out.message_id = reason.message_id
    out.message_en = reason.message_en
    for fact in reason.facts:
        fact_value_pb(fact, out.facts.add())
    out.citation = reason.source
    out.shareable = reason.shareable
    out.priority = reason.priority
    out.missing.extend(reason.missing)


def decision_pb(decision: Decision, out: decision_pb2.Decision) -> None:
    out.client_id = decision.client_id
    out.course_code = decision.course_code
    out.outcome = OUTCOME_PB[decision.outcome]
    for reason in decision.reasons:
        reason_pb(reason, out.reasons.add())
    out.priority = decision.priority
    out.ruleset_version = decision.ruleset_version
    out.as_of_date = decision.as_of.isoformat()
    out.missing.extend(decision.missing)
    for step in decision.trace:
        t = out.trace.add()
        t.rule_id = step.rule_id
        t.ruleset = step.ruleset
        t.status = STATUS_PB[step.status]
        t.effect = step.effect
        for fact in step.facts:
            fact_value_pb(fact, t.facts.add())
        t.location = step.location


def response_pb(
    result: CheckResult, out: eligibility_pb2.CheckEligibilityResponse | None = None
) -> eligibility_pb2.CheckEligibilityResponse:
    out = eligibility_pb2.CheckEligibilityResponse() if out is None else out
    out.request_id = result.request_id
    out.ruleset_version = result.ruleset_version
    out.as_of_date = result.as_of.isoformat()
    for decision in result.decisions:
        decision_pb(decision, out.decisions.add())
    return out


def error_pb(error: ServiceError, out: eligibility_pb2.CheckError) -> None:
    out.code = CODES[error.code]
    out.status = error.code
    out.message = error.message
    for field, description in error.violations:
        out.field_violations.add(field=field, description=description)


def stream_response_pb(
    checks: Sequence[Check | ServiceError],
    requests: Sequence[eligibility_pb2.CheckEligibilityRequest],
    results: Iterable[CheckResult | ServiceError],
) -> eligibility_pb2.CheckEligibilityStreamResponse:
    out = eligibility_pb2.CheckEligibilityStreamResponse()
    for request, result in zip(requests, results):
        item = out.results.add()
        item.request_id = request.request_id
        if isinstance(result, ServiceError):
            error_pb(result, item.error)
        else:
            response_pb(result, item.response)
    return out


# ----------------------------------------------------------------------------- rules


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def ruleset_info_pb(ruleset: Any, file: str) -> rules_pb2.RulesetInfo:
    rules = tuple(getattr(ruleset, "rules", ()))
    return rules_pb2.RulesetInfo(
        name=ruleset.name,
        title=getattr(ruleset, "title", "") or "",
        file=file,
        effective_from=_iso(getattr(ruleset, "effective_from", None)),
        effective_until=_iso(getattr(ruleset, "effective_until", None)),
        rule_count=len(rules),
        rule_ids=[r.id for r in rules],
    )


def diagnostic_pb(d: Diagnostic) -> rules_pb2.Diagnostic:
    return rules_pb2.Diagnostic(
        file=d.file, line=d.line, column=d.col, message=d.message, hint=d.hint or "", text=f"{d.location}: {d.message}"
    )
