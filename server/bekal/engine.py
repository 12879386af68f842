"""The one object that owns durable_rules: load compiled rules, decide, swap atomically.

durable_rules is not thread-safe and never releases the GIL, and every ``Host``
starts timer threads that dispatch actions on their own (DESIGN §4). So the
engine owns a single Host whose background dispatch is switched off, and every
call into it happens under one lock. A rule version is registered under a
content-derived name next to the one serving; the swap is one assignment under
the lock, and the old ruleset is deleted once no call can still be using it.
Callers never see two versions in one answer: a batch captures the version it
starts with.

Facts go in as facts (not events): durable_rules lets an event be consumed by
the first rule that matches, but a fact is seen by every rule, and the trace
needs every rule. Each batch uses its own session id and deletes that session
afterwards, so facts never accumulate and the 1,024-session limit is never near.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import durable_rules_engine as dre
from durable.engine import Host

from bekal import facts as schema
from bekal.compiler import AS_OF, INDEX, TAG, CompiledRule, CompiledRules, day_number, encode, event_key, render
from bekal.decision import Decision, FactValue, Outcome, Reason, RuleStatus, RuleTrace

BATCH = 500  # facts per durable_rules call: large enough to amortise the call, small enough for latency
# durable_rules 2.0.28 never initialises a session's action context (state.c createStateNode), and
# delete_state frees it: deleting a session in which no action ran frees garbage and kills the process
# (SIGSEGV / "free(): invalid pointer", seen for an ELIGIBLE client of a small ruleset). So every batch
# also asserts one SESSION fact that a no-op rule always fires on, which leaves the context NULL.
SESSION = "_s"


class EngineError(RuntimeError):
    """durable_rules refused a ruleset or failed inside an action: a bug or a limit, never bad input."""


class NoRulesLoaded(EngineError):
    """No valid ruleset has been loaded yet."""


class NotInForce(ValueError):
    """No ruleset is in force on the requested as-of date: nothing can be decided for it."""


class _QuietHost(Host):
    """A Host without its timer threads: we dispatch actions ourselves, under our lock."""

    def _run(self) -> None:
        pass

    def unregister(self, name: str) -> None:
        ruleset = self._ruleset_directory.pop(name)
        self._ruleset_list.remove(ruleset)
        dre.delete_ruleset(ruleset._handle)


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A registered rule version: what a batch captures when it starts."""

    rulebook: Any  # bekal.rulebook.Rulebook (not imported: the engine does not depend on rule files)
    compiled: CompiledRules
    ruleset: Any  # durable.engine.Ruleset
    reasons: "_Reasons"


