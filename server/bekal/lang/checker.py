"""Check parsed rule files against the fact schema and durable_rules' limits.

Everything an author can get wrong that the YAML shape does not show: unknown
facts (with a did-you-mean), type mismatches, enum values that do not exist,
duplicate rule ids, bad patterns, conditions durable_rules cannot express, and
rulesets too large for one durable_rules event. Each problem is a Diagnostic at
its ``file:line:col``; nothing here knows how rules are executed.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from bekal import facts as schema
from bekal.lang import ast
from bekal.lang.diagnostics import Diagnostic, Location
from bekal.lang.patterns import MAX_LENGTH, pattern_error
from bekal.lang.templates import brace_problems, placeholders

MAX_EVENT_PROPERTIES = 255  # durable_rules: properties per event
MAX_RULE_EXPRESSIONS = 32  # durable_rules: expressions per rule
RESERVED_PROPERTIES = 4  # tag, index, sid, as-of day: added by the engine to every event

ORDERED = {schema.NUMBER, schema.DATE}
MAX_NUMBER = 10**15  # larger numbers lose whole-number precision as doubles
MAX_CONTAINS = MAX_LENGTH - 4  # `contains "x"` runs as the pattern .*x.*


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return schema.BOOL
    if isinstance(value, (int, float)):
        return schema.NUMBER
    if isinstance(value, date):
        return schema.DATE
    return schema.STRING


class _Checker:
    def __init__(self, facts: Mapping[str, schema.Fact]):
        self.facts = facts
        self.out: list[Diagnostic] = []

    def error(self, loc: Location, message: str, hint: str | None = None) -> None:
        self.out.append(Diagnostic(loc, message, hint))

    # ------------------------------------------------------------ values

    def fact(self, ref: ast.FactRef) -> schema.Fact | None:
        fact = self.facts.get(ref.name)
        if fact is None:
            kind = ref.name.split(".", 1)[0]
            if kind not in ("client", "course"):
                self.error(ref.loc, f"unknown fact {ref.name!r}", "facts start with client. or course.")
            else:
                close = schema.suggest(ref.name, list(self.facts))
                self.error(ref.loc, f"unknown fact {ref.name!r}",
                           f"did you mean {close!r}?" if close
                           else "the facts are listed in docs/rules.md, section Facts")
        return fact

    def value_type(self, node: ast.Value) -> str | None:
        """The type of a value, or None when an error was already reported."""
        if isinstance(node, ast.FactRef):
            fact = self.fact(node)
            return None if fact is None else fact.type
        if isinstance(node, ast.Literal):
            self.exact(node, node.value)
            return _literal_type(node.value)
        if isinstance(node, ast.Arith):
            self.exact(node, _constant(node))
            left, right = self.value_type(node.left), self.value_type(node.right)
            for side, t in ((node.left, left), (node.right, right)):
                if t is not None and t != schema.NUMBER:
                    self.error(_loc(side), f"arithmetic needs numbers, this is a {t}",
                               "for dates use the derived day counts, e.g. client.days_since_rehab")
                    return None
            if node.op == "/" and _constant(node.right) == 0:  # also (2 - 2): the compiler folds constants
                self.error(node.right.loc, "division by zero")
            return schema.NUMBER if left and right else None
        self.error(_loc(node), "a condition cannot be used as a value")
        return None

    def exact(self, node: ast.Literal | ast.Arith, value: object) -> None:
        """A number the compiled rule carries must reach durable_rules exactly: in plain notation
        (it misreads 1e-05 and 1e16) and within MAX_NUMBER."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if not math.isfinite(value) or abs(value) > MAX_NUMBER or "e" in repr(float(value)) and value != 0:
            self.error(node.loc, f"the number {value!r} cannot be handed to durable_rules exactly",
                       f"use numbers between 0.0001 and {MAX_NUMBER:,.0f} (and 0), written out plainly")

    def enum_literal(self, fact: schema.Fact, lit: ast.Literal) -> None:
        if fact.type == schema.ENUM and isinstance(lit.value, str) and lit.value not in fact.values:
            close = schema.suggest(lit.value, list(fact.values))
            self.error(lit.loc, f"{fact.name} has no value {lit.value!r}",
                       (f"did you mean {close!r}? " if close else "") + "values: " + ", ".join(fact.values))

    def comparable(self, a: str, b: str) -> bool:
        text = {schema.STRING, schema.ENUM}
        return a == b or (a in text and b in text)

    # ------------------------------------------------------------ conditions

    def condition(self, node: ast.Expr, negated: bool = False) -> None:
        if isinstance(node, (ast.And, ast.Or)):
            for item in node.items:
                self.condition(item, negated)
        elif isinstance(node, ast.Not):
            self.condition(node.item, not negated)
        elif isinstance(node, ast.Compare):
            self.compare(node)
        elif isinstance(node, ast.In):
            self.in_(node)
        elif isinstance(node, ast.Exists):
            if not isinstance(node.value, ast.FactRef):
                self.error(node.loc, "'exists' applies to a fact, e.g. client.interview_score exists")
            else:
                self.fact(node.value)
        elif isinstance(node, ast.Match):
            self.match(node, negated)
        else:  # a bare value used as a condition
            t = self.value_type(node)
            if t is not None and t != schema.BOOL:
                self.error(_loc(node), f"a {t} is not a condition",
                           "compare it, e.g. client.age >= 18, or test it with 'exists'")
            elif t is not None and not isinstance(node, ast.FactRef):
                self.error(_loc(node), "a constant is not a condition")

    def compare(self, node: ast.Compare) -> None:
        lt, rt = self.value_type(node.left), self.value_type(node.right)
        if not isinstance(node.left, ast.FactRef) and not isinstance(node.right, ast.FactRef):
            if isinstance(node.left, ast.Literal) and isinstance(node.right, ast.Literal):
                self.error(node.loc, "this compares two constants")
            else:
                self.error(node.loc, "one side of a comparison must be a single fact",
                           "move the arithmetic to the other side, e.g. client.age >= course.min_age + 2")
            return
        if lt is None or rt is None:
            return
        if not self.comparable(lt, rt):
            self.error(node.loc, f"cannot compare {_a(lt)} with {_a(rt)}")
            return
        if node.op not in ("==", "!=") and lt not in ORDERED:
            self.error(node.loc, f"'{node.op}' needs numbers or dates; a {lt} can only be compared with == or !=",
                       "for education use the number client.education_level" if lt == schema.ENUM else None)
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(side, ast.FactRef) and isinstance(other, ast.Literal) and side.name in self.facts:
                self.enum_literal(self.facts[side.name], other)

    def in_(self, node: ast.In) -> None:
        t = self.value_type(node.value)
        if not isinstance(node.value, ast.FactRef):
            self.error(node.loc, "'in' applies to a fact, e.g. client.education in [\"sma\", \"smk\"]")
            return
        if not node.items:
            self.error(node.loc, "empty list after 'in'")
            return
        if t is None:
            return
        fact = self.facts[node.value.name]
        for item in node.items:
            it = _literal_type(item.value)
            if not self.comparable(t, it):
                self.error(item.loc, f"{fact.name} is a {t}, this is a {it}")
            else:
                self.enum_literal(fact, item)

    def match(self, node: ast.Match, negated: bool) -> None:
        t = self.value_type(node.value)
        if not isinstance(node.value, ast.FactRef):
            self.error(node.loc, f"'{node.op}' applies to a fact")
        elif t is not None and t not in (schema.STRING, schema.ENUM):
            self.error(node.loc, f"'{node.op}' needs text, {node.value.name} is a {t}")
        if negated:
            self.error(node.loc, f"durable_rules cannot negate '{node.op}'",
                       "write the rule the other way round, with a positive match")
        if node.op == "matches":
            problem = pattern_error(node.pattern)
            if problem:
                offset, message = problem
                loc = node.pattern_loc
                self.error(Location(loc.file, loc.line, loc.col + 1 + offset), f"bad pattern: {message}",
                           "patterns use durable_rules' dialect: %d digit, %a letter, . any, * + ? repeats; "
                           "see the safe subset in the rule authors' guide")
        elif not node.pattern:
            self.error(node.pattern_loc, "empty text after 'contains'")
        elif len(node.pattern) > MAX_CONTAINS:
            self.error(node.pattern_loc, f"text after 'contains' is longer than {MAX_CONTAINS} characters")

    # ------------------------------------------------------------ rules

    def rule(self, rule: ast.Rule) -> None:
        self.condition(rule.when)
        size = _expressions(rule.when)
        if size > MAX_RULE_EXPRESSIONS:
            self.error(_loc(rule.when),
                       f"condition has {size} comparisons; durable_rules allows {MAX_RULE_EXPRESSIONS}",
                       "split it into several rules")
        for text in (rule.reason_id, rule.reason_en):
            for name in placeholders(text.value):
                if name not in self.facts:
                    close = schema.suggest(name, list(self.facts))
                    self.error(text.loc, f"reason mentions unknown fact {{{name}}}",
                               f"did you mean {{{close}}}?" if close else None)
            for _offset, problem in brace_problems(text.value):
                self.error(text.loc, f"reason: {problem}",
                           "facts are shown with {client.age}; a brace on its own cannot be written")


