"""The ``bekal`` command: one module per command group, assembled here."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bekal")
def main() -> None:
    """bekal: eligibility rules, matching and monitoring for post-rehab vocational training."""


def _register() -> None:
    # Each command group lives in its own module; importing them here keeps one entry point.
    from bekal.cli import audit as audit_cmd
    from bekal.cli import certs as certs_cmd
    from bekal.cli import check as check_cmd
    from bekal.cli import match as match_cmd
    from bekal.cli import rules as rules_cmd
    from bekal.cli import serve as serve_cmd

    main.add_command(rules_cmd.rules)
    main.add_command(serve_cmd.serve)
    main.add_command(check_cmd.check)
    main.add_command(match_cmd.match)
    main.add_command(certs_cmd.certs)
    main.add_command(audit_cmd.audit)


_register()
