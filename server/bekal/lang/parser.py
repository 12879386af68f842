"""Rule files (YAML) -> syntax tree, with a located diagnostic for every problem.

A file's top-level key says what it is: ``ruleset:`` (rules), ``courses:`` (the
course catalogue) or ``tests:`` (rule tests, OpenFisca-style, beside the rules).
The parser checks shape only (keys, types, the condition's syntax); whether the
facts exist and types agree is the checker's job.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from bekal.i18n import N_, _
from bekal.lang import ast
from bekal.lang.diagnostics import Diagnostic, Location, RuleError
from bekal.lang.expr import parse_condition
from bekal.lang.source import Node, load_yaml

RULE_KEYS = {"id", "description", "when", "effect", "reason", "source", "shareable", "effective"}
RULE_REQUIRED = ("id", "description", "when", "effect", "reason", "source")
RULESET_KEYS = {"ruleset", "title", "source", "effective", "rules", "retired"}
TEST_KEYS = {"name", "as_of", "client", "course", "expect"}
EXPECT_KEYS = {"outcome", "priority", "reasons", "missing"}
OUTCOMES = ("ELIGIBLE", "INELIGIBLE", "PENDING")
EFFECTS = ("ineligible", "pending", "priority")
MONITORING_EFFECTS = ("warning", "alert")  # effects of monitoring rules only (bekal.monitoring.rules)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
KINDS = ("ruleset", "courses", "tests", "parameters", "facts")  # a file's first key says what it is
STARTS = N_("a rule file starts with exactly one of 'ruleset:', 'courses:', 'tests:', 'parameters:' or 'facts:'")
CITATION_KEYS = {ast.QUOTE, ast.INTERPRETATION, "of", "at"}
_QUOTE_MARKS = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"


class _Collector:
    """Gathers diagnostics so one run reports every problem in a file, not just the first."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, loc: Location, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(loc, message, hint))

    def unknown_keys(self, node: Node, allowed: set[str], what: str) -> None:
        for key, value in node.value.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = (_("did you mean {close!r}?", close=close[0]) if close else
                        _("{what} keys are: {keys}", what=_(what), keys=", ".join(sorted(allowed))))
                self.error(value.loc, _("unknown key {key!r} in {what}", key=key, what=_(what)), hint)

    def text(self, node: Node, key: str, where: Node, required: bool = True) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.error(where.loc, _("missing {key!r}", key=key))
            return None
        if not isinstance(value.value, str) or not value.value.strip():
            self.error(value.loc, _("{key!r} must be non-empty text", key=key))
            return None
        return value.value.strip()

    def mapping(self, node: Node | None, what: str) -> bool:
        if node is None or not isinstance(node.value, dict):
            if node is not None:
                self.error(node.loc, _("{what} must be a mapping of key: value", what=_(what)),
                           _("its lines go under it, indented further (with spaces)") if node.value is None else None)
            return False
        return True


def _condition(node: Node) -> ast.Expr:
    """Parse a `when:` scalar, mapping positions in the condition back to the file."""
    raw = node.raw or ""
    if node.style is None:  # plain scalar: the raw text *is* the condition, newlines and indentation included
        return parse_condition(raw, node.loc)
    if node.style in ("|", ">"):  # block scalar: the condition starts on the line after the indicator
        newline = raw.find("\n")
        body = raw[newline + 1 :] if newline >= 0 else ""
        return parse_condition(body, Location(node.loc.file, node.loc.line + 1, 1), absolute_cols=True)
    # quoted scalar: escapes ('' or \") and folded line breaks make the value differ from the file's text
    value = str(node.value)
    start = Location(node.loc.file, node.loc.line, node.loc.col + 1)
    return parse_condition(value, start, where=_quoted_positions(value, raw, node.loc))


