"""The objects that own durable_rules: load compiled rules, decide, swap atomically.

durable_rules is not thread-safe and never releases the GIL, and every ``Host``
starts timer threads that dispatch actions on their own. So the
engine owns a single Host whose background dispatch is switched off, and every
call into durable_rules happens under one lock (:data:`DURABLE_LOCK`, shared with
:class:`FlatEngine`, which runs the monitoring rules with the same parts). A rule version is registered under a
content-derived name next to the one serving; the swap is one assignment under
the lock, and the old ruleset is deleted once no call can still be using it.
Callers never see two versions in one answer: a batch captures the version it
starts with.

Facts go in as facts (not events): durable_rules lets an event be consumed by
the first rule that matches, but a fact is seen by every rule, and the trace
needs every rule. Each batch uses its own session id and deletes that session
afterwards, so facts never accumulate and the 1,024-session limit is never near.

Fail closed. A pair is decided only with proof: every judge in force
(``bekal.compiler``, "Evidence") must have fired for it, i.e. durable_rules gave
every rule a verdict. Input reaches durable_rules only through one encoder
(``_Prepared``): facts the rules read, validated against their ranges and the
decision date (:func:`bekal.facts.check_on`), numbers in plain notation, text as
UTF-8. A pair whose input fails, or which lacks the proof, comes back as a
:class:`~bekal.decision.Refusal` in its place; it never reaches durable_rules
or never becomes a decision, and the other pairs of the batch are unaffected.
Nothing is decided on a date on which a ruleset that exists is not in force.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import durable_rules_engine as dre
from durable.engine import Host

from bekal import facts as schema
from bekal.compiler import (
    AS_OF,
    FIRED,
    INDEX,
    JUDGED,
    TAG,
    CompiledRule,
    CompiledRules,
    day_number,
    render,
)
from bekal.decision import Decision, FactValue, Outcome, Reason, Refusal, RuleStatus, RuleTrace, Verdict
from bekal.i18n import N_, _

Facts = Mapping[str, Any]  # a client's or a course's facts (bekal.facts)
BATCH = 500  # facts per durable_rules call: large enough to amortise the call, small enough for latency
# durable_rules 2.0.28 never initialises a session's action context (state.c createStateNode), and
# delete_state frees it: deleting a session in which no action ran frees garbage and kills the process
# (SIGSEGV / "free(): invalid pointer", seen for an ELIGIBLE client of a small ruleset). So every batch
# also asserts one SESSION fact that a no-op rule always fires on, which leaves the context NULL.
SESSION = "_s"
# A call of at most this many events asserts them into a session kept for it (and retracts them after):
# making a session costs ~10x asserting one event into a kept one (measured: ~110-150 us against ~6 us,
# loaded machine), which was most of a single check's time in the engine. Bigger calls get a session
# each, deleted after, as before: there the making is shared by up to BATCH events.
KEPT_MAX = 32
CAP = BATCH + 1  # events one action of a rule hands over: every event of a session (_register_definition)
# Every call into durable_rules, by every engine of the process (eligibility's Engine and the
# monitoring rules' FlatEngine), holds this lock: durable_rules is one C library with no locking of its own.
DURABLE_LOCK = threading.Lock()


class EngineError(RuntimeError):
    """durable_rules refused a ruleset or failed inside an action: a bug or a limit, never bad input."""


class NoRulesLoaded(EngineError):
    """No valid ruleset has been loaded yet."""


class NotInForce(ValueError):
    """A ruleset that exists is not in force on the requested as-of date: nothing is decided for it
    (deciding with the rest would let clients through rules that simply are not dated for it)."""

    def __init__(self, on: date, rulesets: Sequence[str] = ()):
        self.on = on
        self.rulesets = tuple(rulesets)
        which = _(" (not in force: {names})", names=", ".join(self.rulesets)) if self.rulesets else ""
        super().__init__(_("the rules are not in force on {date}", date=on.isoformat()) + which)


class Refused(ValueError):
    """:meth:`Engine.decide` of a pair the engine would not decide (see :class:`Refusal`)."""

    def __init__(self, refusal: Refusal):
        self.refusal = refusal
        super().__init__(str(refusal))


class _QuietHost(Host):  # type: ignore[misc]  # durable_rules has no type information
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
    reasons: _Reasons
    client_reads: _Reads
    course_reads: _Reads
    bases: dict[date, str] = dataclasses.field(default_factory=dict)  # as-of date -> what every event of it ends with


# facts, then _Reads.prepare's: with derived facts, the event fragment (with its comma), problems
_Input = tuple[Mapping[str, Any], dict[str, Any], str, list[tuple[str, str]]]


class Shared:
    """A job's courses prepared once for its many calls (:meth:`Engine.judge_many`): they are in every
    call, and preparing them again each time was a tenth of a placement's eligibility. Clients are
    not kept: each is in one call of a job, and keeping them would hold a whole cohort's facts.

    Belongs to one job on one thread. The job must not change a course's mapping while using it (the
    placement's cohort is built once and only read); a new rule version or another date starts over.
    """

    __slots__ = ("_loaded", "_as_of", "_courses")

    def __init__(self) -> None:
        self._loaded: _Loaded | None = None
        self._as_of: date | None = None
        self._courses: dict[int, _Input] = {}  # id(course) -> input; holds the mapping, so its id stays its own

    def courses_for(self, loaded: _Loaded, as_of: date) -> dict[int, _Input]:
        if loaded is not self._loaded or as_of != self._as_of:
            self._loaded, self._as_of, self._courses = loaded, as_of, {}
        return self._courses


@dataclass(frozen=True, slots=True)
class Judgement:
    """:meth:`Engine.judge_many`'s answer: per pair a verdict or a refusal, and the version of the rules."""

    version: str
    verdicts: list[Verdict | Refusal]
    traces: list[tuple[RuleTrace, ...]] | None = None  # per pair, when asked to explain


