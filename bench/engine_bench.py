"""Decisions per second: the compiled default ruleset vs the same rules written by hand for durable_rules.

Both run in this process, on the same client × course pairs, in the same run:
- ``bekal``: ``Engine.decide_many`` end to end: facts in (dates, enums), derived facts,
  durable_rules, decisions with reasons out;
- ``hand``: an equivalent ruleset written directly as durable_rules JSON by someone
  who knows the engine (same three-valued semantics, i.e. with its own missing-fact
  rules), fed events that are already flat and encoded, posted in the same batches,
  collecting only (event, rule) pairs — the raw durable_rules rate for these rules;
- ``hand-lean``: ``hand`` with bekal's lean action dispatch (``bekal.engine.dispatch``) instead
  of durable_rules' ``Ruleset.do_actions``: the ceiling for these rules from Python;
- ``hand-naive``: the same as ``hand`` without missing-fact rules (a ruleset that would call a
  client without a birth date eligible), for reference;
- ``bekal-no-proof``: bekal with the judges (the evidence that every rule judged every pair,
  see ``bekal.compiler``) taken out of the compiled rules, to show what the evidence costs.
Prints the rates and the ratio bekal / hand (target >= 0.6) and the cost of the evidence (target <= 15%).

    .venv/bin/python bench/engine_bench.py [--clients 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import durable_rules_engine as dre

sys.path.insert(0, str(Path(__file__).parent))
import dataclasses  # noqa: E402

from workload import AS_OF, clients  # noqa: E402

from bekal.compiler import JUDGED, day_number  # noqa: E402
from bekal.engine import BATCH, Engine, _QuietHost, dispatch  # noqa: E402
from bekal.facts import EDUCATION_LEVEL  # noqa: E402
from bekal.rulebook import load_rulebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _and(*xs):
    return {"$and": [{"t": 1}, *xs]}


def nex(*keys):
    return {"$or": [{"$nex": {k: 1}} for k in keys]} if len(keys) > 1 else {"$nex": {keys[0]: 1}}


def hand_rules(with_missing: bool) -> dict:
    """The default rules (rules/*.rules.yaml), by hand."""
    r = {
        "age": _and({"$lte": {"age": 18}}),
        "rehab_pending": _and({"$or": [{"stage": "assessment"}, {"stage": "inpatient"}, {"stage": "outpatient"}]}),
        "dropped": _and({"stage": "dropped_out"}),
        "consent": _and({"consent": False}),
        "written": _and({"$ex": {"min_w": 1}}, {"$lt": {"w": {"$m": "min_w"}}}),
        "interview": _and({"$ex": {"min_i": 1}}, {"$lt": {"i": {"$m": "min_i"}}}),
        "min_age": _and({"$ex": {"min_age": 1}}, {"$lt": {"age": {"$m": "min_age"}}}),
        "max_age": _and({"$ex": {"max_age": 1}}, {"$gt": {"age": {"$m": "max_age"}}}),
        "edu": _and({"$ex": {"min_edu": 1}}, {"$lt": {"edu": {"$m": "min_edu"}}}),
        "bnn": _and({"ref": "bnn"}),
    }
    if with_missing:
        r |= {
            "age?": _and(nex("age")),
            "stage?": _and(nex("stage")),
            "consent?": _and(nex("consent")),
            "written?": _and({"$ex": {"min_w": 1}}, nex("w")),
            "interview?": _and({"$ex": {"min_i": 1}}, nex("i")),
            "ages?": _and({"$or": [{"$ex": {"min_age": 1}}, {"$ex": {"max_age": 1}}]}, nex("age")),
            "edu?": _and({"$ex": {"min_edu": 1}}, nex("edu")),
        }
    return r


def hand_events(pairs) -> list[dict]:
    """Flat, pre-encoded events: the hand-written baseline gets its input for free."""
    out = []
    for i, (c, k) in enumerate(pairs):
        born = c.get("birth_date")
        e = {"_i": i, "t": 1}  # the index first: bekal.engine.dispatch reads it there
        if born:
            e["age"] = AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))
        for src, dst in (("rehab_stage", "stage"), ("consent_to_share", "consent"), ("written_test_score", "w"),
                         ("interview_score", "i"), ("referrer", "ref")):
            if c.get(src) is not None:
                e[dst] = c[src]
        if c.get("education"):
            e["edu"] = EDUCATION_LEVEL[c["education"]]
        for src, dst in (("min_written_score", "min_w"), ("min_interview_score", "min_i"), ("min_age", "min_age"),
                         ("max_age", "max_age")):
            if k.get(src) is not None:
                e[dst] = k[src]
        if k.get("min_education"):
            e["min_edu"] = EDUCATION_LEVEL[k["min_education"]]
        e["d"] = day_number(AS_OF)
        out.append(e)
    return out


def _noop(c):
    pass


def _collect(append, name):
    def action(c):
        append((c._m["m"]["_i"], name))

    return action


def run_hand(events: list[dict], with_missing: bool, lean: bool = False) -> tuple[float, int]:
    host = _QuietHost()
    fired: list = []
    definition = {}
    for name, cond in hand_rules(with_missing).items():
        definition[name] = {"all": [{"m": cond}], "run": _collect(fired.append, name)}
    # The same session guard as the engine (see bekal.engine.SESSION): without it durable_rules 2.0.28
    # frees garbage when a session in which no action ran is deleted.
    definition["session"] = {"all": [{"m": {"_s": 1}}], "run": _noop}
    host.register_rulesets({"hand": definition})
    ruleset = host.get_ruleset("hand")
    t0 = time.perf_counter()
    for b, start in enumerate(range(0, len(events), BATCH)):
        sid = f"h{b}"
        chunk = [{"_s": 1}, *events[start : start + BATCH]]
        for e in chunk:
            e["sid"] = sid
        result = dre.assert_facts(ruleset._handle, json.dumps(chunk))
        if lean:
            dispatch(ruleset._handle, result[1], lambda name, index: fired.append((index, name)))
        else:
            ruleset.do_actions(result[1], lambda e, s: None)
        dre.delete_state(ruleset._handle, sid)
    return time.perf_counter() - t0, len(fired)


def without_evidence(rulebook):
    """The same rulebook with its judges taken out: the engine then expects no proof (for measuring only)."""
    compiled = rulebook.compiled
    definition = {k: v for k, v in compiled.definition.items() if compiled.actions[k][0] != JUDGED}
    actions = {k: v for k, v in compiled.actions.items() if v[0] != JUDGED}
    stripped = dataclasses.replace(compiled, name=compiled.name + "_noproof", definition=definition,
                                   actions=actions, judges=())
    return dataclasses.replace(rulebook, compiled=stripped)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args()
    rulebook = load_rulebook(ROOT / "rules")
    courses = list(rulebook.courses.values())
    pairs = [(c, k) for c in clients(ns.clients) for k in courses]
    n = len(pairs)
    engine = Engine(rulebook)
    engine.decide_many(pairs[:500], AS_OF)  # warm up
    unproven = Engine(without_evidence(rulebook))
    unproven.decide_many(pairs[:500], AS_OF)
    best = {"bekal": float("inf"), "bekal-no-proof": float("inf"), "hand": float("inf"), "hand-lean": float("inf"),
            "hand-naive": float("inf")}
    for _ in range(ns.repeat):
        t0 = time.perf_counter()
        decisions = engine.decide_many(pairs, AS_OF)
        best["bekal"] = min(best["bekal"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        unproven.decide_many(pairs, AS_OF)
        best["bekal-no-proof"] = min(best["bekal-no-proof"], time.perf_counter() - t0)
        best["hand"] = min(best["hand"], run_hand(hand_events(pairs), True)[0])
        best["hand-lean"] = min(best["hand-lean"], run_hand(hand_events(pairs), True, lean=True)[0])
        best["hand-naive"] = min(best["hand-naive"], run_hand(hand_events(pairs), False)[0])
    outcomes: dict[str, int] = {}
    for d in decisions:
        outcomes[d.outcome.value] = outcomes.get(d.outcome.value, 0) + 1
    print(f"pairs: {n} ({ns.clients} clients x {len(courses)} courses), rules: {len(rulebook.compiled.rules)}, "
          f"durable rules: {len(rulebook.compiled.definition)}; outcomes {outcomes}")
    print(f"{'variant':<12} {'seconds':>8} {'decisions/s':>12}")
    for name, secs in best.items():
        print(f"{name:<12} {secs:>8.3f} {n / secs:>12,.0f}")
    print(f"ratio bekal / hand (equivalent)       = {best['hand'] / best['bekal']:.2f}   (target >= 0.60)")
    print(f"ratio bekal / hand-lean (same dispatch) = {best['hand-lean'] / best['bekal']:.2f}")
    print(f"ratio bekal / hand-naive (no missing) = {best['hand-naive'] / best['bekal']:.2f}")
    cost = 1 - best["bekal-no-proof"] / best["bekal"]
    print(f"cost of the evidence (judges)         = {cost:.0%} of bekal-no-proof's rate   (target <= 15%)")
    engine.close()
    unproven.close()


if __name__ == "__main__":
    main()
