"""The fact schema rules are checked against, and turning input into facts.

The schema is derived from the protobuf messages ``bekal.v1.Client`` and
``bekal.v1.Course`` (protos/bekal/v1/facts.proto), so the API and the rule
language can never disagree about what a fact is called or what type it has.
A few facts are derived in code because they depend on the decision date
(age, days since rehabilitation ended) or on an order the protos only imply
(education level); they are declared here, next to the code computing them.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from google.protobuf import descriptor as pb_descriptor
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from bekal.client.enums import short_name, short_names
from bekal.i18n import _
from bekal.v1 import facts_pb2

NUMBER, STRING, BOOL, DATE, ENUM = "number", "string", "bool", "date", "enum"
BNN_ONLY, SHAREABLE = "bnn_only", "shareable"  # Fact.sensitivity: who may learn the fact
DATE_MESSAGE = "google.type.Date"  # a Client/Course field of this type is a DATE fact
DECLARED = "declared"  # the Client/Course field holding facts a rules folder declares (facts.yaml)
if TYPE_CHECKING:
    from google._upb import _message as upb

    Descriptor: TypeAlias = pb_descriptor.Descriptor | upb.Descriptor
    Field: TypeAlias = pb_descriptor.FieldDescriptor | upb.FieldDescriptor
else:
    Descriptor, Field = pb_descriptor.Descriptor, pb_descriptor.FieldDescriptor

KINDS = {"client": facts_pb2.Client.DESCRIPTOR, "course": facts_pb2.Course.DESCRIPTOR}

EDUCATION_LEVEL = {"none": 0, "sd": 1, "smp": 2, "sma": 3, "smk": 3, "diploma": 4, "bachelor": 5}

# Facts only BNN may see (DESIGN: rehabilitation stage, dates and history are BNN-only; whether a
# client consented is BNN's to know: a training centre sees only clients who did). A rule that reads
# one is BNN-only by construction (bekal.lang.checker), and so is every fact derived from one.
BNN_ONLY_FACTS = frozenset({"client.rehab_stage", "client.rehab_completed_date", "client.consent_to_share"})

MAX_AGE = 120  # a person older than this on the decision date is a typing error, not a client
MAX_ID = 128  # client.id, course.code
MAX_TEXT = 256  # any other text fact

# The values a person or a course can have. A number outside its range, or not a finite number,
# is bad input (INVALID_ARGUMENT naming the field), never a fact: durable_rules would compare it
# without complaint (a score of 1e308 passes every pass mark) or, for NaN, never fire a rule.
# Every number fact of the protos needs an entry here (tests/rules check that none is missing).
RANGES: dict[str, tuple[float, float, bool]] = {  # fact -> (lowest, highest, whole numbers only)
    "client.written_test_score": (0, 100, False),
    "client.interview_score": (0, 100, False),
    "course.seats": (0, 100_000, True),
    "course.reserved_bnn_seats": (0, 100_000, True),
    "course.min_written_score": (0, 100, False),
    "course.min_interview_score": (0, 100, False),
    "course.min_age": (0, MAX_AGE, True),
    "course.max_age": (0, MAX_AGE, True),
    # derived facts, in range whenever their inputs pass check_on()
    "client.age": (0, MAX_AGE, True),
    "client.days_since_rehab": (0, 366 * (MAX_AGE + 1), True),
    "client.education_level": (0, 5, True),
    "course.min_education_level": (0, 5, True),
}


@dataclass(frozen=True, slots=True)
class Fact:
    """One name a rule may read, e.g. ``client.age``."""

    name: str
    type: str  # NUMBER, STRING, BOOL, DATE or ENUM
    values: tuple[str, ...] = ()  # allowed values of an ENUM
    derived_from: tuple[str, ...] = ()  # input facts a derived fact is computed from
    doc: str = ""
    minimum: float | None = None  # NUMBER: the range a value must lie in (both inclusive)
    maximum: float | None = None
    integer: bool = False  # NUMBER: whole numbers only
    sensitivity: str = BNN_ONLY  # BNN_ONLY or SHAREABLE (may a training centre learn it)
    declared: bool = False  # declared by a rules folder's facts file, not by the API's messages
    doc_id: str = ""  # the description in Indonesian (declared facts)

    @property
    def kind(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.name.split(".", 1)[1]


class FactError(ValueError):
    """Input facts that cannot be used; each violation names its field."""

    def __init__(self, violations: list[tuple[str, str]]):
        self.violations = violations
        super().__init__("; ".join(f"{f}: {m}" for f, m in violations))


def _field_type(field: Field) -> str | None:
    if field.is_repeated:
        return None  # lists are not rule facts (yet)
    t = field.type
    if t == FieldDescriptor.TYPE_MESSAGE:
        return DATE if field.message_type is not None and field.message_type.full_name == DATE_MESSAGE else None
    if t == FieldDescriptor.TYPE_STRING:
        return STRING
    if t == FieldDescriptor.TYPE_BOOL:
        return BOOL
    if t == FieldDescriptor.TYPE_ENUM:
        return ENUM
    if t in (
        FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64,
    ):
        return NUMBER
    return None


_DECLARED_TYPES = {"bool": BOOL, "integer": NUMBER, "decimal": NUMBER, "date": DATE, "enum": ENUM, "string": STRING}


def declared_fact(name: str, type_name: str, *, values: tuple[str, ...] = (), minimum: float | None = None,
                  maximum: float | None = None, sensitivity: str = BNN_ONLY, doc: str = "", doc_id: str = "") -> Fact:
    """A fact a rules folder declares (facts.yaml): ``type_name`` is bool, integer, decimal, date, enum or string."""
    return Fact(name, _DECLARED_TYPES[type_name], values, (), doc, minimum, maximum, type_name == "integer",
                sensitivity, True, doc_id)


def _schema_from(kind: str, descriptor: Descriptor) -> dict[str, Fact]:
    facts = {}
    for field in descriptor.fields:
        ftype = _field_type(field)
        if ftype is None:
            continue
        values = short_names(field.enum_type) if ftype == ENUM and field.enum_type else ()
        name = f"{kind}.{field.name}"
        facts[name] = _ranged(Fact(name, ftype, values))
    return facts


def _ranged(fact: Fact) -> Fact:
    """The fact with its range (:data:`RANGES`) and its sensitivity (:data:`BNN_ONLY_FACTS`, inherited by
    a derived fact from what it is computed from)."""
    sensitive = fact.name in BNN_ONLY_FACTS or any(n in BNN_ONLY_FACTS for n in fact.derived_from)
    low, high, whole = RANGES.get(fact.name, (None, None, False))
    return Fact(fact.name, fact.type, fact.values, fact.derived_from, fact.doc, minimum=low, maximum=high,
                integer=whole, sensitivity=BNN_ONLY if sensitive else SHAREABLE)


def _years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class Derived:
    fact: Fact
    compute: Callable[[Mapping[str, Any], date], Any]  # (facts of its kind, as_of) -> value or None


def _when(name: str, fn: Callable[[Any, date], Any]) -> Callable[[Mapping[str, Any], date], Any]:
    def compute(facts: Mapping[str, Any], as_of: date) -> Any:
        value = facts.get(name)
        return None if value is None else fn(value, as_of)

    return compute


DERIVED: dict[str, Derived] = {
    d.fact.name: d
    for d in (
        Derived(
            Fact("client.age", NUMBER, derived_from=("client.birth_date",),
                 doc="age in whole years on the decision date"),
            _when("birth_date", lambda born, on: _years_between(born, on)),
        ),
        Derived(
            Fact("client.days_since_rehab", NUMBER, derived_from=("client.rehab_completed_date",),
                 doc="days from the end of rehabilitation to the decision date"),
            _when("rehab_completed_date", lambda done, on: (on - done).days),
        ),
        Derived(
            Fact("client.education_level", NUMBER, derived_from=("client.education",),
                 doc="0 none, 1 SD, 2 SMP, 3 SMA/SMK, 4 diploma, 5 bachelor or higher"),
            _when("education", lambda edu, on: EDUCATION_LEVEL[edu]),
        ),
        Derived(
            Fact("course.min_education_level", NUMBER, derived_from=("course.min_education",),
                 doc="the course's minimum education as a level (see client.education_level)"),
            _when("min_education", lambda edu, on: EDUCATION_LEVEL[edu]),
        ),
    )
}

SCHEMA: dict[str, Fact] = {
    **{n: f for kind, d in KINDS.items() for n, f in _schema_from(kind, d).items()},
    **{n: _ranged(d.fact) for n, d in DERIVED.items()},
}


def bnn_only(names: Iterable[str], facts: Mapping[str, Fact] | None = None) -> list[str]:
    """Which of these facts only BNN may see, in order. ``facts``: the facts rules may read (default the
    API's, :data:`SCHEMA`; a rulebook adds its declared ones). A client or course fact it does not know
    counts as BNN-only (fail closed); parameters (``param.*``) are no one's secret."""
    known = SCHEMA if facts is None else facts
    return [n for n in dict.fromkeys(names) if n.split(".", 1)[0] in KINDS
            and ((f := known.get(n)) is None or f.sensitivity == BNN_ONLY)]


def suggest(name: str, candidates: list[str] | None = None, cutoff: float = 0.6) -> str | None:
    """The closest known name, for "did you mean" hints."""
    pool = candidates if candidates is not None else list(SCHEMA)
    close = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
    return close[0] if close else None


def input_facts(fact: str) -> tuple[str, ...]:
    """The input fields a fact comes from: itself, or what a derived fact is computed from."""
    derived = DERIVED.get(fact)
    return derived.fact.derived_from if derived else (fact,)


def derive(kind: str, facts: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """Input facts of one kind plus the derived facts of that kind, as of a date; absent stays absent."""
    out = dict(facts)
    for field, compute in _derived_of(kind):
        value = compute(facts, as_of)
        if value is not None:
            out[field] = value
    return out


@functools.cache
def _derived_of(kind: str) -> tuple[tuple[str, Callable[[Mapping[str, Any], date], Any]], ...]:
    """``(field, compute)`` of the derived facts of ``kind``: :func:`derive` runs for every client."""
    return tuple((d.fact.field, d.compute) for d in DERIVED.values() if d.fact.kind == kind)


def parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(_("not a real date in YYYY-MM-DD form: {value!r}", value=value)) from None
    raise ValueError(_("expected a date YYYY-MM-DD, got {type}", type=type(value).__name__))


def coercer(fact: Fact) -> Callable[[Any], Any]:
    """``coerce(value)``: ``value`` as ``fact`` holds it, or ValueError saying why not. What to check is
    decided once per fact here, not again for every value (validating a cohort runs it ~10 times per client)."""
    if fact.type == DATE:
        return parse_date
    if fact.type == NUMBER:
        return functools.partial(check_number, fact)
    if fact.type == BOOL:
        return _check_bool
    if fact.type == ENUM:
        return functools.partial(_check_enum, fact.values, frozenset(fact.values))
    return functools.partial(_check_text, _text_limit(fact))


def _check_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(_("expected true or false, got {value!r}", value=value))
    return value


def _check_enum(values: tuple[str, ...], allowed: frozenset[str], value: Any) -> str:
    if isinstance(value, str):
        low = value.lower()
        if low in allowed:
            return low
    hint = suggest(str(value).lower()[:40], list(values))
    extra = _(" (did you mean {hint!r}?)", hint=hint) if hint else ""
    raise ValueError(_("unknown value {value}; one of {values}", value=_short(value),
                       values=", ".join(values)) + extra)


def _number_text(value: float) -> str:
    """How a range message shows a bound: 100, not 100.0."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def check_number(fact: Fact, value: Any) -> int | float:
    """``value`` as a number ``fact`` may hold, or ValueError saying why not (never NaN, never infinite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(_("expected a number, got {value}", value=_short(value)))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(_("expected a finite number, got {value!r}", value=value))
    if fact.integer and value != int(value):
        raise ValueError(_("expected a whole number, got {value!r}", value=value))
    if fact.minimum is not None and fact.maximum is not None and not fact.minimum <= value <= fact.maximum:
        raise ValueError(_("must be between {low} and {high}, got {value}", low=_number_text(fact.minimum),
                           high=_number_text(fact.maximum), value=_short(value)))
    # one type per fact: a decimal fact is a float even when a catalogue writes 70 (the API then sends
    # it as double_value whatever the input's spelling), a whole-number fact an int
    return int(value) if fact.integer else float(value)


def check_text(fact: Fact, value: Any) -> str:
    """``value`` as text ``fact`` may hold: printable, within the length limit."""
    return _check_text(_text_limit(fact), value)


def _text_limit(fact: Fact) -> int:
    return MAX_ID if fact.name.endswith((".id", ".code")) else MAX_TEXT


def _check_text(limit: int, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(_("expected text, got {value}", value=_short(value)))
    if len(value) > limit:
        raise ValueError(_("at most {limit} characters, got {n}", limit=limit, n=len(value)))
    if not value.isprintable():
        raise ValueError(_("must not contain control characters (tabs, line breaks, ...)"))
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_on(kind: str, facts: Mapping[str, Any], as_of: date) -> list[tuple[str, str]]:
    """What ``facts`` (already parsed) say that no person could have on ``as_of``: a birth date
    after it or more than MAX_AGE years before it, a rehabilitation completed after it or before
    birth. One definition, used by every edge (to name the field) and by the engine (to refuse)."""
    if kind != "client":
        return []
    problems = []
    born = facts.get("birth_date")
    done = facts.get("rehab_completed_date")
    if isinstance(born, date):
        if born > as_of:
            problems.append(("client.birth_date", _("{date} is after the decision date {as_of}",
                                                    date=born.isoformat(), as_of=as_of.isoformat())))
        elif _years_between(born, as_of) > MAX_AGE:
            problems.append(("client.birth_date", _("{date} makes the client older than {max} on {as_of}",
                                                    date=born.isoformat(), max=MAX_AGE, as_of=as_of.isoformat())))
    if isinstance(done, date):
        if done > as_of:
            problems.append(("client.rehab_completed_date", _("{date} is after the decision date {as_of}",
                                                              date=done.isoformat(), as_of=as_of.isoformat())))
        elif isinstance(born, date) and done < born:
            problems.append(("client.rehab_completed_date", _("{date} is before the birth date",
                                                              date=done.isoformat())))
    return problems


def json_number(value: int | float) -> str:
    """A number as durable_rules parses it exactly: plain decimal notation.

    durable_rules 2.0.28 reads ``1e-05``, ``1e16`` or ``1E2`` as no number at all and then matches
    nothing for that event and every later one in the batch (measured), while ``0.00001`` and
    ``10000000000000000`` are read right. Python writes floats below 1e-4 and from 1e16 up in
    exponent form, so those are spelled out here; NaN and infinities never get this far."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def json_value(value: Any) -> str:
    """One fact value as the event JSON durable_rules reads: strings UTF-8 as they are (durable_rules
    does not decode \\u escapes, so an escaped 'é' never equals the rule's 'é'), numbers plain."""
    if isinstance(value, (bool, str)):
        return json.dumps(value, ensure_ascii=False)
    return json_number(value)


@functools.cache
def fields(kind: str) -> frozenset[str]:
    """The API's own fields of ``kind`` (``bekal.v1.Client``/``Course``), without the declared-facts map."""
    return frozenset(f.name for f in KINDS[kind].fields if f.name != DECLARED)


def parse_facts(kind: str, raw: Mapping[str, Any], declared: Mapping[str, Fact] | None = None) -> dict[str, Any]:
    """Validate and normalise plain input (from a YAML/JSON file) into facts of ``kind``.

    Raises FactError naming every bad field at once, so a caller fixes a file in one go.
    Fields that are not rule facts (e.g. ``preferences``) pass through unchanged. ``declared``: the
    facts a rules folder declares ("client.dependants" -> Fact), written as plain fields.
    """
    known = fields(kind)
    coerce = _coercers(kind) if not declared else _coercers_with(kind, declared)
    out: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for key, value in raw.items():
        check = coerce.get(key)
        if check is None and key not in known:
            name = f"{kind}.{key}"
            hint = suggest(str(key), sorted(known | {k for k in coerce if k not in known}))
            errors.append((name, _("unknown field (did you mean {hint!r}?)", hint=hint) if hint else
                           _("unknown field; a new fact is declared in the rules folder's facts file")))
            continue
        if value is None or value == "":
            continue
        if check is None:  # a field that is no rule fact (preferences, ...)
            out[key] = value
            continue
        try:
            out[key] = check(value)
        except ValueError as exc:
            errors.append((f"{kind}.{key}", str(exc)))
    if errors:
        raise FactError(errors)
    return out


@functools.cache
def _coercers(kind: str) -> dict[str, Callable[[Any], Any]]:
    """The API's fields of ``kind`` that are rule facts -> their :func:`coercer`."""
    return {f: coercer(SCHEMA[f"{kind}.{f}"]) for f in fields(kind) if f"{kind}.{f}" in SCHEMA}


_with_declared: dict[tuple[str, int], tuple[Mapping[str, Fact], dict[str, Callable[[Any], Any]]]] = {}


def _coercers_with(kind: str, declared: Mapping[str, Fact]) -> dict[str, Callable[[Any], Any]]:
    """:func:`_coercers` and a rules folder's declared facts of ``kind`` (plain fields, theirs first), kept
    per mapping: a cohort parses every client with the same one."""
    hit = _with_declared.get((kind, id(declared)))
    if hit is not None and hit[0] is declared:
        return hit[1]
    extra = {n.split(".", 1)[1]: coercer(f) for n, f in declared.items() if f.kind == kind}
    both = {**_coercers(kind), **extra}
    if len(_with_declared) >= 64:  # a few rule versions' mappings, not every one ever seen
        _with_declared.clear()
    _with_declared[(kind, id(declared))] = (declared, both)  # holds the mapping: its id stays its own
    return both


def facts_from_message(message: Message, declared: Mapping[str, Fact] | None = None) -> dict[str, Any]:
    """A ``bekal.v1.Client``/``Course`` message as facts; unset, empty and UNSPECIFIED mean absent.

    Facts in the ``declared`` map are checked against ``declared`` (the rules' facts file) and merged
    in; without it they are kept, unchecked, under :data:`DECLARED` for :func:`resolve_declared`
    (a service checks them against the rules it decides with).
    Raises FactError for values that cannot be facts (an impossible date), naming a declared fact
    ``client.declared[dependants]``.
    """
    descriptor = message.DESCRIPTOR
    kind = next(k for k, d in KINDS.items() if d.full_name == descriptor.full_name)
    raw: dict[str, Any] = {}
    unknown: list[tuple[str, str]] = []
    extra: dict[str, Any] = {}
    for field in descriptor.fields:
        if field.name == DECLARED:
            extra, problems = _declared_values(kind, getattr(message, DECLARED))
            unknown += problems
            continue
        if field.is_repeated:
            raw[field.name] = list(getattr(message, field.name))
            continue
        if field.has_presence and not message.HasField(field.name):
            continue
        value = getattr(message, field.name)
        if _field_type(field) == DATE:
            day = _date_of(value)
            if day is None:
                unknown.append((f"{kind}.{field.name}", _("not a real date: {value}", value=_date_text(value))))
            else:
                raw[field.name] = day
            continue
        if field.type == FieldDescriptor.TYPE_ENUM:
            if value == 0:
                continue
            enum = field.enum_type
            if enum is None or value not in enum.values_by_number:
                # proto3 keeps numbers it does not know: a newer client, or a hostile one
                unknown.append((f"{kind}.{field.name}", _("unknown value {value}", value=value)))
                continue
            value = short_name(enum, value)
        raw[field.name] = value
    try:
        facts = parse_facts(kind, raw)
    except FactError as exc:
        raise FactError(unknown + exc.violations) from None
    if unknown:
        raise FactError(unknown)
    if extra:
        facts[DECLARED] = extra
        if declared is not None:
            return resolve_declared(kind, facts, declared)
    return facts


def _date_of(value: Any) -> date | None:
    """A full ``google.type.Date`` (years 1900-2199) as a date, else None."""
    try:
        return date(value.year, value.month, value.day) if 1900 <= value.year <= 2199 else None
    except ValueError:
        return None


def _date_text(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _declared_values(kind: str, entries: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The ``declared`` map of a message as plain values (a date stays text until it is checked)."""
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, entry in entries.items():
        which = entry.WhichOneof("value")
        if which is None:
            problems.append((f"{kind}.{DECLARED}[{key}]", _("no value set")))
            continue
        value = getattr(entry, which)
        if which == "date_value":
            day = _date_of(value)
            if day is None:
                problems.append((f"{kind}.{DECLARED}[{key}]", _("not a real date: {value}", value=_date_text(value))))
                continue
            value = day
        out[key] = value
    return out, problems


def resolve_declared(kind: str, facts: Mapping[str, Any], declared: Mapping[str, Fact]) -> dict[str, Any]:
    """``facts`` with its :data:`DECLARED` values checked against ``declared`` and merged in as facts.

    Raises FactError naming each key the rules do not declare, or whose value has the wrong type or
    lies outside its range, as ``client.declared[KEY]``."""
    values = facts.get(DECLARED)
    out = {k: v for k, v in facts.items() if k != DECLARED}
    if not values:
        return out
    extra = {n.split(".", 1)[1]: f for n, f in declared.items() if f.kind == kind}
    problems: list[tuple[str, str]] = []
    for key, value in values.items():
        where = f"{kind}.{DECLARED}[{key}]"
        fact = extra.get(key)
        if fact is None:
            hint = suggest(str(key), sorted(extra))
            problems.append((where, _("the rules declare no fact {name!r}", name=kind + "." + key)
                             + (_(" (did you mean {hint!r}?)", hint=hint) if hint else "")))
            continue
        try:
            out[key] = coercer(fact)(value)
        except ValueError as exc:
            problems.append((where, str(exc)))
    if problems:
        raise FactError(problems)
    return out
