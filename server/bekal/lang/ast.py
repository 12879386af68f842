"""The rule language's syntax tree: what a rule file says, with where it says it.

Produced by ``bekal.lang.parser``, read by the checker and the compiler. Plain
dataclasses: nothing here knows about YAML or durable_rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bekal.lang.diagnostics import Location

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class FactRef:
    name: str  # "client.age"
    loc: Location


@dataclass(frozen=True, slots=True)
class ParamRef:
    """A dated parameter, ``param.min_age``: its value is the one in force on the decision date."""

    name: str  # "param.min_age"
    loc: Location

    @property
    def field(self) -> str:
        return self.name.split(".", 1)[1]


@dataclass(frozen=True, slots=True)
class Literal:
    value: int | float | str | bool | date
    loc: Location


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # + - * /
    left: Value
    right: Value
    loc: Location


Value = FactRef | ParamRef | Literal | Arith


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # < <= > >= == !=
    left: Value
    right: Value
    loc: Location


@dataclass(frozen=True, slots=True)
class In:
    value: Value
    items: tuple[Literal, ...]
    negated: bool
    loc: Location


@dataclass(frozen=True, slots=True)
class Exists:
    value: Value
    negated: bool
    loc: Location


@dataclass(frozen=True, slots=True)
class Match:
    """``x matches "pattern"`` (durable_rules pattern dialect) or ``x contains "text"`` (any case)."""

    value: Value
    op: str  # "matches" or "contains"
    pattern: str
    loc: Location
    pattern_loc: Location


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]
    loc: Location


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]
    loc: Location


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr
    loc: Location


Expr = Compare | In | Exists | Match | And | Or | Not | FactRef | ParamRef | Literal | Arith


def facts_in(node: object) -> list[FactRef]:
    """Every fact reference under a node, in source order (with repeats)."""
    if isinstance(node, FactRef):
        return [node]
    if isinstance(node, Literal):
        return []
    out: list[FactRef] = []
    for name in node.__slots__:  # type: ignore[attr-defined]
        child = getattr(node, name)
        if isinstance(child, tuple):
            for item in child:
                out.extend(facts_in(item))
        elif hasattr(child, "__slots__") and not isinstance(child, Location):
            out.extend(facts_in(child))
    return out


def params_in(node: object) -> list[ParamRef]:
    """Every parameter reference under a node, in source order (with repeats)."""
    return [n for n in walk(node) if isinstance(n, ParamRef)]


def walk(node: object) -> list[object]:
    """Every expression node under ``node`` (itself first), without recursion."""
    out: list[object] = []
    stack = [node]
    while stack:
        item = stack.pop()
        out.append(item)
        for name in getattr(item, "__slots__", ()):
            child = getattr(item, name)
            if isinstance(child, tuple):
                stack.extend(reversed(child))
            elif hasattr(child, "__slots__") and not isinstance(child, Location):
                stack.append(child)
    return out


def to_text(node: object) -> str:
    """A condition as one line of text in a canonical form (spacing and redundant parentheses aside,
    what its author wrote): what ``bekal rules diff`` compares and shows."""
    return _text(node, 0)


_LEVEL = {"or": 1, "and": 2, "not": 3, "predicate": 4, "+": 5, "-": 5, "*": 6, "/": 6}


def _text(node: object, outer: int) -> str:
    if isinstance(node, (FactRef, ParamRef)):
        return node.name
    if isinstance(node, Literal):
        value = node.value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value + '"'
        if isinstance(value, date):
            return value.isoformat()
        return repr(value)
    if isinstance(node, Arith):
        level = _LEVEL[node.op]
        # the right operand of - and / binds tighter: a - (b - c)
        text = f"{_text(node.left, level)} {node.op} {_text(node.right, level + 1)}"
    elif isinstance(node, Compare):
        level, text = _LEVEL["predicate"], f"{_text(node.left, 5)} {node.op} {_text(node.right, 5)}"
    elif isinstance(node, In):
        items = ", ".join(_text(i, 0) for i in node.items)
        level = _LEVEL["predicate"]
        text = f"{_text(node.value, 5)} {'not in' if node.negated else 'in'} [{items}]"
    elif isinstance(node, Exists):
        level, text = _LEVEL["predicate"], f"{_text(node.value, 5)} {'not exists' if node.negated else 'exists'}"
    elif isinstance(node, Match):
        level, text = _LEVEL["predicate"], f'{_text(node.value, 5)} {node.op} "{node.pattern}"'
    elif isinstance(node, (And, Or)):
        word = "and" if isinstance(node, And) else "or"
        level = _LEVEL[word]
        text = f" {word} ".join(_text(i, level + 1 if word == "or" else level) for i in node.items)
    elif isinstance(node, Not):
        level, text = _LEVEL["not"], "not " + _text(node.item, _LEVEL["not"])
    else:
        return str(node)
    return f"({text})" if level < outer else text


# ---------------------------------------------------------------- rule files


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    loc: Location


@dataclass(frozen=True, slots=True)
class Effect:
    kind: str  # "ineligible", "pending" or "priority"; a monitoring rule's "warning" or "alert"
    points: int  # priority points (0 unless kind == "priority")
    loc: Location

    def __str__(self) -> str:
        return f"priority {self.points:+d}" if self.kind == "priority" else self.kind


QUOTE, INTERPRETATION = "quote", "interpretation"


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule or a parameter comes from: a verbatim quote of a document, or an interpretation of one.

    ``source: {quote: "...", of: mou-2019-05-16, at: K1}`` quotes the document word for word (checked
    against the excerpts the repository holds, see ``bekal.sources``); ``source: {interpretation:
    "...", of: ...}`` says in the author's words what the rule makes of it, and never passes for a quote."""

    kind: str  # QUOTE or INTERPRETATION
    text: str
    of: str  # the document: a source document's id (docs/sources/<id>.md) or a citation in words
    at: str | None  # where in the document: an excerpt's label (K1), a paragraph, an article
    loc: Location  # the source: mapping
    text_loc: Location  # the quote or the interpretation itself

    def __str__(self) -> str:
        where = self.of + (f", {self.at}" if self.at else "")
        if self.kind == QUOTE:
            return f"\u201c{self.text}\u201d ({where})"
        return f"interpretation of {where} (not a quote): {self.text}"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    when: Expr
    effect: Effect
    reason_id: Text  # Indonesian
    reason_en: Text  # English
    source: str  # the rule's citation as shown with its reasons (str(citation))
    shareable: bool | None  # may a training centre see this rule's reason (None: not said; see the checker)
    loc: Location  # where the rule starts
    id_loc: Location
    citation: Citation | None = None
    effective_from: date | None = None  # the rule's own dates (within its ruleset's), `effective:` of the rule
    effective_until: date | None = None  # inclusive
    effective_loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Retired:
    """A rule the previous version of a ruleset had and this one drops on purpose."""

    id: str
    reason: str
    loc: Location


