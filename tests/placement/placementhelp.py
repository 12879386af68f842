"""Helpers for the placement tests: clients on the default rules, and the real server as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import servers

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
EXAMPLES = ROOT / "examples"
AS_OF = "2019-06-01"


def client(cid: str, *prefs: str, **overrides) -> dict:
    """A client the default rules find ELIGIBLE for every catalogue course (25, SMA, passed both tests)."""
    facts = {
        "id": cid,
        "birth_date": "1994-03-01",
        "rehab_stage": "post_rehabilitation",
        "rehab_completed_date": "2019-02-28",
        "referrer": "self",
        "written_test_score": 80,
        "interview_score": 80,
        "education": "sma",
        "consent_to_share": True,
        "preferences": list(prefs),
    }
    facts.update(overrides)
    return {k: v for k, v in facts.items() if v is not None}


def course(code: str, seats: int, reserved: int = 0, **extra) -> dict:
    """A course with the catalogue's usual pass marks (written 50, interview 60) and no age limits."""
    return {"code": code, "title": f"Kursus {code}", "blk": "BLK Provinsi Kalsel", "seats": seats,
            "reserved_bnn_seats": reserved, "start_date": "2019-07-01", "min_written_score": 50,
            "min_interview_score": 60, **extra}


def bekal(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the ``bekal`` command line in a subprocess (from the repository root)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}
    return subprocess.run([sys.executable, "-c", "from bekal.cli import main; main()", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env)


def Server(tmp: Path, db: Path | None = None, port: int | None = None) -> servers.Server:
    """``bekal serve`` on the default rules, listening; a database in ``tmp`` unless ``db`` is given."""
    server = servers.Server(tmp, RULES, db=db, port=port, reload_interval="0", grace="2")
    server.wait_listening()  # the rules are loaded before the server listens
    return server
