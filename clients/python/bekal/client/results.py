"""Plain Python results of the client calls (decisions reuse :mod:`bekal.decision`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bekal.client.errors import BekalError
from bekal.decision import Decision


@dataclass(frozen=True)
class CheckResult:
    """The answer to one check: its decisions, or (inside a stream) its error."""

    request_id: str
    ruleset_version: str = ""
    as_of: date | None = None
    decisions: tuple[Decision, ...] = ()
    error: BekalError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def decision(self) -> Decision:
        """The only decision of a one-course check."""
        if self.error is not None:
            raise self.error
        if len(self.decisions) != 1:
            raise ValueError(f"{len(self.decisions)} decisions, not one")
        return self.decisions[0]


@dataclass(frozen=True)
class RulesetInfo:
    name: str
    title: str
    file: str
    effective_from: date | None
    effective_until: date | None
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class Rulesets:
    version: str
    rulesets: tuple[RulesetInfo, ...]
    course_codes: tuple[str, ...]


@dataclass(frozen=True)
class RulesetSource:
    version: str
    ruleset: RulesetInfo
    source: str


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    col: int
    message: str
    hint: str | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


@dataclass(frozen=True)
class Validation:
    valid: bool
    version: str | None
    diagnostics: tuple[Diagnostic, ...]
    rulesets: tuple[str, ...]


@dataclass(frozen=True)
class Reload:
    version: str
    previous_version: str | None
    changed: bool
