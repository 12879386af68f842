"""Compile checked rulesets into one durable_rules ruleset (its JSON/dict form).

Input is the syntax tree (``bekal.lang.ast``), output a ``CompiledRules``: the
durable_rules definition (without actions; the engine binds those) plus what the
engine needs to turn fired rules back into decisions. Nothing here knows YAML.

How the three-valued outcome is kept honest. durable_rules never fires a
comparison on an absent property, so a rule like ``client.age <= 18`` would stay
silent for a client without a birth date, and the client would look eligible. For
every ``ineligible``/``pending`` rule the compiler therefore emits a second durable
rule, its *missing check*, which fires when the rule cannot be decided: none of
the rule's top-level ``and`` parts is known to be false, and some fact the rule
needs is absent. A fact tested only with ``exists`` is not needed (the author
handled its absence), so ``course.min_age exists and client.age < course.min_age``
does not wait for a course without a minimum age, but does wait for a client's
birth date when the course has one.

Evidence that every rule judged every pair. A rule that stays silent for a pair
normally means "does not apply", but durable_rules also stays silent when it could
not read the event (measured: a number written ``1e-05`` makes it match nothing
for that event and every later one in the batch), and a comparison with NaN is
neither true nor false, so neither the rule nor its missing check fires. Silence
must never become ELIGIBLE, so the compiler emits *judges*, durable rules whose
firing for an event is the proof the engine requires before it decides (a pair
without it is refused, see ``bekal.engine``):

- the *marker* (judge 0) fires for every event durable_rules has read;
- every rule with a comparison that can be neither true nor false gets a judge
  that fires once durable_rules evaluated it to "applies", "does not apply" or
  "a needed fact is absent" (``C or not C or a needed fact is absent``), packed
  as tightly as durable_rules' size limit allows, one group per effective window.

Which comparisons can be neither: facts reach durable_rules validated (finite
numbers within their ranges in plain notation, text, true/false, day numbers;
``bekal.facts``) and a comparison of such values is two-valued (the differential
tests check this across every magnitude). Only arithmetic with a division by a
fact can make NaN inside a rule (``0 / 0``, and from an infinity ``inf - inf``),
so rules with such a division are the ones judged one by one. Per-rule judges for
every rule were measured too: durable_rules fires a rule once per satisfied
alternative of its ``or``s, and they cost a third of the engine's throughput.

Every event carries a tag and an index; every durable rule tests the tag, which
also keeps the session-state messages durable_rules posts after each action from
matching rules with only negative conditions (measured: they loop forever).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bekal.facts import Fact
from bekal.lang import ast
from bekal.lang.checker import shareable
from bekal.lang.patterns import literal_pattern
from bekal.lang.templates import TEMPLATE_RE, placeholders

Cond = dict[str, Any]  # a durable_rules condition in its JSON form
TAG = "_t"  # every event: {TAG: 1}
INDEX = "_i"  # event index within a batch: which decision a fired rule belongs to
AS_OF = "_d"  # decision date as a day number, present when some ruleset has effective dates
EPOCH = date(1970, 1, 1).toordinal()

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}


def event_keys(names: Sequence[str]) -> dict[str, str]:
    """Event property per fact or parameter a compiled version reads: short (``f0``, ``f1``, ... in name
    order), since durable_rules parses every event and echoes each one it matched back in its action
    messages, and spelled-out names (``client_written_test_score``) made events twice as long
    (measured: ~12% of durable_rules' time per pair). Flat, since nested lookups cost more in the engine.
    Never one of the engine's own properties (``_t``, ``_i``, ``_d``, ``id``, ``sid``)."""
    return {name: f"f{k}" for k, name in enumerate(sorted(set(names)))}


def day_number(value: date) -> int:
    return value.toordinal() - EPOCH


def encode(value: Any) -> Any:
    """A fact value as durable_rules compares it: dates become day numbers."""
    return day_number(value) if isinstance(value, date) else value


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One source rule and what the engine needs to explain it."""

    index: int
    id: str
    ruleset: str
    description: str
    effect: str  # "ineligible", "pending" or "priority"
    points: int
    reason_id: str
    reason_en: str
    source: str
    shareable: bool
    location: str  # "file:line:col"
    facts: tuple[str, ...]  # every fact the condition reads, in source order
    needs: tuple[str, ...]  # facts whose absence leaves the rule undecided (see module docstring)
    shown: tuple[str, ...]  # facts its reason shows: those it reads, then those its messages mention
    effective_from: date | None
    effective_until: date | None
    when: ast.Expr
    params: tuple[str, ...] = ()  # the parameters its condition reads ("param.min_age")
    periods: tuple[tuple[date | None, date | None], ...] = ()  # its versions in force: dates, parameters fixed

    @property
    def effect_text(self) -> str:
        return f"priority {self.points:+d}" if self.effect == "priority" else self.effect

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_until is None or on <= self.effective_until
        )


@dataclass(frozen=True, slots=True)
class Judge:
    """A durable rule that fires for an event once each of ``rules`` has judged it (module docstring)."""

    index: int
    rules: tuple[int, ...]  # indexes of the CompiledRules it vouches for; none for the marker
    effective_from: date | None  # the window its rules share
    effective_until: date | None

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_until is None or on <= self.effective_until
        )


@dataclass(frozen=True, slots=True)
class Version:
    """One dated version of a ruleset: a name is in force on a date when one of its versions is."""

    name: str
    effective_from: date | None
    effective_until: date | None

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_until is None or on <= self.effective_until
        )


FIRED, MISSING, JUDGED = "fired", "missing", "judged"


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """A durable_rules definition for all rules loaded together, and their metadata."""

    name: str  # durable ruleset name, unique per content: hot reload registers a new name
    definition: dict[str, dict[str, Any]]  # durable rule name -> {"all": [...]} (no "run" yet)
    rules: tuple[CompiledRule, ...]
    actions: dict[str, tuple[str, int]]  # durable rule name -> (FIRED | MISSING, rule index) or (JUDGED, judge)
    client_facts: tuple[str, ...]  # facts of each kind the rules read: only these go into events
    course_facts: tuple[str, ...]
    dated: bool  # does any rule have effective dates (then events carry AS_OF)
    judges: tuple[Judge, ...] = ()
    versions: tuple[Version, ...] = ()
    parameters: Mapping[str, ast.Parameter] = field(default_factory=dict)  # "param.min_age" -> Parameter
    param_reads: tuple[str, ...] = ()  # parameters the conditions read: only these go into events
    reads: tuple[str, ...] = ()  # every fact the conditions read, of any kind (monitoring's enrolment.* too)
    keys: Mapping[str, str] = field(default_factory=dict)  # fact or parameter -> its event property (event_keys)

    def param_values(self, on: date) -> dict[str, Any]:
        """Every parameter's value in force on ``on`` ("param.min_age" -> 18); absent before its first date."""
        out = {}
        for name, param in self.parameters.items():
            value = param.value_on(on)
            if value is not None:
                out[name] = value
        return out

    def not_in_force(self, on: date) -> tuple[str, ...]:
        """Names of the rulesets that exist but have no version in force on ``on`` (nothing is
        decided on such a date: a missing ruleset would silently let clients through)."""
        names = dict.fromkeys(v.name for v in self.versions)
        return tuple(n for n in names if not any(v.in_force(on) for v in self.versions if v.name == n))

    def judges_in_force(self, on: date) -> tuple[Judge, ...]:
        return tuple(j for j in self.judges if j.in_force(on))


class _Conditions:
    """Expressions -> durable_rules condition objects; facts and parameters read as ``keys`` (:func:`event_keys`)."""

    def __init__(self, keys: Mapping[str, str]):
        self.key = keys.__getitem__

    def value(self, node: ast.Value) -> Any:
        if isinstance(node, ast.Literal):
            return encode(node.value)
        if isinstance(node, (ast.FactRef, ast.ParamRef)):
            return {"$m": self.key(node.name)}
        left, right = self.value(node.left), self.value(node.right)
        if not isinstance(left, dict) and not isinstance(right, dict):  # fold constants
            return {"+": lambda a, b: a + b, "-": lambda a, b: a - b,
                    "*": lambda a, b: a * b, "/": lambda a, b: a / b}[node.op](left, right)
        if node.op == "/":  # durable_rules divides two integers as C ints: 45 / 2 == 22, and x / 0 kills
            # the process (SIGFPE). Make the dividend a float: true division, and x / 0 is inf, not a crash.
            left = {"$mul": {"$l": left, "$r": 1.0}} if isinstance(left, dict) else float(left)
        return {_ARITH[node.op]: {"$l": left, "$r": right}}

    def compare(self, op: str, left: ast.Value, right: ast.Value) -> Cond:
        if not isinstance(left, ast.FactRef):  # the checker guarantees a fact on one side
            left, right, op = right, left, _FLIP[op]
        key = self.key(left.name)  # type: ignore[union-attr]
        rhs = self.value(right)
        test = {key: rhs} if op == "==" else {_OPS[op]: {key: rhs}}
        # durable_rules evaluates a {"$m": prop} operand of an absent prop to uninitialised memory
        # (events.c isAlphaMatch ignores ERR_PROPERTY_NOT_FOUND), so the test may fire at random:
        # test first that every fact it reads on that side is there.
        read = [r.name for r in ast.facts_in(right)] + [r.name for r in ast.params_in(right)]
        present = [{"$ex": {self.key(n): 1}} for n in _unique(read)]
        return _join("$and", [*present, test]) if present else test

    def build(self, node: ast.Expr, negated: bool = False) -> Cond:
        """durable condition for ``node`` (or for ``not node``), pushing negation down to the leaves."""
        if isinstance(node, ast.Not):
            return self.build(node.item, not negated)
        if isinstance(node, (ast.And, ast.Or)):
            op = "$and" if isinstance(node, ast.And) != negated else "$or"
            return _join(op, [self.build(i, negated) for i in node.items])
        if isinstance(node, ast.Compare):
            return self.compare(_NEGATE[node.op] if negated else node.op, node.left, node.right)
        if isinstance(node, ast.In):
            key = self.key(node.value.name)  # type: ignore[union-attr]
            if node.negated != negated:
                return _join("$and", [{"$neq": {key: encode(i.value)}} for i in node.items])
            return _join("$or", [{key: encode(i.value)} for i in node.items])
        if isinstance(node, ast.Exists):
            op = "$nex" if node.negated != negated else "$ex"
            return {op: {self.key(node.value.name): 1}}  # type: ignore[union-attr]
        if isinstance(node, ast.Match):  # the checker rejects a negated match
            return {("$mt" if node.op == "matches" else "$imt"): {self.key(node.value.name): durable_pattern(node)}}  # type: ignore[union-attr]
        # a bare boolean fact
        return {self.key(node.name): not negated}  # type: ignore[union-attr]


def durable_pattern(node: ast.Match) -> str:
    """The durable_rules pattern of ``matches "p"`` (p itself) or ``contains "t"`` (t anywhere, any case: $imt)."""
    return node.pattern if node.op == "matches" else ".*" + literal_pattern(node.pattern) + ".*"


MAX_EXPRESSION_ENTRIES = 31  # durable_rules (rete.c MAX_SEQUENCE_EXPRESSIONS): entries of one rule's sequence


def expression_entries(condition: Any) -> int:
    """The entries a durable condition takes in its rule's expression sequence: 2 for every
    $and/$or group and 1 for every comparison whose right side reads a fact ($m, arithmetic);
    a comparison with a constant takes none."""
    total = 0
    for key, value in condition.items():
        if key in ("$and", "$or"):
            total += 2 + sum(expression_entries(item) for item in value)
        elif key.startswith("$"):
            total += sum(1 for rhs in value.values() if isinstance(rhs, dict))
        elif isinstance(value, dict):
            total += 1
    return total


def _join(op: str, items: list[Cond]) -> Cond:
    flat: list[Cond] = []
    for item in items:
        flat.extend(item[op] if set(item) == {op} else [item])
    return flat[0] if len(flat) == 1 else {op: flat}


def _conjuncts(node: ast.Expr) -> list[ast.Expr]:
    return list(node.items) if isinstance(node, ast.And) else [node]


def _needed(node: ast.Expr) -> list[str]:
    """Facts ``node`` needs to be decided: all it reads except those only tested with ``exists``."""
    if isinstance(node, ast.Exists):
        return []
    if isinstance(node, (ast.And, ast.Or)):
        return [n for item in node.items for n in _needed(item)]
    if isinstance(node, ast.Not):
        return _needed(node.item)
    return [r.name for r in ast.facts_in(node)]


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _window(start: date | None, until: date | None) -> list[Cond]:
    out = []
    if start:
        out.append({"$gte": {AS_OF: day_number(start)}})
    if until:
        out.append({"$lte": {AS_OF: day_number(until)}})
    return out


def periods(start: date | None, until: date | None, changes: Sequence[date]) -> tuple[tuple[date | None,
                                                                                         date | None], ...]:
    """``[start, until]`` cut at each date in ``changes`` (a parameter's new value): the rule's versions in force."""
    cuts = sorted({d for d in changes if (start is None or d > start) and (until is None or d <= until)})
    bounds: list[date | None] = [start, *cuts]
    out = []
    for i, begin in enumerate(bounds):
        end = until if i + 1 == len(bounds) else date.fromordinal(cuts[i].toordinal() - 1)
        out.append((begin, end))
    return tuple(out)


def _missing_check(cond: _Conditions, rule: ast.Rule, guard: list[Cond]) -> Cond | None:
    """durable condition: no top-level part of the rule is known false, and a needed fact is absent."""
    parts = []
    absent: list[Cond] = []
    for conj in _conjuncts(rule.when):
        needs = _unique(_needed(conj))
        if not needs:
            parts.append(cond.build(conj))  # an exists-guard: must hold for the rule to apply at all
            continue
        missing = [{"$nex": {cond.key(n): 1}} for n in needs]
        parts.append(_join("$or", [cond.build(conj), *missing]))  # true, or not known
        absent.extend(missing)
    if not absent:
        return None
    unique_absent = list({json.dumps(a, sort_keys=True): a for a in absent}.values())
    return _join("$and", [*guard, *parts, _join("$or", unique_absent)])


def _judged(cond: _Conditions, rule: ast.Rule) -> Cond:
    """durable condition true when the rule applies, does not apply, or lacks a needed fact:
    what a judge requires of each of its rules."""
    absent = [{"$nex": {cond.key(n): 1}} for n in _unique(_needed(rule.when))]
    return _join("$or", [cond.build(rule.when), cond.build(rule.when, negated=True), *absent])


def _fallible(node: object) -> bool:
    """Can a comparison under ``node`` be neither true nor false? Only through a division by a fact."""
    if isinstance(node, ast.Arith):
        return (node.op == "/" and bool(ast.facts_in(node.right))) or _fallible(node.left) or _fallible(node.right)
    if isinstance(node, ast.Compare):
        return _fallible(node.left) or _fallible(node.right)
    if isinstance(node, (ast.And, ast.Or)):
        return any(_fallible(item) for item in node.items)
    if isinstance(node, ast.Not):
        return _fallible(node.item)
    return False  # a fact, a constant, in, exists, matches: two-valued on validated input


def _judges(cond: _Conditions, rulesets: Sequence[ast.Ruleset]) -> list[tuple[Judge, Cond]]:
    """The marker, then the rules whose verdict durable_rules could withhold, packed into as few
    judges as the size limit allows, one group per effective window (a judge is expected exactly
    when its window holds the decision date)."""
    out: list[tuple[Judge, Cond]] = [(Judge(0, (), None, None), {TAG: 1})]
    by_window: dict[tuple[date | None, date | None], list[tuple[int, ast.Ruleset, ast.Rule]]] = {}
    index = 0
    for ruleset in rulesets:
        for rule in ruleset.rules:
            if _fallible(rule.when):
                by_window.setdefault(ast.in_force(ruleset, rule), []).append((index, ruleset, rule))
            index += 1
    for (start, until), members in by_window.items():
        guard = [{TAG: 1}, *_window(start, until)]
        groups: list[list[tuple[int, Cond]]] = [[]]
        for rule_index, _ruleset, rule in members:
            part = (rule_index, _judged(cond, rule))
            grown = _join("$and", [*guard, *[p for _, p in groups[-1]], part[1]])
            if groups[-1] and expression_entries(grown) > MAX_EXPRESSION_ENTRIES:
                groups.append([])
            groups[-1].append(part)
        for group in groups:
            judge = Judge(len(out), tuple(i for i, _ in group), start, until)
            out.append((judge, _join("$and", [*guard, *[p for _, p in group]])))
    return out


def compile_rulesets(rulesets: Sequence[ast.Ruleset], version: str, parameters: Sequence[ast.Parameter] = (),
                     facts: Mapping[str, Fact] | None = None, missing_checks: bool = True) -> CompiledRules:
    """Compile checked rulesets (``bekal.lang.checker`` found no problem) into one durable ruleset.
    ``facts``: the facts rules may read (declared ones too), for each rule's sensitivity.

    ``missing_checks=False`` leaves out the missing checks: for monitoring rules
    (:mod:`bekal.monitoring.rules`), where a rule that cannot be decided simply raises nothing
    (no alert without the records that show it), so those durable rules would only cost time.
    The rules themselves and the judges are the same either way: one lowering for both."""
    whens = [rule.when for ruleset in rulesets for rule in ruleset.rules]
    keys = event_keys([f.name for w in whens for f in ast.facts_in(w)]
                      + [p.name for w in whens for p in ast.params_in(w)])
    cond = _Conditions(keys)
    definition: dict[str, dict[str, Any]] = {}
    actions: dict[str, tuple[str, int]] = {}
    compiled: list[CompiledRule] = []
    read: list[str] = []
    params_read: list[str] = []
    by_ref = {p.ref: p for p in parameters}
    dated = False
    for ruleset in rulesets:
        for rule in ruleset.rules:
            start, until = ast.in_force(ruleset, rule)
            window = _window(start, until)
            dated = dated or bool(window)
            index = len(compiled)
            names = _unique([r.name for r in ast.facts_in(rule.when)])
            params = _unique([r.name for r in ast.params_in(rule.when)])
            params_read.extend(params)
            guard = [{TAG: 1}, *window]
            definition[f"r{index}"] = {"all": [{"m": _join("$and", [*guard, cond.build(rule.when)])}]}
            actions[f"r{index}"] = (FIRED, index)
            # priority rules too: a priority that cannot be decided is named, never silently 0
            missing = _missing_check(cond, rule, guard) if missing_checks else None
            if missing is not None:
                definition[f"m{index}"] = {"all": [{"m": missing}]}
                actions[f"m{index}"] = (MISSING, index)
            read.extend(names)
            compiled.append(CompiledRule(
                index=index, id=rule.id, ruleset=ruleset.name, description=rule.description,
                effect=rule.effect.kind, points=rule.effect.points, reason_id=rule.reason_id.value,
                reason_en=rule.reason_en.value, source=rule.source, shareable=shareable(rule, facts),
                location=str(rule.loc), facts=names, needs=_unique(_needed(rule.when)),
                shown=_unique([*names, *params, *placeholders(rule.reason_id.value),
                               *placeholders(rule.reason_en.value)]),
                effective_from=start, effective_until=until, when=rule.when, params=params,
                periods=periods(start, until, [d for p in params if p in by_ref for d in by_ref[p].changes()]),
            ))
    judges = []
    for judge, condition in _judges(cond, rulesets):
        definition[f"j{judge.index}"] = {"all": [{"m": condition}]}
        actions[f"j{judge.index}"] = (JUDGED, judge.index)
        judges.append(judge)
    read_unique = _unique(read)
    digest = hashlib.sha256(version.encode()).hexdigest()[:16]
    return CompiledRules(
        name=f"bekal_{digest}",
        definition=definition,
        rules=tuple(compiled),
        actions=actions,
        client_facts=tuple(n for n in read_unique if n.startswith("client.")),
        course_facts=tuple(n for n in read_unique if n.startswith("course.")),
        dated=dated,
        judges=tuple(judges),
        versions=tuple(Version(r.name, r.effective_from, r.effective_until) for r in rulesets),
        parameters=by_ref,
        param_reads=_unique(params_read),
        reads=read_unique,
        keys=keys,
    )


def render(template: str, values: dict[str, Any]) -> str:
    """Fill ``{client.age}``-style placeholders of a reason with the facts' values."""
    return TEMPLATE_RE.sub(lambda m: _display(values.get(m.group(1))), template)


def _display(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
