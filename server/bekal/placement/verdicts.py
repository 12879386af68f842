"""What placing needs of one decision: its outcome, its reasons and its priority.

A :class:`bekal.decision.Decision` has them; so does a :class:`Verdict`, the
compact form a worker process's decisions take in the process that places
(:mod:`bekal.placement.parallel`): the client and the course are known from the
cohort (``decisions[i][j]`` is client ``i`` against their ``j``-th preference),
the version and the date from the job, and one ``Verdict`` is shared by every
pair with the same outcome, reasons and priority.
"""

from __future__ import annotations

from typing import Protocol

from bekal.decision import Outcome, Reason


class Judged(Protocol):
    """One client x course decision, as matching and explanations read it."""

    @property
    def outcome(self) -> Outcome: ...

    @property
    def reasons(self) -> tuple[Reason, ...]: ...

    @property
    def priority(self) -> int: ...


class Verdict:
    """A decision without its pair: outcome, reasons (in the engine's order) and priority."""

    __slots__ = ("outcome", "reasons", "priority")

    def __init__(self, outcome: Outcome, reasons: tuple[Reason, ...], priority: int):
        self.outcome = outcome
        self.reasons = reasons
        self.priority = priority

    def __repr__(self) -> str:
        return f"Verdict({self.outcome.value}, {[r.rule_id for r in self.reasons]}, priority={self.priority})"