class Engine:
    """Decides eligibility with durable_rules; safe to call from many threads."""

    def __init__(self, rulebook: Any = None):
        self._lock = threading.Lock()
        self._host = _QuietHost()
        self._active: _Loaded | None = None
        self._sessions = itertools.count(1)
        if rulebook is not None:
            self.load(rulebook)

    # ------------------------------------------------------------ loading

    @property
    def rulebook(self) -> Any:
        active = self._active
        return None if active is None else active.rulebook

    @property
    def version(self) -> str | None:
        active = self._active
        return None if active is None else active.rulebook.version

    def load(self, rulebook: Any) -> None:
        """Start serving ``rulebook`` (a checked, compiled ``bekal.rulebook.Rulebook``); atomic."""
        compiled: CompiledRules = rulebook.compiled
        with self._lock:
            if self._active is not None and self._active.compiled.name == compiled.name:
                self._active = _Loaded(rulebook, compiled, self._active.ruleset, self._active.reasons)
                return
            loaded = self._register(rulebook, compiled)
            old, self._active = self._active, loaded
            if old is not None:
                self._host.unregister(old.compiled.name)

    def _register(self, rulebook: Any, compiled: CompiledRules) -> _Loaded:
        definition = copy.deepcopy(compiled.definition)  # durable_rules mutates what it is given
        # durable_rules wants a callable per rule; `dispatch` records what fired instead of calling them.
        for name in compiled.actions:
            definition[name]["run"] = _never_called
        definition[SESSION] = {"all": [{"m": {SESSION: 1}}], "run": _never_called}
        try:
            self._host.register_rulesets({compiled.name: definition})
        except Exception as exc:  # durable_rules raises plain Exception for what it cannot compile
            raise EngineError(f"durable_rules refused the ruleset: {exc}") from exc
        return _Loaded(rulebook, compiled, self._host.get_ruleset(compiled.name), _Reasons(compiled.rules))

    def close(self) -> None:
        with self._lock:
            if self._active is not None:
                self._host.unregister(self._active.compiled.name)
                self._active = None

    # ------------------------------------------------------------ deciding

    def decide(self, client: Mapping[str, Any], course: Mapping[str, Any], as_of: date,
               explain: bool = False) -> Decision:
        """One client × one course. ``explain`` adds the trace of every rule."""
        return self.decide_many([(client, course)], as_of, explain=explain)[0]

    def decide_many(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date,
                    explain: bool = False) -> list[Decision]:
        """Many client × course pairs as of one date, all under the same rule version.

        ``client``/``course`` are fact mappings (``bekal.facts``): proto field names,
        dates as ``datetime.date``, enums as lower-case strings, absent = missing.
        The same mapping object may appear in many pairs; its facts are prepared once.
        """
        while True:
            decisions = self._decide_once(pairs, as_of, explain)
            if decisions is not None:
                return decisions

    def _decide_once(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date,
                     explain: bool) -> list[Decision] | None:
        """``decide_many`` under the version serving now; None when another was loaded meanwhile."""
        active = self._active
        if active is None:
            raise NoRulesLoaded("no valid ruleset is loaded")
        compiled = active.compiled
        if not any(rule.in_force(as_of) for rule in compiled.rules):
            raise NotInForce(f"no ruleset is in force on {as_of.isoformat()}")
        prepared: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

        def prepare(kind: str, facts: Mapping[str, Any], names: tuple[str, ...]) -> tuple[dict, dict]:
            key = id(facts)
            hit = prepared.get(key)
            if hit is None:
                full = schema.derive(kind, facts, as_of)
                event = {}
                for name in names:
                    value = full.get(name.split(".", 1)[1])
                    if value is not None:
                        event[event_key(name)] = encode(value)
                hit = prepared[key] = (full, event)
            return hit

        events = []
        views = []
        base = {TAG: 1, AS_OF: day_number(as_of)} if compiled.dated else {TAG: 1}
        for i, (client, course) in enumerate(pairs):
            cfull, cevent = prepare("client", client, compiled.client_facts)
            kfull, kevent = prepare("course", course, compiled.course_facts)
            events.append({**cevent, **kevent, **base, INDEX: i})
            views.append((cfull, kfull))
        ran = self._run(events, active)
        if ran is None:  # a new version was loaded while the events were prepared for this one
            return None
        fired, missing, active = ran
        rules = active.compiled.rules
        version = active.rulebook.version
        decisions = []
        for i, (cfull, kfull) in enumerate(views):
            decisions.append(_decide(active.reasons, rules, fired.get(i, ()), missing.get(i, ()), cfull, kfull,
                                     as_of, version, explain))
        return decisions

    def _run(self, events: list[dict], expected: _Loaded
             ) -> tuple[dict[int, list[int]], dict[int, list[int]], _Loaded] | None:
        """Assert the events as facts in fresh sessions; which rules fired for which event.

        None when ``expected`` (the version the events were prepared for) no longer serves: another
        version may read other facts or need the as-of day, so the events would be wrong for it.
        """
        with self._lock:
            active = self._active
            if active is None:
                raise NoRulesLoaded("no valid ruleset is loaded")
            if active is not expected:
                return None
            handle = active.ruleset._handle
            actions = active.compiled.actions
            lists: dict[str, list[tuple[int, int]]] = {"fired": [], "missing": []}  # (event, rule index)

            def record(name: str, message: dict) -> None:
                target = actions.get(name)  # None for the session sentinel
                if target is not None:
                    lists[target[0]].append((message["m"][INDEX], target[1]))

            for start in range(0, len(events), BATCH):
                sid = f"b{next(self._sessions)}"
                chunk = [{SESSION: 1}, *events[start : start + BATCH]]
                for event in chunk:
                    event["sid"] = sid
                try:
                    result = dre.assert_facts(handle, json.dumps(chunk))
                    # result[0] is 1 when some fact matched no rule: normal for an eligible client.
                    dispatch(handle, result[1], record)
                finally:
                    dre.delete_state(handle, sid)
        return _group(lists["fired"]), _group(lists["missing"]), active


def dispatch(handle: int, state: int, on_action: Callable[[str, dict], None]) -> None:
    """Run the actions durable_rules queued for a session, calling ``on_action(rule name, message)``.

    This is durable.engine.Ruleset.do_actions without what our actions never use: a Closure
    per action, re-posting the unchanged session state after each one, timers and promises.
    That machinery cost about half of each decision; the C calls and their order are the same
    (measured: identical decisions on 24,000 pairs, flat memory over 500,000).
    """
    started = dre.start_action_for_state(handle, state)
    message = started[1] if started else None
    while message:
        for name, payload in json.loads(message).items():
            on_action(name, payload)
        message = dre.complete_and_start_action(handle, state)


def _never_called(c: Any) -> None:
    raise AssertionError("bekal.engine.dispatch runs actions; durable_rules' own dispatch is never used")


