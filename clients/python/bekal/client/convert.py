"""Plain Python values <-> ``bekal.v1`` messages, for the client: requests out, results in."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.type import date_pb2

from bekal.client.enums import enum_prefix, number_of
from bekal.client.errors import InvalidInput
from bekal.client.placements import (
    Because,
    ClientPlacement,
    CourseFill,
    JobStatus,
    MatchJob,
    MatchSummary,
    NotPlaced,
    ReserveOrder,
    Standing,
)
from bekal.client.results import (
    CheckResult,
    Decision,
    Diagnostic,
    FactScalar,
    FactValue,
    Outcome,
    Reason,
    RulesetInfo,
    RuleStatus,
    RuleTrace,
)
from bekal.v1 import decision_pb2, eligibility_pb2, facts_pb2, matching_pb2, rules_pb2

M = TypeVar("M", bound=Message)
if TYPE_CHECKING:
    from google._upb import _message as upb

    AnyFieldDescriptor: TypeAlias = FieldDescriptor | upb.FieldDescriptor

AUDIENCES: dict[str | None, eligibility_pb2.Audience] = {
    None: eligibility_pb2.AUDIENCE_UNSPECIFIED,
    "": eligibility_pb2.AUDIENCE_UNSPECIFIED,
    "bnn": eligibility_pb2.AUDIENCE_BNN,
    "blk": eligibility_pb2.AUDIENCE_BLK,
}
_OUTCOME = {
    decision_pb2.OUTCOME_ELIGIBLE: Outcome.ELIGIBLE,
    decision_pb2.OUTCOME_INELIGIBLE: Outcome.INELIGIBLE,
    decision_pb2.OUTCOME_PENDING: Outcome.PENDING,
    decision_pb2.OUTCOME_WITHHELD: Outcome.WITHHELD,
}
_STATUS = {
    decision_pb2.RULE_STATUS_FIRED: RuleStatus.FIRED,
    decision_pb2.RULE_STATUS_NOT_FIRED: RuleStatus.NOT_FIRED,
    decision_pb2.RULE_STATUS_MISSING_FACTS: RuleStatus.MISSING,
    decision_pb2.RULE_STATUS_NOT_IN_FORCE: RuleStatus.NOT_IN_FORCE,
}
_BECAUSE = {
    matching_pb2.NOT_PLACED_REASON_INELIGIBLE: Because.INELIGIBLE,
    matching_pb2.NOT_PLACED_REASON_PENDING: Because.PENDING,
    matching_pb2.NOT_PLACED_REASON_NOT_RANKED: Because.NOT_RANKED,
    matching_pb2.NOT_PLACED_REASON_FULL: Because.FULL,
    matching_pb2.NOT_PLACED_REASON_WITHHELD: Because.WITHHELD,
}
_RESERVE_ORDER = {
    matching_pb2.RESERVE_ORDER_OPEN_FIRST: ReserveOrder.OPEN_FIRST,
    matching_pb2.RESERVE_ORDER_RESERVED_FIRST: ReserveOrder.RESERVED_FIRST,
}
RESERVE_ORDER_PB = {v: k for k, v in _RESERVE_ORDER.items()}
_JOB_STATUS = {
    matching_pb2.MATCH_JOB_STATUS_QUEUED: JobStatus.QUEUED,
    matching_pb2.MATCH_JOB_STATUS_RUNNING: JobStatus.RUNNING,
    matching_pb2.MATCH_JOB_STATUS_SUCCEEDED: JobStatus.SUCCEEDED,
    matching_pb2.MATCH_JOB_STATUS_FAILED: JobStatus.FAILED,
}
_ENUM_PREFIX = {  # fact name -> its enum's value prefix ("client.rehab_stage" -> "REHAB_STAGE_")
    f"{kind}.{f.name}": enum_prefix(f.enum_type)
    for kind, message in (("client", facts_pb2.Client), ("course", facts_pb2.Course))
    for f in message.DESCRIPTOR.fields if f.enum_type is not None
}
_DATE_TEXT = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_PHASE = {v.number: v.name[len("MATCH_JOB_PHASE_"):].lower()
          for v in matching_pb2.MatchJobPhase.DESCRIPTOR.values if v.number}


# ------------------------------------------------------------------------------------------- requests


def audience_pb(value: str | None) -> eligibility_pb2.Audience:
    try:
        return AUDIENCES[value.lower() if value else value]
    except KeyError:
        raise ValueError(f"audience must be 'bnn' or 'blk', got {value!r}") from None


def _value(field: AnyFieldDescriptor, value: Any) -> Any:
    """A plain value as the field holds it; ValueError saying what was expected."""
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        return number_of(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_MESSAGE:  # google.type.Date, the only message a Client/Course holds
        return date_pb(value)
    if field.type == FieldDescriptor.TYPE_STRING:
        return str(value)
    if field.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


DECLARED = "declared"  # Client/Course: the facts a server's rules declare beyond the message's fields


def _declared_value(out: Any, value: Any) -> None:
    """A plain value into a ``DeclaredValue``: by its Python type (a date as ``YYYY-MM-DD``)."""
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, date):
        out.date_value.CopyFrom(date_pb(value))
    elif isinstance(value, str):
        out.string_value = value
    else:
        raise ValueError(f"expected a number, text, a date or true/false, got {type(value).__name__}")


def message_from(cls: type[M], data: Mapping[str, Any] | M) -> M:
    """A ``Client``/``Course`` message from a mapping of field names (as in the JSON/YAML files).

    Dates may be ``datetime.date`` or ``YYYY-MM-DD``; enum values are written as
    in rule files (``"post_rehabilitation"``) or in full; None means not known.
    A key that is not a field of the message is a fact the server's rules declare
    (their facts file, e.g. ``"dependants": 2``) and goes into the ``declared`` map;
    the server checks it (an undeclared key is INVALID_ARGUMENT naming
    ``client.declared[KEY]``). ``"declared": {...}`` may also be given as it is.
    Raises :class:`InvalidInput` naming every field it cannot encode.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise TypeError(f"expected a mapping of {cls.DESCRIPTOR.name} fields, got {type(data).__name__}")
    msg = cls()
    fields = cls.DESCRIPTOR.fields_by_name
    problems: list[tuple[str, str]] = []
    for key, value in data.items():
        field = fields.get(key)
        if field is None and key != DECLARED:
            typo = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.8)
            if typo:  # a misspelt field, not a declared fact
                problems.append((key, f"unknown {cls.DESCRIPTOR.name} field {key!r} (did you mean {typo[0]!r}?)"))
                continue
        if field is None or key == DECLARED:
            if value is None or value == "":
                continue
            declared = value.items() if key == DECLARED and isinstance(value, Mapping) else [(key, value)]
            for name, item in declared:
                try:
                    _declared_value(getattr(msg, DECLARED)[str(name)], item)
                except ValueError as exc:
                    problems.append((f"{DECLARED}[{name}]", str(exc)))
            continue
        if value is None or value == "":
            continue
        try:
            if field.is_repeated:
                getattr(msg, key).extend(str(v) for v in value)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                getattr(msg, key).CopyFrom(_value(field, value))
            else:
                setattr(msg, key, _value(field, value))
        except (ValueError, TypeError) as exc:
            problems.append((key, str(exc)))
    if problems:
        raise InvalidInput(problems)
    return msg


