"""``bekal rules check|test|explain``: the rule authors' tools."""

from __future__ import annotations

import click


@click.group()
def rules() -> None:
    """Check, test and explain rule files."""
