"""``bekal.v1.ReplayService``: messages in, :class:`.logic.Replayer` call, messages out."""

from __future__ import annotations

import grpc

from bekal.services.registration import Call, Gate, register
from bekal.services.replay import codec
from bekal.services.replay.logic import Replayer
from bekal.v1 import replay_pb2

SERVICE = replay_pb2.DESCRIPTOR.services_by_name["ReplayService"]


class ReplayServicer:
    """bekal.v1.ReplayService."""

    def __init__(self, replayer: Replayer):
        self.replayer = replayer

    async def ReplayDecision(self, request: replay_pb2.ReplayDecisionRequest,
                             call: Call) -> replay_pb2.ReplayDecisionResponse:
        request_id = codec.request_id_of(request)
        call.about(request_id)
        replay = await call.run(self.replayer.replay, request_id, call.principal, request.compare_current_rules)
        call.about(replay.entry.client_id)
        return codec.replay_response(replay)

    async def ReplayMatchJob(self, request: replay_pb2.ReplayMatchJobRequest,
                             call: Call) -> replay_pb2.ReplayMatchJobResponse:
        job_id = codec.job_id_of(request)
        call.about(job_id)
        return codec.job_response(await call.run(self.replayer.replay_job, job_id, call.principal))

    async def EraseClientFacts(self, request: replay_pb2.EraseClientFactsRequest,
                               call: Call) -> replay_pb2.EraseClientFactsResponse:
        client_id = codec.client_id_of(request)
        call.about(client_id)  # the erasure itself is in the audit trail: who, when, about whom, how it ended
        return codec.erase_response(await call.run(self.replayer.erase, client_id, call.principal))


def add_to(server: grpc.aio.Server, gate: Gate, replayer: Replayer) -> str:
    """Serve the replay service on ``server``; the service's full name."""
    return register(server, SERVICE, ReplayServicer(replayer), gate)
