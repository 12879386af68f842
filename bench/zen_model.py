"""bekal's default rules written by hand as a GoRules ZEN decision model, and a decider around it.

Bench-only (``zen-engine`` is in the ``bench`` and ``dev`` extras, nothing in ``server/`` uses it). The
model is one decision table, hit policy ``collect``, between the input and output nodes: one row per
rule of ``rules/eligibility.rules.yaml`` and ``rules/priority.rules.yaml``, and one row per missing-fact
check that bekal's compiler adds (``bekal.compiler``: for every ineligible/pending rule, a check that
fires when none of the rule's top-level ``and`` parts is known false and a fact it needs is absent;
a fact tested only with ``exists`` is not needed). Each matching row outputs the rule id and its effect
(``ineligible``, ``pending``, ``priority`` with its points, or ``missing`` for a missing-fact check);
``assemble`` turns the matches into bekal's (outcome, priority, reason ids), as ``bekal.engine._decide``
does: INELIGIBLE if an ineligible rule fired, else PENDING if a pending rule fired or a rule is
undecided (its missing check matched and it did not fire), else ELIGIBLE; the priority is the sum of
the fired priority rules; the reason ids are the fired rules and the undecided ones.

Two ZEN behaviours the model is written around (zen-engine 2.1.3):

- an ordering comparison with null is an error (``null <= 18``: "Opcode Compare: Unsupported type"),
  and inside a decision table a cell that errors quietly does not match. A rule testing an absent fact
  would then look "not fired", which is exactly the silent ELIGIBLE the missing-fact rows exist to
  prevent, so every comparison cell tests for null first (``$ != null and $ <= 18``; ``and`` short-
  circuits) and absence is decided by the explicit ``== null`` rows, never by an error;
- a row lacking a cell for some column never matches, so every row has every cell (empty = any).

The input the table reads is what ``client_input``/``course_input`` build from bekal's fact mappings
(``bekal.facts.parse_facts``), with the derived facts computed in Python the way ``bekal.facts`` does:
``client.age`` (whole years on the as-of date), ``client.education_level`` and
``course.min_education_level`` (``bekal.facts.EDUCATION_LEVEL``); an absent fact is left out (ZEN reads
it as null). Both default rulesets are in force from 2016-01-01 (``effective.from``) with no end, so
for them bekal's per-rule date test is all or nothing: ``decide_many`` refuses an earlier as-of date,
as ``bekal.engine.Engine`` does (``NotInForce``), once per call instead of once per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from bekal.facts import EDUCATION_LEVEL

KEY = "bekal-default-rules.json"  # the decision's key for the loader
EFFECTIVE_FROM = date(2016, 1, 1)  # effective.from of both default rulesets

# Columns, in the order a row is tested (ZEN stops a row at its first cell that does not match):
# the course's thresholds first (the rules' `exists` guards), then the client's facts.
COLUMNS = [
    "course.min_written_score",
    "course.min_interview_score",
    "course.min_age",
    "course.max_age",
    "course.min_education_level",
    "client.age",
    "client.rehab_stage",
    "client.consent_to_share",
    "client.written_test_score",
    "client.interview_score",
    "client.education_level",
    "client.referrer",
]
CLIENT_FACTS = ("rehab_stage", "consent_to_share", "written_test_score", "interview_score", "referrer")
COURSE_FACTS = ("min_written_score", "min_interview_score", "min_age", "max_age")

NOT_NULL = "!= null"
NULL = "== null"

# (rule id, effect, points, {column: cell}): one row per rule and per missing-fact check, in rule order.
# A missing check is the compiler's condition simplified by hand, e.g. for written-test-passed
# `min exists and (score < min or score absent or min absent) and (score absent or min absent)`
# is `min exists and score absent`.
ROWS: list[tuple[str, str, int, dict[str, str]]] = [
    # age-above-18: client.age <= 18
    ("age-above-18", "ineligible", 0, {"client.age": "$ != null and $ <= 18"}),
    ("age-above-18", "missing", 0, {"client.age": NULL}),
    # rehab-not-finished: client.rehab_stage in ["assessment", "inpatient", "outpatient"]
    ("rehab-not-finished", "pending", 0, {"client.rehab_stage": '"assessment", "inpatient", "outpatient"'}),
    ("rehab-not-finished", "missing", 0, {"client.rehab_stage": NULL}),
    # rehab-dropped-out: client.rehab_stage == "dropped_out"
    ("rehab-dropped-out", "ineligible", 0, {"client.rehab_stage": '"dropped_out"'}),
    ("rehab-dropped-out", "missing", 0, {"client.rehab_stage": NULL}),
    # consent-to-share: not client.consent_to_share
    ("consent-to-share", "pending", 0, {"client.consent_to_share": "false"}),
    ("consent-to-share", "missing", 0, {"client.consent_to_share": NULL}),
    # written-test-passed: course.min_written_score exists and client.written_test_score < course.min_written_score
    ("written-test-passed", "ineligible", 0, {
        "course.min_written_score": NOT_NULL,
        "client.written_test_score": "$ != null and $ < course.min_written_score"}),
    ("written-test-passed", "missing", 0, {"course.min_written_score": NOT_NULL, "client.written_test_score": NULL}),
    # interview-passed: course.min_interview_score exists and client.interview_score < course.min_interview_score
    ("interview-passed", "ineligible", 0, {
        "course.min_interview_score": NOT_NULL,
        "client.interview_score": "$ != null and $ < course.min_interview_score"}),
    ("interview-passed", "missing", 0, {"course.min_interview_score": NOT_NULL, "client.interview_score": NULL}),
    # course-min-age: course.min_age exists and client.age < course.min_age
    ("course-min-age", "ineligible", 0, {"course.min_age": NOT_NULL, "client.age": "$ != null and $ < course.min_age"}),
    ("course-min-age", "missing", 0, {"course.min_age": NOT_NULL, "client.age": NULL}),
    # course-max-age: course.max_age exists and client.age > course.max_age
    ("course-max-age", "ineligible", 0, {"course.max_age": NOT_NULL, "client.age": "$ != null and $ > course.max_age"}),
    ("course-max-age", "missing", 0, {"course.max_age": NOT_NULL, "client.age": NULL}),
    # course-min-education: course.min_education_level exists and client.education_level < course.min_education_level
    ("course-min-education", "ineligible", 0, {
        "course.min_education_level": NOT_NULL,
        "client.education_level": "$ != null and $ < course.min_education_level"}),
    ("course-min-education", "missing", 0, {"course.min_education_level": NOT_NULL, "client.education_level": NULL}),
    # bnn-referral-priority: client.referrer == "bnn" (priority +10); undecided when the referrer is not
    # known: named among the reasons (the priority may be incomplete), the outcome stands
    ("bnn-referral-priority", "priority", 10, {"client.referrer": '"bnn"'}),
    ("bnn-referral-priority", "missing_priority", 0, {"client.referrer": NULL}),
]


def model() -> dict[str, Any]:
    """The JDM decision graph: input node -> decision table (collect) -> output node."""
    inputs = [{"id": f"in{i}", "name": field, "type": "expression", "field": field}
              for i, field in enumerate(COLUMNS)]
    outputs = [{"id": f"out{i}", "name": field, "type": "expression", "field": field}
               for i, field in enumerate(("rule", "effect", "points"))]
    rules = []
    for n, (rule_id, effect, points, cells) in enumerate(ROWS):
        unknown = set(cells) - set(COLUMNS)
        assert not unknown, f"row {n} ({rule_id}) has cells for unknown columns {unknown}"
        row = {"_id": f"row{n}", "_description": f"{rule_id} ({effect})"}
        for i, field in enumerate(COLUMNS):
            row[f"in{i}"] = cells.get(field, "")
        row["out0"] = json.dumps(rule_id)
        row["out1"] = json.dumps(effect)
        row["out2"] = str(points) if effect == "priority" else ""
        rules.append(row)
    nodes = [
        {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
        {"id": "rules", "type": "decisionTableNode", "name": "Eligibility and priority",
         "position": {"x": 300, "y": 0},
         "content": {"hitPolicy": "collect", "inputs": inputs, "outputs": outputs, "rules": rules}},
        {"id": "response", "type": "outputNode", "name": "Response", "position": {"x": 600, "y": 0}},
    ]
    edges = [
        {"id": "e1", "type": "edge", "sourceId": "request", "targetId": "rules"},
        {"id": "e2", "type": "edge", "sourceId": "rules", "targetId": "response"},
    ]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


# ------------------------------------------------------------------ input and output


def client_input(facts: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """The client facts the table reads, derived as bekal.facts derives them; absent stays absent."""
    out = {k: facts[k] for k in CLIENT_FACTS if facts.get(k) is not None}
    born = facts.get("birth_date")
    if born is not None:
        out["age"] = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    education = facts.get("education")
    if education is not None:
        out["education_level"] = EDUCATION_LEVEL[education]
    return out


def course_input(facts: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: facts[k] for k in COURSE_FACTS if facts.get(k) is not None}
    education = facts.get("min_education")
    if education is not None:
        out["min_education_level"] = EDUCATION_LEVEL[education]
    return out


class NotInForce(ValueError):
    """The as-of date is before the rules are in force (bekal.engine.NotInForce for the ZEN side)."""


Verdict = tuple[str, int, frozenset[str]]  # (outcome, priority, reason ids)


def assemble(matches: Iterable[Mapping[str, Any]]) -> Verdict:
    """The table's matched rows as (outcome, priority, reason ids), as bekal.engine._decide decides."""
    fired: set[str] = set()
    missing: set[str] = set()
    missing_priority: set[str] = set()
    ineligible = pending = False
    priority = 0
    for row in matches:
        effect = row["effect"]
        if effect == "missing":
            missing.add(row["rule"])
            continue
        if effect == "missing_priority":
            missing_priority.add(row["rule"])
            continue
        fired.add(row["rule"])
        if effect == "ineligible":
            ineligible = True
        elif effect == "pending":
            pending = True
        else:
            priority += row["points"]
    undecided = missing - fired
    outcome = "INELIGIBLE" if ineligible else "PENDING" if pending or undecided else "ELIGIBLE"
    return outcome, priority, frozenset(fired | undecided | (missing_priority - fired))


