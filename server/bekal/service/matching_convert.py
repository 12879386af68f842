"""``bekal.v1`` matching messages <-> :mod:`bekal.placement` values. Translation and input checks only.

Used by the server (requests in, results out) and by ``bekal match --server``
(rows out, results in), so both sides read the messages the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from bekal.decision import Reason
from bekal.matching import ReserveOrder, Standing
from bekal.placement import (
    Because,
    ClientPlacement,
    CohortError,
    CourseFill,
    NotPlaced,
    PlacementSummary,
    make_cohort,
)
from bekal.audience import BLK, BNN
from bekal.client.convert import reason_from
from bekal.service.convert import reason_pb
from bekal.service.errors import ServiceError, invalid
from bekal.v1 import decision_pb2, eligibility_pb2, facts_pb2, matching_pb2

MAX_INLINE_CLIENTS = 5_000  # Match; larger cohorts go through UploadCohort
MAX_JOB_CLIENTS = 200_000
MAX_COURSES = 10_000
MAX_PREFERENCES = 100
MAX_ID = 128
MAX_VIOLATIONS = 100

RESERVE_ORDER = {
    matching_pb2.RESERVE_ORDER_UNSPECIFIED: ReserveOrder.OPEN_FIRST,
    matching_pb2.RESERVE_ORDER_OPEN_FIRST: ReserveOrder.OPEN_FIRST,
    matching_pb2.RESERVE_ORDER_RESERVED_FIRST: ReserveOrder.RESERVED_FIRST,
}
RESERVE_ORDER_PB = {
    ReserveOrder.OPEN_FIRST: matching_pb2.RESERVE_ORDER_OPEN_FIRST,
    ReserveOrder.RESERVED_FIRST: matching_pb2.RESERVE_ORDER_RESERVED_FIRST,
}
AUDIENCE = {
    eligibility_pb2.AUDIENCE_UNSPECIFIED: BLK,
    eligibility_pb2.AUDIENCE_BLK: BLK,
    eligibility_pb2.AUDIENCE_BNN: BNN,
}
AUDIENCE_PB = {BLK: eligibility_pb2.AUDIENCE_BLK, BNN: eligibility_pb2.AUDIENCE_BNN}
BECAUSE_PB = {
    Because.INELIGIBLE: matching_pb2.NOT_PLACED_REASON_INELIGIBLE,
    Because.PENDING: matching_pb2.NOT_PLACED_REASON_PENDING,
    Because.NOT_RANKED: matching_pb2.NOT_PLACED_REASON_NOT_RANKED,
    Because.FULL: matching_pb2.NOT_PLACED_REASON_FULL,
}
BECAUSE = {v: k for k, v in BECAUSE_PB.items()}
JOB_STATUS_PB = {
    "queued": matching_pb2.MATCH_JOB_STATUS_QUEUED,
    "running": matching_pb2.MATCH_JOB_STATUS_RUNNING,
    "succeeded": matching_pb2.MATCH_JOB_STATUS_SUCCEEDED,
    "failed": matching_pb2.MATCH_JOB_STATUS_FAILED,
}


# ------------------------------------------------------------------------------------------- requests


def check_id(value: str, name: str, violations: list[tuple[str, str]]) -> None:
    if not value:
        violations.append((name, "required"))
    elif len(value) > MAX_ID:
        violations.append((name, f"at most {MAX_ID} characters, got {len(value)}"))
    elif not value.isprintable():
        violations.append((name, "must not contain control characters"))


def parse_settings(settings: matching_pb2.MatchSettings, today: date, prefix: str = "settings."
                   ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``(as_of, seed, reserve_order, audience)`` as a dict, and the violations found."""
    violations: list[tuple[str, str]] = []
    as_of = today
    if settings.as_of_date:
        try:
            if len(settings.as_of_date) != 10:
                raise ValueError
            as_of = date.fromisoformat(settings.as_of_date)
        except ValueError:
            violations.append((f"{prefix}as_of_date",
                               f"not a real date in YYYY-MM-DD form: {settings.as_of_date[:40]!r}"))
    order = RESERVE_ORDER.get(settings.reserve_order)
    if order is None:
        violations.append((f"{prefix}reserve_order", f"unknown reserve order {settings.reserve_order}"))
    audience = AUDIENCE.get(settings.audience)
    if audience is None:
        violations.append((f"{prefix}audience", f"unknown audience {settings.audience}"))
    return ({"as_of": as_of, "seed": settings.seed, "reserve_order": order or ReserveOrder.OPEN_FIRST,
             "audience": audience or BLK}, violations)


def resolved_settings(values: Mapping[str, Any]) -> matching_pb2.MatchSettings:
    """Settings with every default filled in (the as-of date above all), as a job keeps them."""
    return matching_pb2.MatchSettings(
        as_of_date=values["as_of"].isoformat(), seed=values["seed"],
        reserve_order=RESERVE_ORDER_PB[values["reserve_order"]], audience=AUDIENCE_PB[values["audience"]],
    )