def encode_value(fact: schema.Fact, value: Any) -> str:
    """``value`` of ``fact`` as event JSON durable_rules reads exactly, checked against the fact's type and
    range; ValueError or TypeError when it is not one the fact may hold. The one number encoding of every
    engine here (plain decimal notation, :func:`bekal.facts.json_number`; dates as day numbers)."""
    if fact.type == schema.NUMBER:
        return schema.json_number(schema.check_number(fact, value))
    if fact.type == schema.DATE:
        if not isinstance(value, date):
            raise ValueError(f"expected a date, got {type(value).__name__}")
        return str(day_number(value))
    if fact.type == schema.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {type(value).__name__}")
        return "true" if value else "false"
    return schema.json_value(schema.check_text(fact, value))


class _Reads:
    """The facts of one kind the rules read, and how each goes into an event."""

    LIMIT = 100_000  # encoded values kept (then forgotten all at once)

    def __init__(self, kind: str, names: Sequence[str], keys: Mapping[str, str],
                 facts: Mapping[str, schema.Fact] = schema.SCHEMA):
        self.kind = kind
        # (field, '"event key":', schema fact) for every fact the rules read (the API's, derived or declared)
        self.items = tuple((n.split(".", 1)[1], json.dumps(keys[n]) + ":", facts[n]) for n in names)
        # (field, type, value) -> '"event key":value' for every value that checked out: a cohort repeats
        # its stages, education levels, scores, ages and dates, and checking and spelling a value (quoting
        # text, the plain decimal form of a number) was half of preparing a client. The type is part of
        # the key: True == 1 == 1.0 as dict keys, and a bool must never pass as a number's encoding. A
        # value that fails is never kept, so every value in an event was checked once for its fact.
        self._encoded: dict[tuple[str, type, Any], str] = {}

    def prepare(self, facts: Mapping[str, Any], as_of: date) -> tuple[dict[str, Any], str, list[tuple[str, str]]]:
        """``(facts with derived ones, event JSON fragment, problems)``: the one gate into durable_rules.

        Only what the rules read is encoded, and each value is checked against its fact's type
        and range once more (derived facts such as the age are new values; a mapping may not have
        come through :func:`bekal.facts.parse_facts`), so nothing durable_rules could misread gets in.
        """
        problems = schema.check_on(self.kind, facts, as_of)
        full = schema.derive(self.kind, facts, as_of) if not problems else dict(facts)
        parts = []
        encoded = self._encoded
        for field, key, fact in self.items:
            value = full.get(field)
            if value is None:
                continue
            cls = value.__class__
            cached = cls in _KEPT_TYPES
            if cached:
                hit = encoded.get((field, cls, value))
                if hit is not None:
                    parts.append(hit)
                    continue
            try:
                text = encode_value(fact, value)
            except (TypeError, ValueError) as exc:
                problems.append((fact.name, str(exc)))
                continue
            part = key + text
            if cached:
                if len(encoded) >= self.LIMIT:
                    encoded.clear()
                encoded[(field, cls, value)] = part
            parts.append(part)
        return full, ",".join(parts), problems


# the types of value whose encoding _Reads keeps: hashable, immutable, and equal only to their own kind's
# values of the same encoding (NaN never gets in: it fails its check and failures are not kept)
_KEPT_TYPES = frozenset({str, int, float, bool, date})


