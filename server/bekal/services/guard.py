"""A :class:`ServiceError` as a gRPC status with ``google.rpc`` details.

``BadRequest``, ``ResourceInfo``, ``PreconditionFailure`` and ``RetryInfo`` go in the
``grpc-status-details-bin`` trailer, which grpcio-status (and every other gRPC
language's status helpers) decode. :mod:`bekal.services.registration` ends every
failed call through here; anything unexpected is ``INTERNAL`` with a reference id.
"""

from __future__ import annotations

from datetime import timedelta

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from bekal.services.errors import DOMAIN, ServiceError


def to_status(error: ServiceError) -> grpc.Status:
    """The gRPC status (for ``context.abort_with_status``) carrying ``google.rpc`` details."""
    status: grpc.Status = rpc_status.to_status(status_pb(error))
    return status


def status_pb(error: ServiceError) -> status_pb2.Status:
    """The error as a ``google.rpc.Status``: the trailer of a failed call, and a failed item of a stream.

    ``ErrorInfo`` (domain bekal.v1, the stable reason) comes first, then ``BadRequest``,
    ``ResourceInfo``, ``PreconditionFailure`` and ``RetryInfo`` as the error has them."""
    details: list[Message] = [error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN)]
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
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=max(0.0, error.retry_after)))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    packed = []
    for detail in details:
        any_msg = any_pb2.Any()
        any_msg.Pack(detail)
        packed.append(any_msg)
    return status_pb2.Status(code=error.number, message=error.message, details=packed)
