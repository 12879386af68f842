"""The real server as a subprocess on a free loopback port, and reading gRPC errors: for every suite
that talks to bekal over the network (tests/services, tests/placement, tests/client)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from bekal.certs import DevCerts, make_dev_certs
from tests.support.paths import ROOT, RULES
from tests.support.people import INTAKE_DATE, eligible_client

_CERTS: list[DevCerts] = []


def dev_certs() -> DevCerts:
    """One development CA with a certificate per role (bekal.certs.DEV_AGENCIES), made once per test run."""
    if not _CERTS:
        _CERTS.append(make_dev_certs(Path(tempfile.mkdtemp(prefix="bekal-certs-"))))
    return _CERTS[0]


def mtls_args() -> list[str]:
    """``bekal serve`` options for mutual TLS with :func:`dev_certs`."""
    certs = dev_certs()
    return ["--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key),
            "--tls-client-ca", str(certs.ca), "--identities", str(certs.identities)]


def as_agency(name: str = "bnnk-banjarbaru") -> dict[str, Path]:
    """:func:`bekal.client.connect` arguments for calling a mutual-TLS server as the agency ``name``."""
    certs = dev_certs()
    return {"root_certificates": certs.ca, "certificate_chain": certs.cert(name), "private_key": certs.key(name)}


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``bekal serve`` in a subprocess; its output goes to a log file in ``tmp``.

    ``security``: ``"mtls"`` (the default: mutual TLS with :func:`dev_certs`, callers identified by
    their certificates), ``"tls"`` (server TLS only: callers without a certificate are anonymous),
    or ``"plain"`` (plaintext on loopback: every caller anonymous).
    """

    def __init__(self, tmp: Path, rules: Path, *args: str, workers: int = 1, env: dict | None = None,
                 db: Path | None = None, port: int | None = None, reload_interval: str = "0.1",
                 grace: str = "5", security: str = "mtls"):
        self.tmp = tmp
        self.rules = rules
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.db = db or tmp / "bekal.db"
        self.log_path = tmp / f"server-{self.port}-{time.monotonic_ns()}.log"
        self.security = security
        certs = dev_certs()
        tls = mtls_args() if security == "mtls" else [] if security == "plain" else [
            "--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key)]
        cmd = [
            sys.executable, "-c", "from bekal.cli import main; main()", "serve",
            "--listen", self.address, "--rules", str(rules), "--db", str(self.db),
            "--workers", str(workers), "--reload-interval", reload_interval, "--grace", grace, *tls, *args,
        ]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT,
                                     start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def credentials(self, as_: str | None = "bnnk-banjarbaru") -> dict[str, Path]:
        """``connect`` arguments for calling as the agency ``as_`` (None: without a certificate)."""
        if self.security == "plain":
            return {}
        if as_ is not None and self.security == "mtls":
            return as_agency(as_)
        return {"root_certificates": dev_certs().ca}

    def connect(self, as_: str | None = "bnnk-banjarbaru", **kw):
        """A :mod:`bekal.client` connection, by default as BNNK Banjarbaru (a referrer: the BNN view)."""
        from bekal.client import connect

        return connect(self.address, **{**self.credentials(as_), **kw})

    def channel(self, as_: str | None = "bnnk-banjarbaru") -> grpc.Channel:
        """A raw gRPC channel, by default as BNNK Banjarbaru."""
        creds = self.credentials(as_)
        if not creds:
            return grpc.insecure_channel(self.address)
        return grpc.secure_channel(self.address, grpc.ssl_channel_credentials(
            creds["root_certificates"].read_bytes(),
            creds["private_key"].read_bytes() if "private_key" in creds else None,
            creds["certificate_chain"].read_bytes() if "certificate_chain" in creds else None))

    def cli_args(self, as_: str | None = "bnnk-banjarbaru") -> list[str]:
        """``bekal check|match --server`` options for calling as the agency ``as_``."""
        creds = self.credentials(as_)
        out = ["--server", self.address]
        if "root_certificates" in creds:
            out += ["--ca", str(creds["root_certificates"])]
        if "certificate_chain" in creds:
            out += ["--cert", str(creds["certificate_chain"]), "--key", str(creds["private_key"])]
        return out

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


def checked_eligible(bnn, *client_ids: str, course: str = "LAS-01") -> None:
    """What a direct enrolment needs first: this office's ELIGIBLE check of each client for the course,
    in the decision log (as of the intake, a month before the course starts)."""
    results = list(bnn.check_many([(eligible_client(id=cid), course) for cid in client_ids], as_of=INTAKE_DATE))
    assert [d.outcome.value for r in results for d in r.decisions] == ["ELIGIBLE"] * len(client_ids)
