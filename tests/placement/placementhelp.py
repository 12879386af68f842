"""Helpers for the placement tests: clients on the default rules, and the real server as a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

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


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``bekal serve`` on a free loopback port with the default rules and a database in ``tmp``."""

    def __init__(self, tmp: Path, db: Path | None = None, port: int | None = None):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.db = db or tmp / "bekal.db"
        self.log_path = tmp / f"server-{self.port}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from bekal.cli import main; main()", "serve", "--listen", self.address,
             "--rules", str(RULES), "--db", str(self.db), "--reload-interval", "0", "--grace", "2"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
        self.wait_listening()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with closing(socket.create_connection(("127.0.0.1", self.port), timeout=0.2)):
                    return  # the rules are loaded before the server listens
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"server not listening after {timeout} s:\n{self.log()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def crash(self) -> None:
        """``kill -9``: no shutdown code runs."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._log.close()
