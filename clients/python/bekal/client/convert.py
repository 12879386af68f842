"""Plain Python values <-> ``bekal.v1`` messages, for the client."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from bekal.client.results import CheckResult, Diagnostic, RulesetInfo
from bekal.decision import Decision, FactValue, Outcome, Reason, RuleStatus, RuleTrace
from bekal.v1 import decision_pb2, eligibility_pb2, facts_pb2

AUDIENCES = {
    None: eligibility_pb2.AUDIENCE_UNSPECIFIED,
    "": eligibility_pb2.AUDIENCE_UNSPECIFIED,
    "bnn": eligibility_pb2.AUDIENCE_BNN,
    "blk": eligibility_pb2.AUDIENCE_BLK,
}
_OUTCOME = {
    decision_pb2.OUTCOME_ELIGIBLE: Outcome.ELIGIBLE,
    decision_pb2.OUTCOME_INELIGIBLE: Outcome.INELIGIBLE,
    decision_pb2.OUTCOME_PENDING: Outcome.PENDING,
}
_STATUS = {
    decision_pb2.RULE_STATUS_FIRED: RuleStatus.FIRED,
    decision_pb2.RULE_STATUS_NOT_FIRED: RuleStatus.NOT_FIRED,
    decision_pb2.RULE_STATUS_MISSING_FACTS: RuleStatus.MISSING,
    decision_pb2.RULE_STATUS_NOT_IN_FORCE: RuleStatus.NOT_IN_FORCE,
}


def _enum_number(field: FieldDescriptor, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    enum = field.enum_type
    zero = enum.values_by_number[0].name
    prefix = zero[: -len("UNSPECIFIED")]
    text = str(value).strip()
    for candidate in (text, text.upper(), prefix + text.upper()):
        if candidate in enum.values_by_name:
            return enum.values_by_name[candidate].number
    allowed = ", ".join(v.name[len(prefix):].lower() for v in enum.values if v.number)
    raise ValueError(f"unknown value {value!r}; one of {allowed}")


def _set(msg: Any, field: FieldDescriptor, value: Any) -> None:
    key = field.name
    if field.is_repeated:
        getattr(msg, key).extend(str(v) for v in value)
    elif field.type == FieldDescriptor.TYPE_ENUM:
        setattr(msg, key, _enum_number(field, value))
    elif field.type == FieldDescriptor.TYPE_STRING:
        setattr(msg, key, value.isoformat() if isinstance(value, date) else str(value))
    elif field.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        setattr(msg, key, value)
    elif field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        setattr(msg, key, float(value))
    else:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        setattr(msg, key, value)


def message_from(cls: type, data: Mapping[str, Any] | Any):
    """A ``Client``/``Course`` message from a mapping of field names (as in the JSON/YAML files).

    Dates may be ``datetime.date`` or ``YYYY-MM-DD``; enum values are written as
    in rule files (``"post_rehabilitation"``) or in full; None means not known.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise TypeError(f"expected a mapping of {cls.DESCRIPTOR.name} fields, got {type(data).__name__}")
    msg = cls()
    fields = cls.DESCRIPTOR.fields_by_name
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            raise ValueError(f"unknown {cls.DESCRIPTOR.name} field {key!r}; known: {', '.join(fields)}")
        if value is None or value == "":
            continue
        try:
            _set(msg, field, value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{key}: {exc}") from None
    return msg


def client_message(data: Mapping[str, Any] | facts_pb2.Client) -> facts_pb2.Client:
    return message_from(facts_pb2.Client, data)


def as_of_text(value: date | str | None) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _fact(pb: decision_pb2.FactValue) -> FactValue:
    kind = pb.WhichOneof("value")
    return FactValue(pb.name, None if kind is None else getattr(pb, kind))


def reason_from(pb: decision_pb2.Reason) -> Reason:
    return Reason(
        rule_id=pb.rule_id, ruleset=pb.ruleset, outcome=_OUTCOME[pb.outcome],
        message_id=pb.message_id, message_en=pb.message_en, facts=tuple(_fact(f) for f in pb.facts),
        source=pb.citation, shareable=pb.shareable, priority=pb.priority, missing=tuple(pb.missing),
    )


def decision_from(pb: decision_pb2.Decision) -> Decision:
    return Decision(
        client_id=pb.client_id,
        course_code=pb.course_code,
        outcome=_OUTCOME[pb.outcome],
        reasons=tuple(reason_from(r) for r in pb.reasons),
        priority=pb.priority,
        ruleset_version=pb.ruleset_version,
        as_of=date.fromisoformat(pb.as_of_date),
        trace=tuple(
            RuleTrace(t.rule_id, t.ruleset, _STATUS[t.status], t.effect,
                      tuple(_fact(f) for f in t.facts), t.location)
            for t in pb.trace
        ),
    )


def result_from(pb: eligibility_pb2.CheckEligibilityResponse) -> CheckResult:
    return CheckResult(
        request_id=pb.request_id,
        ruleset_version=pb.ruleset_version,
        as_of=date.fromisoformat(pb.as_of_date) if pb.as_of_date else None,
        decisions=tuple(decision_from(d) for d in pb.decisions),
    )


def _date_or_none(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def ruleset_from(pb) -> RulesetInfo:
    return RulesetInfo(pb.name, pb.title, pb.file, _date_or_none(pb.effective_from),
                       _date_or_none(pb.effective_until), tuple(pb.rule_ids))


def diagnostic_from(pb) -> Diagnostic:
    return Diagnostic(pb.file, pb.line, pb.column, pb.message, pb.hint or None)
