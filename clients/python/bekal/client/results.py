"""Plain Python results of the eligibility and rules calls: the client's own types, not the server's.

They mirror the ``bekal.v1`` messages (``Decision``, ``Reason``, ...) with Python
values: enums, ``datetime.date`` for dates, None for what is not set.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from bekal.client.errors import BekalError

FactScalar = bool | int | float | str | None


class Outcome(str, enum.Enum):
    """ELIGIBLE, INELIGIBLE, PENDING (not decided yet: a fact is missing), or -- in a training
    centre's view only -- WITHHELD (held back for a reason it may not see, or no consent)."""

    ELIGIBLE = "ELIGIBLE"
    INELIGIBLE = "INELIGIBLE"
    PENDING = "PENDING"
    WITHHELD = "WITHHELD"


class RuleStatus(str, enum.Enum):
    """How one rule came out in the explain trace."""

    FIRED = "fired"
    NOT_FIRED = "not fired"
    MISSING = "missing facts"
    NOT_IN_FORCE = "not in force"


@dataclass(frozen=True, slots=True)
class FactValue:
    """A fact a rule read (``client.age``) and its value (None: absent; dates as ``YYYY-MM-DD`` text)."""

    name: str
    value: FactScalar


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision came out as it did: one rule, its messages, the facts it read, its source."""

    rule_id: str
    ruleset: str
    outcome: Outcome
    messages: Mapping[str, str]  # the explanation by locale: "id" (Indonesian) and "en" (English)
    facts: tuple[FactValue, ...]
    source: str  # the citation of the document the rule encodes
    shareable: bool = True
    priority: int = 0
    missing: tuple[str, ...] = ()  # input facts to fill in (PENDING)

    @property
    def indonesian(self) -> str:
        return self.messages.get("id", "")

    @property
    def english(self) -> str:
        return self.messages.get("en", "")


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """One rule of the explain trace (audience ``bnn`` only)."""

    rule_id: str
    ruleset: str
    status: RuleStatus
    effect: str
    facts: tuple[FactValue, ...]
    location: str  # file:line:col of the rule


@dataclass(frozen=True, slots=True)
class Decision:
    """One client x one course: the outcome, the reasons, the priority, and the rules' version and date."""

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
        return tuple(dict.fromkeys(name for reason in self.reasons for name in reason.missing))


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
    effective_from_date: date | None
    effective_until_date: date | None
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
