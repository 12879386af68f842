"""One serving process: the rules, the stores, the services, health, reflection, hot reload.

Signals: SIGTERM/SIGINT drain (health NOT_SERVING, no new calls, in-flight calls
get ``grace`` seconds) and exit 0; SIGHUP reloads the rules.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bekal.serve.config import ServeConfig, join_address, split_address
from bekal.serve.watcher import RulesWatcher, reload_and_log
from bekal.services.eligibility import servicer as eligibility_servicer
from bekal.services.eligibility.logic import Eligibility
from bekal.services.matching import servicer as matching_servicer
from bekal.services.matching.logic import JobSettings
from bekal.services.rules import servicer as rules_servicer
from bekal.services.snapshots import ServedRules, Snapshot
from bekal.store import DecisionLog, open_decision_log, open_job_store

log = logging.getLogger("bekal.service")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def notify_supervisor() -> None:
    """Ask the supervising process to make every worker reload (it forwards SIGHUP)."""
    os.kill(os.getppid(), signal.SIGHUP)


class Worker:
    """One serving process: engine, stores, gRPC server, health, reflection, watcher."""

    def __init__(self, config: ServeConfig, *, supervised: bool = False):
        self.config = config
        self.supervised = supervised
        self.stop_event = threading.Event()
        self.draining = threading.Event()
        self.port: int | None = None

    def build(self) -> None:
        cfg = self.config
        self.store: DecisionLog = open_decision_log(cfg.db)
        self.rules = ServedRules(cfg.rules)
        self.health = health.HealthServicer(experimental_non_blocking=True)
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=cfg.threads, thread_name_prefix="bekal-rpc"),
            options=self._options(),
        )
        self.matching = matching_servicer.add_to(self.server, self.rules, open_job_store(cfg.db),
                                                 settings=JobSettings(placement_processes=cfg.placement_processes))
        served = (
            matching_servicer.SERVICE.full_name,
            eligibility_servicer.add_to(self.server, Eligibility(self.rules, self.store), self.draining),
            rules_servicer.add_to(self.server, self.rules, notify_supervisor if self.supervised else None),
        )
        self._health()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection((*served, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)
        self.port = self._listen()

    def _options(self) -> list[tuple[str, Any]]:
        cfg = self.config
        return [
            ("grpc.max_receive_message_length", cfg.max_message_bytes),
            ("grpc.max_send_message_length", max(cfg.max_message_bytes, 64 * 1024 * 1024)),
            ("grpc.so_reuseport", 1 if self.supervised else 0),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ]

    def _health(self) -> None:
        """Overall and eligibility health follow the rules (SERVING once loaded); rules always serve."""
        follows_rules = ("", eligibility_servicer.SERVICE.full_name)
        for name in follows_rules:
            self.health.set(name, NOT_SERVING)
        self.health.set(rules_servicer.SERVICE.full_name, SERVING)  # ValidateRules works without loaded rules

        def on_change(snapshot: Snapshot) -> None:
            if not self.draining.is_set():
                for name in follows_rules:
                    self.health.set(name, SERVING)

        self.rules.on_change(on_change)

    def _listen(self) -> int:
        cfg = self.config
        if cfg.tls_cert is not None and cfg.tls_key is not None:
            credentials = grpc.ssl_server_credentials([(cfg.tls_key.read_bytes(), cfg.tls_cert.read_bytes())])
            port = self.server.add_secure_port(cfg.listen, credentials)
        else:
            port = self.server.add_insecure_port(cfg.listen)
        if not port:
            raise OSError(f"cannot listen on {cfg.listen}")
        return int(port)

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; return the exit status."""
        cfg = self.config
        signal.signal(signal.SIGTERM, lambda *_: self.stop_event.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop_event.set())
        reload_requested = threading.Event()
        signal.signal(signal.SIGHUP, lambda *_: reload_requested.set())
        try:
            self.build()
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a port gRPC cannot bind, SchemaTooNew
            log.error("cannot start: %s", exc)
            return 1
        reload_and_log(self.rules, "loaded at start")
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # garbage collector's scans, which otherwise show up as latency spikes.
        gc.collect()
        gc.freeze()
        watcher = None
        if cfg.reload_interval > 0:
            watcher = RulesWatcher(self.rules, cfg.reload_interval)
            watcher.start()
        self.server.start()
        host, _ = split_address(cfg.listen)
        log.info("listening on %s (pid %d, rules %s, version %s)", join_address(host, self.port or 0), os.getpid(),
                 cfg.rules, self.rules.version or "none: not serving eligibility")
        while not self.stop_event.wait(0.2):
            if reload_requested.is_set():
                reload_requested.clear()
                reload_and_log(self.rules, "reloaded on SIGHUP")
        log.info("draining: no new calls; in-flight calls have %.0f s", cfg.grace)
        self.draining.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(cfg.grace).wait()
        if watcher is not None:
            watcher.stop()
        self.rules.close()
        self.store.close()
        log.info("stopped")
        return 0