def _quoted_positions(value: str, raw: str, quote: Location) -> Callable[[int, int], Location]:
    """Maps (line, col) in a quoted scalar's value to the file: aligns each value character with the
    character of ``raw`` (the scalar as written, quotes included, starting at ``quote``) it came from."""
    index, j = [], 1  # raw[0] is the opening quote
    for ch in value:
        while j < len(raw) - 1 and raw[j] != ch and not (ch == " " and raw[j] == "\n"):
            j += 1  # skip an escape character, or the indentation of a folded line
        index.append(j)
        j += 1
    index.append(min(j, max(len(raw) - 1, 0)))  # one past the end, for "condition ends too early"
    starts = [0] + [i + 1 for i, ch in enumerate(value) if ch == "\n"]

    def where(line: int, col: int) -> Location:
        k = index[min(starts[min(line, len(starts)) - 1] + col - 1, len(index) - 1)]
        newline = raw.rfind("\n", 0, k)
        if newline < 0:
            return Location(quote.file, quote.line, quote.col + k)
        return Location(quote.file, quote.line + raw.count("\n", 0, k), k - newline)

    return where


def _effect(node: Node, c: _Collector) -> ast.Effect | None:
    value = node.value
    if isinstance(value, str):
        if value in ("ineligible", "pending", *MONITORING_EFFECTS):
            return ast.Effect(value, 0, node.loc)
        close = difflib.get_close_matches(value, EFFECTS, n=1)
        c.error(node.loc, _("unknown effect {effect!r}", effect=value),
                (_("did you mean {close!r}? ", close=close[0]) if close else "")
                + _("use ineligible, pending or priority: +N"))
        return None
    if isinstance(value, dict) and set(value) == {"priority"}:
        points = value["priority"].value
        if isinstance(points, bool) or not isinstance(points, int) or points == 0:
            c.error(value["priority"].loc, _("priority must be a whole number of points, e.g. +10 or -5"))
            return None
        return ast.Effect("priority", points, node.loc)
    c.error(node.loc, _("unknown effect"), _("use ineligible, pending or priority: +N"))
    return None


def _reason(node: Node | None, rule: Node, c: _Collector) -> tuple[ast.Text, ast.Text] | None:
    if node is None:
        c.error(rule.loc, _("missing 'reason'"), _("give the reason in Indonesian and English: "
                                                     "reason: {{id: ..., en: ...}}"))
        return None
    if not c.mapping(node, N_("reason")):
        return None
    c.unknown_keys(node, {"id", "en"}, N_("reason"))
    out = []
    for lang in ("id", "en"):
        text = c.text(node, lang, node)
        if text is not None:
            out.append(ast.Text(text, node.value[lang].loc))
    return (out[0], out[1]) if len(out) == 2 else None


def citation(node: Node | None, owner: Node, c: _Collector) -> ast.Citation | None:
    """A ``source:`` that says what it is: ``{quote: "...", of: DOC, at: WHERE}`` (the document's own
    words) or ``{interpretation: "...", of: DOC}`` (the author's reading of it)."""
    forms = _("write source: {{quote: \"the sentence, word for word\", of: mou-2019-05-16, at: K1}} "
              "or source: {{interpretation: \"what the rule makes of it\", of: mou-2019-05-16}}")
    if node is None:
        c.error(owner.loc, _("missing 'source'"), forms)
        return None
    if not isinstance(node.value, dict):
        c.error(node.loc, _("a source must say whether it quotes its document or interprets it"), forms)
        return None
    c.unknown_keys(node, CITATION_KEYS, N_("source"))
    kinds = [k for k in (ast.QUOTE, ast.INTERPRETATION) if k in node.value]
    if len(kinds) != 1:
        c.error(node.loc, _("a source is either a quote or an interpretation, not both") if kinds
                else _("a source needs 'quote' or 'interpretation'"), forms)
        return None
    kind = kinds[0]
    text = c.text(node, kind, node)
    of = c.text(node, "of", node)
    if of is None:
        return None
    at = c.text(node, "at", node, required=False)
    if text is None:
        return None
    text = " ".join(text.split())
    text_loc = node.value[kind].loc
    if kind == ast.INTERPRETATION and len(text) > 1 and text[0] in _QUOTE_MARKS and text[-1] in _QUOTE_MARKS:
        c.error(text_loc, _("an interpretation is written in quotation marks, as if it were a quote"),
                _("take the quotation marks out of the text, or quote the document word for word with 'quote:'"))
    return ast.Citation(kind, text, of, at, node.loc, text_loc)


