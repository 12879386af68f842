"""How the ``bekal`` commands that call a server connect: TLS and the caller's own certificate.

The server decides what a caller may see from its client certificate (mutual TLS), not from
anything the command says; without ``--cert`` a call is anonymous: a training centre's view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def connection_options(fn: F) -> F:
    """``--tls``, ``--ca``, ``--cert`` and ``--key`` (also ``BEKAL_CA``, ``BEKAL_CERT``, ``BEKAL_KEY``)."""
    for option in reversed([
        click.option("--tls", is_flag=True, help="connect with TLS (implied by --ca, --cert)"),
        click.option("--ca", type=click.Path(dir_okay=False), envvar="BEKAL_CA",
                     help="PEM CA certificate to trust  [env BEKAL_CA]"),
        click.option("--cert", type=click.Path(dir_okay=False), envvar="BEKAL_CERT",
                     help="this agency's client certificate (PEM), for mutual TLS  [env BEKAL_CERT]"),
        click.option("--key", type=click.Path(dir_okay=False), envvar="BEKAL_KEY",
                     help="the private key of --cert (PEM)  [env BEKAL_KEY]"),
    ]):
        fn = option(fn)
    return fn


def connect_kwargs(tls: bool, ca: str | None, cert: str | None, key: str | None) -> dict[str, Any]:
    """The keyword arguments :func:`bekal.client.connect` takes for these options."""
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    return {"tls": tls or bool(ca or cert), "root_certificates": ca, "certificate_chain": cert, "private_key": key}
