"""Helpers for the service tests: the real server as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TEST_RULES = HERE / "rules"
AS_OF = "2019-06-01"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def adult(**overrides) -> dict:
    """A client every test rule lets through (25 years old on AS_OF, passed the written test)."""
    client = {
        "id": "BNNK-BJB-2019-0001",
        "birth_date": "1994-03-01",
        "rehab_stage": "post_rehabilitation",
        "rehab_completed_date": "2019-02-28",
        "referrer": "bnn",
        "referring_office": "BNNK Banjarbaru",
        "written_test_score": 72,
        "interview_score": 80,
        "education": "sma",
        "consent_to_share": True,
    }
    client.update(overrides)
    return {k: v for k, v in client.items() if v is not None}


class Server:
    """``bekal serve`` in a subprocess; stderr goes to a log file."""

    def __init__(self, tmp: Path, rules: Path, *args: str, workers: int = 1, env: dict | None = None):
        self.tmp = tmp
        self.rules = rules
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.db = tmp / "bekal.db"
        self.log_path = tmp / f"server-{self.port}.log"
        cmd = [
            sys.executable, "-c", "from bekal.cli import main; main()", "serve",
            "--listen", self.address, "--rules", str(rules), "--db", str(self.db),
            "--workers", str(workers), "--reload-interval", "0.1", "--grace", "5", *args,
        ]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env,
                                     start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connect(self, **kw):
        from bekal.client import connect

        return connect(self.address, **kw)

    def wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with closing(socket.create_connection(("127.0.0.1", self.port), timeout=0.2)):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"server not listening after {timeout} s:\n{self.log()}")

    def wait_serving(self, timeout: float = 30.0) -> None:
        self.wait_listening(timeout)
        with self.connect(timeout=5) as client:
            client.wait_until_serving(timeout)

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A private copy of the test rules, free to edit."""
    target = tmp_path / "rules"
    shutil.copytree(TEST_RULES, target)
    return target


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    """Start servers with ``start_server(rules_dir, *args, workers=1)``; all are stopped at the end."""
    servers: list[Server] = []

    def start(rules: Path, *args: str, workers: int = 1, wait: str = "serving", env: dict | None = None) -> Server:
        server = Server(tmp_path, rules, *args, workers=workers, env=env)
        servers.append(server)
        if wait == "serving":
            server.wait_serving()
        elif wait == "listening":
            server.wait_listening()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """One shared server on the test rules, for tests that do not change it."""
    tmp = tmp_path_factory.mktemp("shared")
    rules = tmp / "rules"
    shutil.copytree(TEST_RULES, rules)
    srv = Server(tmp, rules)
    try:
        srv.wait_serving()
        yield srv
    finally:
        code = srv.stop()
        assert code == 0, srv.log()