def _rule(node: Node, c: _Collector) -> ast.Rule | None:
    if not c.mapping(node, N_("a rule")):
        return None
    c.unknown_keys(node, RULE_KEYS, N_("rule"))
    before = len(c.diagnostics)
    rule_id = c.text(node, "id", node)
    if rule_id is not None and not ID_RE.match(rule_id):
        c.error(node.value["id"].loc, _("rule id {id!r} must be lower case letters, digits, '-', '_' or '.'",
                                        id=rule_id))
    description = c.text(node, "description", node)
    cited = citation(node.get("source"), node, c)
    when = None
    when_node = node.get("when")
    if when_node is None:
        c.error(node.loc, _("missing 'when'"), _("the condition under which the effect applies, e.g. client.age <= 18"))
    elif not isinstance(when_node.value, (str, bool)):
        c.error(when_node.loc, _("'when' must be a condition written as text"))
    else:
        try:
            when = _condition(when_node)
        except RuleError as exc:
            c.diagnostics.extend(exc.diagnostics)
    effect = None
    if node.get("effect") is None:
        c.error(node.loc, _("missing 'effect'"), _("use ineligible, pending or priority: +N"))
    else:
        effect = _effect(node.value["effect"], c)
    reason = _reason(node.get("reason"), node, c)
    start, until = _effective(node.get("effective"), c)
    shareable: bool | None = None  # not said: shareable unless the rule reads a BNN-only fact
    if node.get("shareable") is not None:
        if not isinstance(node.value["shareable"].value, bool):
            c.error(node.value["shareable"].loc, _("'shareable' must be true or false"))
        else:
            shareable = node.value["shareable"].value
    if rule_id is None or when is None:
        return None
    if effect is None or reason is None or len(c.diagnostics) > before:
        # Keep the rule with stand-ins for its broken parts so the checker still looks at its
        # condition and id; a file with any diagnostic is never compiled, so they never run.
        blank = ast.Text("", node.loc)
        effect = effect or ast.Effect("ineligible", 0, node.loc)
        reason = reason or (blank, blank)
    eff = node.get("effective")
    return ast.Rule(rule_id, description or "", when, effect, reason[0], reason[1], str(cited or ""), shareable,
                    node.loc, node.value["id"].loc, cited, start, until, eff.loc if eff is not None else None)


def _date(node: Node | None, c: _Collector, what: str) -> date | None:
    if node is None:
        return None
    if isinstance(node.value, date):
        return node.value
    c.error(node.loc, _("{what} must be a date YYYY-MM-DD", what=what))
    return None


def _ruleset(doc: Node, file: str, c: _Collector) -> ast.Ruleset | None:
    c.unknown_keys(doc, RULESET_KEYS, N_("ruleset"))
    name = c.text(doc, "ruleset", doc)
    if name is not None and not ID_RE.match(name):
        c.error(doc.value["ruleset"].loc, _("ruleset name {name!r} must be lower case letters, digits, '-', '_' or "
                                            "'.'", name=name))
    title = c.text(doc, "title", doc)
    source = c.text(doc, "source", doc)
    start, until = _effective(doc.get("effective"), c)
    rules_node = doc.get("rules")
    rules: list[ast.Rule] = []
    if rules_node is None:
        c.error(doc.loc, _("missing 'rules'"))
    elif not isinstance(rules_node.value, list) or not rules_node.value:
        c.error(rules_node.loc, _("'rules' must be a non-empty list of rules"))
    else:
        for item in rules_node.value:
            rule = _rule(item, c)
            if rule is not None:
                rules.append(rule)
    retired = _retired(doc.get("retired"), c)
    if name is None or title is None or source is None:
        return None
    return ast.Ruleset(name, title, source, start, until, tuple(rules), file, doc.loc, retired)


