"""How the CLI shows decisions: the text a case worker reads, and JSON for scripts.

Decisions come from the engine (``bekal rules explain``) or from a server through
:mod:`bekal.client` (``bekal check``); both are read as :class:`bekal.views.DecisionView`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date
from typing import Any

import click

from bekal.i18n import N_, _
from bekal.views import DecisionView

NOT_IN_FORCE = "not in force"  # a trace line's status: its ruleset is not in force on the date


def _value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # a decimal fact that is whole (a pass mark of 65) reads as the rule file wrote it
    return "(absent)" if v is None else json.dumps(v, ensure_ascii=False)


STATUS = {"fired": N_("fired"), "not fired": N_("not fired"), "missing facts": N_("missing facts"),
          NOT_IN_FORCE: N_("not in force")}  # RuleStatus values, as shown


def print_decision(d: DecisionView, trace: bool) -> None:
    click.echo(_("client {client} × course {course} as of {date}", client=d.client_id or _("(no id)"),
                 course=d.course_code, date=d.as_of.isoformat()))
    click.echo(_("outcome: {outcome}   priority: {priority}   ruleset version: {version}", outcome=d.outcome.value,
                 priority=d.priority, version=d.ruleset_version))
    click.echo(_("reasons:") if d.reasons else _("reasons: none: no rule excluded the client or is waiting for a fact"))
    for r in d.reasons:
        click.echo(f"  {r.outcome.value:<10} {r.rule_id}: {r.indonesian}")
        click.echo(f"  {'':<10} {'':<{len(r.rule_id)}}  {r.english}")
        if r.missing:
            click.echo(f"  {'':<10} " + _("missing: {facts}", facts=", ".join(r.missing)))
        click.echo(f"  {'':<10} " + _("source: {source}", source=r.source))
    if not trace:
        return
    click.echo(_("trace (every rule):"))
    width = max(len(t.rule_id) for t in d.trace) if d.trace else 0
    for t in d.trace:
        status = _(STATUS.get(t.status.value, t.status.value))
        click.echo(f"  [{status:<13}] {t.rule_id:<{width}}  {t.effect:<12} {t.location}")
        if t.status.value != NOT_IN_FORCE:
            for f in t.facts:
                click.echo(f"  {'':<15} {f.name} = {_value(f.value)}")


def to_json(value: Any) -> str:
    """A decision (or any dataclass of them) as indented JSON: dates ISO, enums by value."""
    if not is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"expected a dataclass instance, got {type(value).__name__}")
    return json.dumps(asdict(value), default=_json_default, ensure_ascii=False, indent=2)


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(type(value).__name__)
