"""What the audit trail costs per event, on this machine (figures: docs/operators.md, Audit trail):

- on the caller's thread: ``SQLiteAuditLog.record`` (checks the event, puts it on the queue),
  p50 / p99 / mean, from 1 and from 8 threads at once -- the cost a call pays;
- in the background: the writer's work per event (its inserts, in batches of 2,000 in one
  transaction each), and the rate sustained while one thread records as fast as it can
  (``record`` of N events until ``flush`` returns: both threads share the GIL);
- for comparison, what auditing on the request path would cost: one insert and one
  commit per event (WAL, ``synchronous=NORMAL``, as the other stores).

Events are the size of a typical call: one principal, one method, two subjects.

    .venv/bin/python bench/audit_bench.py [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bekal.store.audit import AuditEvent, SQLiteAuditLog
from bekal.store.sqlite import connect, transaction

METHOD = "/bekal.v1.EligibilityService/CheckEligibility"


def events(n: int, offset: int = 0) -> list[AuditEvent]:
    return [AuditEvent.now("BNN Kalimantan Selatan", "caseworker", METHOD, (f"K{offset + i:07d}", "LAS-SMAW-01"))
            for i in range(n)]


def caller_cost(folder: Path, n: int, threads: int) -> list[float]:
    log = SQLiteAuditLog(folder / f"caller-{threads}.db", queue_size=max(10_000, n))
    batches = [events(n // threads, k * n) for k in range(threads)]
    samples: list[list[float]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def run(k: int) -> None:
        out, record, clock = samples[k], log.record, time.perf_counter_ns
        start.wait()
        for event in batches[k]:
            t0 = clock()
            record(event)
            out.append((clock() - t0) / 1000)

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    log.close()
    return sorted(s for part in samples for s in part)


def writer_work(folder: Path, n: int, batch: int = 2_000) -> float:
    log = SQLiteAuditLog(folder / "work.db")
    batches = [events(batch, k) for k in range(0, n, batch)]
    t0 = time.perf_counter()
    for part in batches:
        log._write(part)  # what the writer thread does with one batch
    elapsed = time.perf_counter() - t0
    log.close()
    return elapsed


def writer_rate(folder: Path, n: int) -> float:
    log = SQLiteAuditLog(folder / "writer.db", queue_size=n + 1)
    batch = events(n)
    t0 = time.perf_counter()
    for event in batch:
        log.record(event)
    assert log.flush(600)
    elapsed = time.perf_counter() - t0
    log.close()
    return elapsed


def commit_per_event(folder: Path, n: int) -> float:
    SQLiteAuditLog(folder / "sync.db").close()  # the same tables
    db = connect(str(folder / "sync.db"), 10.0)
    lock = threading.Lock()
    batch = events(n)
    t0 = time.perf_counter()
    for e in batch:
        with transaction(db, lock) as cur:
            seq = cur.execute("INSERT INTO audit_event (time, principal, role, method, subjects, code)"
                              " VALUES (?, ?, ?, ?, ?, ?)",
                              (e.time, e.principal, e.role, e.method, json.dumps(list(e.subjects)), e.code)).lastrowid
            cur.executemany("INSERT INTO audit_subject VALUES (?, ?)", ((s, seq) for s in e.subjects))
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


def percentile(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    n = args.events
    with tempfile.TemporaryDirectory(prefix="bekal-audit-bench-") as tmp:
        folder = Path(tmp)
        for threads in (1, 8):
            xs = caller_cost(folder, n, threads)
            print(f"record() from {threads} thread(s): p50 {percentile(xs, 0.5):.1f} us, "
                  f"p99 {percentile(xs, 0.99):.1f} us, mean {statistics.fmean(xs):.1f} us per event")
        elapsed = writer_work(folder, n)
        print(f"writer's work (in the background, batches of 2,000): {elapsed / n * 1e6:.1f} us per event")
        elapsed = writer_rate(folder, n)
        print(f"sustained, one thread recording as fast as it can: {n / elapsed:,.0f} events/s "
              f"({elapsed / n * 1e6:.1f} us per event, record and write; {n:,} events)")
        sync_n = min(n, 5_000)
        elapsed = commit_per_event(folder, sync_n)
        print(f"for comparison, one commit per event on the request path: {elapsed / sync_n * 1e6:.1f} us per "
              f"event ({sync_n:,} events)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