@dataclass(frozen=True, slots=True)
class Ruleset:
    name: str
    title: str
    source: str  # citation of the document the rules come from
    effective_from: date | None
    effective_until: date | None  # inclusive
    rules: tuple[Rule, ...]
    file: str
    loc: Location
    retired: tuple[Retired, ...] = ()

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_until is None or on <= self.effective_until
        )


@dataclass(frozen=True, slots=True)
class ParamValue:
    """A parameter's value from a date on (until the next value's date)."""

    start: date
    value: int | float | str | bool | date
    loc: Location
    citation: Citation | None = None  # where this value comes from, when not the parameter's own source


@dataclass(frozen=True, slots=True)
class Parameter:
    """A named value of the rules that changes by date (OpenFisca-style), read as ``param.NAME``."""

    name: str  # "min_age"
    description_id: str
    description_en: str
    citation: Citation | None
    values: tuple[ParamValue, ...]  # by date, earliest first
    loc: Location
    file: str

    @property
    def ref(self) -> str:
        return f"param.{self.name}"

    def value_on(self, day: date) -> int | float | str | bool | date | None:
        """The value in force on ``day``; None before the first date."""
        current = None
        for item in self.values:
            if item.start > day:
                break
            current = item.value
        return current

    def changes(self) -> tuple[date, ...]:
        return tuple(v.start for v in self.values)


DECLARED_TYPES = ("bool", "integer", "decimal", "date", "enum", "string")
SENSITIVITIES = ("bnn_only", "shareable")  # who may learn a fact: BNN only (the default), or a training centre too


@dataclass(frozen=True, slots=True)
class FactDecl:
    """A fact the rules folder declares beyond the API's own (``facts:`` file), e.g. ``client.dependants``."""

    name: str  # "client.dependants"
    type: str  # one of DECLARED_TYPES
    description_id: str
    description_en: str
    sensitivity: str  # one of SENSITIVITIES
    values: tuple[str, ...]  # enum: the values it may take
    minimum: int | float | None  # integer, decimal: the range a value must lie in (inclusive)
    maximum: int | float | None
    loc: Location  # the declaration
    name_loc: Location  # its name

    @property
    def kind(self) -> str:
        return self.name.split(".", 1)[0]


def in_force(ruleset: Ruleset, rule: Rule) -> tuple[date | None, date | None]:
    """The dates a rule is in force: its own ``effective:`` within its ruleset version's (None: open)."""
    starts = [d for d in (ruleset.effective_from, rule.effective_from) if d is not None]
    untils = [d for d in (ruleset.effective_until, rule.effective_until) if d is not None]
    return (max(starts) if starts else None), (min(untils) if untils else None)


@dataclass(frozen=True, slots=True)
class CourseEntry:
    code: str
    facts: dict[str, Any]  # raw YAML values, validated by bekal.facts.parse_facts
    loc: Location
    field_locs: dict[str, Location]  # field name -> Location, to point at a bad value


@dataclass(frozen=True, slots=True)
class RuleTestCase:
    """A rule test as staff write it: facts and a date in, the expected decision out."""

    name: str
    as_of: date
    client: dict[str, Any]
    course: dict[str, Any] | str  # inline course facts, or a catalogue code
    expect_outcome: str
    expect_priority: int | None
    expect_reasons: tuple[str, ...] | None  # rule ids, any order; None = not checked
    expect_missing: tuple[str, ...] | None
    loc: Location
    file: str
    client_locs: dict[str, Location] = field(default_factory=dict)  # client field -> Location of its value
    course_loc: Location | None = None
    course_locs: dict[str, Location] = field(default_factory=dict)  # inline course field -> Location
    reasons_loc: Location | None = None
    missing_loc: Location | None = None

    def client_at(self, field_name: str) -> Location:
        return self.client_locs.get(field_name, self.loc)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One parsed file of a rules directory."""

    path: str
    text: str
    rulesets: tuple[Ruleset, ...] = ()
    courses: tuple[CourseEntry, ...] = ()
    tests: tuple[RuleTestCase, ...] = ()
    kind: str = field(default="ruleset")  # "ruleset", "courses", "tests", "parameters" or "facts"
    parameters: tuple[Parameter, ...] = ()
    facts: tuple[FactDecl, ...] = ()
