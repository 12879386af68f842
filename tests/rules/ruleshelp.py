"""Helpers for the rule language tests (imported by the test modules): rule-file builders,
the real CLI as a subprocess, and a client every default rule lets through."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bekal.rulebook import Rulebook, load_rulebook_from_texts

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RULES = REPO / "rules"
BROKEN = HERE / "broken"

AS_OF = date(2019, 5, 16)  # the day of the BNNK Banjarbaru / BLK Kalsel MoU

# A client every rule of the default ruleset lets through, for every course of the catalogue
# (25 years old on AS_OF, after rehabilitation, both tests passed well, SMA, consent given).
READY: dict = {
    "id": "BNNK-BJB-2019-0001",
    "birth_date": date(1994, 3, 1),
    "rehab_stage": "post_rehabilitation",
    "rehab_completed_date": date(2019, 2, 28),
    "referrer": "bnn",
    "referring_office": "BNNK Banjarbaru",
    "written_test_score": 72,
    "interview_score": 80,
    "education": "sma",
    "consent_to_share": True,
    "domicile": "Banjarbaru",
}


def rule_text(rule_id: str, when: str, effect: str | int = "ineligible", reason_en: str = "b") -> str:
    """One rule of a ruleset file; ``effect`` is ineligible, pending, or priority points as an int.
    ``when`` is written as a block scalar so any condition text is valid YAML."""
    eff = f"\n      priority: {effect:+d}" if isinstance(effect, int) else f" {effect}"
    body = "\n".join("      " + line for line in when.splitlines())
    return (f"  - id: {rule_id}\n"
            f"    description: d\n"
            f"    when: |\n{body}\n"
            f"    effect:{eff}\n"
            f"    reason: {{id: a, en: \"{reason_en}\"}}\n"
            f"    source: s\n")


def ruleset_text(*rules: tuple, name: str = "eligibility", effective: tuple[str | None, str | None] | None = None) -> str:
    """A ruleset file; each rule is a ``(id, when[, effect])`` tuple."""
    head = f"ruleset: {name}\ntitle: T\nsource: S\n"
    if effective is not None:
        start, until = effective
        head += "effective:\n" + (f"  from: {start}\n" if start else "") + (f"  until: {until}\n" if until else "")
    return head + "rules:\n" + "".join(rule_text(*r) for r in rules)


def rulebook_of(*rules: tuple, name: str = "eligibility", effective=None) -> Rulebook:
    """A rulebook of one ruleset (named ``eligibility``: nothing is decided without it) in ``t.rules.yaml``."""
    return load_rulebook_from_texts({"t.rules.yaml": ruleset_text(*rules, name=name, effective=effective)})


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def bekal(*args: str, cwd: Path | str = REPO, timeout: float = 60) -> CliResult:
    """Run the real ``bekal`` command (``python -m bekal``) in a subprocess."""
    proc = subprocess.run([sys.executable, "-m", "bekal", *args], cwd=str(cwd), capture_output=True,
                          text=True, timeout=timeout)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
