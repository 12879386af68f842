"""Decisions per second: bekal's engine vs GoRules ZEN (``zen-engine``) on the same rules and pairs, in one run.

The rules are the default ones (rules/*.rules.yaml, courses from rules/courses.yaml); ZEN runs them as the
hand-written decision model of ``bench/zen_model.py`` (a decision table, hit policy collect, a row per rule
and per missing-fact check). The pairs are ``--clients`` seeded clients (``workload.plain_clients``: most
complete, some without a birth date, stage, consent, education or test score, some dropped out, in
treatment, minors, old, with low scores) × the 8 catalogue courses, as of 2019-05-16: 16,000 by default.
The run fails (exit 2) unless every rule fires on some pair and every missing-fact check leaves its rule
undecided on some pair, and fails (exit 1), printing the first differing pairs, unless both engines give
the same outcome, priority and set of reason ids on every pair.

What is timed, per engine, for all pairs at once; both start from the same fact mappings
(``bekal.facts.parse_facts`` of the plain input, done once, before any timing):
- bekal: ``Engine.decide_many(pairs, as_of)``: derived facts (age, education levels, days since rehab),
  durable_rules, and ``Decision`` objects with outcome, priority and full reasons (messages, facts);
- ZEN: ``ZenDecider.decide_many(pairs, as_of)``: building each pair's input dict in Python, derived facts
  included (each client and course prepared once per call, as bekal's engine does), ``ZenEngine.evaluate``
  per pair (a static loader: the model is parsed once, when the engine is created), and turning the
  matched rows into (outcome, priority, reason ids) — less output than bekal builds.
Not timed: loading the rules and courses, creating either engine, one warm-up call each, and turning
bekal's decisions into (outcome, priority, reason ids) for the check.

Both run on one core, one after the other, alternating which goes first; each is timed ``--repeat`` times
(default 3). Printed per engine: every run's rate, the best and the spread (slowest–fastest); then the
ratio of the best rates, bekal / ZEN (>= 1.00 means bekal is at least as fast). The machine is shared, so
the same ratio from CPU time (``time.process_time``) is printed too. An extra line times ZEN's batch form,
``ZenEngine.evaluate_batch`` (one call for all pairs; it may use more than one core), for reference.

    .venv/bin/python bench/zen_bench.py [--clients 2000] [--repeat 3] [--seed 11] [--no-batch]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from workload import AS_OF, plain_clients, print_table  # noqa: E402
from zen_model import ZenDecider, verdict_of  # noqa: E402

from bekal.engine import Engine  # noqa: E402
from bekal.facts import parse_facts  # noqa: E402
from bekal.rulebook import load_rulebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOW_DIFFERENCES = 10


def make_pairs(rulebook: Any, n_clients: int, seed: int) -> list[tuple[dict, dict]]:
    """Seeded clients (parsed into facts) × every catalogue course."""
    courses = list(rulebook.courses.values())
    clients = [parse_facts("client", raw) for raw in plain_clients(n_clients, seed)]
    return [(client, course) for client in clients for course in courses]


def coverage(rulebook: Any, decisions: Sequence[Any]) -> list[dict[str, Any]]:
    """Per rule: on how many pairs it fired, and for how many it was undecided (its missing check fired)."""
    fired: Counter[str] = Counter()
    undecided: Counter[str] = Counter()
    for d in decisions:
        for r in d.reasons:
            (undecided if r.missing else fired)[r.rule_id] += 1
    return [{"rule": rule.id, "effect": rule.effect_text, "fired": fired[rule.id],
             "undecided": undecided[rule.id]}
            for rule in rulebook.compiled.rules]


def uncovered(rows: list[dict[str, Any]]) -> list[str]:
    out = [f"{r['rule']} never fires" for r in rows if r["fired"] == 0]
    out += [f"{r['rule']} is never undecided" for r in rows if r["undecided"] == 0]
    return out


def differences(pairs: Sequence[tuple[dict, dict]], ours: Sequence[tuple], theirs: Sequence[tuple]
                ) -> list[tuple[int, tuple, tuple]]:
    return [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]


def _fmt_verdict(v: tuple) -> str:
    outcome, priority, reasons = v
    return f"{outcome} priority {priority} reasons {sorted(reasons)}"


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - w0, time.process_time() - c0, result


def summary(name: str, n: int, walls: list[float]) -> dict[str, Any]:
    rates = [n / s for s in walls]
    row: dict[str, Any] = {"engine": name}
    for i, r in enumerate(rates, 1):
        row[f"run {i}"] = f"{r:,.0f}"
    row["best/s"] = f"{max(rates):,.0f}"
    row["spread/s"] = f"{min(rates):,.0f}–{max(rates):,.0f}"
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--no-batch", action="store_true", help="skip the extra evaluate_batch line")
    ns = ap.parse_args()

    rulebook = load_rulebook(ROOT / "rules")
    pairs = make_pairs(rulebook, ns.clients, ns.seed)
    n = len(pairs)
    engine = Engine(rulebook)
    zen = ZenDecider()
    engine.decide_many(pairs[:500], AS_OF)  # warm up
    zen.decide_many(pairs[:500], AS_OF)

    runners: dict[str, Callable[[], Any]] = {
        "bekal": lambda: engine.decide_many(pairs, AS_OF),
        "zen": lambda: zen.decide_many(pairs, AS_OF),
    }
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    results: dict[str, Any] = {}
    for run in range(ns.repeat):
        order = list(runners) if run % 2 == 0 else list(reversed(runners))
        for name in order:
            w, c, results[name] = timed(runners[name])
            wall[name].append(w)
            cpu[name].append(c)

    decisions = results["bekal"]
    ours = [verdict_of(d) for d in decisions]
    theirs = results["zen"]
    print(f"pairs: {n} ({ns.clients} clients x {len(rulebook.courses)} courses, seed {ns.seed}), as of {AS_OF}; "
          f"rules: {len(rulebook.compiled.rules)}")
    rows = coverage(rulebook, decisions)
    print_table(rows, str)
    outcomes = Counter(v[0] for v in ours)
    print("outcomes: " + ", ".join(f"{k} {outcomes[k]}" for k in ("ELIGIBLE", "PENDING", "INELIGIBLE")))
    gaps = uncovered(rows)
    if gaps:
        print("workload does not cover every rule and missing-fact check: " + "; ".join(gaps))
        return 2

    diff = differences(pairs, ours, theirs)
    if diff:
        print(f"MISMATCH on {len(diff)} of {n} pairs; the first {min(len(diff), SHOW_DIFFERENCES)}:")
        for i, a, b in diff[:SHOW_DIFFERENCES]:
            client, course = pairs[i]
            shown = {k: v.isoformat() if isinstance(v, date) else v for k, v in client.items()}
            print(f"  pair {i}: client {shown} course {course.get('code')}")
            print(f"    bekal: {_fmt_verdict(a)}")
            print(f"    zen:   {_fmt_verdict(b)}")
        return 1
    print(f"check: identical outcome, priority and reason ids on all {n} pairs")

    print()
    print_table([summary(name, n, wall[name]) for name in runners], str)
    best = {name: n / min(wall[name]) for name in runners}
    best_cpu = {name: n / min(cpu[name]) for name in runners}
    print(f"ratio bekal / zen (best of {ns.repeat}, wall)  = {best['bekal'] / best['zen']:.2f}   (target >= 1.00)")
    print(f"ratio bekal / zen (best of {ns.repeat}, CPU)   = {best_cpu['bekal'] / best_cpu['zen']:.2f}   "
          f"(bekal {best_cpu['bekal']:,.0f}/s, zen {best_cpu['zen']:,.0f}/s of CPU time)")

    if not ns.no_batch:
        walls, cpus = [], []
        for _ in range(ns.repeat):
            w, c, batch = timed(lambda: zen.decide_batch(pairs, AS_OF))
            walls.append(w)
            cpus.append(c)
        if batch != theirs:
            print("zen evaluate_batch disagrees with zen evaluate")
            return 1
        rates = [n / s for s in walls]
        print(f"extra: zen evaluate_batch {max(rates):,.0f}/s best of {ns.repeat} "
              f"(spread {min(rates):,.0f}–{max(rates):,.0f}/s, CPU/wall {min(cpus) / min(walls):.1f}); "
              f"bekal / zen-batch = {best['bekal'] / max(rates):.2f}")
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
