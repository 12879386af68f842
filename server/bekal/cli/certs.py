"""``bekal certs dev DIR``: certificates for trying mutual TLS on one machine."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def certs() -> None:
    """Certificates for mutual TLS."""


@certs.command()
@click.argument("directory", type=click.Path(file_okay=False))
def dev(directory: str) -> None:
    """Write a development CA, a server certificate for localhost, a client certificate per role
    (bnnk-banjarbaru, blk-kalsel, rule-author, auditor, operator) and the identities file.

    For trying things on one machine only: real agencies bring certificates from their own CA.
    """
    from bekal.certs import DEV_AGENCIES, make_dev_certs

    out = make_dev_certs(Path(directory))
    d = out.directory
    click.echo(f"wrote a CA, a server certificate and {len(DEV_AGENCIES)} client certificates to {d}/\n")
    click.echo("serve with mutual TLS:")
    click.echo(f"  bekal serve --config {out.serve_config}")
    click.echo("call as BNNK Banjarbaru (the BNN view):")
    click.echo(f"  bekal check --ca {out.ca} --cert {out.cert('bnnk-banjarbaru')} --key {out.key('bnnk-banjarbaru')} "
               "--client examples/client.yaml --course LAS-SMAW-01 --as-of 2019-05-16")
    for agency in DEV_AGENCIES:
        click.echo(f"  {agency.name:<16} {agency.role:<18} --cert {out.cert(agency.name)} --key {out.key(agency.name)}")