def verdict_of(decision: Any) -> Verdict:
    """A bekal ``Decision`` in the same terms."""
    return decision.outcome.value, decision.priority, frozenset(r.rule_id for r in decision.reasons)


class ZenDecider:
    """The model served by one ``zen.ZenEngine`` with a static loader; decides with ``evaluate``."""

    def __init__(self, content: dict[str, Any] | None = None):
        import zen  # bench-only dependency: imported where used

        self.engine = zen.ZenEngine({"loader": {"type": "static", "content": {KEY: content or model()}}})

    def contexts(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date) -> list[dict]:
        """One input per pair; like bekal's engine, each client/course mapping is prepared once per call."""
        if as_of < EFFECTIVE_FROM:
            raise NotInForce(f"no ruleset is in force on {as_of.isoformat()}")
        prepared: dict[int, dict[str, Any]] = {}
        out = []
        for client, course in pairs:
            c = prepared.get(id(client))
            if c is None:
                c = prepared[id(client)] = client_input(client, as_of)
            k = prepared.get(id(course))
            if k is None:
                k = prepared[id(course)] = course_input(course)
            out.append({"client": c, "course": k})
        return out

    def decide_many(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date
                    ) -> list[Verdict]:
        """``ZenEngine.evaluate`` per pair, one after the other (one core)."""
        evaluate = self.engine.evaluate
        return [assemble(evaluate(KEY, ctx)["result"]) for ctx in self.contexts(pairs, as_of)]

    def decide_batch(self, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], as_of: date
                     ) -> list[Verdict]:
        """The same with ``ZenEngine.evaluate_batch``: one call for all pairs (it may use every core)."""
        requests = [{"key": KEY, "context": ctx} for ctx in self.contexts(pairs, as_of)]
        out = []
        for answer in self.engine.evaluate_batch(requests):
            if not answer.get("success"):
                raise RuntimeError(f"zen evaluate_batch failed: {answer.get('error')}")
            out.append(assemble(answer["data"]["result"]))
        return out
