"""What the rules decide about one client for one course, and why.

These are plain domain objects: the engine produces them, the gRPC servicers,
the CLI, matching and the rule tests consume them. Nothing here knows about
durable_rules, YAML or protobuf.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class Outcome(str, enum.Enum):
    """Three-valued on purpose: PENDING is "not decided yet", never a quiet yes or no."""

    ELIGIBLE = "ELIGIBLE"
    INELIGIBLE = "INELIGIBLE"
    PENDING = "PENDING"


class RuleStatus(str, enum.Enum):
    """How one rule came out for one decision (the explain trace)."""

    FIRED = "fired"  # its condition held: its effect applies
    NOT_FIRED = "not fired"  # its condition did not hold
    MISSING = "missing facts"  # it needs facts the input lacks (PENDING for ineligible/pending rules)
    NOT_IN_FORCE = "not in force"  # its ruleset is not in force on the as-of date


@dataclass(frozen=True, slots=True)
class FactValue:
    """A fact a rule read, with the value it had (None when absent)."""

    name: str  # e.g. "client.age"
    value: Any  # display value: int/float/str/bool/ISO date string, or None when absent


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule's contribution to a decision, explainable to a case worker and to the client."""

    rule_id: str
    ruleset: str
    outcome: Outcome  # the outcome this reason pushes towards (ELIGIBLE for priority rules)
    message_id: str  # Indonesian
    message_en: str  # English
    facts: tuple[FactValue, ...]
    source: str  # the sentence of the source document the rule encodes
    shareable: bool = True  # may a training centre see this reason (False for rehab details)
    priority: int = 0  # priority points this reason adds
    missing: tuple[str, ...] = ()  # input facts that are missing (PENDING reasons)


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """One line of the explain trace: every rule, fired or not, with what it read."""

    rule_id: str
    ruleset: str
    status: RuleStatus
    effect: str  # "ineligible", "pending" or "priority +N"
    facts: tuple[FactValue, ...]
    location: str  # "file:line:col" of the rule in its rule file


@dataclass(frozen=True, slots=True)
class Decision:
    """``{outcome, reasons[], priority, ruleset_version, as_of}`` for one client × course."""

    client_id: str
    course_code: str
    outcome: Outcome
    reasons: tuple[Reason, ...]
    priority: int
    ruleset_version: str
    as_of: date
    trace: tuple[RuleTrace, ...] = field(default=(), compare=False)

    @property
    def missing(self) -> tuple[str, ...]:
        """Every missing input fact named by a PENDING reason, in rule order, without repeats."""
        seen: dict[str, None] = {}
        for reason in self.reasons:
            for name in reason.missing:
                seen.setdefault(name, None)
        return tuple(seen)
