"""The real ``bekal`` command in a subprocess, with no ``BEKAL_*`` settings from the environment (but English)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import ROOT


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def bekal(*args: str, cwd: Path | str = ROOT, timeout: float = 120, env: dict[str, str] | None = None) -> CliResult:
    """Run ``python -m bekal ARGS`` in ``cwd`` (default: the repository root), its messages in English
    whatever the machine's locale (``env`` adds or overrides variables, e.g. ``{"BEKAL_LANG": "id"}``)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}, "BEKAL_LANG": "en", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "bekal", *args], cwd=str(cwd), capture_output=True, text=True,
                          timeout=timeout, env=env)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