def cohort_from_pb(
    clients: Sequence[facts_pb2.Client],
    courses: Sequence[facts_pb2.Course],
    rankings: Sequence[matching_pb2.CourseRanking],
    settings: Mapping[str, Any],
    settings_violations: Sequence[tuple[str, str]] = (),
    *,
    max_clients: int,
):
    """A validated :class:`bekal.placement.Cohort`; INVALID_ARGUMENT naming every bad field."""
    from bekal.facts import FactError, facts_from_message

    violations = list(settings_violations)
    if len(clients) > max_clients:
        hint = " (use UploadCohort for larger cohorts)" if max_clients == MAX_INLINE_CLIENTS else ""
        raise invalid([("clients", f"at most {max_clients:,} clients, got {len(clients):,}{hint}")])
    if len(courses) > MAX_COURSES:
        raise invalid([("courses", f"at most {MAX_COURSES:,} courses, got {len(courses):,}")])
    client_facts: list[Any] = []
    course_facts: list[Any] = []
    for kind, messages, out in (("clients", clients, client_facts), ("courses", courses, course_facts)):
        for i, msg in enumerate(messages):
            where = f"{kind}[{i}]"
            if kind == "clients":
                check_id(msg.id, f"{where}.id", violations)
                if len(msg.preferences) > MAX_PREFERENCES:
                    violations.append((f"{where}.preferences", f"at most {MAX_PREFERENCES} course codes"))
            else:
                check_id(msg.code, f"{where}.code", violations)
            try:
                out.append(facts_from_message(msg))
            except FactError as exc:
                violations.extend((f"{where}.{name.split('.', 1)[1]}", m) for name, m in exc.violations)
                # keep what the cross-checks need, so every problem is reported in one answer
                out.append({"id": msg.id, "preferences": list(msg.preferences)} if kind == "clients"
                           else {"code": msg.code, "seats": msg.seats})
            if len(violations) >= MAX_VIOLATIONS:
                raise invalid(violations[:MAX_VIOLATIONS])
    entries = [(r.course_code, list(r.client_ids)) for r in rankings]
    try:
        cohort = make_cohort(client_facts, course_facts, as_of=settings["as_of"], seed=settings["seed"],
                             rankings=entries, reserve_order=settings["reserve_order"], parsed=True)
    except CohortError as exc:
        violations += cohort_error(exc).violations
        cohort = None
    if violations:
        raise invalid(sorted(violations, key=_path_order)[:MAX_VIOLATIONS])
    return cohort


def _path_order(violation: tuple[str, str]) -> tuple:
    """Sort key: by field path, with indices compared as numbers."""
    import re

    parts = re.split(r"\[(\d+)\]", violation[0])
    return tuple((0, int(p)) if i % 2 else (1, p) for i, p in enumerate(parts))


def cohort_error(exc: CohortError) -> ServiceError:
    renamed = {"as_of": "settings.as_of_date", "seed": "settings.seed", "reserve_order": "settings.reserve_order"}
    return invalid([(renamed.get(f, f), m) for f, m in exc.violations])


def course_message(facts: Mapping[str, Any]) -> facts_pb2.Course:
    """Course facts (``bekal.facts`` form, e.g. from the catalogue) as a ``bekal.v1.Course``."""
    msg = facts_pb2.Course()
    for field in msg.DESCRIPTOR.fields:
        value = facts.get(field.name)
        if value is None:
            continue
        if field.type == field.TYPE_ENUM:
            zero = field.enum_type.values_by_number[0].name
            prefix = zero[: -len("UNSPECIFIED")]
            setattr(msg, field.name, field.enum_type.values_by_name[prefix + str(value).upper()].number)
        elif isinstance(value, date):
            setattr(msg, field.name, value.isoformat())
        else:
            setattr(msg, field.name, value)
    return msg


def fingerprint(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:32]


# ------------------------------------------------------------------------------------------- results


def _reason_bytes(reason: Reason) -> bytes:
    out = decision_pb2.Reason()
    reason_pb(reason, out)
    return out.SerializeToString()


def _standing_pb(s: Standing | None, out: matching_pb2.Standing) -> None:
    if s is None:
        return
    if s.priority is not None:
        out.priority = s.priority
    if s.rank is not None:
        out.rank = s.rank + 1
    out.lottery = s.lottery


