"""A cohort to place, validated: every problem of the input found at once, named as the caller sent it.

Problems are ``(field, message)`` pairs with the field named the way the caller
sent it, e.g. ``clients[3].preferences[1]: unknown course 'XYZ'``; at most
:data:`MAX_VIOLATIONS` are listed, the rest counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bekal import facts as schema
from bekal.matching import ReserveOrder
from bekal.placement.errors import CohortError

Facts = Mapping[str, Any]
"""Client or course facts as :mod:`bekal.facts` normalises them (proto field names, dates as ``date``)."""

PRIORITY_GROUP = "bnn"  # client.referrer value of the group course.reserved_bnn_seats are for
MAX_VIOLATIONS = 100  # problems reported at most per cohort (the rest are counted)

RankingEntries = Sequence[tuple[str, Sequence[str]]] | Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Cohort:
    """A validated cohort: facts as :mod:`bekal.facts` normalises them.

    ``clients``: client facts with ``id`` and ``preferences`` (course codes, most
    wanted first). ``courses``: course facts with ``code``, ``seats`` and
    optionally ``reserved_bnn_seats``. ``rankings``: course code -> client ids,
    best first (a selection panel's order; a client absent from it is not
    acceptable to that course).
    """

    clients: tuple[Facts, ...]
    courses: tuple[Facts, ...]
    as_of: date
    seed: int = 0
    rankings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reserve_order: ReserveOrder = ReserveOrder.OPEN_FIRST


def in_priority_group(client: Facts) -> bool:
    """A BNN referral: the group a course's ``reserved_bnn_seats`` are for."""
    return client.get("referrer") == PRIORITY_GROUP


class _Problems(list[tuple[str, str]]):
    def add(self, name: str, message: str) -> None:
        self.append((name, message))


