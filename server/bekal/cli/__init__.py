"""The ``bekal`` command: one module per command group, assembled here."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bekal")
@click.option("--lang", type=click.Choice(["id", "en"]), callback=lambda ctx, _p, v: _language(ctx, v),
              expose_value=False, is_eager=True,
              help="language of messages: id or en [default: BEKAL_LANG, else the locale]")
def main() -> None:
    """bekal: eligibility rules, matching and monitoring for post-rehab vocational training."""


def _language(ctx: click.Context, value: str | None) -> None:
    from bekal.i18n import default_language, set_language

    if value is not None:
        ctx.meta["bekal.lang"] = value
    set_language(value or default_language())


def _register() -> None:
    # Each command group lives in its own module; importing them here keeps one entry point.
    from bekal.cli import audit as audit_cmd
    from bekal.cli import certs as certs_cmd
    from bekal.cli import check as check_cmd
    from bekal.cli import log as log_cmd
    from bekal.cli import match as match_cmd
    from bekal.cli import monitoring as monitoring_cmd
    from bekal.cli import replay as replay_cmd
    from bekal.cli import report as report_cmd
    from bekal.cli import rules as rules_cmd
    from bekal.cli import rules_diff  # noqa: F401  (adds `bekal rules diff` to the rules group)
    from bekal.cli import serve as serve_cmd

    main.add_command(rules_cmd.rules)
    main.add_command(serve_cmd.serve)
    main.add_command(check_cmd.check)
    main.add_command(match_cmd.match)
    main.add_command(certs_cmd.certs)
    main.add_command(audit_cmd.audit)
    main.add_command(replay_cmd.replay)
    main.add_command(log_cmd.log)
    main.add_command(report_cmd.report)
    main.add_command(monitoring_cmd.monitoring)


_register()
