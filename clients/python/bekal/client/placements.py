"""Plain Python results of the matching calls: placements, course fills, the summary, jobs."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from bekal.client.results import Reason


class Because(str, enum.Enum):
    """Why a client did not get a course they ranked above their placement."""

    INELIGIBLE = "ineligible"
    PENDING = "pending"
    NOT_RANKED = "not_ranked"
    FULL = "full"
    WITHHELD = "withheld"  # a training centre's view: held back for a reason it may not see


class ReserveOrder(str, enum.Enum):
    """Which seats of a course with BNN-reserved seats fill first."""

    OPEN_FIRST = "open_first"
    RESERVED_FIRST = "reserved_first"


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a client stood at a course: rule priority or panel rank (0-based), and the lottery number."""

    priority: int | None
    rank: int | None
    lottery: int


@dataclass(frozen=True, slots=True)
class NotPlaced:
    course: str
    because: Because
    reasons: tuple[Reason, ...] = ()
    missing: tuple[str, ...] = ()
    cutoff: Standing | None = None  # FULL: where the last client admitted on a seat open to this one stood
    standing: Standing | None = None  # FULL: where this client stood


@dataclass(frozen=True, slots=True)
class ClientPlacement:
    client_id: str
    course: str | None  # None: unmatched
    choice: int | None  # 1 = first choice
    standing: Standing | None
    priority_group: bool  # a BNN referral
    lottery: int
    why_not: tuple[NotPlaced, ...]  # every course ranked above the placement


@dataclass(frozen=True, slots=True)
class CourseFill:
    code: str
    seats: int
    reserved_seats: int
    filled: int
    applicants: int
    eligible: int
    group_admitted: int
    group_on_reserved: int
    cutoff: Standing | None
    open_cutoff: Standing | None
    ranked: bool


@dataclass(frozen=True, slots=True)
class MatchSummary:
    clients: int
    placed: int
    unmatched: int
    courses: int
    seats: int
    seats_filled: int
    courses_full: int
    group_clients: int
    group_placed: int
    reserved_seats: int
    reserved_to_group: int
    proposals: int
    first_choice: int
    pairs: int
    eligible_pairs: int
    ineligible_pairs: int
    pending_pairs: int
    not_ranked_pairs: int
    ruleset_version: str
    as_of: date
    seed: int
    reserve_order: ReserveOrder
    withheld_pairs: int = 0  # a training centre's view: pairs held back for a reason it may not see


@dataclass(frozen=True)
class MatchJob:
    """A match job on the server: status, phase and progress; the summary and fills once it succeeded."""

    job_id: str
    status: JobStatus
    phase: str  # "queued", "eligibility", "matching", "explaining", "saving" or "done"
    progress_done: int
    progress_total: int
    clients: int
    courses: int
    error: str  # why it failed (the message of MatchJob.error); "" otherwise
    attempts: int
    summary: MatchSummary | None
    course_fills: tuple[CourseFill, ...]
    create_time: datetime | None
    update_time: datetime | None

    @property
    def done(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(frozen=True)
class MatchResult:
    """A placed cohort: one placement per client (in input order), the course fills and the summary."""

    placements: tuple[ClientPlacement, ...]
    courses: tuple[CourseFill, ...]
    summary: MatchSummary
    job: MatchJob | None = None  # the job it came from (None for an inline Match)
