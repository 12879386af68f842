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
from bekal.i18n import N_, _, window
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


def param_type(param: ast.Parameter) -> str | None:
    """The type of a parameter's values (whole and decimal numbers mix as numbers); None when they differ."""
    types = {_literal_type(v.value) for v in param.values}
    return types.pop() if len(types) == 1 else None




class _Checker:
    def __init__(self, facts: Mapping[str, schema.Fact], params: Mapping[str, ast.Parameter] | None = None):
        self.facts = facts
        self.params = dict(params or {})  # "param.min_age" -> Parameter
        self.out: list[Diagnostic] = []
        self.window: tuple[date | None, date | None] = (None, None)  # the dates it is in force

    def param(self, ref: ast.ParamRef) -> ast.Parameter | None:
        """The parameter ``ref`` names, if it has a value on every date the rule is in force."""
        param = self.params.get(ref.name)
        if param is None:
            close = schema.suggest(ref.name, list(self.params))
            self.error(ref.loc, _("unknown parameter {name!r}", name=ref.name),
                       _("did you mean {close!r}?", close=close) if close else
                       _("parameters are defined in a parameters file (parameters: ...), see docs/rules.md"))
            return None
        start = self.window[0]
        first = param.values[0].start
        if start is None or start < first:
            self.error(ref.loc, _("{name} has no value before {first}, but this rule is in force {window}",
                                  name=ref.name, first=first, window=window(*self.window)),
                       _("give {name} a value from {start} in {file}, or let the rule start on {first} "
                         "(effective: {{from: {first}}})", name=ref.name, start=start or "2016-01-01",
                         file=param.file, first=first))
        return param

    def error(self, loc: Location, message: str, hint: str | None = None) -> None:
        self.out.append(Diagnostic(loc, message, hint))

    # ------------------------------------------------------------ values

    def fact(self, ref: ast.FactRef) -> schema.Fact | None:
        fact = self.facts.get(ref.name)
        if fact is None:
            kind = ref.name.split(".", 1)[0]
            kinds = sorted({n.split(".", 1)[0] for n in self.facts} - {"client", "course", "param"})
            if kinds:  # other facts than a client's and a course's: e.g. monitoring rules' enrolment.*
                close = schema.suggest(ref.name, list(self.facts), cutoff=0.7)
                self.error(ref.loc, _("unknown fact {name!r}", name=ref.name),
                           _("did you mean {close!r}?", close=close) if close else
                           _("facts start with {kinds}", kinds=" or ".join(k + "." for k in kinds)))
            elif kind not in ("client", "course"):
                self.error(ref.loc, _("unknown fact {name!r}", name=ref.name), _("facts start with client. or course."))
            else:
                # a close match only when it is likely a typo: 'client.dependants' is not 'client.education'
                close = schema.suggest(ref.name, list(self.facts), cutoff=0.7)
                self.error(ref.loc, _("unknown fact {name!r}", name=ref.name),
                           _("did you mean {close!r}? A new fact is declared in the rules folder's facts file "
                             "(facts.yaml; docs/rules.md, Declared facts)", close=close) if close else
                           _("a new fact is declared in the rules folder's facts file (facts.yaml), e.g. "
                             "{name}: {{type: integer, range: [0, 20], description: {{id: ..., en: ...}}}}",
                             name=ref.name))
        return fact

    def value_type(self, node: ast.Value) -> str | None:
        """The type of a value, or None when an error was already reported."""
        if isinstance(node, ast.FactRef):
            fact = self.fact(node)
            return None if fact is None else fact.type
        if isinstance(node, ast.ParamRef):
            param = self.param(node)
            return None if param is None else param_type(param)
        if isinstance(node, ast.Literal):
            self.exact(node, node.value)
            return _literal_type(node.value)
        if isinstance(node, ast.Arith):
            self.exact(node, _constant(node))
            left, right = self.value_type(node.left), self.value_type(node.right)
            for side, t in ((node.left, left), (node.right, right)):
                if t is not None and t != schema.NUMBER:
                    self.error(_loc(side), _("arithmetic needs numbers, this is {a_type}", a_type=_a(t)),
                               _("for dates use the derived day counts, e.g. client.days_since_rehab"))
                    return None
            if node.op == "/" and _constant(node.right) == 0:  # also (2 - 2): the compiler folds constants
                self.error(node.right.loc, _("division by zero"))
            if node.op == "/" and isinstance(node.right, ast.ParamRef) and node.right.name in self.params:
                for item in self.params[node.right.name].values:
                    if item.value == 0:
                        self.error(node.right.loc, _("division by zero: {name} is 0 from {start}",
                                                     name=node.right.name, start=item.start))
            return schema.NUMBER if left and right else None
        self.error(_loc(node), _("a condition cannot be used as a value"))
        return None

    def exact(self, node: ast.Literal | ast.Arith, value: object) -> None:
        """A number the compiled rule carries must reach durable_rules exactly: in plain notation
        (it misreads 1e-05 and 1e16) and within MAX_NUMBER."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if not math.isfinite(value) or abs(value) > MAX_NUMBER or "e" in repr(float(value)) and value != 0:
            self.error(node.loc, _("the number {value!r} cannot be handed to durable_rules exactly", value=value),
                       _("use numbers between 0.0001 and {max} (and 0), written out plainly",
                         max=format(MAX_NUMBER, ",.0f")))

    def enum_literal(self, fact: schema.Fact, lit: ast.Literal) -> None:
        if fact.type == schema.ENUM and isinstance(lit.value, str) and lit.value not in fact.values:
            close = schema.suggest(lit.value, list(fact.values))
            self.error(lit.loc, _("{fact} has no value {value!r}", fact=fact.name, value=lit.value),
                       (_("did you mean {close!r}? ", close=close) if close else "")
                       + _("values: {values}", values=", ".join(fact.values)))

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
            if isinstance(node.value, ast.ParamRef):
                self.error(node.loc, _("a parameter always has a value on the dates its rules are in force"),
                           _("'exists' applies to facts, e.g. client.interview_score exists"))
            elif not isinstance(node.value, ast.FactRef):
                self.error(node.loc, _("'exists' applies to a fact, e.g. client.interview_score exists"))
            else:
                self.fact(node.value)
        elif isinstance(node, ast.Match):
            self.match(node, negated)
        else:  # a bare value used as a condition
            t = self.value_type(node)
            if t is not None and t != schema.BOOL:
                self.error(_loc(node), _("{a_type} is not a condition", a_type=_a(t)),
                           _("compare it, e.g. client.age >= 18, or test it with 'exists'"))
            elif t is not None and not isinstance(node, (ast.FactRef, ast.ParamRef)):
                self.error(_loc(node), _("a constant is not a condition"))

    def compare(self, node: ast.Compare) -> None:
        lt, rt = self.value_type(node.left), self.value_type(node.right)
        if not isinstance(node.left, ast.FactRef) and not isinstance(node.right, ast.FactRef):
            if isinstance(node.left, ast.Literal) and isinstance(node.right, ast.Literal):
                self.error(node.loc, _("this compares two constants"))
            elif isinstance(node.left, (ast.Literal, ast.ParamRef)) and isinstance(node.right, (ast.Literal,
                                                                                                ast.ParamRef)):
                self.error(node.loc, _("this compares a parameter with a constant: it is the same for every client"),
                           _("compare a fact with the parameter, e.g. client.age <= param.min_age"))
            else:
                self.error(node.loc, _("one side of a comparison must be a single fact"),
                           _("move the arithmetic to the other side, e.g. client.age >= course.min_age + 2"))
            return
        if lt is None or rt is None:
            return
        if not self.comparable(lt, rt):
            other = node.right if lt == schema.DATE else node.left
            self.error(node.loc, _("cannot compare {a} with {b}", a=_a(lt), b=_a(rt)),
                       _date_hint(other) if schema.DATE in (lt, rt) else None)
            return
        if node.op not in ("==", "!=") and lt not in ORDERED:
            self.error(node.loc, _("'{op}' needs numbers or dates; {a_type} can only be compared with == or !=",
                                   op=node.op, a_type=_a(lt)),
                       _("for education use the number client.education_level") if lt == schema.ENUM else None)
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(side, ast.FactRef) and isinstance(other, ast.Literal) and side.name in self.facts:
                self.enum_literal(self.facts[side.name], other)
            if isinstance(side, ast.FactRef) and isinstance(other, ast.ParamRef) and other.name in self.params:
                fact = self.facts.get(side.name)
                if fact is not None:
                    for item in self.params[other.name].values:
                        self.enum_literal(fact, ast.Literal(item.value, item.loc))

    def in_(self, node: ast.In) -> None:
        t = self.value_type(node.value)
        if not isinstance(node.value, ast.FactRef):
            self.error(node.loc, _("'in' applies to a fact, e.g. client.education in [\"sma\", \"smk\"]"))
            return
        if not node.items:
            self.error(node.loc, _("empty list after 'in'"))
            return
        if t is None:
            return
        fact = self.facts[node.value.name]
        for item in node.items:
            it = _literal_type(item.value)
            if not self.comparable(t, it):
                self.error(item.loc, _("{fact} is {a}, this is {b}", fact=fact.name, a=_a(t), b=_a(it)))
            else:
                self.enum_literal(fact, item)

    def match(self, node: ast.Match, negated: bool) -> None:
        t = self.value_type(node.value)
        if not isinstance(node.value, ast.FactRef):
            self.error(node.loc, _("'{op}' applies to a fact", op=node.op))
        elif t is not None and t not in (schema.STRING, schema.ENUM):
            self.error(node.loc, _("'{op}' needs text, {fact} is {a_type}", op=node.op, fact=node.value.name,
                                   a_type=_a(t)))
        if negated:
            self.error(node.loc, _("durable_rules cannot negate '{op}'", op=node.op),
                       _("write the rule the other way round, with a positive match"))
        if node.op == "matches":
            problem = pattern_error(node.pattern)
            if problem:
                offset, message = problem
                loc = node.pattern_loc
                self.error(Location(loc.file, loc.line, loc.col + 1 + offset), _("bad pattern: {problem}",
                                                                                  problem=message),
                           _("patterns use durable_rules' dialect: %d digit, %a letter, . any, * + ? repeats; "
                             "see the safe subset in the rule authors' guide"))
        elif not node.pattern:
            self.error(node.pattern_loc, _("empty text after 'contains'"))
        elif len(node.pattern) > MAX_CONTAINS:
            self.error(node.pattern_loc, _("text after 'contains' is longer than {n} characters", n=MAX_CONTAINS))

    # ------------------------------------------------------------ rules

    def rule(self, rule: ast.Rule, ruleset: ast.Ruleset) -> None:
        self.window = ast.in_force(ruleset, rule)
        start, until = self.window
        if start is not None and until is not None and until < start:
            self.error(rule.effective_loc or rule.loc,
                       _("rule {id!r} is never in force: its ruleset is in force {ruleset_window}", id=rule.id,
                         ruleset_window=window(ruleset.effective_from, ruleset.effective_until)),
                       _("give the rule dates within its ruleset's, or move it to the ruleset version of those "
                         "dates"))
            return
        self.condition(rule.when)
        size = _expressions(rule.when)
        if size > MAX_RULE_EXPRESSIONS:
            self.error(_loc(rule.when),
                       _("condition has {n} comparisons; durable_rules allows {max}", n=size,
                         max=MAX_RULE_EXPRESSIONS), _("split it into several rules"))
        for text in (rule.reason_id, rule.reason_en):
            for name in placeholders(text.value):
                if name.startswith("param."):
                    self.param(ast.ParamRef(name, text.loc))
                elif name not in self.facts:
                    close = schema.suggest(name, list(self.facts))
                    self.error(text.loc, _("reason mentions unknown fact {{{name}}}", name=name),
                               _("did you mean {{{close}}}?", close=close) if close else None)
            for _offset, problem in brace_problems(text.value):
                self.error(text.loc, _("reason: {problem}", problem=problem),
                           _("facts are shown with {{client.age}}; a brace on its own cannot be written"))
        if rule.shareable:
            sensitive = [n for n in rule_reads(rule) if (f := self.facts.get(n)) is not None
                         and f.sensitivity == schema.BNN_ONLY]
            if sensitive:
                self.error(rule.loc, _("'shareable: true', but the rule reads {facts}, which only BNN may see",
                                       facts=", ".join(sensitive)),
                           _("remove 'shareable: true': a rule that reads a BNN-only fact is never shown to a "
                             "training centre"))


def rule_reads(rule: ast.Rule) -> list[str]:
    """Every fact a rule reads: in its condition and in its reasons' placeholders."""
    return list(dict.fromkeys([*(r.name for r in ast.facts_in(rule.when)), *placeholders(rule.reason_id.value),
                               *placeholders(rule.reason_en.value)]))


