"""Assembling and running the gRPC server: one process, or a supervisor with worker processes.

Multi-process follows gRPC's ``examples/python/multiprocessing``: durable_rules
and Python hold the GIL, so parallelism comes from processes. The supervisor
never creates a gRPC object; it forks the workers first, and each worker then
builds its own gRPC server, engine and store connection and binds the same
port with ``SO_REUSEPORT``, letting the kernel spread connections over them.

Signals: SIGTERM/SIGINT drain (health NOT_SERVING, no new calls, in-flight calls
get ``grace`` seconds) and exit 0; SIGHUP reloads the rules (the supervisor
forwards both to every worker). A worker that dies is restarted.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from concurrent import futures
from contextlib import closing

from bekal.service.config import ServeConfig

log = logging.getLogger("bekal.service")

ELIGIBILITY = "bekal.v1.EligibilityService"
RULES = "bekal.v1.RulesService"


def setup_logging(level: str, tag: str = "") -> None:
    fmt = f"%(asctime)s %(levelname)s bekal{tag}: %(message)s"
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        return host, int(port)
    except ValueError:
        raise ValueError(f"listen address {address!r}: expected HOST:PORT") from None


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Worker:
    """One serving process: engine, store, gRPC server, health, reflection, watcher."""

    def __init__(self, config: ServeConfig, *, supervised: bool = False):
        self.config = config
        self.supervised = supervised
        self.stop_event = threading.Event()
        self.draining = threading.Event()
        self.port: int | None = None

    def build(self):
        import grpc
        from grpc_health.v1 import health, health_pb2, health_pb2_grpc
        from grpc_reflection.v1alpha import reflection

        from bekal.service.core import Eligibility, Rules
        from bekal.service.servicers import (
            EligibilityServicer,
            RulesServicer,
            add_eligibility_servicer,
            notify_supervisor,
        )
        from bekal.store import open_store
        from bekal.v1 import eligibility_pb2, rules_pb2, rules_pb2_grpc

        cfg = self.config
        self.store = open_store(cfg.db)
        self.rules = Rules(cfg.rules)
        self.health = health.HealthServicer(experimental_non_blocking=True)
        serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", ELIGIBILITY):
            self.health.set(name, not_serving)
        self.health.set(RULES, serving)  # ValidateRules works without loaded rules

        def on_change(snapshot) -> None:
            if not self.draining.is_set():
                for name in ("", ELIGIBILITY):
                    self.health.set(name, serving)

        self.rules.on_change(on_change)

        options = [
            ("grpc.max_receive_message_length", cfg.max_message_bytes),
            ("grpc.max_send_message_length", max(cfg.max_message_bytes, 64 * 1024 * 1024)),
            ("grpc.so_reuseport", 1 if self.supervised else 0),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ]
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=cfg.threads, thread_name_prefix="bekal-rpc"),
            options=options,
        )
        add_eligibility_servicer(EligibilityServicer(Eligibility(self.rules, self.store), self.draining), self.server)
        rules_pb2_grpc.add_RulesServiceServicer_to_server(
            RulesServicer(self.rules, notify_supervisor if self.supervised else None), self.server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        from bekal.service.matching import add_matching_service  # matching jobs share the --db file

        matching = add_matching_service(self.server, self.rules, cfg.db)
        names = (
            matching,
            eligibility_pb2.DESCRIPTOR.services_by_name["EligibilityService"].full_name,
            rules_pb2.DESCRIPTOR.services_by_name["RulesService"].full_name,
            health.SERVICE_NAME,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(names, self.server)

        if cfg.tls_cert is not None and cfg.tls_key is not None:
            credentials = grpc.ssl_server_credentials(
                [(cfg.tls_key.read_bytes(), cfg.tls_cert.read_bytes())]
            )
            self.port = self.server.add_secure_port(cfg.listen, credentials)
        else:
            self.port = self.server.add_insecure_port(cfg.listen)
        if not self.port:
            raise OSError(f"cannot listen on {cfg.listen}")

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; return the exit status."""
        from bekal.service.watcher import RulesWatcher, reload_and_log

        cfg = self.config
        signal.signal(signal.SIGTERM, lambda *_: self.stop_event.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop_event.set())
        reload_requested = threading.Event()
        signal.signal(signal.SIGHUP, lambda *_: reload_requested.set())
        try:
            self.build()
        except (OSError, ValueError, RuntimeError) as exc:
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
        log.info("listening on %s (pid %d, rules %s, version %s)", join_address(host, self.port), os.getpid(),
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


def _die_with_parent() -> None:
    """Linux: get SIGTERM when the supervisor dies (even by kill -9), so no worker is orphaned."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_main(config: ServeConfig, index: int) -> None:
    _die_with_parent()
    setup_logging(config.log_level, f"[worker {index} pid {os.getpid()}]")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor forwards SIGTERM instead
    code = Worker(config, supervised=True).run()
    sys.exit(code)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with closing(socket.socket(family, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def supervise(config: ServeConfig) -> int:
    """Fork ``config.workers`` serving processes on one port; forward signals; restart the dead."""
    host, port = split_address(config.listen)
    if port != 0 and not _port_free(host, port):
        log.error("cannot start: %s is already in use", config.listen)
        return 1
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    reservation = socket.socket(family, socket.SOCK_STREAM)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        reservation.bind((host, port))
    except OSError as exc:
        log.error("cannot start: %s: %s", config.listen, exc.strerror)
        return 1
    port = reservation.getsockname()[1]
    from dataclasses import replace

    worker_config = replace(config, listen=join_address(host, port))
    ctx = multiprocessing.get_context("fork")
    stopping = threading.Event()
    workers: dict[int, multiprocessing.Process] = {}
    restarts: list[float] = []

    def start(index: int) -> None:
        proc = ctx.Process(target=_worker_main, args=(worker_config, index), name=f"bekal-worker-{index}")
        proc.start()
        workers[index] = proc

    def forward(signum: int) -> None:
        for proc in workers.values():
            if proc.pid is not None and proc.is_alive():
                try:
                    os.kill(proc.pid, signum)
                except ProcessLookupError:
                    pass

    def on_stop(signum, _frame) -> None:
        stopping.set()
        forward(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, lambda *_: forward(signal.SIGHUP))
    log.info("supervisor pid %d: %d workers on %s", os.getpid(), config.workers, worker_config.listen)
    for index in range(config.workers):
        start(index)
    status = 0
    try:
        while True:
            if stopping.is_set():
                deadline = time.monotonic() + config.grace + 10
                for proc in workers.values():
                    proc.join(max(0.0, deadline - time.monotonic()))
                for proc in workers.values():
                    if proc.is_alive():
                        log.error("worker pid %s did not stop in time; killing it", proc.pid)
                        proc.kill()
                        proc.join()
                        status = 1
                break
            time.sleep(0.2)
            for index, proc in list(workers.items()):
                if proc.is_alive() or stopping.is_set():
                    continue
                log.error("worker %d (pid %s) exited with %s; restarting it", index, proc.pid, proc.exitcode)
                now = time.monotonic()
                restarts[:] = [t for t in restarts if now - t < 60] + [now]
                if len(restarts) > 5 * config.workers:
                    log.error("workers keep dying; giving up")
                    stopping.set()
                    forward(signal.SIGTERM)
                    status = 1
                    continue
                start(index)
    finally:
        reservation.close()
    log.info("supervisor stopped")
    return status


def serve(config: ServeConfig) -> int:
    """Run the server as configured; returns the process exit status."""
    setup_logging(config.log_level)
    log.info("settings: %s", config.describe())
    if config.workers <= 1:
        return Worker(config).run()
    return supervise(config)
