"""The plain reference model of monitoring rules: an interpreter of the checked syntax tree.

This was the production evaluation before durable_rules judged monitoring rules (see
:mod:`bekal.monitoring.rules`); it stays here only so the tests can check durable_rules against
an independent reading of the language: Kleene's three-valued logic, a comparison with an absent
fact is unknown, only a true condition raises. Nothing in ``server/`` may use it.

One known difference, outside what monitoring rules use: a division by a fact that is 0 is
*unknown* here, while durable_rules (as for eligibility, :mod:`bekal.compiler`) divides in floating
point (``x / 0`` is infinite; ``0 / 0`` has no verdict and the event is refused). The differential
test generates no division by a fact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from bekal.compiler import render
from bekal.lang import ast
from bekal.monitoring.rules import Finding, MonitoringRules

Truth = bool | None  # None: unknown (a fact it needs is absent)


def evaluate(rules: MonitoringRules, facts: Mapping[str, Any], on: date) -> list[Finding]:
    """The monitoring rules in force on ``on`` whose condition holds for ``facts`` (``enrolment.*``)."""
    out = []
    for ruleset in rules.rulesets:
        for rule in ruleset.rules:
            start, until = ast.in_force(ruleset, rule)
            if (start is not None and on < start) or (until is not None and on > until):
                continue
            if truth(rule.when, facts) is True:
                values = dict(facts)
                out.append(Finding(rule.id, rule.effect.kind, render(rule.reason_id.value, values),
                                   render(rule.reason_en.value, values), rule.source))
    return out


def value(node: ast.Value, facts: Mapping[str, Any]) -> Any:
    """A value, or None when it depends on an absent fact (or divides by zero)."""
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.FactRef):
        return facts.get(node.name)
    if isinstance(node, ast.Arith):
        left, right = value(node.left, facts), value(node.right, facts)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        return None if right == 0 else left / right
    raise ValueError(f"monitoring rules read no parameters: {node.name}")  # the checker refuses them


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def truth(node: ast.Expr, facts: Mapping[str, Any]) -> Truth:
    if isinstance(node, ast.Compare):
        left, right = value(node.left, facts), value(node.right, facts)
        return None if left is None or right is None else bool(_COMPARE[node.op](left, right))
    if isinstance(node, ast.In):
        found = value(node.value, facts)
        if found is None:
            return None
        return (found in {i.value for i in node.items}) != node.negated
    if isinstance(node, ast.Exists):
        return (value(node.value, facts) is not None) != node.negated
    if isinstance(node, ast.Match):
        found = value(node.value, facts)
        if found is None:
            return None
        if node.op == "contains":
            return node.pattern.lower() in str(found).lower()
        return re.fullmatch(node.pattern, str(found)) is not None
    if isinstance(node, ast.And):
        parts = [truth(i, facts) for i in node.items]
        return False if False in parts else (None if None in parts else True)
    if isinstance(node, ast.Or):
        parts = [truth(i, facts) for i in node.items]
        return True if True in parts else (None if None in parts else False)
    if isinstance(node, ast.Not):
        inner = truth(node.item, facts)
        return None if inner is None else not inner
    found = value(node, facts)  # a bare fact or literal: true/false as written
    return None if found is None else bool(found)
