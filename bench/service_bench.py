"""gRPC service figures, all in one run on this machine (targets: docs/performance.md):

- single ``CheckEligibility`` latency p50/p99 over loopback (one client x one course);
- ``CheckEligibilityStream`` throughput in decisions per second with 1 and with 2
  worker processes (each check = one client against every offered course);
- the raw engine rates for the same ruleset and pairs, in this process:
  ``Engine.decide_many`` (bekal's engine end to end) and the hand-written
  durable_rules baseline of ``bench/engine_bench.py`` (the raw durable_rules rate).

The server is the real ``bekal serve`` in a subprocess with an SQLite decision log in a
temporary folder, serving mutual TLS (the production shape: the load generator calls as
BNNK Banjarbaru with development certificates made for the run, ``bekal.certs``; ``--plain``
for plaintext and anonymous callers). The load generator sends pre-serialised messages over
several streams (each its own connection, pulling from one shared queue) and does not parse
the answers (except to check a sample), so the client costs the machine as little as
possible. Both share the machine's cores, as they would on a 2-core box.

    .venv/bin/python bench/service_bench.py [--clients 2000] [--latency-calls 2000] [--plain]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).parent))
from engine_bench import hand_events, run_hand  # noqa: E402
from workload import AS_OF, clients  # noqa: E402

from bekal.certs import DevCerts, make_dev_certs  # noqa: E402
from bekal.client.convert import client_message, date_pb  # noqa: E402
from bekal.engine import Engine  # noqa: E402
from bekal.rulebook import load_rulebook, offered_courses  # noqa: E402
from bekal.v1 import eligibility_pb2  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STREAM = "/bekal.v1.EligibilityService/CheckEligibilityStream"
UNARY = "/bekal.v1.EligibilityService/CheckEligibility"
identity = lambda b: b  # noqa: E731


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, rules: Path, workers: int, tmp: Path, certs: DevCerts | None):
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        db = tmp / f"bench-{workers}.db"
        self.log = open(tmp / f"server-{workers}.log", "wb")
        tls = [] if certs is None else ["--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key),
                                        "--tls-client-ca", str(certs.ca), "--identities", str(certs.identities)]
        who = {} if certs is None else {"root_certificates": certs.ca, "certificate_chain": certs.cert(CALLER),
                                        "private_key": certs.key(CALLER)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from bekal.cli import main; main()", "serve", "--listen", self.target,
             "--rules", str(rules), "--db", str(db), "--workers", str(workers), "--reload-interval", "0",
             "--log-level", "WARNING", *tls],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        from bekal.client import connect

        with connect(self.target, timeout=30, retries=30, backoff=0.1, max_backoff=0.5, **who) as api:
            api.wait_until_serving(60)
        time.sleep(0.5 if workers == 1 else 1.5)  # let every worker finish starting

    def pids(self) -> list[int]:
        """The serving processes: the workers under the supervisor, or the server itself."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        return [int(p) for p in out] or [self.proc.pid]

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)
        self.log.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health_floor(target: str, calls: int) -> tuple[float, float]:
    """p50/p99 of an empty call (health check): what gRPC in Python costs before any work."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with channel(target) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        request = health_pb2.HealthCheckRequest()
        times = []
        for _ in range(calls + 200):
            t0 = time.perf_counter()
            stub.Check(request, timeout=10)
            times.append(time.perf_counter() - t0)
    times = sorted(times[200:])
    return times[len(times) // 2] * 1000, times[int(0.99 * len(times))] * 1000


CALLER = "bnnk-banjarbaru"  # a BNN office: the BNN view, as the baseline measured it
_CREDENTIALS: list[grpc.ChannelCredentials] = []  # set by main() once the certificates exist (--plain: none)
AUDIENCE = [eligibility_pb2.AUDIENCE_BNN]  # --plain: unspecified (an anonymous caller's view)


def channel(target: str) -> grpc.Channel:
    # a local subchannel pool: every channel gets its own TCP connection (so SO_REUSEPORT spreads them)
    options = [("grpc.use_local_subchannel_pool", 1), ("grpc.max_receive_message_length", 256 << 20)]
    if not _CREDENTIALS:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, _CREDENTIALS[0], options=options)


def latency(target: str, people: list, course: str, calls: int, tag: str) -> tuple[float, float, float]:
    with channel(target) as ch:
        call = ch.unary_unary(UNARY, request_serializer=identity, response_deserializer=identity)
        requests = [
            eligibility_pb2.CheckEligibilityRequest(
                request_id=f"{tag}-lat-{i}", client=people[i % len(people)], course_code=course,
                as_of_date=date_pb(AS_OF), audience=AUDIENCE[0],
            ).SerializeToString()
            for i in range(calls + 200)
        ]
        for r in requests[:200]:  # warm up
            call(r, timeout=10)
        times = []
        for r in requests[200:]:
            t0 = time.perf_counter()
            call(r, timeout=10)
            times.append(time.perf_counter() - t0)
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))] * 1000  # noqa: E731
    return q(0.50), q(0.99), statistics.fmean(times) * 1000


def stream_batches(people: list, per_message: int, tag: str) -> list[bytes]:
    out = []
    for start in range(0, len(people), per_message):
        msg = eligibility_pb2.CheckEligibilityStreamRequest()
        for i, person in enumerate(people[start:start + per_message], start):
            c = msg.checks.add()
            c.request_id = f"{tag}-{i}"
            c.client.CopyFrom(person)
            c.as_of_date.CopyFrom(date_pb(AS_OF))
            c.audience = AUDIENCE[0]
        out.append(msg.SerializeToString())
    return out


def throughput(target: str, people: list, n_courses: int, streams: int, per_message: int, window: int,
               tag: str) -> tuple[float, int, float]:
    """Decisions per second over ``streams`` concurrent streams, each on its own connection.

    The streams pull messages from one shared queue, as a bulk loader would, so a worker
    that gets more connections than another does not leave the other idle at the end.
    """
    queue = iter(stream_batches(people, per_message, tag))
    queue_lock = threading.Lock()
    channels = [channel(target) for _ in range(streams)]
    for ch in channels:
        grpc.channel_ready_future(ch).result(timeout=10)
    errors: list[str] = []
    answered = [0] * streams
    sent = [0] * streams

    def run(i: int) -> None:
        call = channels[i].stream_stream(STREAM, request_serializer=identity, response_deserializer=identity)
        slots = threading.Semaphore(window)

        def requests():
            while True:
                slots.acquire()
                with queue_lock:
                    batch = next(queue, None)
                if batch is None:
                    return
                sent[i] += 1
                yield batch

        first = True
        try:
            for raw in call(requests(), timeout=600):
                slots.release()
                answered[i] += 1
                if first:  # check one answer in full
                    first = False
                    resp = eligibility_pb2.CheckEligibilityStreamResponse.FromString(raw)
                    bad = [r for r in resp.results if r.WhichOneof("result") != "response"]
                    if bad or len(resp.results[0].response.decisions) != n_courses:
                        errors.append(f"unexpected answer: {resp.results[0]}")
        except grpc.RpcError as exc:
            errors.append(f"{exc.code()}: {exc.details()}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for ch in channels:
        ch.close()
    if errors:
        raise SystemExit(f"stream errors: {errors[:3]}")
    assert answered == sent, (answered, sent)
    decisions = len(people) * n_courses
    return decisions / elapsed, decisions, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=6000, help="clients per throughput run")
    ap.add_argument("--latency-calls", type=int, default=2000)
    ap.add_argument("--per-message", type=int, default=50, help="checks per stream message")
    ap.add_argument("--streams", type=int, default=8,
                    help="concurrent streams, each on its own connection (the kernel spreads them over workers)")
    ap.add_argument("--window", type=int, default=4, help="messages in flight per stream")
    ap.add_argument("--rules", type=Path, default=ROOT / "rules")
    ap.add_argument("--plain", action="store_true",
                    help="plaintext loopback, anonymous callers (a training centre's view) instead of mutual TLS")
    ns = ap.parse_args()

    rulebook = load_rulebook(ns.rules)
    codes = offered_courses(rulebook.courses, AS_OF)
    people_facts = clients(ns.clients)
    people = [client_message(c) for c in people_facts]
    pairs = [(c, rulebook.courses[k]) for c in people_facts[:2000] for k in codes]
    print(f"ruleset {rulebook.version}: {len(rulebook.compiled.rules)} rules, {len(codes)} courses offered on "
          f"{AS_OF}; {ns.clients} clients -> {ns.clients * len(codes)} decisions per throughput run; "
          f"{os.cpu_count()} cores")

    engine = Engine(rulebook)
    engine.decide_many(pairs[:500], AS_OF)
    best_engine = min(_timed(lambda: engine.decide_many(pairs, AS_OF)) for _ in range(3))
    engine.close()
    best_hand = min(run_hand(hand_events(pairs), True)[0] for _ in range(3))
    engine_rate, hand_rate = len(pairs) / best_engine, len(pairs) / best_hand

    rows = []
    with tempfile.TemporaryDirectory(prefix="bekal-bench-") as tmp:
        rules_copy = Path(tmp) / "rules"
        shutil.copytree(ns.rules, rules_copy)
        certs = None if ns.plain else make_dev_certs(Path(tmp) / "certs")
        if certs is None:
            AUDIENCE[0] = eligibility_pb2.AUDIENCE_UNSPECIFIED
        else:
            _CREDENTIALS.append(grpc.ssl_channel_credentials(
                certs.ca.read_bytes(), certs.key(CALLER).read_bytes(), certs.cert(CALLER).read_bytes()))
        for workers in (1, 2):
            server = Server(rules_copy, workers, Path(tmp), certs)
            try:
                floor = health_floor(server.target, ns.latency_calls)
                p50, p99, mean = latency(server.target, people, codes[0], ns.latency_calls, f"w{workers}")
                throughput(server.target, people[: max(200, ns.clients // 10)], len(codes), ns.streams,
                           ns.per_message, ns.window, f"warm{workers}")
                pids = server.pids()
                before = [cpu_seconds(p) for p in pids]
                mine = os.times()
                rate, n, secs = throughput(server.target, people, len(codes), ns.streams, ns.per_message,
                                           ns.window, f"w{workers}")
                split = [cpu_seconds(p) - b for p, b in zip(pids, before)]
                now = os.times()
                split.append(now.user + now.system - mine.user - mine.system)
            finally:
                server.stop()
            rows.append((workers, p50, p99, mean, rate, n, secs, floor, split))

    print()
    print("raw engine, this process, one core:")
    print(f"  durable_rules hand-written baseline (raw rate) {hand_rate:>10,.0f} decisions/s")
    print(f"  bekal Engine.decide_many                       {engine_rate:>10,.0f} decisions/s")
    print()
    print(f"gRPC service over loopback (stream: {ns.streams} streams x {ns.per_message} checks/message, "
          f"window {ns.window}):")
    print(f"  {'workers':>7} {'unary p50':>10} {'unary p99':>10} {'mean':>8} {'stream decisions/s':>19} "
          f"{'vs raw':>7} {'vs engine':>9}   CPU s: workers | client (wall s)")
    for workers, p50, p99, mean, rate, _n, secs, _floor, split in rows:
        print(f"  {workers:>7} {p50:>8.2f}ms {p99:>8.2f}ms {mean:>6.2f}ms {rate:>19,.0f} "
              f"{rate / hand_rate:>6.0%} {rate / engine_rate:>9.0%}   "
              f"{' + '.join(f'{c:.2f}' for c in split[:-1])} | {split[-1]:.2f} ({secs:.2f})")
    print("  empty call (health check) for reference: " + ", ".join(
        f"{w} worker(s) p50 {f[0]:.2f}ms p99 {f[1]:.2f}ms" for w, *_, f, _s in rows))
    print("  unary p50 / empty call p50: " + ", ".join(
        f"{w} worker(s) {p50 / f[0]:.2f}" for w, p50, *_, f, _s in rows))
    print()
    print("targets (docs/performance.md): unary p99 < 2 ms; unary p50 <= 1.5 x the empty call's; stream >= 60% of "
          "the raw durable_rules rate; >= 20,000 decisions/s with the server on both cores")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
