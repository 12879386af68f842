"""``bekal.v1.RulesService``: messages in, :class:`.logic.RulesAdmin` call, messages out."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from bekal.services.registration import Call, Gate, register
from bekal.services.rules import codec
from bekal.services.rules.logic import RulesAdmin
from bekal.services.snapshots import ServedRules
from bekal.v1 import rules_pb2

SERVICE = rules_pb2.DESCRIPTOR.services_by_name["RulesService"]


class RulesServicer:
    """bekal.v1.RulesService."""

    def __init__(self, admin: RulesAdmin):
        self.admin = admin

    async def ListRulesets(self, request: rules_pb2.ListRulesetsRequest, call: Call) -> rules_pb2.ListRulesetsResponse:
        return codec.list_response(self.admin.list_rulesets())

    async def GetRuleset(self, request: rules_pb2.GetRulesetRequest, call: Call) -> rules_pb2.GetRulesetResponse:
        return codec.get_response(self.admin.get_ruleset(request.name))

    async def ValidateRules(self, request: rules_pb2.ValidateRulesRequest,
                            call: Call) -> rules_pb2.ValidateRulesResponse:
        files = codec.files_from(request)
        call.about(*sorted(path for path, _ in files))
        return codec.validate_response(await call.run(self.admin.validate, files, request.overlay_loaded))

    async def ReloadRules(self, request: rules_pb2.ReloadRulesRequest, call: Call) -> rules_pb2.ReloadRulesResponse:
        return codec.reload_response(await call.run(self.admin.reload))


def add_to(server: grpc.aio.Server, gate: Gate, rules: ServedRules,
           notify_siblings: Callable[[], None] | None = None) -> str:
    """Serve the rules service on ``server``; the service's full name."""
    return register(server, SERVICE, RulesServicer(RulesAdmin(rules, notify_siblings)), gate)