def shareable(rule: ast.Rule, facts: Mapping[str, schema.Fact] | None = None) -> bool:
    """May a training centre see this rule's reason? As the author says, and never when it reads a
    BNN-only fact (sensitivity by construction: the safe default needs no flag). ``facts``: the facts
    rules may read, declared ones included (a declared fact is BNN-only unless declared shareable)."""
    sensitive = bool(schema.bnn_only(rule_reads(rule), facts))
    return not sensitive if rule.shareable is None else rule.shareable and not sensitive


def _overlap(a: tuple[date | None, date | None], b: tuple[date | None, date | None]) -> bool:
    return (a[0] or date.min) <= (b[1] or date.max) and (b[0] or date.min) <= (a[1] or date.max)


def check_parameters(parameters: Iterable[ast.Parameter]) -> list[Diagnostic]:
    """Parameter names unique across files; each parameter's values of one type, numbers exact."""
    c = _Checker({})
    first: dict[str, ast.Parameter] = {}
    for param in parameters:
        if param.name in first:
            c.error(param.loc, _("parameter {name!r} is also defined at {where}", name=param.name,
                                 where=first[param.name].loc), _("define each parameter once"))
            continue
        first[param.name] = param
        if param_type(param) is None:
            kinds = ", ".join(f"{v.start}: {_literal_type(v.value)}" for v in param.values)
            c.error(param.loc, _("the values of {name} are not all of one type ({kinds})", name=param.ref,
                                 kinds=kinds), _("a parameter holds numbers, dates, true/false or text, not a mix"))
        for item in param.values:
            c.exact(ast.Literal(item.value, item.loc), item.value)
    return c.out