def messages_from(cls: type[M], records: Iterable[Mapping[str, Any] | M], where: str) -> list[M]:
    """Messages from many records; :class:`InvalidInput` names ``where[i].field`` for every bad one."""
    out: list[M] = []
    problems: list[tuple[str, str]] = []
    for i, record in enumerate(records):
        try:
            out.append(message_from(cls, record))
        except InvalidInput as exc:
            problems += exc.under(f"{where}[{i}].").violations
    if problems:
        raise InvalidInput(problems)
    return out


def client_message(data: Mapping[str, Any] | facts_pb2.Client) -> facts_pb2.Client:
    return message_from(facts_pb2.Client, data)


def date_pb(value: date | str | date_pb2.Date) -> date_pb2.Date:
    """A date, or ``YYYY-MM-DD`` text, as a ``google.type.Date`` (one given as it is); ValueError for
    anything else."""
    if isinstance(value, date_pb2.Date):
        return value
    if isinstance(value, date):
        return date_pb2.Date(year=value.year, month=value.month, day=value.day)
    found = _DATE_TEXT.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}"[:80])
    # sent as written: whether it is a real day (2019-02-30 is not) is the server's one definition to apply
    return date_pb2.Date(year=int(found[1]), month=int(found[2]), day=int(found[3]))


