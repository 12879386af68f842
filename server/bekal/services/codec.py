"""Protobuf <-> domain types shared by the services: audiences, dates, client and course facts, decisions.

Each service's own codec (``bekal.services.<service>.codec``) translates its
messages with these; nothing here decides anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from google.protobuf.message import Message

from bekal.audience import BLK, BNN
from bekal.client.enums import enum_prefix
from bekal.clock import today
from bekal.decision import Decision, FactValue, Outcome, Reason, RuleStatus
from bekal.facts import FactError, facts_from_message
from bekal.services.errors import Violations
from bekal.services.limits import (
    MAX_PREFERENCES,
    check_client_id,
    check_id,
    check_text,
    date_pb,
    optional_date,
)
from bekal.v1 import common_pb2, decision_pb2, eligibility_pb2, facts_pb2

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
    if f.type == f.TYPE_STRING and not f.is_repeated and f.name != "id"
)
# fact name -> the full name prefix of its enum ("client.rehab_stage" -> "REHAB_STAGE_"): a response spells an
# enum fact as the protos do (REHAB_STAGE_POST_REHABILITATION), never as the rule files (post_rehabilitation)
ENUM_PREFIX: dict[str, str] = {
    f"{kind}.{f.name}": enum_prefix(f.enum_type)
    for kind, message in (("client", facts_pb2.Client), ("course", facts_pb2.Course))
    for f in message.DESCRIPTOR.fields if f.enum_type is not None
}
EFFECT_PB = {"ineligible": decision_pb2.OUTCOME_INELIGIBLE, "pending": decision_pb2.OUTCOME_PENDING,
             "priority": decision_pb2.OUTCOME_ELIGIBLE}


# ------------------------------------------------------------------------------------------- requests


def audience_from(value: int, field: str, violations: Violations) -> str:
    """The audience a request asks for ("" when unspecified: the view the caller's certificate
    gives by default, decided by :func:`bekal.access.audience_for`; never more than it allows)."""
    audience = AUDIENCE.get(value)
    if audience is None:
        violations.append((field, f"unknown audience {value}"))
        return BLK
    return audience


def as_of_from(message: Message, name: str, field: str, violations: Violations) -> date:
    """The request's as-of date (``message.name``, a ``google.type.Date``); unset means today in Kalimantan
    Selatan."""
    return optional_date(message, name, field, violations) or today()


def client_facts(msg: facts_pb2.Client, where: str, violations: Violations) -> dict[str, Any] | None:
    """A client's facts, after the limits on its id, texts, dates and preferences; None when the facts
    themselves are bad (``violations`` then names every bad field under ``where``)."""
    check_client_id(msg.id, f"{where}.id", violations)
    for name in CLIENT_TEXT:
        check_text(getattr(msg, name), f"{where}.{name}", violations)
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
        out.date_value.CopyFrom(date_pb(value))
    elif fact.name in ENUM_PREFIX:
        out.enum_value = ENUM_PREFIX[fact.name] + str(value).upper()
    else:
        out.string_value = str(value)


def reason_pb(reason: Reason, out: decision_pb2.Reason) -> None:
    out.rule_id = reason.rule_id
    out.ruleset = reason.ruleset
    out.outcome = OUTCOME_PB[reason.outcome]
    for fact in reason.facts:
        fact_value_pb(fact, out.facts.add())
    out.citation = reason.source
    out.shareable = reason.shareable
    out.priority = reason.priority
    out.missing.extend(reason.missing)
    out.messages.extend(localized(reason.message_id, reason.message_en))


def localized(indonesian: str, english: str) -> list[common_pb2.LocalizedText]:
    """A text in Indonesian and English, Indonesian first (the language of the programme)."""
    return [common_pb2.LocalizedText(locale="id", text=indonesian), common_pb2.LocalizedText(locale="en", text=english)]


def decision_pb(decision: Decision, out: decision_pb2.Decision) -> None:
    out.client_id = decision.client_id
    out.course_code = decision.course_code
    out.outcome = OUTCOME_PB[decision.outcome]
    for reason in decision.reasons:
        reason_pb(reason, out.reasons.add())
    out.priority = decision.priority
    out.ruleset_version = decision.ruleset_version
    out.as_of_date.CopyFrom(date_pb(decision.as_of))
    out.missing.extend(decision.missing)
    for step in decision.trace:
        t = out.trace.add()
        t.rule_id = step.rule_id
        t.ruleset = step.ruleset
        t.status = STATUS_PB[step.status]
        kind, _sep, points = step.effect.partition(" ")  # "ineligible", "pending" or "priority +N"
        t.effect = EFFECT_PB[kind]
        t.effect_priority = int(points) if points else 0
        for fact in step.facts:
            fact_value_pb(fact, t.facts.add())
        t.location = step.location
