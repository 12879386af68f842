"""``bekal replay REQUEST_ID``: decide a logged check again with the rules version that made it.

Over gRPC (``ReplayService``), with an auditor's certificate or the certificate of the BNN office
that asked: the server keeps every rules version by content hash and the check's facts sealed, so
the replay shows the same decision -- or, with ``--current-rules``, what today's rules decide and
how it differs. Exit status 0 when every course came out as logged, 1 otherwise.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from bekal.cli.transport import connect_kwargs, connection_options
from bekal.i18n import _


@click.command()
@click.argument("request_id")
@click.option("--job", is_flag=True, help="REQUEST_ID is a matching job's id: place the job again")
@click.option("--current-rules", is_flag=True, help="also decide with the rules serving now, and show the differences")
@click.option("--json", "as_json", is_flag=True, help="print the replay as one JSON object")
@click.option("--server", default=None, metavar="HOST:PORT", envvar="BEKAL_SERVER",
              help="the server  [default: 127.0.0.1:50051; env BEKAL_SERVER]")
@connection_options
@click.option("--timeout", type=float, default=30.0, show_default=True, help="deadline in seconds")
def replay(request_id: str, job: bool, current_rules: bool, as_json: bool, server: str | None, tls: bool,
           ca: str | None, cert: str | None, key: str | None, timeout: float) -> None:
    """Replay the logged eligibility check REQUEST_ID (with --job: the matching job REQUEST_ID) with the rules
    version that decided it."""
    from bekal.cli.output import print_decision, to_json
    from bekal.client import DEFAULT_TARGET, BekalError, connect

    if job and current_rules:
        raise click.UsageError(_("--current-rules compares single checks, not matching jobs"))
    try:
        with connect(server or DEFAULT_TARGET, timeout=timeout, **connect_kwargs(tls, ca, cert, key)) as bekal:
            if job:
                _print_job(bekal.replay_match_job(request_id), as_json)
                return
            result = bekal.replay_decision(request_id, current_rules=current_rules)
    except BekalError as exc:
        raise click.ClickException(_("the server refused: {error}", error=exc)) from None
    if as_json:
        click.echo(to_json(result))
        sys.exit(0 if result.identical else 1)
    click.echo(_("request {request} (client {client}, asked by {caller}), logged {time}", request=result.request_id,
                 client=result.client_id, caller=result.caller, time=result.recorded_time))
    click.echo(_("rules version {version}, as of {date}; parameters: {parameters}", version=result.ruleset_version,
                 date=result.as_of.isoformat(),
                 parameters=", ".join(f"{k}={v}" for k, v in result.parameters.items()) or _("none")))
    for d in result.decisions:
        click.echo("")
        click.echo(_("logged: {course} {outcome} priority {priority} ({rules})", course=d.course_code,
                     outcome=d.logged_outcome, priority=d.logged_priority, rules=", ".join(d.logged_rule_ids) or "-"))
        click.echo(_("replayed: identical to the log") if d.identical else _("replayed: DIFFERS from the log"))
        print_decision(d.replayed, False)
        if current_rules:
            if not d.differences:
                click.echo(_("today's rules ({version}): the same decision", version=result.current_ruleset_version))
            else:
                click.echo(_("today's rules ({version}) differ:", version=result.current_ruleset_version))
                for line in d.differences:
                    click.echo(f"  - {line}")
    click.echo("")
    click.echo(_("identical: every course decided as logged") if result.identical
               else _("NOT identical: see above"))
    sys.exit(0 if result.identical else 1)


def _print_job(result: Any, as_json: bool) -> None:
    from bekal.cli.output import to_json

    if as_json:
        click.echo(to_json(result))
    else:
        click.echo(_("match job {job} (uploaded by {creator}), rules version {version}, as of {date}: {clients} "
                     "client(s), {placed} placed", job=result.job_id, creator=result.creator,
                     version=result.ruleset_version, date=result.as_of.isoformat(), clients=result.clients,
                     placed=result.placed))
        for cid, then, now in result.differences:
            click.echo(_("  {client}: {then} then, {now} now", client=cid, then=then or "-", now=now or "-"))
        click.echo(_("identical: every client placed as logged") if result.identical
                   else _("NOT identical: see above"))
    sys.exit(0 if result.identical else 1)