class Engine:
    """Decides eligibility with durable_rules; safe to call from many threads."""

    def __init__(self, rulebook: Any = None):
        self._lock = DURABLE_LOCK
        self._host = _QuietHost()
        self._active: _Loaded | None = None
        self._sessions = itertools.count(1)
        self._calls = itertools.count(1)
        self._kept: dict[int, tuple[str, str]] = {}  # ruleset handle -> (kept session id, its facts when empty)
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
                self._active = _Loaded(rulebook, compiled, self._active.ruleset, self._active.reasons,
                                       self._active.client_reads, self._active.course_reads, self._active.bases)
                return
            loaded = self._register(rulebook, compiled)
            old, self._active = self._active, loaded
            if old is not None:
                self._forget_kept(old)
                self._host.unregister(old.compiled.name)

    def _register(self, rulebook: Any, compiled: CompiledRules) -> _Loaded:
        _register_definition(self._host, compiled.name, compiled)
        facts = getattr(rulebook, "facts", schema.SCHEMA)
        return _Loaded(rulebook, compiled, self._host.get_ruleset(compiled.name), _Reasons(compiled.rules),
                       _Reads("client", compiled.client_facts, compiled.keys, facts),
                       _Reads("course", compiled.course_facts, compiled.keys, facts))

    def close(self) -> None:
        with self._lock:
            if self._active is not None:
                self._forget_kept(self._active)
                self._host.unregister(self._active.compiled.name)
                self._active = None

    # ------------------------------------------------------------ deciding

    def decide(self, client: Mapping[str, Any], course: Mapping[str, Any], as_of: date,
               explain: bool = False) -> Decision:
        """One client × one course. ``explain`` adds the trace of every rule. Raises :class:`Refused`."""
        result = self.decide_many([(client, course)], as_of, explain=explain)[0]
        if isinstance(result, Refusal):
            raise Refused(result)
        return result

    def decide_many(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date,
                    explain: bool = False) -> list[Decision | Refusal]:
        """Many client × course pairs as of one date, all under the same rule version.

        ``client``/``course`` are fact mappings (``bekal.facts``): proto field names,
        dates as ``datetime.date``, enums as lower-case strings, absent = missing.
        The same mapping object may appear in many pairs; its facts are prepared once.
        Each pair gets a :class:`Decision`, or a :class:`Refusal` when its input is impossible
        or durable_rules gave no proof of judging it. Raises :class:`NotInForce` for a date on
        which some ruleset is not in force, :class:`NoRulesLoaded` before any rules are loaded.
        """
        judged = self._judge(pairs, as_of, explain, None)
        version = judged.version
        out: list[Decision | Refusal] = []
        for (client, course), v, trace in zip(pairs, judged.verdicts, judged.traces or itertools.repeat(())):
            if isinstance(v, Refusal):
                out.append(v)
            else:
                out.append(Decision(str(client.get("id", "")), str(course.get("code", "")), v.outcome,
                                    v.reasons, v.priority, version, as_of, trace))
        return out

    def judge_many(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date,
                   shared: Shared | None = None) -> Judgement:
        """:meth:`decide_many` without the pairs in the answers: per pair a :class:`Verdict` (shared by
        the pairs whose reasons are the same objects: most pairs with the same reasons) or a :class:`Refusal`,
        and the version they were decided under. For batch work (placing a cohort), where the pair is
        known from its place and building a :class:`Decision` per pair was a third of the time.

        ``shared``: the courses prepared by earlier calls of the same job (:class:`Shared`), so a
        course is prepared once per job rather than once per call."""
        return self._judge(pairs, as_of, False, shared)

    def _judge(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date, explain: bool,
               shared: Shared | None) -> Judgement:
        while True:
            judged = self._judge_once(pairs, as_of, explain, shared)
            if judged is not None:
                return judged

    def _judge_once(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date,
                    explain: bool, shared: Shared | None) -> Judgement | None:
        """``_judge`` under the version serving now; None when another was loaded meanwhile."""
        active = self._active
        if active is None:
            raise NoRulesLoaded("no valid ruleset is loaded")
        compiled = active.compiled
        gaps = compiled.not_in_force(as_of)
        if gaps:
            raise NotInForce(as_of, gaps)
        expected = 0
        for judge in compiled.judges_in_force(as_of):
            expected |= 1 << judge.index
        clients_in: dict[int, _Input] = {}  # id(facts) -> input, for this call
        courses_in = shared.courses_for(active, as_of) if shared is not None else {}

        def prepare(into: dict[int, _Input], reads: _Reads, facts: Mapping[str, Any]) -> _Input:
            full, fragment, problems = reads.prepare(facts, as_of)
            hit = into[id(facts)] = (facts, full, fragment + "," if fragment else "", problems)
            return hit

        base = active.bases.get(as_of)
        if base is None:
            if len(active.bases) >= 1_000:  # callers choose the dates: keep the last few, not every one asked
                active.bases.clear()
            base = active.bases.setdefault(as_of, _event_base(compiled, as_of))
        params = compiled.param_values(as_of)
        call = next(self._calls)
        events: list[str] = []
        views: list[tuple[dict[str, Any], dict[str, Any]]] = []
        refused: dict[int, Refusal] = {}
        client_reads, course_reads = active.client_reads, active.course_reads
        client_of, course_of = clients_in.get, courses_in.get
        for i, (client, course) in enumerate(pairs):
            hit = client_of(id(client))
            if hit is None or hit[0] is not client:
                hit = prepare(clients_in, client_reads, client)
            _, cfull, cfrag, cproblems = hit
            hit = course_of(id(course))
            if hit is None or hit[0] is not course:
                hit = prepare(courses_in, course_reads, course)
            _, kfull, kfrag, kproblems = hit
            views.append((cfull, kfull))
            if cproblems or kproblems:
                refused[i] = Refusal(str(client.get("id", "")), str(course.get("code", "")),
                                     tuple(cproblems + kproblems))
                continue
            # INDEX first: dispatch reads it at a fixed place of each action message. An "id" of its own:
            # durable_rules identifies a fact without one by a hash of its text and keeps one fact per id,
            # so two events of a batch whose texts collide lost the second (measured: one 500-event batch
            # in ~3,000; that pair had no proof and its whole placement job failed). Unique per call, too:
            # a small call's events go into a session kept across calls.
            events.append(f'{{"{INDEX}":{i},"id":"{call}.{i}",{cfrag}{kfrag}{base}')
        ran = self._run(events, active)
        if ran is None:  # a new version was loaded while the events were prepared for this one
            return None
        fired, missing, judged = ran.fired, ran.missing, ran.judged
        rules = compiled.rules
        verdicts: list[Verdict | Refusal] = []
        traces: list[tuple[RuleTrace, ...]] = []
        verdict = active.reasons.verdict
        for i, (cfull, kfull) in enumerate(views):
            refusal = refused.get(i)
            if refusal is None and judged.get(i, 0) != expected:
                refusal = Refusal(str(cfull.get("id", "")), str(kfull.get("code", "")),
                                  unjudged=_unjudged(compiled, expected & ~judged.get(i, 0)))
            if refusal is not None:
                verdicts.append(refusal)
                traces.append(())
                continue
            fired_i, missing_i = fired.get(i, ()), missing.get(i, ())
            verdicts.append(verdict(rules, fired_i, missing_i, cfull, kfull, params))
            if explain:
                traces.append(_trace(rules, set(fired_i), set(missing_i).difference(fired_i), cfull, kfull,
                                     as_of, params))
        return Judgement(active.rulebook.version, verdicts, traces if explain else None)

    def _run(self, events: list[str], expected: _Loaded) -> _Fired | None:
        """Assert the events (JSON objects without their session id) as facts in fresh sessions;
        which rules fired, which could not be decided and which judges fired, per event index.

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
            out = _Fired(active.compiled.actions)
            if 0 < len(events) <= KEPT_MAX:
                self._run_kept(handle, events, out.record)
            else:
                _run_fresh(handle, events, out.record, self._sessions)
        return out

    def _run_kept(self, handle: int, events: list[str], record: Record) -> None:
        """Assert ``events`` into the session kept for ``handle``, dispatch, retract them (under the lock).

        The session must be as empty after as before: no action queued by the retraction and only its
        sentinel left. Anything else (an error included) deletes it; the next call makes a new one.
        """
        kept = self._kept.get(handle)
        if kept is None:
            sid = f"k{next(self._sessions)}"
            result = dre.assert_facts(handle, f'[{{"{SESSION}":1,"id":"s","sid":"{sid}"}}]')
            dispatch(handle, result[1], _ignore)  # runs the sentinel's action: the session is safe to delete
            kept = self._kept[handle] = (sid, dre.get_facts(handle, sid))
        sid, empty = kept
        tail = f',"sid":"{sid}"}}'
        # a sentinel of the call's own first, as in a fresh session: durable_rules crashed (SIGSEGV in
        # start_action_for_state) on a batch with an event it cannot read asserted into a kept session
        # without one
        chunk = "".join(("[{", f'"{SESSION}":1,"id":"s{next(self._calls)}"', tail,
                         *["," + e + tail for e in events], "]"))
        clean = False
        try:
            result = dre.assert_facts(handle, chunk)
            dispatch(handle, result[1], record)
            retracted = dre.retract_facts(handle, chunk)
            clean = dre.start_action_for_state(handle, retracted[1]) is None and dre.get_facts(handle, sid) == empty
        finally:
            if not clean:
                del self._kept[handle]
                dre.delete_state(handle, sid)

    def _forget_kept(self, loaded: _Loaded) -> None:
        """The ruleset's kept session goes with it (deleting a ruleset frees its sessions)."""
        self._kept.pop(loaded.ruleset._handle, None)


