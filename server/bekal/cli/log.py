"""``bekal log purge|erase``: the decision log's facts -- retention, and one client's erasure.

``purge`` deletes the facts older than the retention period from a database file (the server also
does it at start and daily). ``erase CLIENT_ID`` erases one client's facts: on a server over gRPC
(an auditor's certificate, or a BNN office's for its own checks; the call is in the audit trail),
or directly in a database file with ``--db`` (the operator, on the server's machine; written to the
audit trail as ``bekal log erase``). Ids, rules versions and outcomes stay in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bekal.cli.transport import connect_kwargs, connection_options
from bekal.i18n import _

LOCAL_ERASER = "operator (bekal log erase)"
F = TypeVar("F", bound=Callable[..., Any])
if TYPE_CHECKING:
    from bekal.store.decisionlog import SQLiteDecisionLog


@click.group()
def log() -> None:
    """The decision log's facts: retention purge, erasure of one client."""


def _open(db: str, facts_key_file: str | None, secret_file: str | None) -> SQLiteDecisionLog:
    from bekal.store import StoreError
    from bekal.store.decisionlog import SQLiteDecisionLog
    from bekal.store.secrets import secret_for
    from bekal.store.sqlite import sqlite_path

    try:
        path = sqlite_path(db)
        secret = secret_for(path, secret_file) if secret_file else None
        return SQLiteDecisionLog(path, secret=secret, facts_key_file=facts_key_file, checkpoint_every_s=0)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


def _db_options(fn: F) -> F:
    fn = click.option("--secret-file", metavar="PATH", envvar="BEKAL_SECRET_FILE",
                      help="the server's digest key  [default: bekal.key next to --db]")(fn)
    return click.option("--facts-key-file", metavar="PATH", envvar="BEKAL_FACTS_KEY_FILE",
                        help="the server's facts key  [default: bekal-facts.key next to --db]")(fn)


@log.command()
@click.option("--db", metavar="PATH", envvar="BEKAL_DB", default="bekal.db", show_default=True,
              help="the server's SQLite database")
@click.option("--retention-days", type=click.IntRange(min=1), envvar="BEKAL_RETENTION_DAYS", default=365,
              show_default=True, help="facts older than this are deleted")
@_db_options
def purge(db: str, retention_days: int, facts_key_file: str | None, secret_file: str | None) -> None:
    """Delete the decision log's facts older than the retention period."""
    from bekal.store.retention import purge_expired

    store = _open(db, facts_key_file, secret_file)
    try:
        purged = purge_expired(store, retention_days)
    finally:
        store.close()
    click.echo(_("facts of {count} check(s) older than {days} days deleted; their outcomes stay in the log",
                 count=purged, days=retention_days))


@log.command()
@click.argument("client_id")
@click.option("--db", metavar="PATH", default=None,
              help="erase in this database file directly (on the server's machine) instead of asking a server")
@_db_options
@click.option("--server", default=None, metavar="HOST:PORT", envvar="BEKAL_SERVER",
              help="the server  [default: 127.0.0.1:50051; env BEKAL_SERVER]")
@connection_options
@click.option("--timeout", type=float, default=30.0, show_default=True, help="deadline in seconds")
def erase(client_id: str, db: str | None, facts_key_file: str | None, secret_file: str | None, server: str | None,
          tls: bool, ca: str | None, cert: str | None, key: str | None, timeout: float) -> None:
    """Erase the facts the decision log keeps about CLIENT_ID (UU 27/2022); its outcomes stay."""
    if db is not None:
        records = _erase_locally(client_id, db, facts_key_file, secret_file)
    else:
        from bekal.client import DEFAULT_TARGET, BekalError, connect

        try:
            with connect(server or DEFAULT_TARGET, timeout=timeout, **connect_kwargs(tls, ca, cert, key)) as bekal:
                records = bekal.erase_client_facts(client_id)
        except BekalError as exc:
            raise click.ClickException(_("the server refused: {error}", error=exc)) from None
    click.echo(_("erased the facts of {count} logged check(s) of client {client}; their outcomes stay in the log",
                 count=records, client=client_id))


def _erase_locally(client_id: str, db: str, facts_key_file: str | None, secret_file: str | None) -> int:
    from bekal.store import AuditEvent, open_audit_log

    store = _open(db, facts_key_file, secret_file)
    try:
        records: int = store.erase_client(client_id, LOCAL_ERASER)
    finally:
        store.close()
    trail = open_audit_log(db)
    try:
        trail.record(AuditEvent.now("operator", "operator", "bekal log erase", [client_id]))
    finally:
        trail.close()
    return records