def _ymd(year: int, month: int, day: int) -> str:
    return "-".join((str(year).zfill(4), str(month).zfill(2), str(day).zfill(2)))


def _date_hint(node: object) -> str:
    """How to write the date an author meant: ``01-01-2019`` parses as arithmetic (1 - 1 - 2019)."""
    parts: list[int] = []
    ops: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Arith) and item.op in "-/":
            ops.add(item.op)
            stack += [item.right, item.left]
        elif isinstance(item, ast.Literal) and isinstance(item.value, int) and not isinstance(item.value, bool):
            parts.append(item.value)
        else:
            parts = []
            break
    if len(parts) == 3 and len(ops) == 1:
        if parts[2] >= 1000 and 1 <= parts[1] <= 12 and 1 <= parts[0] <= 31:  # DD-MM-YYYY
            return _("dates are written YYYY-MM-DD, the year first: write {date}",
                     date=_ymd(parts[2], parts[1], parts[0]))
        if parts[0] >= 1000 and 1 <= parts[1] <= 12 and 1 <= parts[2] <= 31:  # YYYY-M-D
            return _("dates are written YYYY-MM-DD, with two digits for month and day: write {date}",
                     date=_ymd(parts[0], parts[1], parts[2]))
    if isinstance(node, ast.Literal) and isinstance(node.value, str):
        return _("a date is written without quotes, YYYY-MM-DD, e.g. 2019-01-01")
    return _("a date is written YYYY-MM-DD, e.g. 2019-01-01; for a number of days use client.days_since_rehab")


