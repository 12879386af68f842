"""Errors the service reports, and their translation to gRPC statuses with rich details.

The service code raises :class:`ServiceError` (plain Python, no gRPC); the
servicers turn it into a status with ``google.rpc`` details (``BadRequest``,
``ResourceInfo``, ``PreconditionFailure``) in the ``grpc-status-details-bin``
trailer, which grpcio-status (and every other gRPC language's status helpers)
decode. Anything else raised inside a handler becomes ``INTERNAL`` with a
reference id — never ``UNKNOWN`` with a traceback.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

log = logging.getLogger("bekal.service")

# google.rpc.Code numbers, so the core needs no gRPC import.
CODES = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}


@dataclass
class ServiceError(Exception):
    """A failed call: a status code name, an English message, and the fields at fault."""

    code: str  # a key of CODES, e.g. "INVALID_ARGUMENT"
    message: str
    violations: Sequence[tuple[str, str]] = ()  # (field path, description) -> google.rpc.BadRequest
    resource: tuple[str, str] | None = None  # (type, name) -> google.rpc.ResourceInfo
    preconditions: Sequence[tuple[str, str, str]] = ()  # (type, subject, description)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown status code {self.code}")
        Exception.__init__(self, f"{self.code}: {self.message}")

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.violations:
            text += "".join(f"\n  {f}: {d}" for f, d in self.violations)
        return text

    def prefixed(self, prefix: str) -> "ServiceError":
        """The same error with field paths under ``prefix`` (e.g. ``checks[3].``)."""
        return ServiceError(
            self.code, self.message, [(prefix + f, d) for f, d in self.violations],
            self.resource, self.preconditions, self.extra,
        )


def invalid(violations: Sequence[tuple[str, str]], message: str | None = None) -> ServiceError:
    if message is None:
        names = list(dict.fromkeys(f for f, _ in violations))
        message = "invalid " + ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return ServiceError("INVALID_ARGUMENT", message, list(violations))


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


def to_status(error: ServiceError):
    """The gRPC status (for ``context.abort_with_status``) carrying ``google.rpc`` details."""
    from google.protobuf import any_pb2
    from google.rpc import error_details_pb2, status_pb2
    from grpc_status import rpc_status

    details = []
    if error.violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in error.violations
            ]
        )
        details.append(bad)
    if error.resource is not None:
        details.append(
            error_details_pb2.ResourceInfo(
                resource_type=error.resource[0], resource_name=error.resource[1],
                description=error.message,
            )
        )
    if error.preconditions:
        details.append(
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(type=t, subject=s, description=d)
                    for t, s, d in error.preconditions
                ]
            )
        )
    packed = []
    for detail in details:
        any_msg = any_pb2.Any()
        any_msg.Pack(detail)
        packed.append(any_msg)
    return rpc_status.to_status(
        status_pb2.Status(code=CODES[error.code], message=error.message, details=packed)
    )
