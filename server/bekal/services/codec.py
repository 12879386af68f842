"""Protobuf <-> domain types shared by the services: audiences, dates, client and course facts, decisions.

Each service's own codec (``bekal.services.<service>.codec``) translates its
messages with these; nothing here decides anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from google.protobuf.message import Message

from bekal.audience import BLK, BNN
from bekal.clock import today
from bekal.decision import Decision, FactValue, Outcome, Reason, RuleStatus
from bekal.facts import FactError, facts_from_message
from bekal.services.errors import Violations
from bekal.services.limits import MAX_PREFERENCES, bad_date, check_id, check_text, parse_date
from bekal.v1 import decision_pb2, eligibility_pb2, facts_pb2

AUDIENCE: dict[int, str] = {  # unspecified: the caller's own view (bekal.access.audience_for)
    eligibility_pb2.AUDIENCE_UNSPECIFIED: "",
    eligibility_pb2.AUDIENCE_BLK: BLK,
    eligibility_pb2.AUDIENCE_BNN: BNN,
}
AUDIENCE_PB = {BLK: eligibility_pb2.AUDIENCE_BLK, BNN: eligibility_pb2.AUDIENCE_BNN}
OUTCOME_PB = {
    Outcome.ELIGIBLE: decision_pb2.OUTCOME_ELIGIBLE,
    Outcome.INELIGIBLE: decision_pb2.OUTCOME_INELIGIBLE,
    Outcome.PENDING: decision_pb2.OUTCOME_PENDING,
    Outcome.WITHHELD: decision_pb2.OUTCOME_WITHHELD,
}
STATUS_PB = {
    RuleStatus.FIRED: decision_pb2.RULE_STATUS_FIRED,
    RuleStatus.NOT_FIRED: decision_pb2.RULE_STATUS_NOT_FIRED,
    RuleStatus.MISSING: decision_pb2.RULE_STATUS_MISSING_FACTS,
    RuleStatus.NOT_IN_FORCE: decision_pb2.RULE_STATUS_NOT_IN_FORCE,
}
CLIENT_TEXT = tuple(
    f.name for f in facts_pb2.Client.DESCRIPTOR.fields
    if f.type == f.TYPE_STRING and not f.name.endswith("_date") and not f.is_repeated and f.name != "id"
)
CLIENT_DATES = tuple(f.name for f in facts_pb2.Client.DESCRIPTOR.fields if f.name.endswith("_date"))


# ------------------------------------------------------------------------------------------- requests


def audience_from(value: int, field: str, violations: Violations) -> str:
    """The audience a request asks for ("" when unspecified: the view the caller's certificate
    gives by default, decided by :func:`bekal.access.audience_for`; never more than it allows)."""
    audience = AUDIENCE.get(value)
    if audience is None:
        violations.append((field, f"unknown audience {value}"))
        return BLK
    return audience


def as_of_from(text: str, field: str, violations: Violations) -> date:
    """The request's as-of date; empty means today in Kalimantan Selatan."""
    return (parse_date(text, field, violations) if text else None) or today()


def client_facts(msg: facts_pb2.Client, where: str, violations: Violations) -> dict[str, Any] | None:
    """A client's facts, after the limits on its id, texts, dates and preferences; None when the facts
    themselves are bad (``violations`` then names every bad field under ``where``)."""
    check_id(msg.id, f"{where}.id", violations)
    for name in CLIENT_TEXT:
        check_text(getattr(msg, name), f"{where}.{name}", violations)
    for name in CLIENT_DATES:
        value = getattr(msg, name)
        if value and len(value) > 10:
            violations.append((f"{where}.{name}", bad_date(value)))
    if len(msg.preferences) > MAX_PREFERENCES:
        violations.append((f"{where}.preferences", f"at most {MAX_PREFERENCES} course codes"))
    return _facts(msg, where, violations)


def course_facts(msg: facts_pb2.Course, where: str, violations: Violations) -> dict[str, Any] | None:
    """A course's facts, after the check of its code; None when the facts are bad."""
    check_id(msg.code, f"{where}.code", violations)
    return _facts(msg, where, violations)


def _facts(msg: Message, where: str, violations: Violations) -> dict[str, Any] | None:
    try:
        return facts_from_message(msg)
    except FactError as exc:
        flagged = {f for f, _ in violations}
        for name, message in exc.violations:
            path = f"{where}.{name.split('.', 1)[1]}"
            if path not in flagged:
                violations.append((path, message))
        return None


# ------------------------------------------------------------------------------------------- decisions


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
