"""Python client for the bekal gRPC API (``bekal.v1``): eligibility, rules, matching jobs, the audit log, replay,
monitoring (enrolments, training records, alerts).

>>> from bekal.client import connect
>>> with connect("127.0.0.1:50051", root_certificates="certs/ca.pem",  # mutual TLS: who you are
...              certificate_chain="certs/bnnk-banjarbaru.pem", private_key="certs/bnnk-banjarbaru.key") as bekal:
...     result = bekal.check({"id": "BNNK-BJB-2019-0007", "birth_date": "1998-04-02",
...                           "rehab_stage": "post_rehabilitation", "consent_to_share": True},
...                          "LAS-SMAW-01", as_of="2019-06-01")
...     print(result.decision.outcome)

Results are the client's own plain Python types (:mod:`bekal.client.results`,
:mod:`bekal.client.placements`); failures raise :class:`BekalError` with the
status code name and the fields at fault. The client needs grpcio and protobuf,
not the server.
"""

from bekal.client.audit import AuditEntry, LoggedCheck, LoggedDecision
from bekal.client.connection import DEFAULT_TARGET, Client, connect
from bekal.client.eligibility import Check
from bekal.client.errors import BekalError, FieldViolation, InvalidInput, JobFailed
from bekal.client.monitoring import Alert, Enrolment, Recorded
from bekal.client.placements import (
    Because,
    ClientPlacement,
    CourseFill,
    JobStatus,
    MatchJob,
    MatchResult,
    MatchSummary,
    NotPlaced,
    ReserveOrder,
    Standing,
)
from bekal.client.replay import JobReplay, Replay, ReplayedDecision
from bekal.client.results import (
    CheckResult,
    Decision,
    Diagnostic,
    FactValue,
    Outcome,
    Reason,
    Reload,
    RulesetInfo,
    Rulesets,
    RulesetSource,
    RuleStatus,
    RuleTrace,
    Validation,
)
from bekal.client.retry import RetryPolicy

__all__ = [
    "DEFAULT_TARGET", "Alert", "AuditEntry", "Because", "BekalError", "Check", "CheckResult", "Client",
    "ClientPlacement", "CourseFill", "Decision", "Diagnostic", "Enrolment", "FactValue", "FieldViolation",
    "InvalidInput", "JobFailed", "JobReplay", "JobStatus", "LoggedCheck", "LoggedDecision", "MatchJob", "MatchResult",
    "MatchSummary", "NotPlaced", "Outcome", "Reason", "Recorded", "Reload", "Replay", "ReplayedDecision",
    "ReserveOrder", "RetryPolicy", "RuleStatus", "RuleTrace", "RulesetInfo", "RulesetSource", "Rulesets", "Standing",
    "Validation", "connect",
]