class PlacementEncoder:
    """ClientPlacement -> message, building each shared reason's message once."""

    def __init__(self) -> None:
        self._reasons: dict[int, tuple[Reason, bytes]] = {}

    def _reason(self, reason: Reason) -> bytes:
        hit = self._reasons.get(id(reason))
        if hit is None or hit[0] is not reason:
            hit = self._reasons[id(reason)] = (reason, _reason_bytes(reason))
        return hit[1]

    def placement(self, p: ClientPlacement, out: matching_pb2.ClientPlacement) -> None:
        out.client_id = p.client_id
        if p.course is not None:
            out.course_code = p.course
            out.choice = p.choice or 0
            _standing_pb(p.standing, out.standing)
        out.priority_group = p.priority_group
        out.lottery = p.lottery
        for w in p.why_not:
            item = out.why_not.add()
            item.course_code = w.course
            item.reason = BECAUSE_PB[w.because]
            for r in w.reasons:
                item.reasons.add().MergeFromString(self._reason(r))
            item.missing.extend(w.missing)
            if w.because is Because.FULL:
                _standing_pb(w.cutoff, item.cutoff)
                _standing_pb(w.standing, item.standing)


def course_fill_pb(f: CourseFill, out: matching_pb2.CourseFill) -> None:
    out.course_code = f.code
    out.seats = f.seats
    out.reserved_seats = f.reserved_seats
    out.filled = f.filled
    out.applicants = f.applicants
    out.eligible = f.eligible
    out.group_admitted = f.group_admitted
    out.group_on_reserved = f.group_on_reserved
    _standing_pb(f.cutoff, out.cutoff)
    _standing_pb(f.open_cutoff, out.open_cutoff)
    out.ranked = f.ranked


def summary_pb(s: PlacementSummary, out: matching_pb2.MatchSummary) -> None:
    for name in ("clients", "placed", "unmatched", "courses", "seats", "seats_filled", "courses_full",
                 "group_clients", "group_placed", "reserved_seats", "reserved_to_group", "first_choice", "pairs",
                 "eligible_pairs", "ineligible_pairs", "pending_pairs", "not_ranked_pairs", "proposals", "seed",
                 "ruleset_version"):
        setattr(out, name, getattr(s, name))
    out.as_of_date = s.as_of.isoformat()
    out.reserve_order = RESERVE_ORDER_PB[s.reserve_order]


# ------------------------------------------------------------------------------------------- back again


def standing_from(pb: matching_pb2.Standing, present: bool = True) -> Standing | None:
    if not present:
        return None
    return Standing(
        priority=pb.priority if pb.HasField("priority") else None,
        rank=pb.rank - 1 if pb.HasField("rank") else None,
        lottery=pb.lottery,
    )


def placement_from(pb: matching_pb2.ClientPlacement) -> ClientPlacement:
    why = []
    for w in pb.why_not:
        why.append(NotPlaced(
            course=w.course_code, because=BECAUSE[w.reason], reasons=tuple(reason_from(r) for r in w.reasons),
            missing=tuple(w.missing), cutoff=standing_from(w.cutoff, w.HasField("cutoff")),
            standing=standing_from(w.standing, w.HasField("standing")),
        ))
    placed = pb.course_code or None
    return ClientPlacement(
        client_id=pb.client_id, course=placed, choice=pb.choice or None,
        standing=standing_from(pb.standing, placed is not None and pb.HasField("standing")),
        priority_group=pb.priority_group, lottery=pb.lottery, why_not=tuple(why),
    )


def course_fill_from(pb: matching_pb2.CourseFill) -> CourseFill:
    return CourseFill(
        code=pb.course_code, seats=pb.seats, reserved_seats=pb.reserved_seats, filled=pb.filled,
        applicants=pb.applicants, eligible=pb.eligible, group_admitted=pb.group_admitted,
        group_on_reserved=pb.group_on_reserved, cutoff=standing_from(pb.cutoff, pb.HasField("cutoff")),
        open_cutoff=standing_from(pb.open_cutoff, pb.HasField("open_cutoff")), ranked=pb.ranked,
    )


def summary_from(pb: matching_pb2.MatchSummary) -> PlacementSummary:
    return PlacementSummary(
        clients=pb.clients, placed=pb.placed, unmatched=pb.unmatched, courses=pb.courses, seats=pb.seats,
        seats_filled=pb.seats_filled, courses_full=pb.courses_full, group_clients=pb.group_clients,
        group_placed=pb.group_placed, reserved_seats=pb.reserved_seats, reserved_to_group=pb.reserved_to_group,
        first_choice=pb.first_choice, pairs=pb.pairs, eligible_pairs=pb.eligible_pairs,
        ineligible_pairs=pb.ineligible_pairs, pending_pairs=pb.pending_pairs, not_ranked_pairs=pb.not_ranked_pairs,
        proposals=pb.proposals, ruleset_version=pb.ruleset_version,
        as_of=date.fromisoformat(pb.as_of_date) if pb.as_of_date else date.min, seed=pb.seed,
        reserve_order=RESERVE_ORDER.get(pb.reserve_order, ReserveOrder.OPEN_FIRST),
    )
