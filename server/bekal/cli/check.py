"""``bekal check``: ask a running server whether a client is eligible, and why."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml

from bekal.cli.output import print_decision, to_json
from bekal.cli.transport import connect_kwargs, connection_options
from bekal.i18n import _


class _Loader(yaml.SafeLoader):
    """YAML without implicit dates: the server checks dates and names a bad one."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def positions(path: str) -> dict[str, str]:
    """``file:line:col`` of each top-level field of a client file (of ``client:`` when it has one)."""
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - safe subclass
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    if isinstance(node, yaml.MappingNode):
        inner = [v for k, v in node.value if k.value == "client" and isinstance(v, yaml.MappingNode)]
        node = inner[0] if inner else node
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): f"{path}:{v.start_mark.line + 1}:{v.start_mark.column + 1}" for k, v in node.value}


def _located(path: str, field: str, message: str, where: dict[str, str]) -> str:
    """A bad field of the client file at its ``file:line:col`` (``client.declared[x]`` is the field ``x``)."""
    name = field.split(".", 1)[1] if field.startswith("client.") else field
    if name.startswith("declared[") and name.endswith("]"):
        name = name[len("declared["):-1]
    return f"{where.get(name, path)}: {field}: {message}"


def read_client(path: str) -> dict[str, Any]:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - safe subclass
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(_("--client {path}: cannot read: {error}", path=path, error=exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise click.UsageError(_("{where}: not valid YAML/JSON: {problem}", where=where,
                                 problem=getattr(exc, "problem", exc))) from None
    if isinstance(data, dict) and isinstance(data.get("client"), dict):
        data = data["client"]
    if not isinstance(data, dict):
        raise click.UsageError(_("--client {path}: expected a mapping of client fields, e.g. birth_date: 1995-03-01",
                                 path=path))
    return data


@click.command()
@click.option("--client", "client_file", required=True, type=click.Path(dir_okay=False),
              help="YAML/JSON file of the client's facts (Client fields)")
@click.option("--course", "course_code", help="course code; default: every course offered on the date")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="decision date  [default: today in WITA]")
@click.option("--audience", type=click.Choice(["bnn", "blk"]), default=None,
              help="blk: a training centre's view; bnn: every reason (needs a BNN office's certificate)  "
                   "[default: the most your certificate allows]")
@click.option("--explain", is_flag=True, help="show every rule and the facts it read (audience bnn)")
@click.option("--server", default=None, metavar="HOST:PORT", envvar="BEKAL_SERVER",
              help="server address  [default: 127.0.0.1:50051; env BEKAL_SERVER]")
@connection_options
@click.option("--timeout", type=float, default=10.0, show_default=True, help="deadline in seconds, retries included")
@click.option("--request-id", help="request id (default: a new UUID); reuse it to retry")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def check(client_file: str, course_code: str | None, as_of: str | None, audience: str, explain: bool,
          server: str | None, tls: bool, ca: str | None, cert: str | None, key: str | None, timeout: float,
          request_id: str | None, as_json: bool) -> None:
    """Check a client against a course (or every offered course) on a running server (through bekal.client).

    Exit status: 0 answered, 1 the server refused (the reason is printed), 2 bad usage.
    """
    from bekal.client import DEFAULT_TARGET, BekalError, connect

    client = read_client(client_file)
    try:
        with connect(server or DEFAULT_TARGET, timeout=timeout, **connect_kwargs(tls, ca, cert, key)) as bekal:
            result = bekal.check(client, course_code, as_of=as_of, audience=audience, explain=explain,
                                 request_id=request_id)
    except ValueError as exc:  # a field the client library cannot even encode
        where = positions(client_file)
        for field, message in getattr(exc, "violations", None) or [("", str(exc))]:
            click.echo(_located(client_file, field, message, where) if field else f"{client_file}: {message}",
                       err=True)
        sys.exit(2)
    except BekalError as exc:
        client_fields = [v for v in exc.field_violations if v.field.startswith("client.")]
        if exc.code == "INVALID_ARGUMENT" and client_fields:  # point at the client file's lines
            where = positions(client_file)
            for v in client_fields:
                click.echo(_located(client_file, v.field, v.description, where), err=True)
            sys.exit(1)
        click.echo(f"bekal check: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(to_json(result))
        return
    if not result.decisions:
        click.echo(_("no course offered on {date}", date=result.as_of))
    for i, decision in enumerate(result.decisions):
        if i:
            click.echo("")
        print_decision(decision, trace=bool(decision.trace))
