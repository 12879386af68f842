"""What placing needs of one decision: its outcome, its reasons and its priority.

A :class:`bekal.decision.Decision` has them; so does a :class:`bekal.decision.Verdict`, the
form the engine's :meth:`~bekal.engine.Engine.judge_many` gives and a worker process's
decisions take in the process that places (:mod:`bekal.placement.parallel`): the client and
the course are known from the cohort (``decisions[i][j]`` is client ``i`` against their
``j``-th preference), the version and the date from the job.
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
