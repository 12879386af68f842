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

from bekal.decision import Refusal
from bekal.engine import NotInForce
from bekal.lang.diagnostics import Diagnostic

log = logging.getLogger("bekal.service")

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

    def __post_init__(self) -> None:
        if self.code not in code_pb2.Code.keys():
            raise ValueError(f"unknown status code {self.code}")
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
    return ServiceError("NOT_FOUND", message, [(field, f"unknown {noun} {name!r}")], resource=(resource_type, name))


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


def not_in_force_error(exc: NotInForce, field: str) -> ServiceError:
    """FAILED_PRECONDITION: the request is well formed, but the rules are not in force on its date
    (a ruleset that exists has no version on it): nothing is decided."""
    return ServiceError(
        "FAILED_PRECONDITION", str(exc), [(field, str(exc))],
        preconditions=[("RULES_IN_FORCE", exc.on.isoformat(), f"not in force: {', '.join(exc.rulesets)}")],
    )


def refusal_error(refusal: Refusal, prefix: str = "") -> ServiceError:
    """A pair the engine would not decide: impossible input names its fields (INVALID_ARGUMENT);
    a pair the engine gave no verdict for is a fault (INTERNAL), never a decision."""
    if refusal.bad_input:
        return invalid([(prefix + field, message) for field, message in refusal.violations])
    log.error("the engine gave no verdict for a pair (course %s; rules %s)", refusal.course_code,
              ", ".join(refusal.unjudged) or "none read the event")
    return ServiceError("INTERNAL", "the rules engine gave no verdict for this check; nothing was decided")
