"""The real server as a subprocess on a free loopback port, and reading gRPC errors: for every suite
that talks to bekal over the network (tests/services, tests/placement, tests/client)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.paths import ROOT, RULES


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``bekal serve`` in a subprocess; its output goes to a log file in ``tmp``."""

    def __init__(self, tmp: Path, rules: Path, *args: str, workers: int = 1, env: dict | None = None,
                 db: Path | None = None, port: int | None = None, reload_interval: str = "0.1",
                 grace: str = "5"):
        self.tmp = tmp
        self.rules = rules
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.db = db or tmp / "bekal.db"
        self.log_path = tmp / f"server-{self.port}-{time.monotonic_ns()}.log"
        cmd = [
            sys.executable, "-c", "from bekal.cli import main; main()", "serve",
            "--listen", self.address, "--rules", str(rules), "--db", str(self.db),
            "--workers", str(workers), "--reload-interval", reload_interval, "--grace", grace, *args,
        ]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT,
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

    def crash(self) -> None:
        """``kill -9``: no shutdown code runs."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._log.close()


def rpc_failure(call, *args, timeout: float = 30):
    """Call a stub expecting failure (a stream is drained): (code, BadRequest field -> description, status)."""
    with pytest.raises(grpc.RpcError) as info:
        result = call(*args, timeout=timeout)
        if hasattr(result, "__iter__") and not hasattr(result, "DESCRIPTOR"):
            list(result)
    status = rpc_status.from_call(info.value)
    fields = {}
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.update({v.field: v.description for v in bad.field_violations})
    return info.value.code(), fields, status


def default_rules_server(tmp: Path, db: Path | None = None, port: int | None = None) -> Server:
    """``bekal serve`` on the default rules, listening; a database in ``tmp`` unless ``db`` is given."""
    server = Server(tmp, RULES, db=db, port=port, reload_interval="0", grace="2")
    server.wait_listening()  # the rules are loaded before the server listens
    return server
