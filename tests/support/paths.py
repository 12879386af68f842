"""Where things are in the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The programme's rules as the software's tests know them: a copy of rules/ (as of the 2019 MoU) kept
# under tests/, so a legitimate edit to the shipped rules/ never breaks the suite. The shipped rules
# are tested by their own rule tests (`bekal rules test rules`, part of `make test`).
RULES = ROOT / "tests" / "fixtures" / "rules"
SHIPPED_RULES = ROOT / "rules"  # only for tests about the shipped files as files (the guide's worked change)
EXAMPLES = ROOT / "examples"
TEST_RULES = ROOT / "tests" / "services" / "rules"  # small rules for the service tests


def copy_of(rules: Path, into: Path) -> Path:
    """A private copy of the rules folder ``rules`` under ``into``, free to edit."""
    target = into / "rules"
    shutil.copytree(rules, target)
    return target
