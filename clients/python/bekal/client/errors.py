"""Errors from the bekal server, as plain Python values."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    details: dict = field(default_factory=dict)

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
    def from_rpc(cls, exc) -> "BekalError":
        """From a ``grpc.RpcError``, decoding ``google.rpc`` details when the server sent them."""
        from google.rpc import error_details_pb2
        from grpc_status import rpc_status

        code = exc.code().name if exc.code() is not None else "UNKNOWN"
        message = exc.details() or ""
        violations: list[FieldViolation] = []
        preconditions: list[tuple[str, str, str]] = []
        resource = None
        try:
            status = rpc_status.from_call(exc)
        except Exception:  # a malformed trailer must not hide the error itself
            status = None
        if status is not None:
            message = status.message or message
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
                elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
                    pf = error_details_pb2.PreconditionFailure()
                    detail.Unpack(pf)
                    preconditions += [(v.type, v.subject, v.description) for v in pf.violations]
                elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
                    info = error_details_pb2.ResourceInfo()
                    detail.Unpack(info)
                    resource = (info.resource_type, info.resource_name)
        return cls(code, message, tuple(violations), tuple(preconditions), resource)

    @classmethod
    def from_check_error(cls, error) -> "BekalError":
        """From a ``bekal.v1.CheckError`` (a failed check inside a stream)."""
        return cls(
            error.status or str(error.code), error.message,
            tuple(FieldViolation(v.field, v.description) for v in error.field_violations),
        )
