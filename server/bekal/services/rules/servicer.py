"""``bekal.v1.RulesService``: messages in, :class:`.logic.RulesAdmin` call, messages out."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from bekal.services.guard import run_guarded
from bekal.services.registration import register
from bekal.services.rules import codec
from bekal.services.rules.logic import RulesAdmin
from bekal.services.snapshots import ServedRules
from bekal.v1 import rules_pb2, rules_pb2_grpc

SERVICE = rules_pb2.DESCRIPTOR.services_by_name["RulesService"]


class RulesServicer(rules_pb2_grpc.RulesServiceServicer):
    """bekal.v1.RulesService."""

    def __init__(self, admin: RulesAdmin):
        self.admin = admin

    def ListRulesets(self, request: rules_pb2.ListRulesetsRequest,
                     context: grpc.ServicerContext) -> rules_pb2.ListRulesetsResponse:
        return run_guarded(context, "ListRulesets", lambda: codec.list_response(self.admin.list_rulesets()))

    def GetRuleset(self, request: rules_pb2.GetRulesetRequest,
                   context: grpc.ServicerContext) -> rules_pb2.GetRulesetResponse:
        return run_guarded(context, "GetRuleset", lambda: codec.get_response(self.admin.get_ruleset(request.name)))

    def ValidateRules(self, request: rules_pb2.ValidateRulesRequest,
                      context: grpc.ServicerContext) -> rules_pb2.ValidateRulesResponse:
        return run_guarded(context, "ValidateRules", lambda: codec.validate_response(
            self.admin.validate(codec.files_from(request), request.overlay_loaded)))

    def ReloadRules(self, request: rules_pb2.ReloadRulesRequest,
                    context: grpc.ServicerContext) -> rules_pb2.ReloadRulesResponse:
        return run_guarded(context, "ReloadRules", lambda: codec.reload_response(self.admin.reload()))


def add_to(server: grpc.Server, rules: ServedRules, notify_siblings: Callable[[], None] | None = None) -> str:
    """Serve the rules service on ``server``; the service's full name."""
    return register(server, SERVICE, RulesServicer(RulesAdmin(rules, notify_siblings)))