Record = Callable[[str, list[str]], None]  # (durable rule name, the indexes of the events it matched, as text)


class _Fired:
    """What durable_rules' actions said, per event index: the rules that fired, those that could not
    be decided (missing checks) and the judges that fired (one bit each)."""

    __slots__ = ("actions", "fired", "missing", "judged")

    def __init__(self, actions: Mapping[str, tuple[str, int]]):
        self.actions = actions
        self.fired: dict[int, list[int]] = {}
        self.missing: dict[int, list[int]] = {}
        self.judged: dict[int, int] = {}

    def record(self, name: str, indexes: list[str]) -> None:
        kind, target = self.actions[name]
        if kind == JUDGED:
            judged, bit = self.judged, 1 << target
            for i in map(int, indexes):
                judged[i] = judged.get(i, 0) | bit
            return
        into = self.fired if kind == FIRED else self.missing
        for i in map(int, indexes):
            got = into.get(i)
            if got is None:
                into[i] = [target]
            else:
                got.append(target)


def _ignore(name: str, indexes: list[str]) -> None:
    pass


def _register_definition(host: _QuietHost, name: str, compiled: CompiledRules) -> None:
    """Register ``compiled`` under ``name``: a no-op action per rule (:func:`dispatch` records what fired
    instead of calling them) and the session sentinel's rule (see SESSION). Raises EngineError.

    Every rule is capped (durable_rules' ``cap``): one action hands over every event the rule matched
    in the session so far, as a list, instead of one action per match. A session holds at most BATCH
    events, so each rule that fired costs one action per batch (measured: 2 actions per pair before,
    ~20% of durable_rules' time per pair)."""
    definition = copy.deepcopy(compiled.definition)  # durable_rules mutates what it is given
    for rule in compiled.actions:
        definition[rule]["run"] = _never_called
        definition[rule]["cap"] = CAP
    definition[SESSION] = {"all": [{"m": {SESSION: 1}}], "run": _never_called}
    try:
        host.register_rulesets({name: definition})
    except Exception as exc:  # durable_rules raises plain Exception for what it cannot compile
        raise EngineError(f"durable_rules refused the ruleset: {exc}") from exc


