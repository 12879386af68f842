"""Place a cohort of clients into course seats: eligibility, matching and explanations in one job.

Plain Python: no gRPC, no files. The CLI (``bekal match``) and the gRPC
``MatchingService`` both call :func:`place`, so a cohort is placed the same way
everywhere::

    cohort = make_cohort(clients, courses, as_of=date(2019, 6, 1), seed=2019)
    result = place(engine, cohort)            # engine: bekal.engine.Engine
    for p in result.clients:
        print(p.client_id, p.course, [w.because for w in p.why_not])

The steps:

1. **Eligibility**: every client against every course in their preferences,
   through ``engine.decide_many`` in chunks (with a progress callback), all as
   of one date and under one ruleset version.
2. **Instance**: only ELIGIBLE pairs are acceptable (a PENDING or INELIGIBLE
   decision never turns into a seat); a course orders its applicants by the
   decision's priority, or by the selection panel's explicit ranking when one
   is given for it (a client the panel did not rank is not acceptable); BNN
   referrals (``referrer: bnn``) are the priority group the course's
   ``reserved_bnn_seats`` are for; one seeded lottery breaks ties.
3. **Matching**: :func:`bekal.matching.deferred_acceptance`.
4. **Explanations**: for every course a client ranked above their placement,
   why not -- ineligible (the reasons), pending (what is missing), not ranked
   by the panel, or full (the cutoff that beat them, and where they stood).

Input is validated up front by :func:`make_cohort`; every problem is reported
at once as ``(field, message)`` with the field named the way the caller sent
it, e.g. ``clients[3].preferences[1]: unknown course 'XYZ'``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from bekal import facts as schema
from bekal.audience import AUDIENCES, BNN, may_see, visible_reasons
from bekal.decision import Decision, Outcome, Reason, Refusal
from bekal.matching import (
    Client,
    Course,
    Instance,
    MatchResult,
    ReserveOrder,
    Standing,
    Summary,
    deferred_acceptance,
)
from bekal.matching import Reason as MatchReason

__all__ = [
    "AUDIENCES",
    "Because",
    "ClientPlacement",
    "Cohort",
    "CohortError",
    "CourseFill",
    "NotPlaced",
    "Placement",
    "PlacementSummary",
    "describe",
    "make_cohort",
    "place",
]

PRIORITY_GROUP = "bnn"  # client.referrer value of the group course.reserved_bnn_seats are for
# pairs per engine call: one durable_rules batch, so a big job holds the engine lock ~20 ms at a time and
# eligibility requests served meanwhile interleave (measured: no slower than 5,000-pair calls)
CHUNK_PAIRS = 500
MAX_VIOLATIONS = 100  # problems reported at most per cohort (the rest are counted)


Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``; phases: ``eligibility``, ``matching``, ``explaining``."""


class CohortError(ValueError):
    """Input that cannot be placed; ``violations`` lists ``(field, message)``, every problem found."""

    def __init__(self, violations: Sequence[tuple[str, str]], more: int = 0):
        self.violations = list(violations)
        self.more = more
        text = "; ".join(f"{f}: {m}" for f, m in self.violations[:5])
        extra = len(self.violations) - 5 + more
        super().__init__(text + (f" (and {extra} more)" if extra > 0 else ""))


@dataclass(frozen=True)
class Cohort:
    """A validated cohort: facts as :mod:`bekal.facts` normalises them.

    ``clients``: client facts with ``id`` and ``preferences`` (course codes, most
    wanted first). ``courses``: course facts with ``code``, ``seats`` and
    optionally ``reserved_bnn_seats``. ``rankings``: course code -> client ids,
    best first (a selection panel's order; a client absent from it is not
    acceptable to that course).
    """

    clients: tuple[Mapping[str, Any], ...]
    courses: tuple[Mapping[str, Any], ...]
    as_of: date
    seed: int = 0
    rankings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reserve_order: ReserveOrder = ReserveOrder.OPEN_FIRST


class Because(str, enum.Enum):
    """Why a client did not get a course they ranked above their placement."""

    INELIGIBLE = "ineligible"  # the rules said no: see the reasons
    PENDING = "pending"  # the rules could not decide yet: see what is missing
    NOT_RANKED = "not_ranked"  # eligible, but the selection panel did not rank the client for the course
    FULL = "full"  # every seat the client competed for went to someone the course put ahead


