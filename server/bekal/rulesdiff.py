"""What changes between two versions of the rules, and what that does to real clients.

``compare`` lists the rules, parameters, declared facts and courses added, removed or changed
between two rulebooks (two folders, two git revisions, or one folder on two dates: then the
versions in force on each date), field by field for a side-by-side view. ``what_if`` decides a
cohort under both and keeps the client x course pairs whose outcome or priority changes, with why:
the rules that apply, stop applying or wait for a fact, and the parameter values behind them.
Like OpenFisca's reforms: see a change on real clients before it goes live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bekal.decision import Decision, Refusal, RuleStatus
from bekal.engine import Engine
from bekal.i18n import _, window
from bekal.lang import ast
from bekal.lang.checker import shareable
from bekal.rulebook import Rulebook

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Side:
    """One version to compare: a rulebook, what it is called, and the date it is taken on (None: every date)."""

    label: str
    rulebook: Rulebook
    on: date | None = None


@dataclass(frozen=True)
class Change:
    """One thing added, removed or changed, field by field: ``(field, before, after)`` ("" where absent)."""

    kind: str  # "rule", "parameter", "fact" or "course"
    key: str  # e.g. "eligibility/age-above-18", "param.min_age", "client.dependants", "OTO-MTR-01"
    status: str  # ADDED, REMOVED or CHANGED
    fields: tuple[tuple[str, str, str], ...]
    before_at: str = ""  # where it is written (file:line:col), before and after
    after_at: str = ""


def compare(old: Side, new: Side) -> list[Change]:
    """Everything that differs between ``old`` and ``new``, rules first, each kind in a stable order."""
    out: list[Change] = []
    for kind, before, after in (("rule", _rules(old), _rules(new)), ("parameter", _params(old), _params(new)),
                                ("fact", _facts(old.rulebook), _facts(new.rulebook)),
                                ("course", _courses(old.rulebook), _courses(new.rulebook))):
        for key in sorted(before.keys() | after.keys(), key=lambda k: (k not in before, k)):
            b, a = before.get(key), after.get(key)
            if b is not None and a is not None and b[0] == a[0]:
                continue
            names = list(dict.fromkeys([*(b[0] if b else {}), *(a[0] if a else {})]))
            fields = tuple((n, (b[0] if b else {}).get(n, ""), (a[0] if a else {}).get(n, "")) for n in names
                           if b is None or a is None or b[0].get(n, "") != a[0].get(n, ""))
            status = ADDED if b is None else REMOVED if a is None else CHANGED
            out.append(Change(kind, key, status, fields, b[1] if b else "", a[1] if a else ""))
    return out


Described = dict[str, tuple[dict[str, str], str]]  # key -> (field -> text, where it is written)


def _rules(side: Side) -> Described:
    out: Described = {}
    for ruleset in side.rulebook.rulesets:
        for rule in ruleset.rules:
            start, until = ast.in_force(ruleset, rule)
            if side.on is not None:
                if (start and side.on < start) or (until and side.on > until):
                    continue
                key = f"{ruleset.name}/{rule.id}"
            else:
                key = f"{ruleset.name}/{rule.id}" + (f" [{start}]" if start else "")
            out[key] = ({
                "when": ast.to_text(rule.when),
                "effect": str(rule.effect),
                "effective": window(start, until),
                "description": rule.description,
                "reason.id": rule.reason_id.value,
                "reason.en": rule.reason_en.value,
                "shareable": "true" if shareable(rule, side.rulebook.facts) else "false",
                "source": rule.source,
            }, str(rule.loc))
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _params(side: Side) -> Described:
    out: Described = {}
    for param in side.rulebook.parameters:
        if side.on is not None:
            value = param.value_on(side.on)
            values = _value(value) if value is not None else _("(no value)")
        else:
            values = ", ".join(f"{v.start}: {_value(v.value)}" for v in param.values)
        out[param.ref] = ({"value" if side.on is not None else "values": values,
                           "description": param.description_id, "source": str(param.citation or "")},
                          str(param.loc))
    return out


def _facts(rulebook: Rulebook) -> Described:
    out: Described = {}
    for name, fact in rulebook.declared.items():
        described = {"type": fact.type + (_(" (whole numbers)") if fact.integer else ""),
                     "sensitivity": fact.sensitivity, "description": fact.doc_id}
        if fact.values:
            described["values"] = ", ".join(fact.values)
        if fact.minimum is not None:
            described["range"] = f"{_value(fact.minimum)} .. {_value(fact.maximum)}"
        out[name] = (described, "")
    return out


def _courses(rulebook: Rulebook) -> Described:
    return {code: ({k: _value(v) for k, v in course.items()}, "") for code, course in rulebook.courses.items()}


# ------------------------------------------------------------------------------------------- what-if


@dataclass(frozen=True)
class PairChange:
    """A client x course pair decided differently by the new rules."""

    client_id: str
    course_code: str
    before: str  # outcome (ELIGIBLE, INELIGIBLE, PENDING), or "-" when not decided (see ``note``)
    after: str
    priority_before: int | None
    priority_after: int | None
    now_apply: tuple[str, ...]  # rules that fire now and did not before
    no_longer: tuple[str, ...]  # rules that fired before and do not now
    waiting: tuple[str, ...]  # facts the new decision waits for that the old one did not
    why: str  # all of it in words

    @property
    def decided_differently(self) -> bool:
        """The outcome or the priority changes (not only what the decision waits for)."""
        return self.before != self.after or self.priority_before != self.priority_after


@dataclass(frozen=True)
class Group:
    """Changes alike: the same outcomes (or priorities) before and after, for the same reasons."""

    clients: int
    pairs: int
    sample: PairChange

    def __str__(self) -> str:
        c = self.sample
        pairs = _(" ({pairs} client x course pairs)", pairs=self.pairs) if self.pairs != self.clients else ""
        if c.before != c.after:
            return _("{n} client(s) go from {before} to {after}{pairs}: {why}", n=self.clients, before=c.before,
                     after=c.after, pairs=pairs, why=c.why)
        if c.priority_before != c.priority_after:
            return _("{n} client(s): priority {before} becomes {after}{pairs}: {why}", n=self.clients,
                     before=c.priority_before, after=c.priority_after, pairs=pairs, why=c.why)
        return _("{n} client(s) keep their outcome{pairs}: {why}", n=self.clients, pairs=pairs, why=c.why)


@dataclass(frozen=True)
class WhatIf:
    pairs: int  # client x course pairs decided
    clients: int
    changes: tuple[PairChange, ...]
    groups: tuple[Group, ...] = field(default=())  # largest first


Pair = tuple[Mapping[str, Any], str]  # (client facts, course code)


def what_if(old: Side, new: Side, pairs_old: Sequence[Pair], pairs_new: Sequence[Pair],
            courses_old: Mapping[str, Mapping[str, Any]], courses_new: Mapping[str, Mapping[str, Any]],
            on: date) -> WhatIf:
    """Decide the same client x course pairs (each side's own facts of them, ``pairs_*``) under both
    versions, each on its own date (``Side.on``, else ``on``), and keep the pairs that change."""
    before = _decide(old.rulebook, pairs_old, courses_old, old.on or on)
    after = _decide(new.rulebook, pairs_new, courses_new, new.on or on)
    params_before = old.rulebook.compiled.param_values(old.on or on)
    params_after = new.rulebook.compiled.param_values(new.on or on)
    changes = []
    for (client, code), b, a in zip(pairs_old, before, after):
        change = _change(str(client.get("id", "")), code, b, a, params_before, params_after)
        if change is not None:
            changes.append(change)
    groups: dict[tuple[Any, ...], tuple[set[str], int, PairChange]] = {}
    for c in changes:
        if c.before != c.after:
            key: tuple[Any, ...] = (c.before, c.after, c.why)
        elif c.priority_before != c.priority_after:
            key = (c.priority_before, c.priority_after, c.why)
        else:  # only what the decision waits for changes, whatever the outcome
            key = (c.why,)
        ids, n, sample = groups.get(key, (set(), 0, c))
        ids.add(c.client_id)
        groups[key] = (ids, n + 1, sample)
    ordered = sorted((Group(len(ids), n, sample) for ids, n, sample in groups.values()),
                     key=lambda g: (g.sample.before == g.sample.after, not g.sample.decided_differently,
                                    -g.clients, -g.pairs, str(g)))
    return WhatIf(len(pairs_old), len({str(c.get("id", "")) for c, _c in pairs_old}), tuple(changes), tuple(ordered))


Result = Decision | Refusal | str  # a decision, a refusal, or why the pair was not decided


def _decide(rulebook: Rulebook, pairs: Sequence[Pair], courses: Mapping[str, Mapping[str, Any]],
            on: date) -> list[Result]:
    engine = Engine(rulebook)
    try:
        known = [i for i, (_client, code) in enumerate(pairs) if code in courses]
        decided = engine.decide_many([(pairs[i][0], courses[pairs[i][1]]) for i in known], on, explain=True)
    finally:
        engine.close()
    out: list[Result] = [_("not in the catalogue") for _pair in pairs]
    for i, result in zip(known, decided):
        out[i] = result
    return out


def _statuses(result: Result) -> dict[str, tuple[RuleStatus, tuple[str, ...]]]:
    if not isinstance(result, Decision):
        return {}
    missing = {r.rule_id: r.missing for r in result.reasons}
    return {t.rule_id: (t.status, missing.get(t.rule_id, ())) for t in result.trace}


def _outcome(result: Result) -> str:
    return result.outcome.value if isinstance(result, Decision) else "-"


def _change(client_id: str, code: str, b: Result, a: Result, params_before: Mapping[str, Any],
            params_after: Mapping[str, Any]) -> PairChange | None:
    pb = b.priority if isinstance(b, Decision) else None
    pa = a.priority if isinstance(a, Decision) else None
    missing_b = set(b.missing) if isinstance(b, Decision) else set()
    missing_a = set(a.missing) if isinstance(a, Decision) else set()
    if _outcome(b) == _outcome(a) and pb == pa and missing_b == missing_a and (
            isinstance(b, Decision) or str(b) == str(a)):
        return None
    sb, sa = _statuses(b), _statuses(a)

    def was(statuses: dict[str, tuple[RuleStatus, tuple[str, ...]]], rule: str) -> RuleStatus | None:
        return statuses[rule][0] if rule in statuses else None

    fired, waiting_ = RuleStatus.FIRED, RuleStatus.MISSING
    now = tuple(r for r, (s, _m) in sa.items() if s is fired and was(sb, r) is not fired)
    gone = tuple(r for r, (s, _m) in sb.items() if s is fired and was(sa, r) is not fired)
    waits = {r: m for r, (s, m) in sa.items() if s is waiting_ and was(sb, r) is not waiting_}
    rules = a.trace if isinstance(a, Decision) else ()
    reads = {t.rule_id: [f.name for f in t.facts if f.name.startswith("param.")] for t in rules}
    parts = []
    priority_rules = {t.rule_id for t in rules if t.effect.startswith("priority")}
    outcome_changed = _outcome(b) != _outcome(a)  # then the priority rules are beside the point
    for rule_id in now:
        if not (outcome_changed and rule_id in priority_rules):
            parts.append(_("{rule} now applies", rule=rule_id) + _params_changed(reads.get(rule_id, ()),
                                                                                 params_before, params_after))
    for rule_id in gone:
        if not (outcome_changed and rule_id in priority_rules):
            parts.append(_("{rule} no longer applies", rule=rule_id) + _params_changed(
                reads.get(rule_id, ()), params_before, params_after))
    for rule_id, facts in waits.items():
        if rule_id in priority_rules:
            if not outcome_changed:
                parts.append(_("{rule} waits for {facts} (the priority may be incomplete)", rule=rule_id,
                               facts=", ".join(facts) or "?"))
        else:
            parts.append(_("{rule} waits for {facts}", rule=rule_id, facts=", ".join(facts) or "?"))
    for result, when in ((b, _("before")), (a, _("after"))):
        if not isinstance(result, Decision):
            parts.append(_("{when}: not decided ({why})", when=when, why=str(result)))
    waiting = tuple(dict.fromkeys(f for facts in waits.values() for f in facts))
    return PairChange(client_id, code, _outcome(b), _outcome(a), pb, pa, now, gone, waiting,
                      "; ".join(parts) or _("the reasons differ"))


def _params_changed(names: Sequence[str], before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    changed = [f"{n} {_value(before[n])} \u2192 {_value(after.get(n, '-'))}" if n in before else
               f"{n} = {_value(after.get(n, '-'))}" for n in names if before.get(n) != after.get(n)]
    return f" ({', '.join(changed)})" if changed else ""