def _group(pairs: list[tuple[int, int]]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for event, rule in pairs:
        out.setdefault(event, []).append(rule)
    return out


# ---------------------------------------------------------------- decisions


def _values(names: tuple[str, ...], client: Mapping[str, Any], course: Mapping[str, Any]) -> dict[str, Any]:
    return {n: (client if n.startswith("client.") else course).get(n.split(".", 1)[1]) for n in names}


def _fact_values(values: dict[str, Any]) -> tuple[FactValue, ...]:
    return tuple(FactValue(n, v.isoformat() if isinstance(v, date) else v) for n, v in values.items())


def _absent_inputs(rule: CompiledRule, client: Mapping[str, Any], course: Mapping[str, Any]) -> tuple[str, ...]:
    """Input fields to fill in for ``rule`` to be decided (a derived fact names what it comes from)."""
    values = _values(rule.needs, client, course)
    return tuple(dict.fromkeys(i for n, v in values.items() if v is None for i in schema.input_facts(n)))


def _reason(rule: CompiledRule, outcome: Outcome, client: Mapping, course: Mapping,
            missing: tuple[str, ...] = ()) -> Reason:
    values = _values(rule.shown, client, course)
    if missing:  # the rule's own reason describes it firing; say instead what it waits for
        names = ", ".join(missing)
        message_id = f"Belum dapat diputuskan: data {names} belum tersedia ({rule.description.rstrip('.')})."
        message_en = f"Cannot be decided yet: {names} is not known (rule {rule.id})."
    else:
        message_id, message_en = render(rule.reason_id, values), render(rule.reason_en, values)
    return Reason(
        rule_id=rule.id, ruleset=rule.ruleset, outcome=outcome,
        message_id=message_id, message_en=message_en,
        facts=_fact_values({n: values[n] for n in rule.facts}), source=rule.source, shareable=rule.shareable,
        priority=rule.points if outcome is Outcome.ELIGIBLE else 0, missing=missing,
    )


class _Reasons:
    """Reasons are immutable and many decisions share one (every BNN referral's priority reason,
    every "age 17"), so each is built once per distinct set of values and reused."""

    LIMIT = 200_000

    def __init__(self, rules: Sequence[CompiledRule] = ()) -> None:
        self._cache: dict[tuple, Reason] = {}
        # per rule: (is a client fact, field) of each fact its reason shows, looked up on every decision
        self._shown = [tuple((n.startswith("client."), n.split(".", 1)[1]) for n in r.shown) for r in rules]

    def get(self, rule: CompiledRule, outcome: Outcome, client: Mapping, course: Mapping,
            missing: tuple[str, ...] = ()) -> Reason:
        key = (rule.index, outcome, missing,
               *[(client if own else course).get(field) for own, field in self._shown[rule.index]])
        try:
            hit = self._cache.get(key)
        except TypeError:  # an unhashable fact value: build without the cache
            return _reason(rule, outcome, client, course, missing)
        if hit is None:
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            hit = self._cache[key] = _reason(rule, outcome, client, course, missing)
        return hit


_EFFECT_OUTCOME = {"ineligible": Outcome.INELIGIBLE, "pending": Outcome.PENDING, "priority": Outcome.ELIGIBLE}
_ORDER = {Outcome.INELIGIBLE: 0, Outcome.PENDING: 1, Outcome.ELIGIBLE: 2}


def _decide(reasons_cache: _Reasons, rules: tuple[CompiledRule, ...], fired_idx: Sequence[int],
            missing_idx: Sequence[int], client: Mapping, course: Mapping, as_of: date, version: str,
            explain: bool) -> Decision:
    """Any INELIGIBLE wins, then PENDING (including undecidable rules), else ELIGIBLE."""
    fired = sorted(set(fired_idx))
    reasons = [reasons_cache.get(rules[i], _EFFECT_OUTCOME[rules[i].effect], client, course) for i in fired]
    undecided = sorted(set(missing_idx).difference(fired)) if missing_idx else []
    for i in undecided:
        reasons.append(reasons_cache.get(rules[i], Outcome.PENDING, client, course,
                                         _absent_inputs(rules[i], client, course)))
    if len(reasons) > 1:
        reasons.sort(key=lambda r: _ORDER[r.outcome])
    outcome = reasons[0].outcome if reasons else Outcome.ELIGIBLE
    trace = _trace(rules, set(fired), set(undecided), client, course, as_of) if explain else ()
    return Decision(
        client_id=str(client.get("id", "")), course_code=str(course.get("code", "")), outcome=outcome,
        reasons=tuple(reasons), priority=sum(r.priority for r in reasons), ruleset_version=version,
        as_of=as_of, trace=trace,
    )


def _trace(rules: tuple[CompiledRule, ...], fired: set[int], undecided: set[int], client: Mapping,
           course: Mapping, as_of: date) -> tuple[RuleTrace, ...]:
    out = []
    for rule in rules:
        if not rule.in_force(as_of):
            status = RuleStatus.NOT_IN_FORCE
        elif rule.index in fired:
            status = RuleStatus.FIRED
        elif rule.index in undecided or (rule.effect == "priority" and _absent_inputs(rule, client, course)):
            status = RuleStatus.MISSING
        else:
            status = RuleStatus.NOT_FIRED
        out.append(RuleTrace(rule.id, rule.ruleset, status, rule.effect_text,
                             _fact_values(_values(rule.facts, client, course)), rule.location))
    return tuple(out)