def _a(type_name: str) -> str:
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _constant(node: object) -> int | float | None:
    """The value of a number expression without facts, e.g. ``(2 - 2)``; None when it reads a fact."""
    if isinstance(node, ast.Literal):
        return node.value if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) else None
    if isinstance(node, ast.Arith):
        a, b = _constant(node.left), _constant(node.right)
        if a is None or b is None or (node.op == "/" and b == 0):
            return None
        result: int | float = {"+": operator.add, "-": operator.sub, "*": operator.mul,
                               "/": operator.truediv}[node.op](a, b)
        return result
    return None


def _loc(node: object) -> Location:
    loc = getattr(node, "loc", None)
    return loc if isinstance(loc, Location) else Location("", 0, 0)


def _expressions(node: ast.Expr) -> int:
    if isinstance(node, (ast.And, ast.Or)):
        return sum(_expressions(i) for i in node.items)
    if isinstance(node, ast.Not):
        return _expressions(node.item)
    if isinstance(node, ast.In):
        return max(1, len(node.items))
    return 1


def _versions(c: _Checker, name: str, versions: list[ast.Ruleset]) -> None:
    """The versions of one ruleset cover every date from the first one's start to the last one's end,
    once each, and a version drops a rule of its predecessor only by listing it under ``retired:``
    (in the first version, ``retired:`` names rules dropped since the version that served before;
    ``bekal.rulebook.reload_problems`` holds a hot reload to it).
    A gap would leave the ruleset out of force on some dates (they are refused, but the author meant
    none); an overlap would make a date's rules ambiguous; a silently dropped rule is a rule lost."""
    ordered = sorted(versions, key=lambda r: r.effective_from or date.min)
    for version in ordered:
        now = {r.id for r in version.rules}
        for item in version.retired:
            if item.id in now:
                c.error(item.loc, f"retired rule {item.id!r} is still in this version")
    for a, b in zip(ordered, ordered[1:]):
        if a.effective_until is None or b.effective_from is None or b.effective_from <= a.effective_until:
            c.error(b.loc, f"ruleset {name!r} in {b.file} overlaps its version in {a.file} ({a.loc}): "
                    "a date would have two versions",
                    "give the versions effective dates that do not overlap: the later one starts the day "
                    "after the earlier one ends")
            continue
        day_after = a.effective_until + timedelta(days=1)
        if b.effective_from > day_after:
            c.error(b.loc, f"ruleset {name!r} is not in force from {day_after} to "
                    f"{b.effective_from - timedelta(days=1)}: {a.file} ends on {a.effective_until}, "
                    f"{b.file} starts on {b.effective_from}",
                    f"let {b.file} start on {day_after}, or {a.file} end on {b.effective_from - timedelta(days=1)}")
        before = {r.id for r in a.rules}
        now = {r.id for r in b.rules}
        retired = {item.id for item in b.retired}
        dropped = sorted(before - now - retired)
        if dropped:
            c.error(b.loc, f"this version of ruleset {name!r} drops rule(s) {', '.join(dropped)} of {a.file}",
                    "keep them, or list each under 'retired:' with a reason, e.g. "
                    f"retired: [{{id: {dropped[0]}, reason: ...}}]")
        for item in b.retired:
            if item.id not in before and item.id not in now:
                c.error(item.loc, f"retired rule {item.id!r} is not in the previous version ({a.file})")


