"""``bekal.v1.EligibilityService``: messages in, :class:`.logic.Eligibility` call, bytes out.

Nothing decides anything here. Responses leave as bytes from :mod:`.wire`, the
hand-written encoder of the bulk path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from bekal.services.eligibility import codec
from bekal.services.eligibility.logic import Eligibility
from bekal.services.eligibility.wire import Encoder
from bekal.services.errors import ServiceError
from bekal.services.guard import abort, check_deadline, run_guarded
from bekal.services.registration import register
from bekal.v1 import eligibility_pb2, eligibility_pb2_grpc

SERVICE = eligibility_pb2.DESCRIPTOR.services_by_name["EligibilityService"]


class EligibilityServicer(eligibility_pb2_grpc.EligibilityServiceServicer):
    """bekal.v1.EligibilityService."""

    def __init__(self, eligibility: Eligibility, draining: threading.Event):
        self.eligibility = eligibility
        self.draining = draining
        self.encoder = Encoder()

    def CheckEligibility(self, request: eligibility_pb2.CheckEligibilityRequest,
                         context: grpc.ServicerContext) -> bytes:
        def call() -> bytes:
            check = codec.parse_check(request)
            check_deadline(context)
            return self.encoder.response(self.eligibility.check(check))

        return run_guarded(context, "CheckEligibility", call)

    def CheckEligibilityStream(self, request_iterator: Iterator[eligibility_pb2.CheckEligibilityStreamRequest],
                               context: grpc.ServicerContext) -> Iterator[bytes]:
        # Every message received is answered; once the server drains, the stream is closed
        # with UNAVAILABLE after the next answer, so the caller resends the rest elsewhere.
        for request in request_iterator:

            def call(request: eligibility_pb2.CheckEligibilityStreamRequest = request) -> bytes:
                checks = codec.parse_stream_request(request)
                check_deadline(context)
                results = self.eligibility.check_many(checks)
                return self.encoder.stream_response(request.checks, results)

            yield run_guarded(context, "CheckEligibilityStream", call)
            if self.draining.is_set():
                abort(context, ServiceError("UNAVAILABLE", "server is shutting down; resend the unanswered checks"))


def add_to(server: grpc.Server, eligibility: Eligibility, draining: threading.Event) -> str:
    """Serve eligibility on ``server``; the service's full name."""
    return register(server, SERVICE, EligibilityServicer(eligibility, draining))
