"""How the CLI shows decisions: the text a case worker reads, and JSON for scripts."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Any

import click

from bekal.decision import Decision, RuleStatus


def _value(v: Any) -> str:
    return "(absent)" if v is None else json.dumps(v, ensure_ascii=False)


def print_decision(d: Decision, trace: bool) -> None:
    click.echo(f"client {d.client_id or '(no id)'} × course {d.course_code} as of {d.as_of.isoformat()}")
    click.echo(f"outcome: {d.outcome.value}   priority: {d.priority}   ruleset version: {d.ruleset_version}")
    click.echo("reasons:" if d.reasons else "reasons: none: no rule excluded the client or is waiting for a fact")
    for r in d.reasons:
        click.echo(f"  {r.outcome.value:<10} {r.rule_id}: {r.message_id}")
        click.echo(f"  {'':<10} {'':<{len(r.rule_id)}}  {r.message_en}")
        if r.missing:
            click.echo(f"  {'':<10} missing: {', '.join(r.missing)}")
        click.echo(f"  {'':<10} source: {r.source}")
    if not trace:
        return
    click.echo("trace (every rule):")
    width = max(len(t.rule_id) for t in d.trace) if d.trace else 0
    for t in d.trace:
        click.echo(f"  [{t.status.value:<13}] {t.rule_id:<{width}}  {t.effect:<12} {t.location}")
        if t.status is not RuleStatus.NOT_IN_FORCE:
            for f in t.facts:
                click.echo(f"  {'':<15} {f.name} = {_value(f.value)}")


def to_json(value: Any) -> str:
    """A decision (or any dataclass of them) as indented JSON: dates ISO, enums by value."""
    return json.dumps(asdict(value), default=_json_default, ensure_ascii=False, indent=2)


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(type(value).__name__)