def _effective(eff: Node | None, c: _Collector) -> tuple[date | None, date | None]:
    """``effective: {from: DATE, until: DATE}`` (both optional, ``until`` inclusive)."""
    start = until = None
    if eff is not None and c.mapping(eff, "effective"):
        c.unknown_keys(eff, {"from", "until"}, "effective")
        start = _date(eff.get("from"), c, "effective.from")
        until = _date(eff.get("until"), c, "effective.until")
        if start and until and until < start:
            c.error(eff.value["until"].loc, _("effective.until is before effective.from"))
    return start, until


PARAM_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PARAM_KEYS = {"description", "source", "values"}


def _parameters(doc: Node, file: str, c: _Collector) -> list[ast.Parameter]:
    """``parameters: {NAME: {description: {id, en}, source: ..., values: {DATE: VALUE, ...}}}``."""
    c.unknown_keys(doc, {"parameters"}, N_("parameters file"))
    node = doc.value["parameters"]
    if not isinstance(node.value, dict) or not node.value:
        c.error(node.loc, _("'parameters' must be a mapping of names to parameters"),
                _("e.g. parameters: {{min_age: {{description: ..., source: ..., values: {{2016-01-01: 18}}}}}}"))
        return []
    out = []
    for name, item in node.value.items():
        if not PARAM_RE.match(name):
            c.error(item.loc, _("parameter name {name!r} must be lower case letters, digits and '_'", name=name))
            continue
        if not c.mapping(item, N_("a parameter")):
            continue
        c.unknown_keys(item, PARAM_KEYS, N_("parameter"))
        description = _description(item, c)
        cited = citation(item.get("source"), item, c)
        values = _param_values(item.get("values"), item, c)
        if description is not None and values:
            out.append(ast.Parameter(name, description[0], description[1], cited, tuple(values), item.loc, file))
    return out


def _description(node: Node, c: _Collector) -> tuple[str, str] | None:
    """``description: {id: ..., en: ...}``: what something is, in Indonesian and English."""
    desc = node.get("description")
    if desc is None:
        c.error(node.loc, _("missing 'description'"), _("say what it is in Indonesian and English: "
                                                        "description: {{id: ..., en: ...}}"))
        return None
    if not c.mapping(desc, "description"):
        return None
    c.unknown_keys(desc, {"id", "en"}, "description")
    texts = [c.text(desc, lang, desc) for lang in ("id", "en")]
    return (texts[0], texts[1]) if texts[0] is not None and texts[1] is not None else None


def _param_values(node: Node | None, owner: Node, c: _Collector) -> list[ast.ParamValue]:
    """``values: {2016-01-01: 18, 2020-01-01: {value: 21, source: ...}}``: each from its date on."""
    if node is None:
        c.error(owner.loc, _("missing 'values'"), _("the values by the date they start, e.g. "
                                                    "values: {{2016-01-01: 18, 2020-01-01: 21}}"))
        return []
    if not isinstance(node.value, dict) or not node.value:
        c.error(node.loc, _("'values' must map dates to values, e.g. {{2016-01-01: 18, 2020-01-01: 21}}"))
        return []
    out = []
    for key, item in node.value.items():
        try:
            start = date.fromisoformat(key)
        except ValueError:
            start = None
        if start is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", key):
            c.error(item.loc, _("{key!r} is not a date YYYY-MM-DD", key=key),
                    _("each value starts on a date: write it YYYY-MM-DD, e.g. 2020-01-01: 21"))
            continue
        cited = None
        value_node = item
        if isinstance(item.value, dict):
            c.unknown_keys(item, {"value", "source"}, N_("parameter value"))
            if item.get("value") is None:
                c.error(item.loc, _("missing 'value'"), _("write {{value: 21, source: ...}}, or just the value"))
                continue
            value_node = item.value["value"]
            if item.get("source") is not None:
                cited = citation(item.get("source"), item, c)
        value = value_node.value
        if value is None or isinstance(value, (list, dict)):
            c.error(value_node.loc, _("a parameter's value is a number, a date, true/false or text"))
            continue
        out.append(ast.ParamValue(start, value, value_node.loc, cited))
    return sorted(out, key=lambda v: v.start)