@dataclass(frozen=True, slots=True)
class NotPlaced:
    """One course a client preferred to their placement, and why they did not get it.

    ``reasons``: the decision's INELIGIBLE or PENDING reasons (for a training
    centre, only the shareable ones). ``missing``: input facts to fill in
    (PENDING). For FULL, ``cutoff`` is where the last client admitted on a seat
    open to this client stood (None when no seat was open to them, e.g. every
    seat reserved for BNN referrals) and ``standing`` where this client stood.
    """

    course: str
    because: Because
    reasons: tuple[Reason, ...] = ()
    missing: tuple[str, ...] = ()
    cutoff: Standing | None = None
    standing: Standing | None = None


@dataclass(frozen=True, slots=True)
class ClientPlacement:
    """Where one client was placed, and why not higher on their list."""

    client_id: str
    course: str | None  # None: unmatched
    choice: int | None  # 1-based position of ``course`` in the client's preferences
    standing: Standing | None  # where the client stood at ``course``
    priority_group: bool  # a BNN referral (the group reserved seats are for)
    lottery: int  # the client's number in the one tie-breaking lottery (0 = luckiest)
    why_not: tuple[NotPlaced, ...]  # every course ranked above ``course`` (all of them when unmatched)


@dataclass(frozen=True, slots=True)
class CourseFill:
    """How one course filled. ``cutoff``: where the last admitted client stood (None unless full)."""

    code: str
    seats: int
    reserved_seats: int
    filled: int
    applicants: int  # clients who listed the course
    eligible: int  # of them, those the rules called ELIGIBLE
    group_admitted: int
    group_on_reserved: int
    cutoff: Standing | None
    open_cutoff: Standing | None  # leaving out BNN referrals on reserved seats: what others had to beat
    ranked: bool  # ordered by a selection panel's ranking (else by rule priority)


@dataclass(frozen=True, slots=True)
class PlacementSummary(Summary):
    """The matching's figures (:class:`bekal.matching.Summary`) and the placement job's own."""

    first_choice: int  # clients placed at their first choice
    pairs: int  # client x course decisions taken
    eligible_pairs: int
    ineligible_pairs: int
    pending_pairs: int
    not_ranked_pairs: int  # eligible pairs left out because the panel did not rank the client
    ruleset_version: str
    as_of: date
    seed: int
    reserve_order: ReserveOrder


