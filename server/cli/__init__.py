"""The ``bekal`` command: one module per command group, assembled here."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bekal")
def main() -> None:
    """bekal: eligibility rules, matching and monitoring for post-rehab vocational training."""


def _register() -> None:
    # Each command group lives in its own module; importing them here keeps one entry point.
    from bekal.cli import rules as rules_cmd

    main.add_command(rules_cmd.rules)


_register()