def _run_fresh(handle: int, events: Sequence[str], record: Record,
               sessions: Iterator[int]) -> None:
    """Assert ``events`` (JSON objects without their session id) as facts, up to BATCH a session, each
    session new with its sentinel and deleted after (under the caller's hold of DURABLE_LOCK), and
    dispatch what fired: sessions never accumulate, whatever the number of events."""
    for start in range(0, len(events), BATCH):
        sid = f"b{next(sessions)}"
        tail = f',"sid":"{sid}"}}'
        chunk = "".join(("[{", f'"{SESSION}":1,"id":"s"', tail,
                         *["," + e + tail for e in events[start:start + BATCH]], "]"))
        try:
            result = dre.assert_facts(handle, chunk)
            # result[0] is 1 when some fact matched no rule: normal for the session sentinel.
            dispatch(handle, result[1], record)
        finally:
            dre.delete_state(handle, sid)


class Unjudged(EngineError):
    """:meth:`FlatEngine.run` of events durable_rules gave no proof of judging (or could not be given):
    nothing is answered for any of them. Worth retrying: the proof is missing, not a rule."""

    def __init__(self, message: str, events: Sequence[int]):
        self.events = tuple(events)
        super().__init__(message)


class EngineClosed(EngineError):
    """:meth:`FlatEngine.run` after :meth:`FlatEngine.close`: the caller takes the engine serving now."""


_flat_names = itertools.count(1)
_flat_host: _QuietHost | None = None