def as_of_pb(value: date | str | None) -> date_pb2.Date | None:
    """The as-of date of a request; None (unset) for today in Kalimantan Selatan."""
    return None if value is None or value == "" else date_pb(value)


def date_from(pb: date_pb2.Date) -> date | None:
    """A ``google.type.Date`` as a date; None when unset (all zero)."""
    return date(pb.year, pb.month, pb.day) if pb.year else None


def rankings_pb(rankings: Mapping[str, Sequence[str]] | Iterable[tuple[str, Sequence[str]]] | None
                ) -> list[matching_pb2.CourseRanking]:
    """Panel rankings (course code -> client ids, best first; or such entries) as messages."""
    entries = rankings.items() if isinstance(rankings, Mapping) else (rankings or ())
    return [matching_pb2.CourseRanking(course_code=code, client_ids=list(ids)) for code, ids in entries]


def settings_pb(as_of: date | str | None, seed: int, reserve_order: ReserveOrder | str,
                audience: str | None) -> matching_pb2.MatchSettings:
    return matching_pb2.MatchSettings(as_of_date=as_of_pb(as_of), seed=seed,
                                      reserve_order=RESERVE_ORDER_PB[ReserveOrder(reserve_order)],
                                      audience=audience_pb(audience))


# ------------------------------------------------------------------------------------------- results


def fact_from(pb: decision_pb2.FactValue) -> FactValue:
    kind = pb.WhichOneof("value")
    if kind == "date_value":
        day = date_from(pb.date_value)
        return FactValue(pb.name, day.isoformat() if day else None)
    if kind == "enum_value":  # REFERRER_BNN -> "bnn": this client speaks the files' spelling, in and out
        prefix = _ENUM_PREFIX.get(pb.name, "")
        text = pb.enum_value
        return FactValue(pb.name, text[len(prefix):].lower() if prefix and text.startswith(prefix) else text)
    value: FactScalar = None if kind is None else getattr(pb, kind)
    return FactValue(pb.name, value)


def effect_text(outcome: int, points: int) -> str:
    """A trace line's effect as the rule files write it: "ineligible", "pending" or "priority +N"."""
    if outcome == decision_pb2.OUTCOME_ELIGIBLE:
        return f"priority {points:+d}"
    return "pending" if outcome == decision_pb2.OUTCOME_PENDING else "ineligible"


def reason_from(pb: decision_pb2.Reason) -> Reason:
    return Reason(
        rule_id=pb.rule_id, ruleset=pb.ruleset, outcome=_OUTCOME[pb.outcome],
        messages={m.locale: m.text for m in pb.messages}, facts=tuple(fact_from(f) for f in pb.facts),
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
        as_of=date_from(pb.as_of_date) or date.min,
        trace=tuple(
            RuleTrace(t.rule_id, t.ruleset, _STATUS[t.status], effect_text(t.effect, t.effect_priority),
                      tuple(fact_from(f) for f in t.facts), t.location)
            for t in pb.trace
        ),
    )


def result_from(pb: eligibility_pb2.CheckEligibilityResponse) -> CheckResult:
    return CheckResult(
        request_id=pb.request_id,
        ruleset_version=pb.ruleset_version,
        as_of=date_from(pb.as_of_date),
        decisions=tuple(decision_from(d) for d in pb.decisions),
    )


