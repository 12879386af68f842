"""``bekal.v1`` rules messages <-> :mod:`.logic` types."""

from __future__ import annotations

from datetime import date

from google.type import date_pb2

from bekal.lang.diagnostics import Diagnostic
from bekal.services.limits import date_pb
from bekal.services.rules.logic import Loaded, LoadedRuleset, RulesetSource
from bekal.services.snapshots import ReloadOutcome, Validation
from bekal.v1 import rules_pb2


def _date(value: date | None) -> date_pb2.Date | None:
    return date_pb(value) if value else None


def ruleset_info_pb(loaded: LoadedRuleset) -> rules_pb2.RulesetInfo:
    rs = loaded.ruleset
    return rules_pb2.RulesetInfo(
        name=rs.name,
        title=rs.title or "",
        file=loaded.file,
        effective_from_date=_date(rs.effective_from),
        effective_until_date=_date(rs.effective_until),
        rule_count=len(rs.rules),
        rule_ids=[r.id for r in rs.rules],
    )


def diagnostic_pb(d: Diagnostic) -> rules_pb2.Diagnostic:
    return rules_pb2.Diagnostic(file=d.file, line=d.line, column=d.col, message=d.message, hint=d.hint or "",
                                text=f"{d.location}: {d.message}")


def list_response(loaded: Loaded) -> rules_pb2.ListRulesetsResponse:
    return rules_pb2.ListRulesetsResponse(ruleset_version=loaded.version,
                                          rulesets=[ruleset_info_pb(rs) for rs in loaded.rulesets],
                                          course_codes=loaded.course_codes)


def get_response(found: RulesetSource) -> rules_pb2.GetRulesetResponse:
    return rules_pb2.GetRulesetResponse(ruleset_version=found.version, ruleset=ruleset_info_pb(found.ruleset),
                                        source=found.source)


def files_from(request: rules_pb2.ValidateRulesRequest) -> list[tuple[str, str]]:
    return [(f.path, f.content) for f in request.files]


def validate_response(result: Validation) -> rules_pb2.ValidateRulesResponse:
    return rules_pb2.ValidateRulesResponse(valid=result.valid, ruleset_version=result.version or "",
                                           diagnostics=[diagnostic_pb(d) for d in result.diagnostics],
                                           rulesets=list(result.rulesets))


def reload_response(outcome: ReloadOutcome) -> rules_pb2.ReloadRulesResponse:
    return rules_pb2.ReloadRulesResponse(ruleset_version=outcome.version, previous_version=outcome.previous or "",
                                         changed=outcome.changed)