_ARTICLED = {schema.NUMBER: N_("a number"), schema.STRING: N_("a string"), schema.BOOL: N_("a bool"),
             schema.DATE: N_("a date"), schema.ENUM: N_("an enum")}


def _a(type_name: str) -> str:
    return _(_ARTICLED.get(type_name, type_name))


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
                c.error(item.loc, _("retired rule {id!r} is still in this version", id=item.id))
    for a, b in zip(ordered, ordered[1:]):
        if a.effective_until is None or b.effective_from is None or b.effective_from <= a.effective_until:
            c.error(b.loc, _("ruleset {name!r} in {file} overlaps its version in {other} ({where}): a date would "
                             "have two versions", name=name, file=b.file, other=a.file, where=a.loc),
                    _("give the versions effective dates that do not overlap: the later one starts the day after the "
                      "earlier one ends"))
            continue
        day_after = a.effective_until + timedelta(days=1)
        if b.effective_from > day_after:
            day_before = b.effective_from - timedelta(days=1)
            c.error(b.loc, _("ruleset {name!r} is not in force from {start} to {end}: {a} ends on {until}, {b} starts "
                             "on {begin}", name=name, start=day_after, end=day_before, a=a.file,
                             until=a.effective_until, b=b.file, begin=b.effective_from),
                    _("let {b} start on {start}, or {a} end on {end}", b=b.file, start=day_after, a=a.file,
                      end=day_before))
        before = {r.id for r in a.rules}
        now = {r.id for r in b.rules}
        retired = {item.id for item in b.retired}
        dropped = sorted(before - now - retired)
        if dropped:
            c.error(b.loc, _("this version of ruleset {name!r} drops rule(s) {rules} of {file}", name=name,
                             rules=", ".join(dropped), file=a.file),
                    _("keep them, or list each under 'retired:' with a reason, e.g. retired: [{{id: {id}, reason: "
                      "...}}]", id=dropped[0]))
        for item in b.retired:
            if item.id not in before and item.id not in now:
                c.error(item.loc, _("retired rule {id!r} is not in the previous version ({file})", id=item.id,
                                    file=a.file))


