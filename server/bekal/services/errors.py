"""The services' errors: plain Python, caught by type; their gRPC statuses are made in :mod:`.guard`.

The logic raises :class:`ServiceError` with a ``google.rpc.Code`` name and the
fields at fault; the servicers turn it into a status with ``google.rpc`` details.
Anything else raised inside a handler becomes ``INTERNAL`` with a reference id
(:func:`internal`) -- never ``UNKNOWN`` with a traceback.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from google.rpc import code_pb2

from bekal.access import Denied
from bekal.decision import Refusal
from bekal.engine import NotInForce
from bekal.lang.diagnostics import Diagnostic

log = logging.getLogger("bekal.service")

DOMAIN = "bekal.v1"  # google.rpc.ErrorInfo.domain of every error

# google.rpc.ErrorInfo.reason of every error kind: stable within bekal.v1 (a partner may branch on it), each
# documented in docs/integrators.md ("Errors"; tests/services/test_error_reasons.py keeps the two equal).
REASONS: dict[str, str] = {
    "FIELD_INVALID": "a field is missing, malformed or out of range; BadRequest names it",
    "REQUEST_MALFORMED": "a message could not be decoded as the method's request type",
    "COURSE_NOT_FOUND": "no course with that code in the catalogue (or the request's courses)",
    "RULESET_NOT_FOUND": "no loaded ruleset with that name",
    "JOB_NOT_FOUND": "no match job with that id",
    "CERTIFICATE_UNKNOWN": "the client certificate is valid but names no agency in the identities file",
    "ROLE_NOT_ALLOWED": "the caller's role may not call this method",
    "AUDIENCE_NOT_ALLOWED": "the caller asked for a view its role may not see (a training centre asking for BNN's)",
    "COURSE_NOT_OWNED": "a training centre placed clients into courses of another centre",
    "RULES_NOT_LOADED": "the server has no valid rules loaded: nothing can be decided",
    "RULES_NOT_IN_FORCE": "the rules are not in force on the as-of date",
    "RULES_REJECTED": "reloaded rule files are invalid; the previous version keeps serving",
    "JOB_NOT_SUCCEEDED": "the match job has not (or not yet) succeeded, so it has no results",
    "JOBS_NOT_KEPT": "the server runs without a database and keeps no match jobs",
    "JOB_FAILED": "the match job stopped for good (MatchJob.error); the message says why",
    "OPERATION_NOT_SUPPORTED": "listing, cancelling or deleting operations: a match job runs to its end and is kept",
    "JOB_INPUT_MISSING": "the match job's stored input is gone",
    "ENROLMENT_NOT_FOUND": "no enrolment with that id (or not one the caller may see)",
    "ALERT_NOT_FOUND": "no monitoring alert with that id (or not one the caller may see)",
    "ELIGIBILITY_NOT_PROVEN": "a direct enrolment without an ELIGIBLE check of the client for the course by the "
                              "same office in the decision log (BadRequest names each)",
    "MONITORING_RULES_NOT_LOADED": "no monitoring rules are loaded, so training records are not taken unwatched",
    "MONITORING_NOT_JUDGED": "durable_rules gave no proof of judging the monitoring rules for an enrolment of the "
                             "batch; nothing was recorded, retry later",
    "REQUEST_NOT_FOUND": "no logged check with that request id (or not one the caller may see)",
    "FACTS_NOT_KEPT": "the facts a replay needs are gone: erased on the client's request, past the retention "
                      "period, or logged before bekal kept them; the log still shows the outcome",
    "FACTS_KEY_MISMATCH": "the kept facts do not open with the server's facts key; nothing was replayed",
    "RULES_VERSION_NOT_KEPT": "the rules version a replay needs is not kept, or its kept text no longer builds it",
    "TOO_MANY_STREAMS": "the server's or the caller's limit of open streams is reached; retry later",
    "STREAM_IDLE": "a client stream sent nothing for too long and was closed",
    "RATE_LIMITED": "too many rule validations or reloads a minute; retry later",
    "MESSAGE_TOO_LARGE": "a message or an upload is above the server's size limit",
    "SHUTTING_DOWN": "the server is shutting down; resend what was not answered",
    "STORAGE_UNAVAILABLE": "a store cannot be written now; nothing was done, retry later",
    "DEADLINE_EXCEEDED": "the call's deadline passed before it was decided",
    "CANCELLED": "the caller cancelled the call",
    "INTERNAL": "a fault in the server; the message has a reference for its log, nothing was decided",
}
DEFAULT_REASON = {  # the reason of an error raised without one
    "INVALID_ARGUMENT": "FIELD_INVALID", "NOT_FOUND": "COURSE_NOT_FOUND", "UNAUTHENTICATED": "CERTIFICATE_UNKNOWN",
    "PERMISSION_DENIED": "ROLE_NOT_ALLOWED", "FAILED_PRECONDITION": "RULES_NOT_LOADED",
    "RESOURCE_EXHAUSTED": "MESSAGE_TOO_LARGE", "UNAVAILABLE": "STORAGE_UNAVAILABLE", "DATA_LOSS": "JOB_INPUT_MISSING",
    "DEADLINE_EXCEEDED": "DEADLINE_EXCEEDED", "CANCELLED": "CANCELLED", "INTERNAL": "INTERNAL",
}

Violations = list[tuple[str, str]]
"""``(field path, description)`` pairs: every bad field of a request, as ``google.rpc.BadRequest`` lists them."""


@dataclass
class ServiceError(Exception):
    """A failed call: a ``google.rpc.Code`` name, an English message, and the fields at fault."""

    code: str  # a google.rpc.Code name, e.g. "INVALID_ARGUMENT"
    message: str
    violations: Sequence[tuple[str, str]] = ()  # (field path, description) -> google.rpc.BadRequest
    resource: tuple[str, str] | None = None  # (type, name) -> google.rpc.ResourceInfo
    preconditions: Sequence[tuple[str, str, str]] = ()  # (type, subject, description)
    retry_after: float | None = None  # seconds -> google.rpc.RetryInfo: worth retrying, after a pause
    reason: str = ""  # -> google.rpc.ErrorInfo.reason, one of REASONS; "": the code's DEFAULT_REASON

    def __post_init__(self) -> None:
        if self.code not in code_pb2.Code.keys():
            raise ValueError(f"unknown status code {self.code}")
        if not self.reason:
            self.reason = DEFAULT_REASON.get(self.code, "INTERNAL")
        if self.reason not in REASONS:
            raise ValueError(f"undocumented error reason {self.reason}")
        Exception.__init__(self, f"{self.code}: {self.message}")

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.violations:
            text += "".join(f"\n  {f}: {d}" for f, d in self.violations)
        return text

    @property
    def number(self) -> int:
        """The ``google.rpc.Code`` number (the gRPC status code)."""
        return code_pb2.Code.Value(self.code)


def invalid(violations: Sequence[tuple[str, str]], message: str | None = None) -> ServiceError:
    """INVALID_ARGUMENT naming every bad field (the message names the first five)."""
    if message is None:
        names = list(dict.fromkeys(f for f, _ in violations))
        message = "invalid " + ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return ServiceError("INVALID_ARGUMENT", message, list(violations))


def not_found(message: str, field: str, noun: str, resource_type: str, name: str) -> ServiceError:
    """NOT_FOUND for the resource ``name`` named in ``field``, with ``google.rpc.ResourceInfo``."""
    reason = {"course": "COURSE_NOT_FOUND", "ruleset": "RULESET_NOT_FOUND", "request": "REQUEST_NOT_FOUND",
              "enrolment": "ENROLMENT_NOT_FOUND", "alert": "ALERT_NOT_FOUND"}.get(noun, "JOB_NOT_FOUND")
    return ServiceError("NOT_FOUND", message, [(field, f"unknown {noun} {name!r}")], resource=(resource_type, name),
                        reason=reason)


def internal(where: str, exc: BaseException) -> ServiceError:
    """Log an unexpected exception without personal data and return a bland INTERNAL error.

    Only the exception type and the code locations go to the log: exception
    messages can quote input facts (health data), so they are left out.
    """
    ref = uuid.uuid4().hex[:12]
    frames = traceback.extract_tb(exc.__traceback__)
    where_from = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    log.error("internal error ref=%s in %s: %s at %s", ref, where, type(exc).__name__, where_from)
    return ServiceError("INTERNAL", f"internal error (ref {ref}); the server log has details")


class RulesRejected(Exception):
    """Rule files that cannot be served; the previous version (if any) keeps serving."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class JobTakenOver(Exception):
    """Another worker took a match job over (this worker's lease ran out): stop working on it."""


