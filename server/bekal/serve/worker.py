"""One serving process: the rules, the stores, the services, health, reflection, hot reload.

The gRPC server is ``grpc.aio``: an open stream costs no thread, so streams that send
nothing cannot lock others out, and health is answered on the event loop without
waiting for a free handler thread (measured on the thread-per-call server: sixteen
idle streams on one connection made every other call, health included, time out).
Blocking work (the engine, the stores) runs on a bounded thread pool
(:meth:`bekal.services.registration.Call.run`); every call passes one gate
(identity, authorization, admission, the audit trail).

Signals: SIGTERM/SIGINT drain (health NOT_SERVING, no new calls, in-flight calls
get ``grace`` seconds) and exit 0; SIGHUP reloads the rules.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from bekal.rulebook import version_files
from bekal.serve import reflection
from bekal.serve.config import ServeConfig, join_address, split_address
from bekal.serve.errors import ConfigError
from bekal.serve.identity import read_identities
from bekal.serve.watcher import RulesWatcher, reload_and_log
from bekal.services.audit import servicer as audit_servicer
from bekal.services.audit.logic import Audit
from bekal.services.catalog import servicer as catalog_servicer
from bekal.services.eligibility import servicer as eligibility_servicer
from bekal.services.eligibility.logic import Eligibility
from bekal.services.limits import set_pseudonym_pattern
from bekal.services.matching import servicer as matching_servicer
from bekal.services.matching.logic import JobSettings
from bekal.services.monitoring import servicer as monitoring_servicer
from bekal.services.operations import servicer as operations_servicer
from bekal.services.registration import Gate, Limits
from bekal.services.replay import servicer as replay_servicer
from bekal.services.replay.logic import Replayer
from bekal.services.rules import servicer as rules_servicer
from bekal.services.snapshots import ServedRules, Snapshot
from bekal.store import StoreError, Stores, open_stores
from bekal.store.retention import purge_expired

log = logging.getLogger("bekal.service")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
HEALTH = "grpc.health.v1.Health"
PURGE_EVERY_S = 24 * 3600.0  # the decision log's facts past retention are deleted at start and daily


def notify_supervisor() -> None:
    """Ask the supervising process to make every worker reload (it forwards SIGHUP)."""
    os.kill(os.getppid(), signal.SIGHUP)


class Worker:
    """One serving process: engine, stores, gRPC server, health, reflection, watcher."""

    def __init__(self, config: ServeConfig, *, supervised: bool = False, purges: bool = True):
        self.config = config
        self.supervised = supervised
        # the retention purge is one job for the whole database: under a supervisor only its first
        # worker runs it (the others would each delete the same rows, contending for the write lock)
        self.purges = purges
        self.draining = threading.Event()
        self.port: int | None = None

    def build(self) -> None:
        cfg = self.config
        set_pseudonym_pattern(cfg.pseudonym_pattern)
        identities = read_identities(cfg.identities)
        self.stores: Stores = open_stores(cfg.db, cfg.secret_file, cfg.facts_key_file)
        self.rules = ServedRules(cfg.rules)
        self.rules.on_change(self._keep_version)  # every version that serves is kept, by content hash
        self.replayer = Replayer(self.stores.decisions, self.rules)  # its job replays: once matching exists
        self.executor = futures.ThreadPoolExecutor(max_workers=cfg.threads, thread_name_prefix="bekal-work")
        self.gate = Gate(identities, self.executor, Limits(cfg.max_streams, cfg.max_streams_per_peer,
                                                           cfg.idle_timeout), audit=self.stores.audit)
        self.health = HealthServicer()
        self.server = grpc.aio.server(options=self._options())
        self.matching = matching_servicer.add_to(
            self.server, self.gate, self.rules, self.stores.jobs,
            settings=JobSettings(placement_processes=cfg.placement_processes), replay_log=self.stores.decisions)
        served = (
            matching_servicer.SERVICE.full_name,
            eligibility_servicer.add_to(self.server, self.gate, Eligibility(self.rules, self.stores.decisions),
                                        self.draining),
            audit_servicer.add_to(self.server, self.gate, Audit(self.stores.decisions, self.stores.audit)),
            replay_servicer.add_to(self.server, self.gate, self.replayer.with_jobs(self.matching)),
            catalog_servicer.add_to(self.server, self.gate, self.rules),
            operations_servicer.add_to(self.server, self.gate, self.matching),
            rules_servicer.add_to(self.server, self.gate, self.rules,
                                  notify_supervisor if self.supervised else None),
            monitoring_servicer.SERVICE.full_name,
        )
        monitoring_servicer.add_to(self.server, self.gate, self.rules, self.stores.monitoring, self.matching,
                                   self.draining, self.stores.decisions)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable((*served, HEALTH), self.server)
        self.port = self._listen()

    def _keep_version(self, snapshot: Snapshot) -> None:
        """A version that starts serving is kept in the decision log (a failure is logged: the
        eligibility service keeps it again before its first decision, or decides nothing)."""
        try:
            if self.stores.decisions.keep_ruleset(snapshot.version, version_files(snapshot.rulebook)):
                log.info("rules version %s kept in the decision log", snapshot.version)
        except StoreError as exc:
            log.error("rules version %s could not be kept yet: %s", snapshot.version, exc)

    def _purge(self) -> None:
        """Delete the decision log's facts past the retention period (at start, then daily)."""
        if not self.purges:
            return
        try:
            purged = purge_expired(self.stores.decisions, self.config.retention_days)
        except StoreError as exc:
            log.error("decision log facts past retention not purged now: %s", exc)
            return
        if purged:
            log.info("decision log: facts of %d check(s) older than %d days deleted", purged,
                     self.config.retention_days)

    def _options(self) -> list[tuple[str, Any]]:
        cfg = self.config
        return [
            ("grpc.max_receive_message_length", cfg.max_message_bytes),
            ("grpc.max_send_message_length", max(cfg.max_message_bytes, 64 * 1024 * 1024)),
            ("grpc.so_reuseport", 1 if self.supervised else 0),
            # at most this many streams at once on one connection (HTTP/2 SETTINGS)
            ("grpc.max_concurrent_streams", max(cfg.max_streams_per_peer * 2, 16)),
            # dead peers are found (keepalive pings), idle connections closed after 10 minutes
            ("grpc.keepalive_time_ms", 60_000),
            ("grpc.keepalive_timeout_ms", 20_000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ("grpc.max_connection_idle_ms", 600_000),
        ]

    async def _health(self) -> None:
        """Overall and eligibility health follow the rules (SERVING once loaded); rules always serve."""
        # what cannot decide without rules is NOT_SERVING until they load: eligibility, matching (and the
        # catalogue, read from the rules folder); the rules (ValidateRules) and the audit never need them
        follows_rules = ("", eligibility_servicer.SERVICE.full_name, matching_servicer.SERVICE.full_name,
                         catalog_servicer.SERVICE.full_name)
        for name in follows_rules:
            await self.health.set(name, NOT_SERVING)
        for name in (rules_servicer.SERVICE.full_name, audit_servicer.SERVICE.full_name,
                     operations_servicer.SERVICE.full_name,  # reading jobs needs no rules
                     replay_servicer.SERVICE.full_name,  # a replay rebuilds the version it names
                     monitoring_servicer.SERVICE.full_name):  # refuses records itself without monitoring rules
            await self.health.set(name, SERVING)
        loop = asyncio.get_running_loop()

        def on_change(snapshot: Snapshot) -> None:  # called on a reload thread
            if not self.draining.is_set():
                for name in follows_rules:
                    asyncio.run_coroutine_threadsafe(self.health.set(name, SERVING), loop)

        self.rules.on_change(on_change)

    def _listen(self) -> int:
        cfg = self.config
        if cfg.tls_cert is not None and cfg.tls_key is not None:
            ca = cfg.tls_client_ca.read_bytes() if cfg.tls_client_ca is not None else None
            credentials = grpc.ssl_server_credentials(
                [(cfg.tls_key.read_bytes(), cfg.tls_cert.read_bytes())],
                root_certificates=ca, require_client_auth=ca is not None)
            port = self.server.add_secure_port(cfg.listen, credentials)
        else:
            port = self.server.add_insecure_port(cfg.listen)
        if not port:
            raise OSError(f"cannot listen on {cfg.listen}")
        return int(port)

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; return the exit status."""
        try:
            return asyncio.run(self._serve())
        except _CannotStart as exc:
            log.error("cannot start: %s", exc)
            return 1

    async def _serve(self) -> int:
        cfg = self.config
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        reload_requested = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        loop.add_signal_handler(signal.SIGHUP, reload_requested.set)
        try:
            self.build()
        except (OSError, ValueError, RuntimeError, ConfigError) as exc:  # a port gRPC cannot bind, SchemaTooNew
            raise _CannotStart(str(exc)) from None
        await self._health()
        await loop.run_in_executor(self.executor, reload_and_log, self.rules, "loaded at start")
        await loop.run_in_executor(self.executor, self._purge)
        next_purge = loop.time() + PURGE_EVERY_S
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # garbage collector's scans, which otherwise show up as latency spikes.
        gc.collect()
        gc.freeze()
        watcher = None
        if cfg.reload_interval > 0:
            watcher = RulesWatcher(self.rules, cfg.reload_interval)
            watcher.start()
        await self.server.start()
        host, _ = split_address(cfg.listen)
        log.info("listening on %s (pid %d, rules %s, version %s, %s)", join_address(host, self.port or 0),
                 os.getpid(), cfg.rules, self.rules.version or "none: not serving eligibility", self._security())
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except TimeoutError:
                pass
            if loop.time() >= next_purge:
                next_purge = loop.time() + PURGE_EVERY_S
                loop.run_in_executor(self.executor, self._purge)
            if reload_requested.is_set():
                reload_requested.clear()
                await loop.run_in_executor(self.executor, reload_and_log, self.rules, "reloaded on SIGHUP")
        log.info("draining: no new calls; in-flight calls have %.0f s", cfg.grace)
        self.draining.set()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(cfg.grace)
        if watcher is not None:
            watcher.stop()
        await loop.run_in_executor(None, self.matching.stop)
        self.rules.close()
        self.replayer.close()
        self.stores.close()  # the audit trail last: it writes what is still queued
        self.executor.shutdown(wait=False)
        log.info("stopped")
        return 0

    def _security(self) -> str:
        cfg = self.config
        if cfg.tls_client_ca is not None:
            return "mutual TLS"
        if cfg.tls_cert is not None:
            return "TLS, callers without a certificate are anonymous"
        return "plaintext, every caller anonymous"


class _CannotStart(Exception):
    pass