def ruleset_from(pb: rules_pb2.RulesetInfo) -> RulesetInfo:
    return RulesetInfo(pb.name, pb.title, pb.file, date_from(pb.effective_from_date),
                       date_from(pb.effective_until_date), tuple(pb.rule_ids))


def diagnostic_from(pb: rules_pb2.Diagnostic) -> Diagnostic:
    return Diagnostic(pb.file, pb.line, pb.column, pb.message, pb.hint or None)


def standing_from(pb: matching_pb2.Standing, present: bool = True) -> Standing | None:
    if not present:
        return None
    return Standing(
        priority=pb.priority if pb.HasField("priority") else None,
        rank=pb.rank - 1 if pb.HasField("rank") else None,
        lottery=pb.lottery,
    )


def placement_from(pb: matching_pb2.ClientPlacement) -> ClientPlacement:
    why = tuple(
        NotPlaced(course=w.course_code, because=_BECAUSE[w.reason], reasons=tuple(reason_from(r) for r in w.reasons),
                  missing=tuple(w.missing), cutoff=standing_from(w.cutoff, w.HasField("cutoff")),
                  standing=standing_from(w.standing, w.HasField("standing")))
        for w in pb.why_not
    )
    placed = pb.course_code or None
    return ClientPlacement(
        client_id=pb.client_id, course=placed, choice=pb.choice or None,
        standing=standing_from(pb.standing, placed is not None and pb.HasField("standing")),
        priority_group=pb.priority_group, lottery=pb.lottery, why_not=why,
    )


def course_fill_from(pb: matching_pb2.CourseFill) -> CourseFill:
    return CourseFill(
        code=pb.course_code, seats=pb.seats, reserved_seats=pb.reserved_seats, filled=pb.filled,
        applicants=pb.applicants, eligible=pb.eligible, group_admitted=pb.group_admitted,
        group_on_reserved=pb.group_on_reserved, cutoff=standing_from(pb.cutoff, pb.HasField("cutoff")),
        open_cutoff=standing_from(pb.open_cutoff, pb.HasField("open_cutoff")), ranked=pb.ranked,
    )


def summary_from(pb: matching_pb2.MatchSummary) -> MatchSummary:
    return MatchSummary(
        clients=pb.clients, placed=pb.placed, unmatched=pb.unmatched, courses=pb.courses, seats=pb.seats,
        seats_filled=pb.seats_filled, courses_full=pb.courses_full, group_clients=pb.group_clients,
        group_placed=pb.group_placed, reserved_seats=pb.reserved_seats, reserved_to_group=pb.reserved_to_group,
        first_choice=pb.first_choice, pairs=pb.pairs, eligible_pairs=pb.eligible_pairs,
        ineligible_pairs=pb.ineligible_pairs, pending_pairs=pb.pending_pairs, not_ranked_pairs=pb.not_ranked_pairs,
        withheld_pairs=pb.withheld_pairs,
        proposals=pb.proposals, ruleset_version=pb.ruleset_version,
        as_of=date_from(pb.as_of_date) or date.min, seed=pb.seed,
        reserve_order=_RESERVE_ORDER.get(pb.reserve_order, ReserveOrder.OPEN_FIRST),
    )


def job_from(pb: matching_pb2.MatchJob) -> MatchJob:
    return MatchJob(
        job_id=pb.job_id, status=_JOB_STATUS[pb.status], phase=_PHASE.get(pb.phase, ""),
        progress_done=pb.progress_done, progress_total=pb.progress_total, clients=pb.clients, courses=pb.courses,
        error=pb.error.message if pb.HasField("error") else "",
        attempts=pb.attempts,
        summary=summary_from(pb.summary) if pb.status == matching_pb2.MATCH_JOB_STATUS_SUCCEEDED else None,
        course_fills=tuple(course_fill_from(f) for f in pb.course_fills),
        create_time=pb.create_time.ToDatetime(UTC) if pb.HasField("create_time") else None,
        update_time=pb.update_time.ToDatetime(UTC) if pb.HasField("update_time") else None,
    )
