"""Errors from the bekal server, as plain Python values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    field: str  # path of the bad field, e.g. "client.birth_date"
    description: str


@dataclass
class BekalError(Exception):
    """A failed call: the gRPC status code name, the server's message and its structured details."""

    code: str  # e.g. "INVALID_ARGUMENT", "NOT_FOUND", "UNAVAILABLE"
    message: str
    field_violations: tuple[FieldViolation, ...] = ()
    preconditions: tuple[tuple[str, str, str], ...] = ()  # (type, subject, description)
    resource: tuple[str, str] | None = None  # (type, name) of a missing resource
    details: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # google.rpc.ErrorInfo.reason: the stable error kind, e.g. "FIELD_INVALID"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.code, self.message)

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        text += "".join(f"\n  {v.field}: {v.description}" for v in self.field_violations)
        text += "".join(f"\n  {s}: {d}" for _t, s, d in self.preconditions)
        return text

    @property
    def fields(self) -> dict[str, str]:
        """Bad fields by path."""
        return {v.field: v.description for v in self.field_violations}

    @classmethod
    def from_rpc(cls, exc: grpc.RpcError) -> BekalError:
        """From a ``grpc.RpcError``, decoding ``google.rpc`` details when the server sent them."""
        code = exc.code().name if exc.code() is not None else "UNKNOWN"
        try:
            status = rpc_status.from_call(cast(grpc.Call, exc))  # a failed call's RpcError is its Call
        except Exception:  # a malformed trailer must not hide the error itself
            status = None
        if status is None:
            return cls(code, exc.details() or "")
        error = cls.from_status(status)
        error.message = error.message or exc.details() or ""
        return error

    @classmethod
    def from_status(cls, status: status_pb2.Status) -> BekalError:
        """From a ``google.rpc.Status``: a failed call's trailer, or a failed check inside a stream."""
        code = code_pb2.Code.Name(status.code) if status.code in code_pb2.Code.values() else str(status.code)
        violations: list[FieldViolation] = []
        preconditions: list[tuple[str, str, str]] = []
        resource: tuple[str, str] | None = None
        reason = ""
        for detail in status.details:  # Unpack is False (and leaves the message empty) for another type
            info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
            pf, res = error_details_pb2.PreconditionFailure(), error_details_pb2.ResourceInfo()
            if detail.Unpack(info):
                reason = info.reason
            elif detail.Unpack(bad):
                violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
            elif detail.Unpack(pf):
                preconditions += [(v.type, v.subject, v.description) for v in pf.violations]
            elif detail.Unpack(res):
                resource = (res.resource_type, res.resource_name)
        return cls(code, status.message, tuple(violations), tuple(preconditions), resource, reason=reason)


class JobFailed(BekalError):
    """A match job the server ran has failed; ``job_id`` and the reason (``message``)."""

    def __init__(self, job_id: str, reason: str):
        super().__init__("FAILED_PRECONDITION", reason)
        self.job_id = job_id


class InvalidInput(ValueError):
    """Input the client cannot even encode: ``violations`` lists ``(field path, message)``, every one found.

    For a cohort the paths name the record, e.g. ``clients[3].rehab_stage``.
    """

    def __init__(self, violations: Sequence[tuple[str, str]]):
        self.violations = list(violations)
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.violations))

    def under(self, prefix: str) -> InvalidInput:
        """The same problems with paths under ``prefix`` (e.g. ``clients[3].``)."""
        return InvalidInput([(prefix + f, m) for f, m in self.violations])