FACT_NAME_RE = re.compile(r"^(client|course)\.[a-z][a-z0-9_]*$")
FACT_KEYS = {"type", "description", "sensitivity", "values", "range"}
ENUM_VALUE_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def _declarations(doc: Node, c: _Collector) -> list[ast.FactDecl]:
    """``facts: {client.NAME: {type, description: {id, en}, sensitivity, values | range}}``."""
    c.unknown_keys(doc, {"facts"}, N_("facts file"))
    node = doc.value["facts"]
    if not isinstance(node.value, dict) or not node.value:
        c.error(node.loc, _("'facts' must be a mapping of fact names to declarations"),
                _("e.g. facts: {{client.dependants: {{type: integer, range: [0, 20], description: ...}}}}"))
        return []
    out = []
    for name, item in node.value.items():
        if not FACT_NAME_RE.match(name) or len(name) > 64:
            c.error(item.loc, _("fact name {name!r} must be client.NAME or course.NAME, lower case letters, "
                                "digits and '_'", name=name),
                    _("e.g. client.dependants or course.needs_driving_licence"))
            continue
        if not c.mapping(item, N_("a fact")):
            continue
        c.unknown_keys(item, FACT_KEYS, N_("fact"))
        description = _description(item, c)
        kind = _choice(item, "type", ast.DECLARED_TYPES, None, c)
        sensitivity = _choice(item, "sensitivity", ast.SENSITIVITIES, "bnn_only", c)
        values: tuple[str, ...] = ()
        low = high = None
        if kind == "enum":
            values = _enum_values(item, c)
        elif item.get("values") is not None:
            c.error(item.value["values"].loc, _("only an enum fact lists its values"))
        if kind in ("integer", "decimal"):
            low, high = _range(item, kind, c)
        elif item.get("range") is not None:
            c.error(item.value["range"].loc, _("only an integer or decimal fact has a range"))
        if description is not None and kind is not None and sensitivity is not None and (
                kind != "enum" or values) and (kind not in ("integer", "decimal") or low is not None):
            out.append(ast.FactDecl(name, kind, description[0], description[1], sensitivity, values, low, high,
                                    item.loc, item.loc))
    return out


def _choice(node: Node, key: str, choices: tuple[str, ...], default: str | None, c: _Collector) -> str | None:
    value = node.get(key)
    if value is None:
        if default is None:
            c.error(node.loc, _("missing {key!r}", key=key), _("one of: {choices}", choices=", ".join(choices)))
        return default
    if value.value not in choices:
        close = difflib.get_close_matches(str(value.value), choices, n=1)
        c.error(value.loc, _("{key} must be one of: {choices}", key=key, choices=", ".join(choices)),
                _("did you mean {close!r}?", close=close[0]) if close else None)
        return None
    return str(value.value)


