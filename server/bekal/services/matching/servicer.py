"""``bekal.v1.MatchingService``: messages in, :class:`.logic.Matching` call, messages out.

``StreamPlacements`` sends the stored result chunks as they are (already encoded bytes).
A job is its creator's: only the same agency reads its status and results
(:func:`bekal.access.owns_job`); anyone else gets NOT_FOUND, as for a job that does not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import grpc

from bekal.access import Denied, Role, audience_for
from bekal.services.errors import ServiceError
from bekal.services.matching import codec
from bekal.services.matching.logic import CohortRequest, JobSettings, Matching
from bekal.services.registration import Call, Gate, register
from bekal.services.snapshots import ServedRules
from bekal.store import DecisionLog, JobStore
from bekal.v1 import matching_pb2

SERVICE = matching_pb2.DESCRIPTOR.services_by_name["MatchingService"]


def _as_caller(request: CohortRequest, call: Call) -> CohortRequest:
    """The cohort in the view the caller's certificate allows."""
    call.about(*(str(c.get("id", "")) for c in request.clients[:100]))  # audited, a refused call too
    try:
        audience = audience_for(call.principal, request.settings.audience)
    except Denied as exc:
        raise ServiceError("PERMISSION_DENIED", exc.message, [("settings.audience", exc.message)],
                           reason="AUDIENCE_NOT_ALLOWED") from None
    provider = call.principal.provider if call.principal.role is Role.TRAINING_PROVIDER else None
    return replace(request, settings=replace(request.settings, audience=audience), provider=provider)


class MatchingServicer:
    """bekal.v1.MatchingService."""

    def __init__(self, matching: Matching):
        self.matching = matching

    async def Match(self, request: matching_pb2.MatchRequest, call: Call) -> matching_pb2.MatchResponse:
        cohort = _as_caller(codec.match_request(request), call)
        return codec.match_response(await call.run(self.matching.match, cohort))

    async def UploadCohort(self, requests: AsyncIterator[matching_pb2.UploadCohortRequest | ServiceError],
                           call: Call) -> matching_pb2.UploadCohortResponse:
        reader = codec.UploadReader()
        async for part in requests:
            if isinstance(part, ServiceError):
                raise part
            reader.add(part)  # limits checked as parts arrive: nothing beyond them is buffered
        upload = reader.finish()
        upload = replace(upload, cohort=_as_caller(upload.cohort, call))
        job = await call.run(self.matching.upload, upload, call.principal.name)
        call.about(job.job_id)
        return matching_pb2.UploadCohortResponse(job=codec.job_pb(job))

    async def GetMatchJob(self, request: matching_pb2.GetMatchJobRequest,
                          call: Call) -> matching_pb2.GetMatchJobResponse:
        call.about(request.job_id)
        job = await call.run(self.matching.get, request.job_id, call.principal.name)
        return matching_pb2.GetMatchJobResponse(job=codec.job_pb(job))

    async def StreamPlacements(self, request: matching_pb2.StreamPlacementsRequest,
                               call: Call) -> AsyncIterator[bytes]:
        call.about(request.job_id)
        chunks = await call.run(self.matching.results, request.job_id, request.offset, call.principal.name)
        for payload in codec.stream_messages(chunks, request.offset):
            yield payload


def add_to(server: grpc.aio.Server, gate: Gate, rules: ServedRules, jobs: JobStore, *, start_jobs: bool = True,
           settings: JobSettings = JobSettings(), replay_log: DecisionLog | None = None) -> Matching:
    """Serve matching on ``server`` with jobs kept in ``jobs``; the running :class:`Matching`.

    Starts the job runner (``start_jobs``), which first takes over jobs interrupted by a crash.
    """
    matching = Matching(rules, jobs, codec.ProtobufJobFormat(), settings, replay_log)
    if start_jobs:
        matching.start()
    register(server, SERVICE, MatchingServicer(matching), gate)
    return matching
