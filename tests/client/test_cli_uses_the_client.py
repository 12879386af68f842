"""``bekal check`` and ``bekal match --server`` talk to a server through :mod:`bekal.client` only: the rules,
the engine, the services and the stores are never loaded in those commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import EXAMPLES, ROOT
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import eligible_client
from tests.support.servers import Server

SERVER_SIDE = ("bekal.engine", "bekal.rulebook", "bekal.compiler", "bekal.lang", "bekal.services", "bekal.serve",
               "bekal.store", "durable")

# the command, and at exit a line naming every server-side module it imported
RUN = f"""
import atexit, sys
server_side = {SERVER_SIDE!r}
atexit.register(lambda: print("IMPORTED:", sorted(m for m in sys.modules if m.startswith(server_side)),
                              file=sys.stderr))
from bekal.cli import main
main()
"""


def bekal(*args: str) -> tuple[int, str, str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}
    proc = subprocess.run([sys.executable, "-c", RUN, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    imported = proc.stderr.rsplit("IMPORTED: ", 1)[-1]
    return proc.returncode, proc.stdout, proc.stderr, json.loads(imported.replace("'", '"'))


def test_check_imports_nothing_of_the_server(server: Server, tmp_path: Path):
    client = tmp_path / "client.json"
    client.write_text(json.dumps(eligible_client()))
    code, out, err, imported = bekal("check", *server.cli_args(), "--client", str(client),
                                     "--course", "LAS-SMAW-01", "--as-of", AS_OF, "--audience", "bnn")
    assert code == 0 and "outcome: ELIGIBLE" in out, err
    assert imported == []


def test_match_on_a_server_imports_nothing_of_the_server(server: Server, tmp_path: Path):
    code, out, err, imported = bekal("match", *server.cli_args(), "--as-of", AS_OF, "--no-progress",
                                     "--clients", str(EXAMPLES / "cohort.csv"), "--courses",
                                     str(EXAMPLES / "courses.csv"), "--out", str(tmp_path / "out.csv"))
    assert code == 0 and "placed 1" in out, err
    assert imported == []