def _enum_values(node: Node, c: _Collector) -> tuple[str, ...]:
    values = node.get("values")
    if values is None or not isinstance(values.value, list) or not values.value:
        c.error((values or node).loc, _("an enum fact lists its values"), _("e.g. values: [a, b, c]"))
        return ()
    out = []
    for item in values.value:
        if not isinstance(item.value, str) or not ENUM_VALUE_RE.match(item.value):
            c.error(item.loc, _("an enum value is written in lower case letters, digits and '_', e.g. sim_a"))
        elif item.value in out:
            c.error(item.loc, _("{value!r} is listed twice", value=item.value))
        else:
            out.append(item.value)
    return tuple(out)


def _range(node: Node, kind: str, c: _Collector) -> tuple[int | float | None, int | float | None]:
    """``range: [LOW, HIGH]``: every number fact says which values a person or a course can have."""
    bounds = node.get("range")
    example = "[0, 20]" if kind == "integer" else "[0, 100]"
    if bounds is None:
        c.error(node.loc, _("missing 'range'"), _("a number fact says the values it can take, e.g. range: {example}",
                                                   example=example))
        return None, None
    items = bounds.value if isinstance(bounds.value, list) else []
    numbers = [i.value for i in items if isinstance(i.value, (int, float)) and not isinstance(i.value, bool)]
    if len(items) != 2 or len(numbers) != 2 or numbers[0] > numbers[1]:
        c.error(bounds.loc, _("range must be [LOWEST, HIGHEST], two numbers, the lowest first"),
                _("e.g. range: {example}", example=example))
        return None, None
    if kind == "integer" and not all(isinstance(n, int) for n in numbers):
        c.error(bounds.loc, _("the range of an integer fact is two whole numbers"))
        return None, None
    return numbers[0], numbers[1]


def _retired(node: Node | None, c: _Collector) -> tuple[ast.Retired, ...]:
    """``retired: [{id: rule-id, reason: why}]``: rules the previous version had that this one drops."""
    if node is None:
        return ()
    if not isinstance(node.value, list):
        c.error(node.loc, _("'retired' must be a list of {{id: ..., reason: ...}}"))
        return ()
    out = []
    for item in node.value:
        if not c.mapping(item, N_("a retired rule")):
            continue
        c.unknown_keys(item, {"id", "reason"}, N_("retired rule"))
        rule_id = c.text(item, "id", item)
        reason = c.text(item, "reason", item)
        if rule_id is not None and reason is not None:
            out.append(ast.Retired(rule_id, reason, item.value["id"].loc))
    return tuple(out)


def _courses(doc: Node, c: _Collector) -> list[ast.CourseEntry]:
    c.unknown_keys(doc, {"courses"}, N_("course catalogue"))
    node = doc.value["courses"]
    if not isinstance(node.value, list):
        c.error(node.loc, _("'courses' must be a list of courses"))
        return []
    out = []
    for item in node.value:
        if not c.mapping(item, N_("a course")):
            continue
        code = c.text(item, "code", item)
        if code is not None:
            out.append(ast.CourseEntry(code, item.plain, item.loc, {k: v.loc for k, v in item.value.items()}))
    return out


