"""The servicers' side of errors: run a handler, and turn a failure into a gRPC status with details.

Every handler ends in one of three ways: a response, a :class:`ServiceError`
turned into its status with ``google.rpc`` details (``BadRequest``,
``ResourceInfo``, ``PreconditionFailure``) in the ``grpc-status-details-bin``
trailer, which grpcio-status (and every other gRPC language's status helpers)
decode -- or, for anything unexpected, ``INTERNAL`` with a reference id in the
message and the code location in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from bekal.services.errors import ServiceError, internal

T = TypeVar("T")


def to_status(error: ServiceError) -> grpc.Status:
    """The gRPC status (for ``context.abort_with_status``) carrying ``google.rpc`` details."""
    details: list[Message] = []
    if error.violations:
        details.append(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in error.violations
        ]))
    if error.resource is not None:
        details.append(error_details_pb2.ResourceInfo(
            resource_type=error.resource[0], resource_name=error.resource[1], description=error.message))
    if error.preconditions:
        details.append(error_details_pb2.PreconditionFailure(violations=[
            error_details_pb2.PreconditionFailure.Violation(type=t, subject=s, description=d)
            for t, s, d in error.preconditions
        ]))
    packed = []
    for detail in details:
        any_msg = any_pb2.Any()
        any_msg.Pack(detail)
        packed.append(any_msg)
    status: grpc.Status = rpc_status.to_status(status_pb2.Status(code=error.number, message=error.message,
                                                                 details=packed))
    return status


def abort(context: grpc.ServicerContext, error: ServiceError) -> NoReturn:
    """End the call with ``error``'s status (``abort_with_status`` raises)."""
    context.abort_with_status(to_status(error))
    raise AssertionError("abort_with_status returned")  # pragma: no cover


def run_guarded(context: grpc.ServicerContext, what: str, fn: Callable[[], T]) -> T:
    """Call ``fn``; turn its failures into statuses (abort raises, ending the RPC)."""
    try:
        return fn()
    except ServiceError as err:
        error = err
    except Exception as exc:  # never UNKNOWN with a traceback
        error = internal(what, exc)
    abort(context, error)


def check_deadline(context: grpc.ServicerContext) -> None:
    """Deadlines are honoured: work whose caller has already given up is not started."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        raise ServiceError("DEADLINE_EXCEEDED", "the call's deadline passed before it was decided")
    if not context.is_active():
        raise ServiceError("CANCELLED", "the caller cancelled the call")