class FlatEngine:
    """One compiled rule version run over events of one kind of facts (monitoring's ``enrolment.*``),
    each event with a date of its own; which rules fired per event, with the same proof as
    :class:`Engine`. Safe to call from many threads.

    Why not :class:`Engine`: that one decides client x course pairs (two kinds of facts, derived
    client facts, ineligible/pending/priority outcomes, parameters, one date per batch). This shares
    what makes an answer trustworthy instead: the quiet Host, :data:`DURABLE_LOCK`, one encoder
    (:func:`encode_value`), events with an index first and an id unique per call, fresh sessions of
    at most BATCH events deleted after (:func:`_run_fresh`), :func:`dispatch`, and the judges of
    :mod:`bekal.compiler`: the marker for every event and a judge for every rule whose verdict
    durable_rules could withhold. An event without every judge in force on its date is not
    answered: :class:`Unjudged` for the whole call, never "no rule fired".
    """

    def __init__(self, compiled: CompiledRules, facts: Mapping[str, schema.Fact]):
        global _flat_host
        self.compiled = compiled
        # (fact name, '"event key":', schema fact) for every fact the rules read
        self._items = tuple((n, json.dumps(compiled.keys[n]) + ":", facts[n]) for n in compiled.reads)
        self._calls = itertools.count(1)
        self._sessions = itertools.count(1)
        self._name = f"{compiled.name}_f{next(_flat_names)}"  # one version may be loaded twice meanwhile
        with DURABLE_LOCK:
            if _flat_host is None:
                _flat_host = _QuietHost()
            self._host = _flat_host
            _register_definition(self._host, self._name, compiled)
            self._handle: int | None = self._host.get_ruleset(self._name)._handle

    def close(self) -> None:
        """Delete the durable ruleset (and with it any session); later calls raise :class:`EngineClosed`."""
        with DURABLE_LOCK:
            if self._handle is not None:
                self._handle = None
                self._host.unregister(self._name)

    def run(self, items: Sequence[tuple[Mapping[str, Any], date]]) -> list[tuple[int, ...]]:
        """For each ``(facts by full name, date)``: the indexes (:attr:`CompiledRule.index`) of the rules
        that fired, ascending. A rule fires only when its condition is true on the date's rules in
        force (an absent fact leaves a comparison silent). Raises :class:`Unjudged`, and :class:`NotInForce` for
        a date on which a ruleset of the version is not in force."""
        compiled = self.compiled
        call = next(self._calls)
        events: list[str] = []
        expected: list[int] = []
        problems: list[str] = []
        for on in sorted({on for _facts, on in items}):  # as Engine: a date the rules are not dated for
            gaps = compiled.not_in_force(on)               # decides nothing (silence is never "no alert")
            if gaps:
                raise NotInForce(on, gaps)
        for i, (facts, on) in enumerate(items):
            parts = [f'{{"{INDEX}":{i},"id":"{call}.{i}","{TAG}":1']  # INDEX first: dispatch reads it there
            if compiled.dated:
                parts.append(f',"{AS_OF}":{day_number(on)}')
            for name, key, fact in self._items:
                value = facts.get(name)
                if value is None:
                    continue
                try:
                    parts.append("," + key + encode_value(fact, value))
                except (TypeError, ValueError) as exc:
                    problems.append(f"event {i}: {name}: {exc}")
            events.append("".join(parts))
            bits = 0
            for judge in compiled.judges_in_force(on):
                bits |= 1 << judge.index
            expected.append(bits)
        if problems:  # nothing durable_rules could misread gets in
            raise Unjudged("facts durable_rules cannot be given: " + "; ".join(problems[:5]), range(len(items)))
        out = _Fired(compiled.actions)
        if events:
            with DURABLE_LOCK:
                if self._handle is None:
                    raise EngineClosed(self._name)
                _run_fresh(self._handle, events, out.record, self._sessions)
        fired, judged = out.fired, out.judged
        unjudged = [i for i, bits in enumerate(expected) if judged.get(i, 0) != bits]
        if unjudged:
            raise Unjudged(f"durable_rules gave no proof of judging {len(unjudged)} of {len(items)} event(s)",
                           unjudged)
        return [tuple(sorted(set(fired.get(i, ())))) for i in range(len(items))]


# One action message of a capped rule (see _register_definition), every event it matched, each with INDEX
# first: {"r3":[{"m":{"_i":17,...}},{"m":{"_i":4,...}}]} -- durable_rules echoes each event's JSON text as
# it was asserted, and text in an event is JSON-escaped, so '{"m":{"_i":' only ever starts an event.
_RULE = re.compile(r'\{"([^"]+)":\[')
_MATCH = re.compile(r'\{"m":\{"' + INDEX + r'":(\d+)[,}]')
_EACH = '{"m":'


_SENTINEL = '{"' + SESSION + '":{"m":{"' + SESSION + '":1,'  # the sentinel rule's action message


def dispatch(handle: int, state: int, on_action: Record) -> None:
    """Run the actions durable_rules queued for a session, calling ``on_action(rule name, event indexes)``.

    This is durable.engine.Ruleset.do_actions without what our actions never use: a Closure
    per action, re-posting the unchanged session state after each one, timers and promises.
    That machinery cost about half of each decision; the C calls and their order are the same
    (measured: identical decisions on 24,000 pairs, flat memory over 500,000). A capped rule's
    message is not parsed as JSON: the rule name and each event's index are read at their fixed
    places, and only when every event of the message was read that way. Anything else (the session
    sentinel, a shape durable_rules never sent us) is read as JSON and handed on where it names events.
    """
    started = dre.start_action_for_state(handle, state)
    message = started[1] if started else None
    rule_of, events_of = _RULE.match, _MATCH.findall
    while message:
        found = rule_of(message)
        indexes: list[str] = events_of(message) if found is not None else []
        if found is not None and len(indexes) == message.count(_EACH):
            on_action(found.group(1), indexes)
        elif not message.startswith(_SENTINEL):  # the sentinel's: nothing to record (one per batch)
            for name, payload in json.loads(message).items():
                for item in payload if isinstance(payload, list) else [payload]:
                    event = item.get("m") if isinstance(item, dict) else None
                    if isinstance(event, dict) and INDEX in event and name != SESSION:
                        on_action(name, [str(int(event[INDEX]))])
        message = dre.complete_and_start_action(handle, state)


def _unjudged(compiled: CompiledRules, judges: int) -> tuple[str, ...]:
    return tuple(compiled.rules[i].id for j in compiled.judges if judges >> j.index & 1 for i in j.rules)


_REGEX_ERRORS = {"501": N_("durable_rules cannot read this pattern"),
                 "502": N_("this pattern needs too many transitions for durable_rules"),
                 "503": N_("this pattern needs too many states for durable_rules (at most 512)")}


