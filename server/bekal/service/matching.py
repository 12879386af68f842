"""The gRPC ``bekal.v1.MatchingService``: messages in, :class:`MatchingCore` call, messages out.

Errors follow the rest of the service: a :class:`ServiceError` becomes its
status with ``google.rpc`` details (``BadRequest`` field violations for bad
input, ``ResourceInfo`` for an unknown job); anything unexpected becomes
``INTERNAL`` with a reference id. ``StreamPlacements`` sends the stored result
chunks as they are (already encoded bytes).
"""

from __future__ import annotations


import grpc

from bekal.service.servicers import run_guarded
from bekal.service.matching_core import MatchingCore
from bekal.v1 import matching_pb2, matching_pb2_grpc

SERVICE = matching_pb2.DESCRIPTOR.services_by_name["MatchingService"].full_name


class MatchingServicer(matching_pb2_grpc.MatchingServiceServicer):
    """bekal.v1.MatchingService."""

    def __init__(self, core: MatchingCore):
        self.core = core

    def Match(self, request, context):
        return run_guarded(context, "Match", lambda: self.core.match(request))

    def UploadCohort(self, request_iterator, context):
        return run_guarded(context, "UploadCohort",
                    lambda: matching_pb2.UploadCohortResponse(job=self.core.upload(request_iterator)))

    def GetMatchJob(self, request, context):
        return run_guarded(context, "GetMatchJob",
                    lambda: matching_pb2.GetMatchJobResponse(job=self.core.get(request.job_id)))

    def StreamPlacements(self, request, context):
        chunks = run_guarded(context, "StreamPlacements", lambda: self.core.placements(request.job_id, request.offset))
        while True:
            payload = run_guarded(context, "StreamPlacements", lambda: next(chunks, None))
            if payload is None:
                return
            yield payload


def _serialize(message) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


def add_matching_service(server: grpc.Server, rules, db: str, *, start_jobs: bool = True) -> str:
    """Register MatchingService on ``server`` with a job store on ``db``; return the service name.

    ``rules`` is the worker's :class:`bekal.service.core.Rules`. Starts the job runner, which
    first takes over jobs interrupted by a crash.
    """
    from bekal.store.jobs import open_job_store

    core = MatchingCore(rules, open_job_store(db))
    if start_jobs:
        core.start()
    servicer = MatchingServicer(core)
    handlers = {
        "Match": grpc.unary_unary_rpc_method_handler(
            servicer.Match, request_deserializer=matching_pb2.MatchRequest.FromString,
            response_serializer=_serialize),
        "UploadCohort": grpc.stream_unary_rpc_method_handler(
            servicer.UploadCohort, request_deserializer=matching_pb2.UploadCohortRequest.FromString,
            response_serializer=_serialize),
        "GetMatchJob": grpc.unary_unary_rpc_method_handler(
            servicer.GetMatchJob, request_deserializer=matching_pb2.GetMatchJobRequest.FromString,
            response_serializer=_serialize),
        "StreamPlacements": grpc.unary_stream_rpc_method_handler(
            servicer.StreamPlacements, request_deserializer=matching_pb2.StreamPlacementsRequest.FromString,
            response_serializer=_serialize),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)
    return SERVICE