@dataclass(frozen=True)
class Placement:
    """The outcome of :func:`place`. ``clients`` are in input order, ``courses`` in code order.

    ``instance`` and ``match`` are the matching library's view, for
    :func:`bekal.matching.check_stability`; ``timings`` are seconds per phase.
    """

    clients: tuple[ClientPlacement, ...]
    courses: tuple[CourseFill, ...]
    summary: PlacementSummary
    instance: Instance
    match: MatchResult
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------------------------------- input


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def make_cohort(
    clients: Sequence[Mapping[str, Any]],
    courses: Sequence[Mapping[str, Any]],
    *,
    as_of: date | str,
    seed: int = 0,
    rankings: Sequence[tuple[str, Sequence[str]]] | Mapping[str, Sequence[str]] | None = None,
    reserve_order: ReserveOrder | str = ReserveOrder.OPEN_FIRST,
    parsed: bool = False,
) -> Cohort:
    """Validate plain input (as read from a file or a message) into a :class:`Cohort`.

    ``clients``/``courses`` are mappings of ``bekal.v1.Client``/``Course`` field
    names to values (dates as ``YYYY-MM-DD`` or ``date``, enums in lower case);
    ``parsed=True`` skips :func:`bekal.facts.parse_facts` for input that already
    went through it. ``rankings`` is a sequence of ``(course_code, client_ids)``
    entries (entries for the same course are concatenated) or a mapping.

    Raises :class:`CohortError` naming every bad field: ``clients[3].birth_date``,
    ``clients[3].preferences[1]``, ``courses[0].seats``,
    ``rankings[2].client_ids[5]``, ``as_of``, ``seed``, ``reserve_order``.
    """
    problems: list[tuple[str, str]] = []

    def bad(name: str, message: str) -> None:
        problems.append((name, message))

    try:
        day = schema.parse_date(as_of)
    except ValueError as exc:
        bad("as_of", str(exc))
        day = date.min
    if not _is_int(seed):
        bad("seed", "must be a whole number")
    try:
        order = ReserveOrder(reserve_order)
    except ValueError:
        bad("reserve_order", "must be one of " + ", ".join(o.value for o in ReserveOrder))
        order = ReserveOrder.OPEN_FIRST

    course_facts: list[Mapping[str, Any]] = []
    codes: set[str] = set()
    for k, raw in enumerate(courses):
        where = f"courses[{k}]"
        facts = _facts("course", raw, where, parsed, bad)
        if facts is None:
            continue
        code = facts.get("code")
        if not isinstance(code, str) or not code.strip():
            bad(f"{where}.code", "required")
            continue
        if code in codes:
            bad(f"{where}.code", f"duplicate course code {code!r}")
            continue
        codes.add(code)
        seats = facts.get("seats")
        if seats is None:
            bad(f"{where}.seats", "required: the number of seats in the intake")
        elif not _is_int(seats) or seats < 0:
            bad(f"{where}.seats", f"must be a whole number >= 0, got {seats!r}")
        reserved = facts.get("reserved_bnn_seats", 0)
        if not _is_int(reserved) or reserved < 0:
            bad(f"{where}.reserved_bnn_seats", f"must be a whole number >= 0, got {reserved!r}")
        elif _is_int(seats) and reserved > seats:
            bad(f"{where}.reserved_bnn_seats", f"{reserved} reserved seats but only {seats} seats")
        course_facts.append(facts)

    client_facts: list[Mapping[str, Any]] = []
    ids: set[str] = set()
    for i, raw in enumerate(clients):
        where = f"clients[{i}]"
        facts = _facts("client", raw, where, parsed, bad)
        valid = facts is not None
        if facts is None:
            if not isinstance(raw, Mapping):
                continue
            facts = raw  # still check the id and preferences, to report every problem at once
        if valid:  # impossible on the cohort's date (a birth date after it, ...): said before any work
            for name, message in schema.check_on("client", facts, day):
                bad(f"{where}.{name.split('.', 1)[1]}", message)
        cid = facts.get("id")
        if not isinstance(cid, str) or not cid.strip():
            bad(f"{where}.id", "required: the client's pseudonymous id")
        elif cid in ids:
            bad(f"{where}.id", f"duplicate client id {cid!r}")
        else:
            ids.add(cid)
        prefs = facts.get("preferences", [])
        if isinstance(prefs, str) or not isinstance(prefs, (list, tuple)):
            bad(f"{where}.preferences", "must be a list of course codes, most wanted first")
            continue
        seen: dict[str, int] = {}
        for j, code in enumerate(prefs):
            if not isinstance(code, str) or not code:
                bad(f"{where}.preferences[{j}]", f"must be a course code, got {code!r}")
            elif code not in codes:
                hint = schema.suggest(code, sorted(codes))
                bad(f"{where}.preferences[{j}]",
                    f"unknown course {code!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
            elif code in seen:
                bad(f"{where}.preferences[{j}]", f"course {code!r} is already listed at position {seen[code] + 1}")
            else:
                seen[code] = j
        if valid:
            facts = dict(facts)
            facts["preferences"] = tuple(prefs)
            client_facts.append(facts)

    panel: dict[str, list[str]] = {}
    entries = list(rankings.items()) if isinstance(rankings, Mapping) else list(rankings or ())
    ranked_at: dict[str, dict[str, tuple[int, int]]] = {}
    for e, entry in enumerate(entries):
        where = f"rankings[{e}]"
        try:
            code, ranked_ids = entry
        except (TypeError, ValueError):
            bad(where, "must be (course_code, client_ids)")
            continue
        if code not in codes:
            bad(f"{where}.course_code", f"unknown course {code!r}")
            continue
        if isinstance(ranked_ids, str):
            bad(f"{where}.client_ids", "must be a list of client ids, best first")
            continue
        order_of = ranked_at.setdefault(code, {})
        for j, cid in enumerate(ranked_ids):
            if cid not in ids:
                bad(f"{where}.client_ids[{j}]", f"unknown client {cid!r}")
            elif cid in order_of:
                first_e, first_j = order_of[cid]
                bad(f"{where}.client_ids[{j}]",
                    f"client {cid!r} is already ranked for {code} at rankings[{first_e}].client_ids[{first_j}]")
            else:
                order_of[cid] = (e, j)
                panel.setdefault(code, []).append(cid)

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


def _facts(kind: str, raw: Any, where: str, parsed: bool,
           bad: Callable[[str, str], None]) -> Mapping[str, Any] | None:
    if not isinstance(raw, Mapping):
        bad(where, f"must be a mapping of {kind} fields")
        return None
    if parsed:
        return raw
    try:
        return schema.parse_facts(kind, raw)
    except schema.FactError as exc:
        for name, message in exc.violations:
            bad(f"{where}.{name.split('.', 1)[1]}", message)
        return None


# ---------------------------------------------------------------------------------------- placing


def place(engine: Any, cohort: Cohort, *, progress: Progress | None = None, audience: str = BNN,
          chunk: int = CHUNK_PAIRS) -> Placement:
    """Decide, match and explain ``cohort`` with ``engine`` (a :class:`bekal.engine.Engine`).

    ``audience`` ``"blk"`` keeps only the reasons a training centre may see
    (DESIGN §6): the shareable ones, and none at all for a client whose
    ``consent_to_share`` is not true; ``"bnn"`` keeps every reason. Raises
    :class:`bekal.engine.NotInForce` when the rules are not in force on the cohort's as-of date,
    :class:`CohortError` for input no person can have on it (a birth date after it, ...), and
    :class:`Unjudged` when the engine gave no verdict for some pair.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")
    report = progress or (lambda phase, done, total: None)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    decisions = _decide_all(engine, cohort, report, chunk)
    timings["eligibility"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    instance = _instance(cohort, decisions)
    report("matching", 0, 1)
    match = deferred_acceptance(instance)
    report("matching", 1, 1)
    timings["matching"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = _explain(cohort, decisions, instance, match, audience, report)
    timings["explaining"] = time.perf_counter() - t0
    timings["total"] = timings["eligibility"] + timings["matching"] + timings["explaining"]
    return Placement(result[0], result[1], result[2], instance, match, timings)


def _decide_all(engine: Any, cohort: Cohort, report: Progress, chunk: int) -> list[list[Decision]]:
    """``decisions[i][j]``: client ``i`` against their ``j``-th preference, all under one version."""
    by_code = {c["code"]: c for c in cohort.courses}
    total = sum(len(c["preferences"]) for c in cohort.clients)
    decisions: list[list[Decision]] = [[] for _ in cohort.clients]
    report("eligibility", 0, total)
    pending: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    owners: list[int] = []
    done = 0
    version: str | None = None

    def flush() -> None:
        nonlocal done, version
        if not pending:
            return
        out = engine.decide_many(pending, cohort.as_of)  # NotInForce: nothing is placed on such a date
        refused = [(owner, r) for owner, r in zip(owners, out) if isinstance(r, Refusal)]
        if refused:
            _refuse(cohort, refused)
        for owner, decision in zip(owners, out):
            decisions[owner].append(decision)
        if out:
            if version is None:
                version = out[0].ruleset_version
            elif out[0].ruleset_version != version:
                # the rules were reloaded mid-job: start over so one job never mixes versions
                raise _VersionChanged()
        done += len(pending)
        pending.clear()
        owners.clear()
        report("eligibility", done, total)

    for attempt in range(3):
        try:
            for i, client in enumerate(cohort.clients):
                for code in client["preferences"]:
                    pending.append((client, by_code[code]))
                    owners.append(i)
                if len(pending) >= chunk:
                    flush()
            flush()
            return decisions
        except _VersionChanged:
            decisions = [[] for _ in cohort.clients]
            pending.clear()
            owners.clear()
            done, version = 0, None
            report("eligibility", 0, total)
    raise RuntimeError("the rules kept changing while the cohort was decided; try again")


class _VersionChanged(Exception):
    pass


class Unjudged(RuntimeError):
    """The engine gave no verdict for some pairs (a fault, never bad input): nothing is placed."""


def _refuse(cohort: Cohort, refused: list[tuple[int, Refusal]]) -> None:
    """Pairs the engine would not decide stop the whole job: a placement made without them would
    hand their seats to others. Impossible input names its client; no proof is a fault."""
    bad = [(f"clients[{owner}].{f.split('.', 1)[1]}" if f.startswith("client.") else
            f"courses[{_course_index(cohort, r.course_code)}].{f.split('.', 1)[1]}", m)
           for owner, r in refused if r.bad_input for f, m in r.violations]
    if bad:
        unique = list(dict.fromkeys(bad))
        raise CohortError(unique[:MAX_VIOLATIONS], more=max(0, len(unique) - MAX_VIOLATIONS))
    rules = sorted({rule for _owner, r in refused for rule in r.unjudged})
    raise Unjudged(f"the rules engine gave no verdict for {len(refused)} pair(s) (rules {', '.join(rules)}); "
                   "nothing was placed")


def _course_index(cohort: Cohort, code: str) -> int:
    return next(i for i, c in enumerate(cohort.courses) if c.get("code") == code)


def _instance(cohort: Cohort, decisions: list[list[Decision]]) -> Instance:
    clients = []
    priorities: dict[tuple[str, str], int] = {}
    for client, decided in zip(cohort.clients, decisions):
        cid = client["id"]
        clients.append(Client(cid, client["preferences"], client.get("referrer") == PRIORITY_GROUP))
        for d in decided:
            if d.outcome is Outcome.ELIGIBLE:
                priorities[(cid, d.course_code)] = int(d.priority)
    courses = [
        Course(c["code"], c["seats"], c.get("reserved_bnn_seats", 0) or 0, cohort.rankings.get(c["code"]))
        for c in cohort.courses
    ]
    return Instance(tuple(clients), tuple(courses), priorities, seed=cohort.seed,
                    reserve_order=cohort.reserve_order)


def _visible(reasons: Iterable[Reason], outcome: Outcome, audience: str) -> tuple[Reason, ...]:
    return visible_reasons((r for r in reasons if r.outcome is outcome), audience)


def _missing(reasons: Iterable[Reason]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for r in reasons for name in r.missing))


def _explain(cohort: Cohort, decisions: list[list[Decision]], instance: Instance, match: MatchResult,
             audience: str, report: Progress) -> tuple[tuple[ClientPlacement, ...], tuple[CourseFill, ...],
                                                       PlacementSummary]:
    n = len(cohort.clients)
    report("explaining", 0, n)
    rank_pos = {code: {cid: r for r, cid in enumerate(ids)} for code, ids in cohort.rankings.items()}
    applicants: dict[str, int] = {}
    eligible: dict[str, int] = {}
    counts = {Outcome.ELIGIBLE: 0, Outcome.INELIGIBLE: 0, Outcome.PENDING: 0}
    not_ranked_pairs = 0
    first_choice = 0
    # why-nots for a non-eligible decision are shared by every client with the same reasons
    refused_cache: dict[tuple, NotPlaced] = {}
    out: list[ClientPlacement] = []
    placements, why_lib, lottery = match.placements, match.why_not, match.lottery
    for i, (client, decided) in enumerate(zip(cohort.clients, decisions)):
        cid = client["id"]
        prefs = client["preferences"]
        group = client.get("referrer") == PRIORITY_GROUP
        lot = lottery[cid]
        for d in decided:
            code = d.course_code
            counts[d.outcome] += 1
            applicants[code] = applicants.get(code, 0) + 1
            if d.outcome is Outcome.ELIGIBLE:
                eligible[code] = eligible.get(code, 0) + 1
                ranks = rank_pos.get(code)
                if ranks is not None and cid not in ranks:
                    not_ranked_pairs += 1
        placed = placements[cid]
        choice = prefs.index(placed) + 1 if placed is not None else None
        if choice == 1:
            first_choice += 1
        standing = _standing(decided[choice - 1], cid, lot, rank_pos) if choice else None
        why: list[NotPlaced] = []
        for j, lib in enumerate(why_lib[cid]):
            d = decided[j]
            if lib.reason is MatchReason.FULL:
                why.append(NotPlaced(d.course_code, Because.FULL, cutoff=lib.cutoff,
                                     standing=_standing(d, cid, lot, rank_pos)))
            elif d.outcome is Outcome.ELIGIBLE:
                why.append(NotPlaced(d.course_code, Because.NOT_RANKED))
            else:
                # a training centre sees no reasons at all for a client who has not consented to sharing
                hidden = not may_see(client, audience)
                key = (d.course_code, d.outcome, hidden, *map(id, d.reasons))
                hit = refused_cache.get(key)
                if hit is None:
                    shown = () if hidden else _visible(d.reasons, d.outcome, audience)
                    because = Because.INELIGIBLE if d.outcome is Outcome.INELIGIBLE else Because.PENDING
                    hit = NotPlaced(d.course_code, because, shown,
                                    _missing(shown) if because is Because.PENDING else ())
                    refused_cache[key] = hit
                why.append(hit)
        out.append(ClientPlacement(cid, placed, choice, standing, group, lot, tuple(why)))
        if (i + 1) % 10_000 == 0:
            report("explaining", i + 1, n)
    report("explaining", n, n)

    fills = []
    for code in sorted(match.courses):
        r = match.courses[code]
        fills.append(CourseFill(
            code=code, seats=r.seats, reserved_seats=r.reserved_seats, filled=r.filled,
            applicants=applicants.get(code, 0), eligible=eligible.get(code, 0),
            group_admitted=r.group_admitted, group_on_reserved=r.group_on_reserved,
            cutoff=r.cutoff, open_cutoff=r.open_cutoff, ranked=code in cohort.rankings,
        ))
    s = match.summary
    version = next((ds[0].ruleset_version for ds in decisions if ds), "")
    summary = PlacementSummary(
        **{f.name: getattr(s, f.name) for f in fields(Summary)}, first_choice=first_choice, pairs=sum(counts.values()), eligible_pairs=counts[Outcome.ELIGIBLE],
        ineligible_pairs=counts[Outcome.INELIGIBLE], pending_pairs=counts[Outcome.PENDING],
        not_ranked_pairs=not_ranked_pairs, ruleset_version=version,
        as_of=cohort.as_of, seed=cohort.seed, reserve_order=cohort.reserve_order,
    )
    return tuple(out), tuple(fills), summary


def _standing(d: Decision, cid: str, lottery: int, rank_pos: Mapping[str, Mapping[str, int]]) -> Standing:
    ranks = rank_pos.get(d.course_code)
    if ranks is not None:
        return Standing(priority=None, rank=ranks.get(cid), lottery=lottery)
    return Standing(priority=int(d.priority), rank=None, lottery=lottery)


# ---------------------------------------------------------------------------------------- wording


def _standing_text(s: Standing | None, lang: str) -> str:
    if s is None:
        return "-"
    if s.rank is not None:
        return f"peringkat panitia {s.rank + 1}" if lang == "id" else f"panel rank {s.rank + 1}"
    if lang == "id":
        return f"prioritas {s.priority}, nomor undian {s.lottery}"
    return f"priority {s.priority}, lottery number {s.lottery}"


def describe(item: NotPlaced, lang: str = "en") -> str:
    """One line explaining ``item`` to a case worker or the client, in English (``en``) or Indonesian (``id``)."""
    en = lang != "id"
    if item.because is Because.FULL:
        if item.cutoff is None:
            return (f"{item.course}: no seat was open to you (the remaining seats are reserved for BNN referrals)"
                    if en else f"{item.course}: tidak ada kursi terbuka untuk Anda (sisa kursi khusus rujukan BNN)")
        ranked = item.cutoff.rank is not None
        if en:
            rule = ("the selection panel's ranking decides" if ranked
                    else "higher priority first; equal priority: lower lottery number first")
            return (f"{item.course}: full; the last seat you competed for went to "
                    f"{_standing_text(item.cutoff, 'en')}; you had {_standing_text(item.standing, 'en')} ({rule})")
        rule = ("urutan ditentukan peringkat panitia seleksi" if ranked
                else "prioritas lebih tinggi didahulukan; prioritas sama: nomor undian lebih kecil didahulukan")
        return (f"{item.course}: penuh; kursi terakhir yang Anda perebutkan diisi peserta dengan "
                f"{_standing_text(item.cutoff, 'id')}; Anda {_standing_text(item.standing, 'id')} ({rule})")
    if item.because is Because.NOT_RANKED:
        return (f"{item.course}: eligible, but not in the selection panel's ranking for this course" if en
                else f"{item.course}: memenuhi syarat, tetapi tidak masuk peringkat panitia seleksi kejuruan ini")
    # a reason that only says what is missing is summed up by the list of missing facts
    messages = "; ".join((r.message_en if en else r.message_id).rstrip(". ") for r in item.reasons if not r.missing)
    if item.because is Because.INELIGIBLE:
        head = "not eligible" if en else "tidak memenuhi syarat"
    else:
        head = "not decided yet" if en else "belum dapat diputuskan"
        if item.missing:
            head += (f", missing {', '.join(item.missing)}" if en
                     else f", data belum ada: {', '.join(item.missing)}")
    return f"{item.course}: {head}" + (f": {messages}" if messages else "")