def pattern_problem(pattern: str, case_insensitive: bool = False) -> str | None:
    """What durable_rules says of a ``matches``/``contains`` pattern on its own, or None when it takes it.

    Call only with patterns ``bekal.lang.patterns`` accepts (those never hang the compiler); some
    of them still exceed durable_rules' fixed limits, which a rule author should hear at the pattern."""
    host = _QuietHost()
    name = f"probe_{next(_probes)}"
    try:
        host.register_rulesets({name: {"r": {"all": [{"m": {("$imt" if case_insensitive else "$mt"): {"s": pattern}}}],
                                             "run": _never_called}}})
    except Exception as exc:  # durable_rules raises a bare error with a number
        code = str(exc).rsplit(" ", 1)[-1]
        if code in _REGEX_ERRORS:
            return _(_REGEX_ERRORS[code])
        return _("this pattern is too complex for durable_rules (error {code})", code=code)
    host.unregister(name)
    return None


_probes = itertools.count(1)


def _never_called(c: Any) -> None:
    raise AssertionError("bekal.engine.dispatch runs actions; durable_rules' own dispatch is never used")


# ---------------------------------------------------------------- decisions


def _event_value(value: Any) -> str:
    """A parameter's value as the event JSON durable_rules reads (checked by the checker: plain numbers)."""
    return str(day_number(value)) if isinstance(value, date) else schema.json_value(value)


def _event_base(compiled: CompiledRules, as_of: date) -> str:
    """What every event of a call on ``as_of`` ends with: the tag, the date when rules are dated, and
    the parameters the conditions read with their values in force that day."""
    base = f'"{TAG}":1,"{AS_OF}":{day_number(as_of)}' if compiled.dated else f'"{TAG}":1'
    params = compiled.param_values(as_of)
    keys = compiled.keys
    return base + "".join(f',"{keys[n]}":{_event_value(params[n])}' for n in compiled.param_reads if n in params)


_NO_PARAMS: Mapping[str, Any] = {}


def _values(names: tuple[str, ...], client: Mapping[str, Any], course: Mapping[str, Any],
            params: Mapping[str, Any] = _NO_PARAMS) -> dict[str, Any]:
    """Values of facts ("client.age") and parameters ("param.min_age"); None when absent."""
    if not params:  # the common case, kept as cheap as it was
        return {n: (client if n.startswith("client.") else course).get(n.split(".", 1)[1]) for n in names}
    return {n: params.get(n) if n.startswith("param.") else
            (client if n.startswith("client.") else course).get(n.split(".", 1)[1]) for n in names}


def _fact_values(values: dict[str, Any]) -> tuple[FactValue, ...]:
    return tuple(FactValue(n, v.isoformat() if isinstance(v, date) else v) for n, v in values.items())


def _absent_inputs(rule: CompiledRule, client: Mapping[str, Any], course: Mapping[str, Any]) -> tuple[str, ...]:
    """Input fields to fill in for ``rule`` to be decided (a derived fact names what it comes from)."""
    values = _values(rule.needs, client, course)
    return tuple(dict.fromkeys(i for n, v in values.items() if v is None for i in schema.input_facts(n)))


def _reason(rule: CompiledRule, outcome: Outcome, client: Facts, course: Facts,
            params: Mapping[str, Any] = _NO_PARAMS, missing: tuple[str, ...] = ()) -> Reason:
    values = _values(rule.shown, client, course, params)
    if missing and rule.effect == "priority":  # the outcome stands; the priority may be off
        names = ", ".join(missing)
        message_id = (f"Prioritas mungkin belum lengkap: data {names} belum tersedia "
                      f"({rule.description.rstrip('.')}).")
        message_en = f"The priority may be incomplete: {names} is not known (rule {rule.id})."
    elif missing:  # the rule's own reason describes it firing; say instead what it waits for
        names = ", ".join(missing)
        message_id = f"Belum dapat diputuskan: data {names} belum tersedia ({rule.description.rstrip('.')})."
        message_en = f"Cannot be decided yet: {names} is not known (rule {rule.id})."
    else:
        message_id, message_en = render(rule.reason_id, values), render(rule.reason_en, values)
    return Reason(
        rule_id=rule.id, ruleset=rule.ruleset, outcome=outcome,
        message_id=message_id, message_en=message_en,
        facts=_fact_values({n: values[n] for n in (*rule.facts, *rule.params)}), source=rule.source,
        shareable=rule.shareable,
        priority=rule.points if outcome is Outcome.ELIGIBLE and not missing else 0, missing=missing,
    )


