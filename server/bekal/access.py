"""Who may call what, and see which records: the one authorization policy, deny by default.

Identity is proven, never declared: a caller's agency and role come from its client
certificate (mutual TLS), mapped by the operator's identities file
(:mod:`bekal.serve.identity`). A caller without a certificate (plain loopback, for
development) is :data:`ANONYMOUS`: the least-privileged view, a training centre's,
unless the operator names another role for such callers.

The roles:

- ``referrer``: a BNN office (``office``). Sees every reason of what it sends (the facts
  are its own: an eligibility check or an inline match only derives from them with the
  rules, which are public) and its own matching jobs; may also ask for the training
  centre's view, to preview what a BLK sees.
- ``training_provider``: a BLK (``provider``). The training centre's view only
  (:mod:`bekal.audience`), of its own courses; its own jobs.
- ``rule_author``: validates and reloads rules (rate-limited); reads no client data.
- ``auditor``: reads the decision log and the audit trail, replays logged checks and erases a
  client's facts (a BNN office may do both for its own checks).
- ``operator``: health and reflection (open to everyone), nothing about clients.

:data:`POLICY` lists, per RPC, the roles that may call it; an RPC missing from it is
denied to everyone (:func:`authorize`). Per-record rules (whose job, whose course) are the
functions below, called by the services' logic. What the server keeps about clients
goes back only to whoever sent it: a matching job is its creator's (:func:`owns_job`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bekal.audience import BLK, BNN


class Role(str, enum.Enum):
    REFERRER = "referrer"
    TRAINING_PROVIDER = "training_provider"
    RULE_AUTHOR = "rule_author"
    AUDITOR = "auditor"
    OPERATOR = "operator"
    PUBLIC = "public"  # no certificate: a training centre's view of what the caller itself sends


@dataclass(frozen=True)
class Principal:
    """A proven caller: an agency (by the name the identities file gives it) in one role."""

    name: str  # e.g. "bnnk-banjarbaru"; "anonymous" without a certificate
    role: Role
    office: str | None = None  # referrer: the BNN office, as clients' ``referring_office`` names it
    provider: str | None = None  # training_provider: the BLK, as courses' ``blk`` names it
    authenticated: bool = True

    def __str__(self) -> str:
        return f"{self.name} ({self.role.value})"


ANONYMOUS = Principal("anonymous", Role.PUBLIC, authenticated=False)

_ALL = frozenset(Role)
_CLIENT_VIEWS = frozenset({Role.REFERRER, Role.TRAINING_PROVIDER, Role.PUBLIC})
_JOBS = frozenset({Role.REFERRER, Role.TRAINING_PROVIDER})

POLICY: Mapping[str, frozenset[Role]] = {
    "/bekal.v1.EligibilityService/CheckEligibility": _CLIENT_VIEWS,
    "/bekal.v1.EligibilityService/CheckEligibilityStream": _CLIENT_VIEWS,
    "/bekal.v1.MatchingService/Match": _CLIENT_VIEWS,
    "/bekal.v1.MatchingService/UploadCohort": _JOBS,
    "/bekal.v1.MatchingService/GetMatchJob": _JOBS,
    "/bekal.v1.MatchingService/StreamPlacements": _JOBS,
    "/bekal.v1.RulesService/ListRulesets": _ALL,
    "/bekal.v1.RulesService/GetRuleset": _ALL,
    "/bekal.v1.RulesService/ValidateRules": frozenset({Role.RULE_AUTHOR}),
    "/bekal.v1.RulesService/ReloadRules": frozenset({Role.RULE_AUTHOR}),
    "/bekal.v1.AuditService/ListDecisions": frozenset({Role.AUDITOR, Role.REFERRER}),  # a referrer: its own
    "/bekal.v1.AuditService/ListAuditEvents": frozenset({Role.AUDITOR}),
    # a BNN office: its own checks only (bekal.services.replay.logic), the client's facts it sent itself
    "/bekal.v1.ReplayService/ReplayDecision": frozenset({Role.AUDITOR, Role.REFERRER}),
    "/bekal.v1.ReplayService/EraseClientFacts": frozenset({Role.AUDITOR, Role.REFERRER}),
    # a job's creator (a BNN office or a training centre) or an auditor: bekal.services.replay.logic
    "/bekal.v1.ReplayService/ReplayMatchJob": frozenset({Role.AUDITOR, Role.REFERRER, Role.TRAINING_PROVIDER}),
    "/bekal.v1.CatalogService/ListCourses": _ALL,  # the courses, seats and thresholds: no client data
    "/bekal.v1.CatalogService/GetCourse": _ALL,
    # the matching jobs as AIP-151 operations: as GetMatchJob (a job is its creator's); the rest is UNIMPLEMENTED
    "/google.longrunning.Operations/GetOperation": _JOBS,
    "/google.longrunning.Operations/WaitOperation": _JOBS,
    "/google.longrunning.Operations/ListOperations": _JOBS,
    "/google.longrunning.Operations/DeleteOperation": _JOBS,
    "/google.longrunning.Operations/CancelOperation": _JOBS,
    # monitoring after placement (services/monitoring/logic.py: whose enrolments, which view)
    "/bekal.v1.MonitoringService/CreateEnrolments": frozenset({Role.REFERRER}),  # its own clients
    "/bekal.v1.MonitoringService/EndEnrolment": _JOBS,  # a BNN office its clients', a BLK its courses'
    "/bekal.v1.MonitoringService/ListEnrolments": frozenset({Role.REFERRER, Role.TRAINING_PROVIDER, Role.AUDITOR}),
    "/bekal.v1.MonitoringService/GetEnrolmentRecord": frozenset({Role.REFERRER, Role.TRAINING_PROVIDER,
                                                                 Role.AUDITOR}),
    "/bekal.v1.MonitoringService/RecordTraining": _JOBS,  # a BLK: attendance, conduct, outcomes; BNN: outcomes
    "/bekal.v1.MonitoringService/ListAlerts": frozenset({Role.REFERRER, Role.AUDITOR}),  # BNN: its own alerts
    "/bekal.v1.MonitoringService/AcknowledgeAlert": frozenset({Role.REFERRER}),
    "/bekal.v1.MonitoringService/WatchAlerts": frozenset({Role.REFERRER}),
}
RATE_LIMITED = frozenset({"/bekal.v1.RulesService/ValidateRules", "/bekal.v1.RulesService/ReloadRules"})


class Denied(Exception):
    """The caller may not do this; ``field`` names the request field at fault, if one is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def authorize(principal: Principal, method: str) -> None:
    """Deny by default: ``method`` (``/package.Service/Method``) must list the caller's role."""
    allowed = POLICY.get(method)
    if allowed is None or principal.role not in allowed:
        who = "a caller without a client certificate" if not principal.authenticated else str(principal)
        raise Denied(f"{who} may not call {method.rsplit('/', 1)[-1]}")