def check_rulesets(rulesets: Iterable[ast.Ruleset], facts: Mapping[str, schema.Fact] | None = None,
                   parameters: Iterable[ast.Parameter] = ()) -> list[Diagnostic]:
    """Every problem in a set of rulesets that are loaded together (with their parameters)."""
    c = _Checker(schema.SCHEMA if facts is None else facts, {p.ref: p for p in parameters})
    seen_ids: dict[str, tuple[ast.Ruleset, ast.Rule]] = {}
    by_name: dict[str, list[ast.Ruleset]] = {}
    referenced: set[str] = set()  # all rulesets run in one durable_rules event, so they share its limit
    too_many = False
    for ruleset in rulesets:
        by_name.setdefault(ruleset.name, []).append(ruleset)
        for rule in ruleset.rules:
            # Versions of one ruleset (other effective dates) may reuse ids; nothing else may.
            # One file may also hold dated versions of a rule (its own `effective:`) that never overlap.
            first = seen_ids.get(rule.id)
            if first is not None and (first[0].name != ruleset.name or (
                    first[0] is ruleset and _overlap(ast.in_force(ruleset, first[1]), ast.in_force(ruleset, rule)))):
                dated = first[0] is ruleset and (rule.effective_loc or first[1].effective_loc)
                c.error(rule.id_loc, _("duplicate rule id {id!r} (first at {where})", id=rule.id,
                                       where=first[1].id_loc),
                        _("two versions of a rule must not be in force on the same day: give them effective "
                          "dates that do not overlap") if dated else
                        _("every rule id must be unique across the rules directory"))
            seen_ids.setdefault(rule.id, (ruleset, rule))
            c.rule(rule, ruleset)
            referenced.update(r.name for r in ast.facts_in(rule.when))
            referenced.update(r.name for r in ast.params_in(rule.when))
        if len(referenced) + RESERVED_PROPERTIES > MAX_EVENT_PROPERTIES and not too_many:
            too_many = True
            c.error(ruleset.loc, _("the rules read {n} facts; one durable_rules event holds at most {max}",
                                   n=len(referenced), max=MAX_EVENT_PROPERTIES - RESERVED_PROPERTIES),
                    _("read fewer distinct facts"))
    for name, versions in by_name.items():
        _versions(c, name, versions)
    return c.out
