"""The placement package's errors."""

from __future__ import annotations

from collections.abc import Sequence


class CohortError(ValueError):
    """Input that cannot be placed; ``violations`` lists ``(field, message)``, every problem found."""

    def __init__(self, violations: Sequence[tuple[str, str]], more: int = 0):
        self.violations = list(violations)
        self.more = more
        text = "; ".join(f"{f}: {m}" for f, m in self.violations[:5])
        extra = len(self.violations) - 5 + more
        super().__init__(text + (f" (and {extra} more)" if extra > 0 else ""))


class Unjudged(RuntimeError):
    """The engine gave no verdict for some pairs (a fault, never bad input): nothing is placed."""


class RulesKeptChanging(RuntimeError):
    """The rules were reloaded during every attempt to decide the cohort under one version."""


class VersionChanged(Exception):
    """Raised inside a run when a decision batch comes from a newer ruleset version than the first."""


class WorkersFailed(RuntimeError):
    """A worker process deciding part of the cohort died or failed (a fault, never bad input): nothing is placed."""
