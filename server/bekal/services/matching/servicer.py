"""``bekal.v1.MatchingService``: messages in, :class:`.logic.Matching` call, messages out.

``StreamPlacements`` sends the stored result chunks as they are (already encoded bytes).
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from bekal.services.guard import run_guarded
from bekal.services.matching import codec
from bekal.services.matching.logic import JobSettings, Matching
from bekal.services.registration import register
from bekal.services.snapshots import ServedRules
from bekal.store import JobStore
from bekal.v1 import matching_pb2, matching_pb2_grpc

SERVICE = matching_pb2.DESCRIPTOR.services_by_name["MatchingService"]


class MatchingServicer(matching_pb2_grpc.MatchingServiceServicer):
    """bekal.v1.MatchingService."""

    def __init__(self, matching: Matching):
        self.matching = matching

    def Match(self, request: matching_pb2.MatchRequest, context: grpc.ServicerContext) -> matching_pb2.MatchResponse:
        return run_guarded(context, "Match",
                           lambda: codec.match_response(self.matching.match(codec.match_request(request))))

    def UploadCohort(self, request_iterator: Iterator[matching_pb2.UploadCohortRequest],
                     context: grpc.ServicerContext) -> matching_pb2.UploadCohortResponse:
        return run_guarded(context, "UploadCohort", lambda: matching_pb2.UploadCohortResponse(
            job=codec.job_pb(self.matching.upload(codec.upload(request_iterator)))))

    def GetMatchJob(self, request: matching_pb2.GetMatchJobRequest,
                    context: grpc.ServicerContext) -> matching_pb2.GetMatchJobResponse:
        return run_guarded(context, "GetMatchJob", lambda: matching_pb2.GetMatchJobResponse(
            job=codec.job_pb(self.matching.get(request.job_id))))

    def StreamPlacements(self, request: matching_pb2.StreamPlacementsRequest,
                         context: grpc.ServicerContext) -> Iterator[bytes]:
        chunks = run_guarded(context, "StreamPlacements", lambda: codec.stream_messages(
            self.matching.results(request.job_id, request.offset), request.offset))
        while True:
            payload = run_guarded(context, "StreamPlacements", lambda: next(chunks, None))
            if payload is None:
                return
            yield payload


def add_to(server: grpc.Server, rules: ServedRules, jobs: JobStore, *, start_jobs: bool = True,
           settings: JobSettings = JobSettings()) -> Matching:
    """Serve matching on ``server`` with jobs kept in ``jobs``; the running :class:`Matching`.

    Starts the job runner (``start_jobs``), which first takes over jobs interrupted by a crash.
    """
    matching = Matching(rules, jobs, codec.ProtobufJobFormat(), settings)
    if start_jobs:
        matching.start()
    register(server, SERVICE, MatchingServicer(matching))
    return matching