def storage_unavailable(what: str, retry_after: float) -> ServiceError:
    """UNAVAILABLE for a store that cannot be written now: nothing was done, retry later.

    The store's reason (disk full, locked, ...) is for the server log, not the caller.
    """
    return ServiceError("UNAVAILABLE", f"{what} is not available now; retry in {retry_after:g} s",
                        retry_after=retry_after)


def denied(exc: Denied, reason: str, field: str | None = None) -> ServiceError:
    """PERMISSION_DENIED for what :mod:`bekal.access` refused: the field it names (else ``field``) as the
    violation, when there is one to name."""
    at = exc.field or field
    return ServiceError("PERMISSION_DENIED", exc.message, [(at, exc.message)] if at else [], reason=reason)


def not_in_force_error(exc: NotInForce, field: str) -> ServiceError:
    """FAILED_PRECONDITION: the request is well formed, but the rules are not in force on its date
    (a ruleset that exists has no version on it): nothing is decided."""
    return ServiceError(
        "FAILED_PRECONDITION", str(exc), [(field, str(exc))],
        preconditions=[("RULES_IN_FORCE", exc.on.isoformat(), f"not in force: {', '.join(exc.rulesets)}")],
        reason="RULES_NOT_IN_FORCE",
    )


def refusal_error(refusal: Refusal, prefix: str = "") -> ServiceError:
    """A pair the engine would not decide: impossible input names its fields (INVALID_ARGUMENT);
    a pair the engine gave no verdict for is a fault (INTERNAL), never a decision."""
    if refusal.bad_input:
        return invalid([(prefix + field, message) for field, message in refusal.violations])
    log.error("the engine gave no verdict for a pair (course %s; rules %s)", refusal.course_code,
              ", ".join(refusal.unjudged) or "none read the event")
    return ServiceError("INTERNAL", "the rules engine gave no verdict for this check; nothing was decided")
