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
    # Only in a training centre's view (bekal.audience): held back for a reason it may not see, or
    # the client has not consented to sharing. Never decided by the rules.
    WITHHELD = "WITHHELD"


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

    @property
    def indonesian(self) -> str:
        return self.message_id

    @property
    def english(self) -> str:
        return self.message_en


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
class Refusal:
    """A client × course pair the engine would not decide: it is never an outcome, and callers
    report it as an error for that pair (the other pairs of a batch are unaffected).

    ``violations``: input no person or course can have, as ``(field, problem)``, e.g.
    ``("client.birth_date", "2030-01-01 is after the decision date 2019-05-16")``.
    ``unjudged``: rules durable_rules gave no verdict on for this pair (applies, does not
    apply or a fact is missing): without that proof nothing is decided. A fault, not bad input.
    """

    client_id: str
    course_code: str
    violations: tuple[tuple[str, str], ...] = ()
    unjudged: tuple[str, ...] = ()

    @property
    def bad_input(self) -> bool:
        return bool(self.violations)

    def __str__(self) -> str:
        if self.violations:
            return "; ".join(f"{f}: {m}" for f, m in self.violations)
        return f"no verdict from the rules engine on rule(s) {', '.join(self.unjudged)}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision without its pair: outcome, reasons (in the engine's order) and priority.

    What placing needs of a decision (:class:`bekal.placement.verdicts.Judged`, as a :class:`Decision`
    has them). The engine shares one ``Verdict`` among the pairs with the same reasons
    (:meth:`bekal.engine.Engine.judge_many`), and a worker process's decisions
    cross to the placing process in this form (:mod:`bekal.placement.parallel`).
    """

    outcome: Outcome
    reasons: tuple[Reason, ...]
    priority: int

    def __repr__(self) -> str:
        return f"Verdict({self.outcome.value}, {[r.rule_id for r in self.reasons]}, priority={self.priority})"


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
    def priority_incomplete(self) -> bool:
        """A priority rule could not be decided (its facts are missing): ``priority`` may be too low
        or too high. The missing facts are in :attr:`missing`."""
        return any(r.missing and r.outcome is Outcome.ELIGIBLE for r in self.reasons)

    @property
    def missing(self) -> tuple[str, ...]:
        """Every missing input fact named by an undecided rule's reason, in rule order, without repeats."""
        seen: dict[str, None] = {}
        for reason in self.reasons:
            for name in reason.missing:
                seen.setdefault(name, None)
        return tuple(seen)