def audience_for(principal: Principal, requested: str | None) -> str:
    """The view a caller gets: BNN's for a referrer (which may ask for the training centre's
    view instead), the training centre's for everyone else; asking for more is denied."""
    if principal.role is Role.REFERRER:
        return BLK if requested == BLK else BNN
    if requested == BNN:
        raise Denied("only a BNN office's certificate may see the BNN view (audience AUDIENCE_BNN)", "audience")
    return BLK


def provides(provider: str, course: Mapping[str, Any]) -> bool:
    """Is ``course`` the training centre ``provider``'s (as the course's ``blk`` names it)?"""
    return course.get("blk") == provider


def check_course(principal: Principal, course: Mapping[str, Any], where: str = "course_code") -> None:
    """A training centre acts on its own courses only."""
    if principal.role is Role.TRAINING_PROVIDER and not provides(principal.provider or "", course):
        raise Denied(f"the course is not {principal.provider}'s", where)


def own_courses(principal: Principal, courses: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The course codes a caller may ask about: a training centre's own, everyone else's all."""
    if principal.role is Role.TRAINING_PROVIDER:
        return {code for code, course in courses.items() if provides(principal.provider or "", course)}
    return set(courses)


def owns_job(principal: Principal, owner: str) -> bool:
    """A matching job is its creator's: only the same agency reads its status and results."""
    return bool(owner) and owner == principal.name
