"""Monitoring at scale: a year of attendance for many enrolments through ``RecordTraining``, with alerts watched.

The real ``bekal serve`` in a subprocess (mutual TLS with development certificates made for the
run, an SQLite database in a temporary folder, the shipped rules). A BNN office enrols
``--enrolments`` clients; a training centre sends ``--days`` days of attendance for all of them
(one record per enrolment and day, in batches of ``--batch`` records, one call at a time, as a
BLK system would after each day's registers), with a seeded mix of present, late, excused and
absent days (some clients slip into runs of absences); a BNN office watches ``WatchAlerts``
(``follow``) the whole time.

Printed: records/s and alerts/s over the whole ingestion (the monitoring rules evaluated in
the same transaction as the records), and the delay from a batch's acknowledgement to each of
its alerts reaching the watching stream (p50, p99, max). The baseline, measured in the same run
on the same disk: the same rows inserted into a bare SQLite table (WAL, one transaction per
batch), the floor any store of these records pays; the ratio says what gRPC, validation, the
summaries and the rules cost on top.

    .venv/bin/python bench/monitoring_bench.py                      # 10,000 enrolments x 200 days = 2,000,000
    .venv/bin/python bench/monitoring_bench.py --enrolments 2000 --days 50   # a quick look
"""

from __future__ import annotations

import argparse
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

from bekal.certs import make_dev_certs
from bekal.client import connect
from bekal.v1 import monitoring_pb2

ROOT = Path(__file__).resolve().parent.parent
START = date(2019, 7, 1)  # LAS-SMAW-01's first day in rules/courses.yaml
STATUS = {"present": monitoring_pb2.ATTENDANCE_STATUS_PRESENT, "absent": monitoring_pb2.ATTENDANCE_STATUS_ABSENT,
          "excused": monitoring_pb2.ATTENDANCE_STATUS_EXCUSED, "late": monitoring_pb2.ATTENDANCE_STATUS_LATE}


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def attendance(enrolments: int, days: int, seed: int) -> list[list[str]]:
    """Per day, every enrolment's status: mostly present; one client in 50 slips into a run of absences."""
    rnd = random.Random(seed)
    slipping = {i for i in range(enrolments) if rnd.random() < 0.02}
    out = []
    for day in range(days):
        row = []
        for i in range(enrolments):
            r = rnd.random()
            if i in slipping and day >= 10 + i % 30:
                row.append("absent" if r < 0.8 else "present")
            else:
                row.append("present" if r < 0.9 else "late" if r < 0.95 else "excused" if r < 0.98 else "absent")
        out.append(row)
    return out