def _tests(doc: Node, file: str, c: _Collector) -> list[ast.RuleTestCase]:
    c.unknown_keys(doc, {"tests"}, N_("rule test file"))
    node = doc.value["tests"]
    if not isinstance(node.value, list):
        c.error(node.loc, _("'tests' must be a list of tests"))
        return []
    out = []
    for item in node.value:
        if not c.mapping(item, N_("a test")):
            continue
        c.unknown_keys(item, TEST_KEYS, N_("test"))
        before = len(c.diagnostics)
        name = c.text(item, "name", item)
        as_of = _date(item.get("as_of"), c, "as_of")
        if item.get("as_of") is None:
            c.error(item.loc, _("missing 'as_of'"), _("the date the decision is made for, e.g. as_of: 2019-05-16"))
        client = item.get("client")
        if client is None or not c.mapping(client, "client"):
            if client is None:
                c.error(item.loc, _("missing 'client'"))
        course = item.get("course")
        if course is None:
            c.error(item.loc, _("missing 'course'"), _("a catalogue code or the course's facts"))
        elif not isinstance(course.value, (str, dict)):
            c.error(course.loc, _("'course' must be a catalogue code or a mapping of course facts"))
        expect = item.get("expect")
        outcome = priority = reasons = missing = None
        if expect is None:
            c.error(item.loc, _("missing 'expect'"))
        elif c.mapping(expect, "expect"):
            c.unknown_keys(expect, EXPECT_KEYS, "expect")
            o = expect.get("outcome")
            if o is None or o.value not in OUTCOMES:
                c.error((o or expect).loc, _("expect.outcome must be one of {outcomes}", outcomes=", ".join(OUTCOMES)))
            else:
                outcome = o.value
            if expect.get("priority") is not None:
                priority = expect.value["priority"].value
                if isinstance(priority, bool) or not isinstance(priority, int):
                    c.error(expect.value["priority"].loc, _("expect.priority must be a whole number"))
            reasons = _string_list(expect.get("reasons"), "expect.reasons", c)
            missing = _string_list(expect.get("missing"), "expect.missing", c)
        if len(c.diagnostics) == before and name and as_of and outcome:
            out.append(ast.RuleTestCase(
                name, as_of, client.plain, course.plain, outcome, priority, reasons, missing, item.loc, file,
                client_locs={k: v.loc for k, v in client.value.items()}, course_loc=course.loc,
                course_locs={k: v.loc for k, v in course.value.items()} if isinstance(course.value, dict) else {},
                reasons_loc=expect.value["reasons"].loc if "reasons" in expect.value else None,
                missing_loc=expect.value["missing"].loc if "missing" in expect.value else None))
    return out


def _string_list(node: Node | None, what: str, c: _Collector) -> tuple[str, ...] | None:
    if node is None:
        return None
    if not isinstance(node.value, list) or not all(isinstance(i.value, str) for i in node.value):
        c.error(node.loc, _("{what} must be a list of names", what=what))
        return None
    return tuple(i.value for i in node.value)


def parse_file(path: str, text: str) -> ast.SourceFile:
    """Parse one file. Raises RuleError listing every problem found in it."""
    result, problems = parse_file_partially(path, text)
    if problems:
        raise RuleError(problems)
    return result


def parse_file_partially(path: str, text: str) -> tuple[ast.SourceFile, list[Diagnostic]]:
    """Parse one file, keeping what parsed next to the problems, so the checker can look at the
    well-formed rules of a file with a malformed one and an author sees every problem in one run.
    Raises RuleError only when nothing in the file can be used (not YAML, empty, unknown kind)."""
    c = _Collector()
    doc = load_yaml(path, text)
    if doc is None:
        raise RuleError([Diagnostic(Location(path, 1, 1), _("empty file"), _(STARTS))])
    if not isinstance(doc.value, dict):
        raise RuleError([Diagnostic(doc.loc, _("a rule file must be a mapping of key: value"), _(STARTS))])
    kinds = [k for k in KINDS if k in doc.value]
    if len(kinds) != 1:
        raise RuleError([Diagnostic(doc.loc, _("cannot tell what this file is"), _(STARTS))])
    kind = kinds[0]
    result: Any
    if kind == "ruleset":
        ruleset = _ruleset(doc, path, c)
        result = ast.SourceFile(path, text, rulesets=(ruleset,) if ruleset else (), kind=kind)
    elif kind == "courses":
        result = ast.SourceFile(path, text, courses=tuple(_courses(doc, c)), kind=kind)
    elif kind == "facts":
        result = ast.SourceFile(path, text, facts=tuple(_declarations(doc, c)), kind=kind)
    elif kind == "parameters":
        result = ast.SourceFile(path, text, parameters=tuple(_parameters(doc, path, c)), kind=kind)
    else:
        result = ast.SourceFile(path, text, tests=tuple(_tests(doc, path, c)), kind=kind)
    return result, c.diagnostics
