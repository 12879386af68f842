"""Where things are in the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"  # the default rules
EXAMPLES = ROOT / "examples"
TEST_RULES = ROOT / "tests" / "services" / "rules"  # small rules for the service tests


def copy_of(rules: Path, into: Path) -> Path:
    """A private copy of the rules folder ``rules`` under ``into``, free to edit."""
    target = into / "rules"
    shutil.copytree(rules, target)
    return target