def check_rulesets(rulesets: Iterable[ast.Ruleset], facts: Mapping[str, schema.Fact] | None = None) -> list[Diagnostic]:
    """Every problem in a set of rulesets that are loaded together."""
    c = _Checker(schema.SCHEMA if facts is None else facts)
    seen_ids: dict[str, tuple[ast.Ruleset, ast.Rule]] = {}
    by_name: dict[str, list[ast.Ruleset]] = {}
    referenced: set[str] = set()  # all rulesets run in one durable_rules event, so they share its limit
    too_many = False
    for ruleset in rulesets:
        by_name.setdefault(ruleset.name, []).append(ruleset)
        for rule in ruleset.rules:
            # Versions of one ruleset (other effective dates) may reuse ids; nothing else may.
            first = seen_ids.get(rule.id)
            if first is not None and (first[0] is ruleset or first[0].name != ruleset.name):
                c.error(rule.id_loc, f"duplicate rule id {rule.id!r} (first at {first[1].id_loc})",
                        "every rule id must be unique across the rules directory")
            seen_ids.setdefault(rule.id, (ruleset, rule))
            c.rule(rule)
            referenced.update(r.name for r in ast.facts_in(rule.when))
        if len(referenced) + RESERVED_PROPERTIES > MAX_EVENT_PROPERTIES and not too_many:
            too_many = True
            c.error(ruleset.loc, f"the rules read {len(referenced)} facts; one durable_rules event holds at most "
                    f"{MAX_EVENT_PROPERTIES - RESERVED_PROPERTIES}", "read fewer distinct facts")
    for name, versions in by_name.items():
        _versions(c, name, versions)
    return c.out