class _Reasons:
    """Reasons are immutable and many decisions share one (every BNN referral's priority reason,
    every "age 17"), so each is built once per distinct set of values and reused; so is each verdict."""

    LIMIT = 200_000

    def __init__(self, rules: Sequence[CompiledRule] = ()) -> None:
        self._cache: dict[tuple[Any, ...], Reason] = {}
        self._verdicts: dict[tuple[int, ...], Verdict] = {}  # ids of the reasons, in order -> their verdict
        # per rule: the client and the course fields and the parameters its reason shows, looked up on
        # every decision, and the outcome it gives when it fires
        self._shown = [(tuple(n.split(".", 1)[1] for n in r.shown if n.startswith("client.")),
                        tuple(n.split(".", 1)[1] for n in r.shown if n.startswith("course.")),
                        tuple(n for n in r.shown if n.startswith("param.")),
                        _EFFECT_OUTCOME[r.effect]) for r in rules]

    def get(self, rule: CompiledRule, outcome: Outcome, client: Facts, course: Facts,
            params: Mapping[str, Any] = _NO_PARAMS, missing: tuple[str, ...] = ()) -> Reason:
        mine, theirs, dated, _ = self._shown[rule.index]
        # id(outcome): an enum member hashes in Python, and this runs for every reason of every pair
        key = (rule.index, id(outcome), missing, tuple(map(client.get, mine)), tuple(map(course.get, theirs)),
               tuple(map(params.get, dated)) if dated else ())
        try:
            hit = self._cache.get(key)
        except TypeError:  # an unhashable fact value: build without the cache
            return _reason(rule, outcome, client, course, params, missing)
        if hit is None:
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            hit = self._cache[key] = _reason(rule, outcome, client, course, params, missing)
        return hit

    def verdict(self, rules: tuple[CompiledRule, ...], fired_idx: Sequence[int], missing_idx: Sequence[int],
                client: Facts, course: Facts, params: Mapping[str, Any] = _NO_PARAMS) -> Verdict:
        """Any INELIGIBLE wins, then PENDING (including undecidable rules), else ELIGIBLE.

        An undecidable priority rule leaves the outcome alone: its reason (outcome ELIGIBLE, no points)
        names the missing facts and says the priority may be incomplete. Pairs with the same reason
        objects share one Verdict (a cohort of 50,000 x 500 has ~11,000 distinct ones)."""
        if not missing_idx:
            if not fired_idx:
                return _NO_REASONS
            if len(fired_idx) == 1:  # most pairs a rule judged: one reason, nothing to merge or order
                rule = rules[fired_idx[0]]
                reason = self.get(rule, self._shown[rule.index][3], client, course, params)
                return self._verdict_of([reason])
        fired = sorted(set(fired_idx)) if len(fired_idx) > 1 else fired_idx
        get, shown = self.get, self._shown
        reasons = [get(rules[i], shown[i][3], client, course, params) for i in fired]
        if missing_idx:
            for i in sorted(set(missing_idx).difference(fired)):
                outcome = Outcome.ELIGIBLE if rules[i].effect == "priority" else Outcome.PENDING
                reasons.append(get(rules[i], outcome, client, course, params, _absent_inputs(rules[i], client, course)))
        if len(reasons) > 1:
            reasons.sort(key=_order_of)
        return self._verdict_of(reasons)

    def _verdict_of(self, reasons: list[Reason]) -> Verdict:
        """The one Verdict of these reasons, in this order."""
        key = tuple(map(id, reasons))  # the Verdict kept under it holds its reasons: the ids stay theirs
        hit = self._verdicts.get(key)
        if hit is None:
            if len(self._verdicts) >= self.LIMIT:
                self._verdicts.clear()
            outcome = reasons[0].outcome if reasons else Outcome.ELIGIBLE
            hit = self._verdicts[key] = Verdict(outcome, tuple(reasons), sum([r.priority for r in reasons]))
        return hit


_NO_REASONS = Verdict(Outcome.ELIGIBLE, (), 0)  # no rule fired and none was undecided
_EFFECT_OUTCOME = {"ineligible": Outcome.INELIGIBLE, "pending": Outcome.PENDING, "priority": Outcome.ELIGIBLE}
_ORDER = {id(Outcome.INELIGIBLE): 0, id(Outcome.PENDING): 1, id(Outcome.ELIGIBLE): 2}  # by id: see get


def _order_of(reason: Reason) -> int:
    return _ORDER[id(reason.outcome)]


def _trace(rules: tuple[CompiledRule, ...], fired: set[int], undecided: set[int], client: Facts,
           course: Facts, as_of: date, params: Mapping[str, Any] = _NO_PARAMS) -> tuple[RuleTrace, ...]:
    out = []
    for rule in rules:
        if not rule.in_force(as_of):
            status = RuleStatus.NOT_IN_FORCE
        elif rule.index in fired:
            status = RuleStatus.FIRED
        elif rule.index in undecided:
            status = RuleStatus.MISSING
        else:
            status = RuleStatus.NOT_FIRED
        out.append(RuleTrace(rule.id, rule.ruleset, status, rule.effect_text,
                             _fact_values(_values((*rule.facts, *rule.params), client, course, params)),
                             rule.location))
    return tuple(out)
