"""``bekal.v1.AuditService``: messages in, :class:`.logic.Audit` call, messages out."""

from __future__ import annotations

import grpc

from bekal.services.audit import codec
from bekal.services.audit.logic import Audit
from bekal.services.registration import Call, Gate, register
from bekal.v1 import audit_pb2

SERVICE = audit_pb2.DESCRIPTOR.services_by_name["AuditService"]


class AuditServicer:
    """bekal.v1.AuditService."""

    def __init__(self, audit: Audit):
        self.audit = audit

    async def ListDecisions(self, request: audit_pb2.ListDecisionsRequest,
                            call: Call) -> audit_pb2.ListDecisionsResponse:
        query = codec.decision_query(request)
        call.about(query.client_id or "")
        return codec.decisions_response(await call.run(self.audit.decisions, query, call.principal))

    async def ListAuditEvents(self, request: audit_pb2.ListAuditEventsRequest,
                              call: Call) -> audit_pb2.ListAuditEventsResponse:
        query = codec.event_query(request)
        call.about(query.subject or "")
        return codec.events_response(await call.run(self.audit.events, query, call.principal))


def add_to(server: grpc.aio.Server, gate: Gate, audit: Audit) -> str:
    """Serve the audit service on ``server``; the service's full name."""
    return register(server, SERVICE, AuditServicer(audit), gate)
