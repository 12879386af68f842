"""What keeping decisions replayable costs, on this machine (figures: docs/performance.md, Replay):

- recording answered checks in the decision log in batches as the eligibility stream does (200 per
  transaction), with the facts sealed (AES-GCM under per-client data keys) against the same records
  without facts -- the baseline, measured in the same run on the same kind of file;
- one replay: a logged check decided again with its kept rules version (the version compiled once
  and cached), and the same with today's rules compared;
- a matching job of ``--job-clients`` clients run with its replay kept (input sealed, placements
  indexed) against the same job run without (the baseline), and the job's replay.

    .venv/bin/python bench/replay_bench.py [--checks 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bekal.access import Principal, Role  # noqa: E402
from bekal.services.eligibility.logic import Check, Eligibility  # noqa: E402
from bekal.services.replay.logic import Replayer  # noqa: E402
from bekal.services.snapshots import ServedRules  # noqa: E402
from bekal.store import LoggedRequest, SQLiteDecisionLog  # noqa: E402
from tests.support.people import eligible_facts  # noqa: E402

BATCH = 200
BNNK = Principal("bnnk-banjarbaru", Role.REFERRER, office="BNNK Banjarbaru")


def entries(n: int, sealed: bool, tag: str) -> list[LoggedRequest]:
    out = []
    for i in range(n):
        facts = eligible_facts(id=f"K{i:07d}") if sealed else None
        out.append(LoggedRequest(f"{tag}-{i}", f"fp-{tag}-{i}", f"K{i:07d}", "bnn", "sha256:0123456789abcdef",
                                 "2019-06-01", "LAS-SMAW-01 ELIGIBLE 10 priority/bnn-referral-priority",
                                 caller="bnnk-banjarbaru", parameters='{"min_age":18}', facts=facts))
    return out


def record_rate(folder: Path, n: int, sealed: bool) -> float:
    log = SQLiteDecisionLog(folder / f"{'sealed' if sealed else 'plain'}.db", checkpoint_every_s=0)
    batch = entries(n, sealed, "s" if sealed else "p")
    start = time.perf_counter()
    for i in range(0, n, BATCH):
        log.record(batch[i:i + BATCH])
    elapsed = time.perf_counter() - start
    log.close()
    return n / elapsed


def job_costs(folder: Path, n: int) -> None:
    from bekal.client.convert import client_message
    from bekal.services.matching import codec
    from bekal.services.matching.logic import Matching, MatchSettings
    from bekal.store import SQLiteJobStore
    from bekal.v1 import matching_pb2
    from tests.support.people import applicant

    rules = ServedRules(ROOT / "tests" / "fixtures" / "rules")
    rules.reload()
    clients = [applicant(f"K{i:07d}", "JHT-01", "LAS-SMAW-01", referrer="bnn" if i % 3 else "self") for i in range(n)]
    parts = [matching_pb2.UploadCohortRequest(request_id="bench", settings=codec.settings_pb(
        MatchSettings(date(2019, 6, 1), seed=2019, audience="bnn")))]
    parts += [matching_pb2.UploadCohortRequest(clients=[client_message(c) for c in clients[i:i + 2000]])
              for i in range(0, n, 2000)]
    times = {}
    for kept in (False, True):
        db = folder / f"job-{kept}.db"
        log = SQLiteDecisionLog(db, checkpoint_every_s=0)
        jobs = SQLiteJobStore(db)
        matching = Matching(rules, jobs, codec.ProtobufJobFormat(), replay_log=log if kept else None)
        job = matching.upload(codec.upload(parts), creator="bnnk-banjarbaru")
        start = time.perf_counter()
        matching.run_job(job.job_id)
        times[kept] = time.perf_counter() - start
        if kept:
            replayer = Replayer(log, rules).with_jobs(matching)
            start = time.perf_counter()
            replay = replayer.replay_job(job.job_id, BNNK)
            replay_s = time.perf_counter() - start
            assert replay.identical
            replayer.close()
        jobs.close()
        log.close()
    rules.close()
    print(f"matching job, {n} clients x 2 preferences:")
    print(f"  run without replay (baseline) {times[False]:6.2f} s")
    print(f"  run, kept for replay          {times[True]:6.2f} s   ratio {times[True] / times[False]:.2f}")
    print(f"  its replay (rebuild, place)   {replay_s:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--replays", type=int, default=200)
    parser.add_argument("--job-clients", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = record_rate(folder, args.checks, sealed=False)
        sealed = record_rate(folder, args.checks, sealed=True)
        print(f"decision log, {args.checks} checks in batches of {BATCH}:")
        print(f"  without facts (baseline)  {plain:10,.0f} checks/s")
        print(f"  facts sealed (AES-GCM)    {sealed:10,.0f} checks/s   ratio {sealed / plain:.2f}")

        rules = ServedRules(ROOT / "rules")
        rules.reload()
        log = SQLiteDecisionLog(folder / "replay.db", checkpoint_every_s=0)
        service = Eligibility(rules, log)
        for i in range(args.replays):
            service.check(Check(f"r-{i}", eligible_facts(id=f"K{i:07d}"), "LAS-SMAW-01", date(2019, 6, 1),
                                "bnn", fingerprint=f"f{i}", principal=BNNK))
        replayer = Replayer(log, rules)
        first = time.perf_counter()
        replayer.replay("r-0", BNNK)
        cold = time.perf_counter() - first
        for compare in (False, True):
            times = []
            for i in range(args.replays):
                t = time.perf_counter()
                replay = replayer.replay(f"r-{i}", BNNK, compare_current=compare)
                times.append(time.perf_counter() - t)
                assert replay.identical
            times.sort()
            label = "replay + today's rules" if compare else "replay"
            print(f"  {label:<24} p50 {statistics.median(times) * 1e3:6.2f} ms   "
                  f"p99 {times[int(len(times) * 0.99) - 1] * 1e3:6.2f} ms")
        print(f"  first replay of a version (rebuilds and compiles it): {cold * 1e3:.0f} ms")
        replayer.close()
        log.close()
        rules.close()
        job_costs(folder, args.job_clients)


if __name__ == "__main__":
    main()
