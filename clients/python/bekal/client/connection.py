"""A connection to a bekal server: :func:`connect` and the :class:`Client` with every call."""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bekal.client.audit import AuditCalls
from bekal.client.catalog import CatalogCalls
from bekal.client.eligibility import EligibilityCalls
from bekal.client.errors import BekalError
from bekal.client.matching import MatchingCalls
from bekal.client.monitoring import MonitoringCalls
from bekal.client.replay import ReplayCalls
from bekal.client.retry import RetryPolicy
from bekal.client.rules import RulesCalls
from bekal.v1 import (
    audit_pb2_grpc,
    catalog_pb2_grpc,
    eligibility_pb2_grpc,
    matching_pb2_grpc,
    monitoring_pb2_grpc,
    replay_pb2_grpc,
    rules_pb2_grpc,
)

DEFAULT_TARGET = "127.0.0.1:50051"


def _read(value: bytes | str | Path | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def connect(
    target: str = DEFAULT_TARGET,
    *,
    tls: bool = False,
    root_certificates: bytes | str | Path | None = None,
    private_key: bytes | str | Path | None = None,
    certificate_chain: bytes | str | Path | None = None,
    server_name: str | None = None,
    timeout: float = 10.0,
    retries: int | None = 5,
    backoff: float = 0.1,
    max_backoff: float = 3.0,
    give_up_after: float | None = None,
    audience: str | None = None,
) -> Client:
    """Open a channel to ``target`` (``host:port``).

    ``tls=True`` (or any certificate argument) uses TLS: ``root_certificates`` to
    trust a private CA, ``private_key``/``certificate_chain`` for mutual TLS,
    ``server_name`` to override the name checked in the server's certificate.
    Without TLS the channel is plaintext: meant for loopback and private networks.

    ``timeout`` is each call's deadline in seconds, retries included. A call failing
    with UNAVAILABLE is retried up to ``retries`` times (None: as long as the deadline
    allows), or until the server has been unavailable ``give_up_after`` seconds, with
    exponential backoff from ``backoff`` to ``max_backoff`` seconds (with jitter).
    """
    options: list[tuple[str, int | str]] = [
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ("grpc.keepalive_time_ms", 30_000),
    ]
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    if tls or root_certificates or private_key or certificate_chain:
        creds = grpc.ssl_channel_credentials(_read(root_certificates), _read(private_key), _read(certificate_chain))
        channel = grpc.secure_channel(target, creds, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    return Client(channel, timeout=timeout, retry=RetryPolicy(retries, backoff, max_backoff, give_up_after),
                  audience=audience, target=target)


class Client(EligibilityCalls, RulesCalls, MatchingCalls, AuditCalls, ReplayCalls, CatalogCalls, MonitoringCalls):
    """The bekal API with plain Python arguments and results. Thread-safe; close when done."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 10.0, retry: RetryPolicy = RetryPolicy(),
                 audience: str | None = None, target: str = ""):
        self.channel = channel
        self.target = target
        self.timeout = timeout
        self.retry = retry
        self.audience = audience
        self._eligibility = eligibility_pb2_grpc.EligibilityServiceStub(channel)
        self._rules = rules_pb2_grpc.RulesServiceStub(channel)
        self._matching = matching_pb2_grpc.MatchingServiceStub(channel)
        self._audit = audit_pb2_grpc.AuditServiceStub(channel)
        self._replay = replay_pb2_grpc.ReplayServiceStub(channel)
        self._catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        self._monitoring = monitoring_pb2_grpc.MonitoringServiceStub(channel)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    # ------------------------------------------------------------------ health

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """The server's health for ``service`` ("" = overall): "SERVING", "NOT_SERVING", ..."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        pb = self.unary(stub.Check, health_pb2.HealthCheckRequest(service=service), timeout)
        name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(pb.status)
        return name

    def wait_until_serving(self, timeout: float = 30.0) -> None:
        """Block until the server reports SERVING (a valid ruleset is loaded)."""
        deadline = time.monotonic() + timeout
        last: BaseException | str = "no answer"
        while time.monotonic() < deadline:
            try:
                status = self.health(timeout=min(2.0, max(deadline - time.monotonic(), 0.01)))
                if status == "SERVING":
                    return
                last = status
            except BekalError as exc:
                last = exc
            time.sleep(0.05)
        raise BekalError("DEADLINE_EXCEEDED", f"server not serving after {timeout} s (last: {last})")

    def wait_until_connected(self, timeout: float = 10.0) -> None:
        """Block until the channel is connected; UNAVAILABLE when no server answers in ``timeout`` seconds."""
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise BekalError("UNAVAILABLE", f"no server answers at {self.target or 'the target'}") from None