def baseline(folder: Path, eids: list[str], days: list[list[str]], batch: int) -> float:
    """Seconds to insert the same rows into a bare SQLite table, one transaction per batch."""
    db = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE attendance (record_id TEXT PRIMARY KEY, enrolment_id TEXT, session_date TEXT, "
               "status TEXT)")
    rows = ((f"d{d}-{i}", eid, (START + timedelta(days=d)).isoformat(), s)
            for d, statuses in enumerate(days) for i, (eid, s) in enumerate(zip(eids, statuses)))
    t0 = time.perf_counter()
    chunk: list[tuple[str, str, str, str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            db.execute("BEGIN")
            db.executemany("INSERT INTO attendance VALUES (?, ?, ?, ?)", chunk)
            db.execute("COMMIT")
            chunk = []
    if chunk:
        db.execute("BEGIN")
        db.executemany("INSERT INTO attendance VALUES (?, ?, ?, ?)", chunk)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enrolments", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=200, help="sessions per enrolment (a training year)")
    parser.add_argument("--batch", type=int, default=5_000, help="records per RecordTraining call")
    parser.add_argument("--seed", type=int, default=2019)
    ns = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bekal-monitoring-bench-"))
    certs = make_dev_certs(folder / "certs")
    port = free_port()
    address = f"127.0.0.1:{port}"
    log = open(folder / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-c", "from bekal.cli import main; main()", "serve", "--listen", address, "--rules",
         str(ROOT / "rules"), "--db", str(folder / "bekal.db"), "--workers", "1", "--reload-interval", "0",
         "--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key), "--tls-client-ca",
         str(certs.ca), "--identities", str(certs.identities)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def agency(name: str) -> dict[str, Path]:
        return {"root_certificates": certs.ca, "certificate_chain": certs.cert(name), "private_key": certs.key(name)}

    total = ns.enrolments * ns.days
    print(f"monitoring bench: {ns.enrolments:,} enrolments x {ns.days} days = {total:,} attendance records, "
          f"batches of {ns.batch:,}")
    try:
        with connect(address, timeout=600, **agency("bnnk-banjarbaru")) as bnn, \
                connect(address, timeout=600, **agency("blk-kalsel")) as blk:
            bnn.wait_until_serving(60)
            eids: list[str] = []
            for start in range(0, ns.enrolments, 10_000):
                part = [{"client_id": f"BENCH-{i:06d}", "course_code": "LAS-SMAW-01"}
                        for i in range(start, min(ns.enrolments, start + 10_000))]
                eids += [e.enrolment_id for e in bnn.create_enrolments(enrolments=part, request_id=f"bench-{start}")]
            days = attendance(ns.enrolments, ns.days, ns.seed)
            arrivals: dict[int, float] = {}
            stop = threading.Event()

            def watch() -> None:
                from bekal.client import BekalError

                with connect(address, timeout=600, **agency("bnnk-banjarbaru")) as watcher:
                    try:
                        for alert in watcher.watch_alerts(0):
                            arrivals[alert.sequence] = time.monotonic()
                            if stop.is_set() and len(arrivals) >= expected[0]:
                                return
                    except BekalError:
                        if not stop.is_set():  # the server stops at the end of the run: that is no failure
                            raise

            expected = [1 << 62]
            thread = threading.Thread(target=watch, daemon=True)
            thread.start()
            time.sleep(0.5)
            acks: list[tuple[float, int]] = []  # (ack time, alerts raised so far) per call
            raised = 0
            records = [(f"d{d}-{i}", eid, START + timedelta(days=d), s)
                       for d, statuses in enumerate(days) for i, (eid, s) in enumerate(zip(eids, statuses))]
            stub = blk._monitoring  # the client's stub: messages built once per batch, no dict conversion
            t0 = time.perf_counter()
            for start in range(0, len(records), ns.batch):
                request = monitoring_pb2.RecordTrainingRequest(attendance=[
                    monitoring_pb2.Attendance(record_id=rid, enrolment_id=eid, status=STATUS[s], session_date={
                        "year": day.year, "month": day.month, "day": day.day})
                    for rid, eid, day, s in records[start:start + ns.batch]])
                reply = stub.RecordTraining(request, timeout=600)
                raised += reply.alerts_raised
                acks.append((time.monotonic(), raised))
                done = start + ns.batch
                if done // ns.batch % 50 == 0:
                    rate = min(done, total) / (time.perf_counter() - t0)
                    print(f"  {min(done, total):>10,} records, {raised:,} alerts, {rate:,.0f} records/s", flush=True)
            elapsed = time.perf_counter() - t0
            expected[0] = raised
            stop.set()
            deadline = time.monotonic() + 60
            while len(arrivals) < raised and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    # alerts are numbered in the order they were committed (with gaps): the r-th alert belongs to the
    # call whose cumulative count first reaches r
    delays = []
    ranked = [arrivals[seq] for seq in sorted(arrivals)]
    previous = 0
    for ack_time, cumulative in acks:
        delays += [max(0.0, arrived - ack_time) for arrived in ranked[previous:cumulative]]
        previous = cumulative
    base = baseline(folder, eids, days, ns.batch)
    print(f"ingested      {total:,} records in {elapsed:.1f} s: {total / elapsed:,.0f} records/s")
    print(f"alerts        {raised:,} raised: {raised / elapsed:,.1f} alerts/s; {len(arrivals):,} reached the watcher")
    print(f"ack -> alert  p50 {percentile(delays, 50) * 1000:.0f} ms, p99 {percentile(delays, 99) * 1000:.0f} ms, "
          f"max {max(delays, default=float('nan')) * 1000:.0f} ms (n={len(delays):,})")
    print(f"baseline      bare SQLite inserts of the same rows: {total / base:,.0f} records/s "
          f"(bekal ingests at {base / elapsed:.2f}x of it)")
    return 0 if len(arrivals) == raised else 1


if __name__ == "__main__":
    sys.exit(main())
