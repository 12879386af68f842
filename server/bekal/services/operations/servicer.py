"""``google.longrunning.Operations``: the matching jobs as AIP-151 operations (read-only).

GetOperation and WaitOperation read a job as :class:`.logic`-less views of
:meth:`bekal.services.matching.logic.Matching.get` (a job is its creator's: anyone else gets NOT_FOUND).
Listing, cancelling and deleting jobs is not offered (UNIMPLEMENTED, reason OPERATION_NOT_SUPPORTED):
a job runs to its end and is kept, as the job API documents.
"""

from __future__ import annotations

import asyncio
import time

import google.longrunning.operations_proto_pb2 as operations_pb2
import grpc
from google.protobuf import empty_pb2

from bekal.services.errors import ServiceError
from bekal.services.matching.logic import Matching
from bekal.services.operations import codec
from bekal.services.registration import Call, Gate, register

SERVICE = operations_pb2.DESCRIPTOR.services_by_name["Operations"]
MAX_WAIT = 60.0  # seconds WaitOperation waits at most (less when the call's deadline or `timeout` is sooner)
POLL = 0.2


def _unsupported(what: str) -> ServiceError:
    return ServiceError("UNIMPLEMENTED", f"{what} is not offered: a match job runs to its end and is kept; "
                        "read it with GetOperation or WaitOperation", reason="OPERATION_NOT_SUPPORTED")


class OperationsServicer:
    """google.longrunning.Operations over bekal's matching jobs."""

    def __init__(self, matching: Matching):
        self.matching = matching

    async def GetOperation(self, request: operations_pb2.GetOperationRequest,
                           call: Call) -> operations_pb2.Operation:
        job_id = codec.job_id_of(request.name)
        call.about(job_id)
        return codec.operation_pb(await call.run(self.matching.get, job_id, call.principal.name))

    async def WaitOperation(self, request: operations_pb2.WaitOperationRequest,
                            call: Call) -> operations_pb2.Operation:
        """The operation once done, or as it is when ``timeout`` (at most 60 s) or the call's deadline comes."""
        job_id = codec.job_id_of(request.name)
        call.about(job_id)
        wait = MAX_WAIT
        if request.HasField("timeout"):
            wait = min(wait, max(0.0, request.timeout.ToTimedelta().total_seconds()))
        remaining = call.context.time_remaining()
        if remaining is not None:
            wait = min(wait, max(0.0, remaining - 0.5))  # answer before the caller gives up
        until = time.monotonic() + wait
        while True:
            op = codec.operation_pb(await call.run(self.matching.get, job_id, call.principal.name))
            if op.done or time.monotonic() + POLL > until:
                return op
            await asyncio.sleep(POLL)

    async def ListOperations(self, request: operations_pb2.ListOperationsRequest,
                             call: Call) -> operations_pb2.ListOperationsResponse:
        raise _unsupported("listing operations")

    async def DeleteOperation(self, request: operations_pb2.DeleteOperationRequest, call: Call) -> empty_pb2.Empty:
        raise _unsupported("deleting an operation")

    async def CancelOperation(self, request: operations_pb2.CancelOperationRequest, call: Call) -> empty_pb2.Empty:
        raise _unsupported("cancelling an operation")


def add_to(server: grpc.aio.Server, gate: Gate, matching: Matching) -> str:
    """Serve the operations of ``matching``'s jobs on ``server``; the service's full name."""
    return register(server, SERVICE, OperationsServicer(matching), gate)
