"""Where things are in the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"  # the default rules
EXAMPLES = ROOT / "examples"
TEST_RULES = ROOT / "tests" / "services" / "rules"  # small rules for the service tests
