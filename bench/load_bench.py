"""A bounded load test on loopback, and what mutual TLS costs, all in one run on this machine.

For each transport -- plaintext on loopback (the baseline), server TLS, mutual TLS (the
production shape: each caller identified by its certificate) -- the real ``bekal serve``
is started and ``--callers`` threads, each on its own connection, send unary
``CheckEligibility`` calls (one client, one course) for ``--seconds``; printed: calls,
errors (must be 0), throughput, p50 and p99 latency, and the ratio to plaintext.

Then, on the mutual-TLS server, the idle-stream attack of issue 8: 200 streams that send
nothing, from one agency on one connection, while another agency's health checks and
eligibility checks are timed -- printed: their p50, p99 and maximum (target: health
within 100 ms).

    .venv/bin/python bench/load_bench.py [--callers 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bekal.client.convert import client_message, date_pb  # noqa: E402
from bekal.v1 import eligibility_pb2, eligibility_pb2_grpc  # noqa: E402
from tests.support.people import INTAKE_DATE, eligible_client  # noqa: E402
from tests.support.servers import Server  # noqa: E402

CLIENT = client_message(eligible_client())


def _request(n: int) -> eligibility_pb2.CheckEligibilityRequest:
    return eligibility_pb2.CheckEligibilityRequest(request_id=f"load-{n}", client=CLIENT, course_code="JHT-01",
                                                   as_of_date=date_pb(INTAKE_DATE))


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def load(server: Server, callers: int, seconds: float) -> dict[str, float]:
    """``callers`` threads, each on its own connection, calling for ``seconds``; the figures."""
    latencies: list[list[float]] = [[] for _ in range(callers)]
    errors = [0] * callers
    start_line = threading.Barrier(callers + 1)
    stop_at = [0.0]

    def caller(i: int) -> None:
        with server.channel() as channel:
            stub = eligibility_pb2_grpc.EligibilityServiceStub(channel)
            stub.CheckEligibility(_request(i * 10**9), timeout=30)  # connect and warm up
            start_line.wait()
            n = i * 10**9 + 1
            while time.perf_counter() < stop_at[0]:
                t = time.perf_counter()
                try:
                    stub.CheckEligibility(_request(n), timeout=30)
                except grpc.RpcError:
                    errors[i] += 1
                latencies[i].append(time.perf_counter() - t)
                n += 1

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + 3600
    start_line.wait()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    every = [x for per in latencies for x in per]
    return {"calls": len(every), "errors": sum(errors), "per_s": len(every) / elapsed,
            "p50_ms": 1000 * statistics.median(every), "p99_ms": 1000 * _percentile(every, 0.99)}


def attacked(server: Server, seconds: float) -> dict[str, float]:
    """Health and check latencies of one agency while another holds 200 idle streams."""
    stop = threading.Event()

    def nothing() -> Iterator[eligibility_pb2.CheckEligibilityStreamRequest]:
        stop.wait(seconds + 30)
        return
        yield

    health: list[float] = []
    checks: list[float] = []
    with server.channel(as_="blk-kalsel") as attacker, server.channel() as victim:
        stub = eligibility_pb2_grpc.EligibilityServiceStub(attacker)
        streams = [stub.CheckEligibilityStream(nothing(), timeout=seconds + 30) for _ in range(200)]
        time.sleep(1.0)
        probe = health_pb2_grpc.HealthStub(victim)
        check = eligibility_pb2_grpc.EligibilityServiceStub(victim)
        end = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < end:
            t = time.perf_counter()
            probe.Check(health_pb2.HealthCheckRequest(), timeout=5)
            health.append(time.perf_counter() - t)
            t = time.perf_counter()
            check.CheckEligibility(_request(2 * 10**12 + n), timeout=5)
            checks.append(time.perf_counter() - t)
            n += 1
            time.sleep(0.02)
        stop.set()
        for s in streams:
            s.cancel()
    return {"probes": len(health), "health_p50_ms": 1000 * statistics.median(health),
            "health_p99_ms": 1000 * _percentile(health, 0.99), "health_max_ms": 1000 * max(health),
            "check_p99_ms": 1000 * _percentile(checks, 0.99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--callers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rules", type=Path, default=ROOT / "rules")
    ap.add_argument("--rounds", type=int, default=2, help="runs per transport, interleaved; the best is shown")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bekal-load-"))
    print(f"bounded load: {args.callers} callers x {args.seconds:.0f} s of unary CheckEligibility, 1 worker; "
          f"best of {args.rounds} interleaved runs (errors: all runs)")
    print(f"{'transport':<12} {'calls':>8} {'errors':>6} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs plain':>9}")
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "tls": [], "mtls": []}
    for n in range(args.rounds):  # interleaved, so a slow spell of the machine hits every transport
        for security in runs:
            server = Server(tmp, args.rules, "--log-level", "WARNING", security=security, reload_interval="0",
                            db=tmp / f"{security}-{n}.db")
            try:
                server.wait_serving()
                runs[security].append(load(server, args.callers, args.seconds))
            finally:
                server.stop()
    results = {security: max(rs, key=lambda r: r["per_s"]) for security, rs in runs.items()}
    base = results["plain"]
    for security, r in results.items():
        errors = sum(x["errors"] for x in runs[security])
        print(f"{security:<12} {r['calls']:>8.0f} {errors:>6.0f} {r['per_s']:>9.0f} {r['p50_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {r['per_s'] / base['per_s']:>8.2f}x")
    server = Server(tmp, args.rules, "--log-level", "WARNING", reload_interval="0", db=tmp / "attack.db")
    try:
        server.wait_serving()
        a = attacked(server, args.seconds)
    finally:
        server.stop()
    print(f"\nunder attack (200 idle streams from one agency, mutual TLS): {a['probes']} probes; health "
          f"p50 {a['health_p50_ms']:.2f} ms, p99 {a['health_p99_ms']:.2f} ms, max {a['health_max_ms']:.2f} ms "
          f"(target < 100 ms); a check from another agency p99 {a['check_p99_ms']:.2f} ms")
    if any(r["errors"] for rs in runs.values() for r in rs):
        raise SystemExit("errors under bounded load")


if __name__ == "__main__":
    main()
