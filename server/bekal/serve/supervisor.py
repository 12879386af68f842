"""A supervisor with worker processes sharing one port, for ``--workers N``.

Multi-process follows gRPC's ``examples/python/multiprocessing``: durable_rules
and Python hold the GIL, so parallelism comes from processes. The supervisor
never creates (or imports) a gRPC object; it forks the workers first, and each
worker then builds its own gRPC server, engine and store connection and binds
the same port with ``SO_REUSEPORT``, letting the kernel spread connections over
them. The supervisor forwards SIGTERM/SIGINT and SIGHUP to every worker and
restarts a worker that dies.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from contextlib import closing
from dataclasses import replace
from multiprocessing.process import BaseProcess
from types import FrameType

from bekal.serve.config import ServeConfig, join_address, split_address
from bekal.serve.logs import setup_logging

log = logging.getLogger("bekal.service")


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
    from bekal.serve.worker import Worker  # imports gRPC: only in the forked worker

    code = Worker(config, supervised=True, purges=index == 0).run()
    sys.exit(code)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with closing(socket.socket(family, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _unusable(config: ServeConfig) -> str | None:
    """Why the workers could not start with these settings (the database, its key, the identities
    file), or None. Everything opened here is closed again before any worker is forked."""
    from bekal.serve.errors import ConfigError
    from bekal.serve.identity import read_identities
    from bekal.store import StoreError, open_stores

    try:
        read_identities(config.identities)
        open_stores(config.db, config.secret_file, config.facts_key_file).close()
    except (ConfigError, StoreError, OSError, ValueError) as exc:
        return str(exc)
    return None


def supervise(config: ServeConfig) -> int:
    """Fork ``config.workers`` serving processes on one port; forward signals; restart the dead."""
    problem = _unusable(config)
    if problem:  # once, here: not once per worker, restarted until the supervisor gives up
        log.error("cannot start: %s", problem)
        return 1
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
    worker_config = replace(config, listen=join_address(host, port))
    ctx = multiprocessing.get_context("fork")
    stopping = threading.Event()
    workers: dict[int, BaseProcess] = {}
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

    def on_stop(signum: int, _frame: FrameType | None) -> None:
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
