"""Rules calls: what the server has loaded, a ruleset's source, dry runs of rule files, reloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bekal.client import convert
from bekal.client.calls import Calls
from bekal.client.results import Reload, Rulesets, RulesetSource, Validation
from bekal.v1 import rules_pb2, rules_pb2_grpc


class RulesCalls(Calls):
    _rules: rules_pb2_grpc.RulesServiceStub

    def list_rulesets(self, *, timeout: float | None = None) -> Rulesets:
        pb = self.unary(self._rules.ListRulesets, rules_pb2.ListRulesetsRequest(), timeout)
        return Rulesets(pb.ruleset_version, tuple(convert.ruleset_from(r) for r in pb.rulesets),
                        tuple(pb.course_codes))

    def get_ruleset(self, name: str, *, timeout: float | None = None) -> RulesetSource:
        pb = self.unary(self._rules.GetRuleset, rules_pb2.GetRulesetRequest(name=name), timeout)
        return RulesetSource(pb.ruleset_version, convert.ruleset_from(pb.ruleset), pb.source)

    def validate_rules(self, files: Mapping[str, str] | Sequence[str | Path], *, overlay: bool = False,
                       timeout: float | None = None) -> Validation:
        """Dry-run rule files: a mapping ``path -> text``, or paths of files to read."""
        if not isinstance(files, Mapping):
            files = {Path(p).name: Path(p).read_text(encoding="utf-8") for p in files}
        request = rules_pb2.ValidateRulesRequest(
            files=[rules_pb2.RuleFile(path=p, content=t) for p, t in files.items()], overlay_loaded=overlay,
        )
        pb = self.unary(self._rules.ValidateRules, request, timeout)
        return Validation(pb.valid, pb.ruleset_version or None,
                          tuple(convert.diagnostic_from(d) for d in pb.diagnostics), tuple(pb.rulesets))

    def reload_rules(self, *, timeout: float | None = None) -> Reload:
        pb = self.unary(self._rules.ReloadRules, rules_pb2.ReloadRulesRequest(), timeout)
        return Reload(pb.ruleset_version, pb.previous_version or None, pb.changed)