def make_cohort(
    clients: Sequence[Mapping[str, Any]],
    courses: Sequence[Mapping[str, Any]],
    *,
    as_of: date | str,
    seed: int = 0,
    rankings: RankingEntries | None = None,
    reserve_order: ReserveOrder | str = ReserveOrder.OPEN_FIRST,
    parsed: bool = False,
    declared: Mapping[str, schema.Fact] | None = None,
) -> Cohort:
    """Validate plain input (as read from a file or a message) into a :class:`Cohort`.

    ``clients``/``courses`` are mappings of ``bekal.v1.Client``/``Course`` field
    names to values (dates as ``YYYY-MM-DD`` or ``date``, enums in lower case);
    ``parsed=True`` skips :func:`bekal.facts.parse_facts` for input that already
    went through it; ``declared``: the facts the rules folder declares (facts.yaml), which
    clients and courses may have as plain fields. ``rankings`` is a sequence of ``(course_code, client_ids)``
    entries (entries for the same course are concatenated) or a mapping.

    Raises :class:`CohortError` naming every bad field: ``clients[3].birth_date``,
    ``clients[3].preferences[1]``, ``courses[0].seats``,
    ``rankings[2].client_ids[5]``, ``as_of``, ``seed``, ``reserve_order``.
    """
    problems = _Problems()
    day, order = _settings(as_of, seed, reserve_order, problems)
    course_facts = _courses(courses, parsed, problems, declared)
    codes = {c["code"] for c in course_facts}
    client_facts, ids = _clients(clients, codes, parsed, day, problems, declared)
    panel = _rankings(rankings, codes, ids, problems)
    if problems:
        raise CohortError(problems[:MAX_VIOLATIONS], more=max(0, len(problems) - MAX_VIOLATIONS))
    return Cohort(
        clients=tuple(client_facts),
        courses=tuple(course_facts),
        as_of=day,
        seed=seed,
        rankings={code: tuple(v) for code, v in panel.items()},
        reserve_order=order,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _settings(as_of: date | str, seed: object, reserve_order: ReserveOrder | str,
              problems: _Problems) -> tuple[date, ReserveOrder]:
    try:
        day = schema.parse_date(as_of)
    except ValueError as exc:
        problems.add("as_of", str(exc))
        day = date.min
    if not _is_int(seed):
        problems.add("seed", "must be a whole number")
    try:
        order = ReserveOrder(reserve_order)
    except ValueError:
        problems.add("reserve_order", "must be one of " + ", ".join(o.value for o in ReserveOrder))
        order = ReserveOrder.OPEN_FIRST
    return day, order


def _facts(kind: str, raw: object, where: str, parsed: bool, problems: _Problems,
           declared: Mapping[str, schema.Fact] | None = None) -> Facts | None:
    """``raw`` as facts of ``kind``, or None with its problems added."""
    if not isinstance(raw, Mapping):
        problems.add(where, f"must be a mapping of {kind} fields")
        return None
    if parsed:
        return raw
    try:
        return schema.parse_facts(kind, raw, declared)
    except schema.FactError as exc:
        for name, message in exc.violations:
            problems.add(f"{where}.{name.split('.', 1)[1]}", message)
        return None


def _courses(courses: Sequence[Mapping[str, Any]], parsed: bool, problems: _Problems,
             declared: Mapping[str, schema.Fact] | None = None) -> list[Facts]:
    """The usable courses (unique codes); problems for the rest and for bad seat counts."""
    out: list[Facts] = []
    codes: set[str] = set()
    for k, raw in enumerate(courses):
        where = f"courses[{k}]"
        facts = _facts("course", raw, where, parsed, problems, declared)
        if facts is None:
            continue
        code = facts.get("code")
        if not isinstance(code, str) or not code.strip():
            problems.add(f"{where}.code", "required")
            continue
        if code in codes:
            problems.add(f"{where}.code", f"duplicate course code {code!r}")
            continue
        codes.add(code)
        _check_seats(facts, where, problems)
        out.append(facts)
    return out


def _check_seats(course: Facts, where: str, problems: _Problems) -> None:
    seats = course.get("seats")
    if seats is None:
        problems.add(f"{where}.seats", "required: the number of seats in the intake")
    elif not _is_int(seats) or seats < 0:
        problems.add(f"{where}.seats", f"must be a whole number >= 0, got {seats!r}")
    reserved = course.get("reserved_bnn_seats", 0)
    if not _is_int(reserved) or reserved < 0:
        problems.add(f"{where}.reserved_bnn_seats", f"must be a whole number >= 0, got {reserved!r}")
    elif _is_int(seats) and reserved > seats:
        problems.add(f"{where}.reserved_bnn_seats", f"{reserved} reserved seats but only {seats} seats")


def _clients(clients: Sequence[Mapping[str, Any]], codes: set[str], parsed: bool, day: date,
             problems: _Problems, declared: Mapping[str, schema.Fact] | None = None
             ) -> tuple[list[Facts], set[str]]:
    """The valid clients, and every usable client id (rankings may name them).

    A client whose facts are invalid is still checked for its id and preferences, to report every
    problem at once.
    """
    out: list[Facts] = []
    ids: set[str] = set()
    for i, raw in enumerate(clients):
        where = f"clients[{i}]"
        facts = _facts("client", raw, where, parsed, problems, declared)
        if facts is not None:  # impossible on the cohort's date (a birth date after it, ...): said before any work
            for name, message in schema.check_on("client", facts, day):
                problems.add(f"{where}.{name.split('.', 1)[1]}", message)
        checked = facts if facts is not None else raw if isinstance(raw, Mapping) else None
        if checked is None:
            continue
        _check_client_id(checked.get("id"), where, ids, problems)
        prefs = _preferences(checked.get("preferences", []), codes, where, problems)
        if facts is not None and prefs is not None:
            out.append({**facts, "preferences": prefs})
    return out, ids


def _check_client_id(cid: object, where: str, ids: set[str], problems: _Problems) -> None:
    if not isinstance(cid, str) or not cid.strip():
        problems.add(f"{where}.id", "required: the client's pseudonymous id")
    elif cid in ids:
        problems.add(f"{where}.id", f"duplicate client id {cid!r}")
    else:
        ids.add(cid)


def _preferences(prefs: object, codes: set[str], where: str, problems: _Problems) -> tuple[str, ...] | None:
    """The preferences as a tuple, each checked; None when they are not a list at all."""
    if isinstance(prefs, str) or not isinstance(prefs, (list, tuple)):
        problems.add(f"{where}.preferences", "must be a list of course codes, most wanted first")
        return None
    seen: dict[str, int] = {}
    for j, code in enumerate(prefs):
        if not isinstance(code, str) or not code:
            problems.add(f"{where}.preferences[{j}]", f"must be a course code, got {code!r}")
        elif code not in codes:
            hint = schema.suggest(code, sorted(codes))
            problems.add(f"{where}.preferences[{j}]",
                         f"unknown course {code!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
        elif code in seen:
            problems.add(f"{where}.preferences[{j}]", f"course {code!r} is already listed at position {seen[code] + 1}")
        else:
            seen[code] = j
    return tuple(prefs)


def _rankings(rankings: RankingEntries | None, codes: set[str], ids: set[str],
              problems: _Problems) -> dict[str, list[str]]:
    """Course code -> ranked client ids, best first; entries for one course concatenated."""
    panel: dict[str, list[str]] = {}
    entries = list(rankings.items()) if isinstance(rankings, Mapping) else list(rankings or ())
    ranked_at: dict[str, dict[str, tuple[int, int]]] = {}
    for e, entry in enumerate(entries):
        where = f"rankings[{e}]"
        try:
            code, ranked_ids = entry
        except (TypeError, ValueError):
            problems.add(where, "must be (course_code, client_ids)")
            continue
        if code not in codes:
            problems.add(f"{where}.course_code", f"unknown course {code!r}")
            continue
        if isinstance(ranked_ids, str):
            problems.add(f"{where}.client_ids", "must be a list of client ids, best first")
            continue
        order_of = ranked_at.setdefault(code, {})
        for j, cid in enumerate(ranked_ids):
            if cid not in ids:
                problems.add(f"{where}.client_ids[{j}]", f"unknown client {cid!r}")
            elif cid in order_of:
                first_e, first_j = order_of[cid]
                first = f"rankings[{first_e}].client_ids[{first_j}]"
                problems.add(f"{where}.client_ids[{j}]", f"client {cid!r} is already ranked for {code} at {first}")
            else:
                order_of[cid] = (e, j)
                panel.setdefault(code, []).append(cid)
    return panel
