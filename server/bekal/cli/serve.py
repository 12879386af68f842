"""``bekal serve``: run the gRPC service."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--listen", metavar="HOST:PORT",
              help="address to listen on  [default: 127.0.0.1:50051; env BEKAL_LISTEN]")
@click.option("--rules", metavar="DIR",
              help="rules folder, watched and hot-reloaded  [default: rules; env BEKAL_RULES]")
@click.option("--db", metavar="PATH", help="SQLite database file  [default: bekal.db; env BEKAL_DB]")
@click.option("--secret-file", metavar="PATH",
              help="key of the stored request digests, created if missing (mode 0600)  "
                   "[default: bekal.key next to --db; env BEKAL_SECRET_FILE]")
@click.option("--facts-key-file", metavar="PATH",
              help="key sealing the decision log's facts (AES-GCM), created if missing (mode 0600)  "
                   "[default: bekal-facts.key next to --db; env BEKAL_FACTS_KEY_FILE]")
@click.option("--retention-days", type=int, metavar="DAYS",
              help="the decision log's facts are deleted this many days after the decision  [default: 365]")
@click.option("--workers", type=int, metavar="N",
              help="server processes sharing the port  [default: 1; env BEKAL_WORKERS]")
@click.option("--threads", type=int, metavar="N", help="handler threads per process  [default: 16]")
@click.option("--placement-processes", type=int, metavar="N",
              help="processes deciding a big match job's eligibility (the worker and N-1 helpers); "
                   "0 = every core  [default: 0]")
@click.option("--grace", type=float, metavar="SECONDS", help="time in-flight calls get on SIGTERM  [default: 10]")
@click.option("--max-message-bytes", type=int, metavar="BYTES", help="largest request accepted  [default: 4 MiB]")
@click.option("--reload-interval", type=float, metavar="SECONDS",
              help="how often the rules folder is checked; 0 turns hot reload off  [default: 1]")
@click.option("--tls-cert", metavar="PEM", help="certificate chain: serve TLS (with --tls-key)")
@click.option("--tls-key", metavar="PEM", help="private key for --tls-cert")
@click.option("--tls-client-ca", metavar="PEM",
              help="CA bundle for client certificates: mutual TLS, every caller must present one it signed")
@click.option("--identities", metavar="TOML", help="which client certificate is which agency, in which role")
@click.option("--allow-insecure", is_flag=True, default=None,
              help="allow plaintext on an address other than loopback (a private test network only)")
@click.option("--idle-timeout", type=float, metavar="SECONDS",
              help="close a client stream that sends nothing this long  [default: 60]")
@click.option("--max-streams", type=int, metavar="N", help="streaming calls open at once per process  [default: 64]")
@click.option("--max-streams-per-peer", type=int, metavar="N",
              help="streaming calls open at once from one address  [default: 8]")
@click.option("--pseudonym-pattern", metavar="REGEX",
              help="every client id must match it  [default: ^[A-Za-z0-9-]{1,64}$; env BEKAL_PSEUDONYM_PATTERN]")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.option("--config", "config_file", metavar="FILE", help="TOML config file  [env BEKAL_CONFIG]")
def serve(config_file: str | None, **flags: object) -> None:
    """Serve the bekal.v1 gRPC API (eligibility, rules, health, reflection).

    Every setting can also come from the environment (BEKAL_<SETTING>, e.g.
    BEKAL_WORKERS=2) or a TOML config file; a flag wins over the environment,
    which wins over the file. SIGTERM drains in-flight calls and exits; SIGHUP
    reloads the rules (they are also reloaded whenever a rule file changes).
    """
    from bekal.i18n import set_language
    from bekal.serve import serve as run
    from bekal.serve.config import resolve
    from bekal.serve.errors import ConfigError

    set_language("en")  # the server speaks English: its log is for operators, its answers for other agencies
    try:
        config = resolve(flags, config_file=config_file)
    except ConfigError as exc:
        click.echo(f"bekal serve: {exc}", err=True)
        sys.exit(2)
    sys.exit(run(config))
