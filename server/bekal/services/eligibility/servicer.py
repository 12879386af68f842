"""``bekal.v1.EligibilityService``: messages in, :class:`.logic.Eligibility` call, bytes out.

Nothing decides anything here. Responses leave as bytes from :mod:`.wire`, the
hand-written encoder of the bulk path. The caller's certificate, not the request,
decides the view (:func:`bekal.access.audience_for`).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc

from bekal.access import Denied, audience_for
from bekal.services.eligibility import codec
from bekal.services.eligibility.logic import Check, Eligibility
from bekal.services.eligibility.wire import Encoder
from bekal.services.errors import ServiceError, denied
from bekal.services.registration import Call, Gate, register
from bekal.v1 import eligibility_pb2

SERVICE = eligibility_pb2.DESCRIPTOR.services_by_name["EligibilityService"]


def _as_caller(check: Check, call: Call) -> Check:
    """The check with the caller's proven view and identity; PERMISSION_DENIED for a view beyond its role."""
    call.about(check.client_id)  # audited, a refused call too
    try:
        audience = audience_for(call.principal, check.audience)
    except Denied as exc:
        raise denied(exc, "AUDIENCE_NOT_ALLOWED", "audience") from None
    return replace(check, audience=audience, principal=call.principal)


class EligibilityServicer:
    """bekal.v1.EligibilityService."""

    def __init__(self, eligibility: Eligibility, draining: threading.Event):
        self.eligibility = eligibility
        self.draining = draining
        self.encoder = Encoder()

    async def CheckEligibility(self, request: eligibility_pb2.CheckEligibilityRequest, call: Call) -> bytes:
        check = _as_caller(codec.parse_check(request), call)
        call.check_deadline()
        result = await call.run(self.eligibility.check, check)
        return self.encoder.response(result)

    async def CheckEligibilityStream(self, requests: AsyncIterator[eligibility_pb2.CheckEligibilityStreamRequest
                                                                   | ServiceError], call: Call) -> AsyncIterator[bytes]:
        # Every message received is answered, one undecodable one too (an error result); once the
        # server drains, the stream is closed with UNAVAILABLE after the next answer, so the caller
        # resends the rest elsewhere.
        async for request in requests:
            if isinstance(request, ServiceError):
                yield self.encoder.stream_response([eligibility_pb2.CheckEligibilityRequest()], [request])
            else:
                checks = [c if isinstance(c, ServiceError) else _checked(c, call)
                          for c in codec.parse_stream_request(request)]
                call.check_deadline()
                results = await call.run(self.eligibility.check_many, checks)
                yield self.encoder.stream_response(request.checks, results)
            if self.draining.is_set():
                raise ServiceError("UNAVAILABLE", "server is shutting down; resend the unanswered checks",
                                   retry_after=0.1, reason="SHUTTING_DOWN")


def _checked(check: Check, call: Call) -> Check | ServiceError:
    try:
        return _as_caller(check, call)
    except ServiceError as err:
        return err


def add_to(server: grpc.aio.Server, gate: Gate, eligibility: Eligibility, draining: threading.Event) -> str:
    """Serve eligibility on ``server``; the service's full name."""
    return register(server, SERVICE, EligibilityServicer(eligibility, draining), gate)
