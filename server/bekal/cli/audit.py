"""``bekal audit decisions|events``: the decision log and the audit trail of a server, as JSON lines.

Only an auditor's certificate reads them (a BNN office's reads the decision log entries of its
own checks): the server decides, from the certificate.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import click

from bekal.cli.transport import connect_kwargs, connection_options

F = TypeVar("F", bound=Callable[..., Any])


def _server_options(fn: F) -> F:
    fn = click.option("--timeout", type=float, default=30.0, show_default=True,
                      help="deadline of each page in seconds")(fn)
    fn = connection_options(fn)
    return click.option("--server", default=None, metavar="HOST:PORT", envvar="BEKAL_SERVER",
                        help="the server  [default: 127.0.0.1:50051; env BEKAL_SERVER]")(fn)


@click.group()
def audit() -> None:
    """Read a server's decision log and audit trail (an auditor's certificate)."""


def _print_all(entries: Iterable[Any]) -> None:
    from bekal.client import BekalError

    try:
        for entry in entries:
            click.echo(json.dumps(dataclasses.asdict(entry), ensure_ascii=False, default=_iso))
    except BekalError as exc:
        raise click.ClickException(f"the server refused: {exc}") from None


@audit.command()
@click.option("--client-id", default="", help="only the checks about this pseudonymous client id")
@click.option("--caller", default="", help="only the checks this agency made")
@_server_options
def decisions(client_id: str, caller: str, server: str | None, tls: bool, ca: str | None, cert: str | None,
              key: str | None, timeout: float) -> None:
    """The decision log, oldest first: one JSON object per answered check (ids and outcomes, no facts)."""
    from bekal.client import DEFAULT_TARGET, connect

    with connect(server or DEFAULT_TARGET, timeout=timeout, **connect_kwargs(tls, ca, cert, key)) as bekal:
        _print_all(bekal.decision_log(client_id=client_id, caller=caller))


@audit.command()
@click.option("--principal", default="", help="only the calls of this agency (or anonymous)")
@click.option("--subject", default="", help="only the calls about this client id, job id or rule file")
@_server_options
def events(principal: str, subject: str, server: str | None, tls: bool, ca: str | None, cert: str | None,
           key: str | None, timeout: float) -> None:
    """The audit trail, oldest first: one JSON object per call (who, when, what, about whom, how it ended)."""
    from bekal.client import DEFAULT_TARGET, connect

    with connect(server or DEFAULT_TARGET, timeout=timeout, **connect_kwargs(tls, ca, cert, key)) as bekal:
        _print_all(bekal.audit_trail(principal=principal, subject=subject))


def _iso(value: object) -> str:
    """Dates and times of the entries as ISO 8601 text (RFC 3339 for times) in the JSON lines."""
    if isinstance(value, (date, datetime)):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
