"""The Node client's stream throughput next to the Python client's, measured in the same run.

One real ``bekal serve`` (mutual TLS, the repository's rules/, a fresh database), then the same
checks -- N clients, one course each, as BNNK Banjarbaru -- streamed through
``CheckEligibilityStream`` by the Python client (``bekal.client``: ``check_many``) and by the
Node client (clients/node: ``BekalClient.checkMany``, run as ``node dist/bench/stream.js``), with
the same batch size and window, alternately, best of ``--rounds``. Prints checks per second of each
and the ratio Node / Python. Needs ``make node`` (clients/node built) first; ``make bench-node`` does both.

    .venv/bin/python bench/node_client_bench.py [--checks 5000] [--batch 250] [--window 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bekal.client import Check  # noqa: E402
from tests.support.servers import Server, dev_certs  # noqa: E402

CLIENT = {"birth_date": "1996-08-17", "rehab_stage": "post_rehabilitation", "rehab_completed_date": "2019-03-30",
          "referrer": "bnn", "written_test_score": 71, "interview_score": 80, "education": "smk",
          "consent_to_share": True}
AS_OF = "2019-05-16"


def python_round(server: Server, n: int, batch: int, window: int, tag: str) -> float:
    with server.connect(timeout=600) as api:
        warm = [Check({**CLIENT, "id": f"BENCH-{i}"}, "LAS-SMAW-01", request_id=f"py-warm-{tag}-{i}")
                for i in range(500)]
        list(api.check_many(warm, as_of=AS_OF, audience="bnn", batch_size=batch, window=window))
        checks = [Check({**CLIENT, "id": f"BENCH-{i}"}, "LAS-SMAW-01", request_id=f"py-{tag}-{i}") for i in range(n)]
        start = time.perf_counter()
        results = list(api.check_many(checks, as_of=AS_OF, audience="bnn", batch_size=batch, window=window))
        seconds = time.perf_counter() - start
    assert len(results) == n and all(r.ok for r in results), "the Python run had failed checks"
    return n / seconds


def node_round(server: Server, n: int, batch: int, window: int, node_path: str) -> float:
    certs = dev_certs()
    out = subprocess.run(
        ["node", str(ROOT / "clients" / "node" / "dist" / "bench" / "stream.js"), server.address, str(certs.ca),
         str(certs.cert("bnnk-banjarbaru")), str(certs.key("bnnk-banjarbaru")), str(n), str(batch), str(window)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "PATH": f"{node_path}:{os.environ['PATH']}"},
        check=True)
    figures = json.loads(out.stdout)
    assert figures["checks"] == n and figures["failed"] == 0, figures
    return float(n / figures["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    ns = parser.parse_args()
    node_path = subprocess.run([sys.executable, str(ROOT / "tools" / "node_bin.py")], capture_output=True, text=True,
                               check=True).stdout.strip()
    if not (ROOT / "clients" / "node" / "dist" / "bench" / "stream.js").exists():
        print("clients/node is not built: run `make node` (or `make bench-node`)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bekal-node-bench-") as tmp:
        server = Server(Path(tmp), ROOT / "rules")
        try:
            server.wait_serving()
            py, node = [], []
            for r in range(ns.rounds):  # alternately, so both see the same machine load
                py.append(python_round(server, ns.checks, ns.batch, ns.window, str(r)))
                node.append(node_round(server, ns.checks, ns.batch, ns.window, node_path))
        finally:
            server.stop()
    print(f"CheckEligibilityStream, {ns.checks:,} checks (1 client x 1 course each) per round, batch {ns.batch}, "
          f"window {ns.window}, best of {ns.rounds}, mutual TLS on loopback, one server process:")
    print(f"  Python client (bekal.client check_many): {max(py):9,.0f} checks/s   rounds: "
          + ", ".join(f"{x:,.0f}" for x in py))
    print(f"  Node client (clients/node checkMany):    {max(node):9,.0f} checks/s   rounds: "
          + ", ".join(f"{x:,.0f}" for x in node))
    print(f"  ratio Node / Python: {max(node) / max(py):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
