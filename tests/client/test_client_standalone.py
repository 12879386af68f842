"""The client distribution stands alone: installed (not editable) into a fresh virtual environment, with
its declared dependencies and nothing of the server, it answers eligibility, rules and matching calls."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.servers import Server

SCRIPT = textwrap.dedent('''
    import sys
    from bekal.client import JobStatus, Outcome, connect

    client = {"id": "BNNK-BJB-2019-0001", "birth_date": "1994-03-01", "rehab_stage": "post_rehabilitation",
              "rehab_completed_date": "2019-02-28", "referrer": "bnn", "written_test_score": 72,
              "interview_score": 80, "education": "sma", "consent_to_share": True}
    ca, cert, key = sys.argv[2:5]  # mutual TLS, as BNNK Banjarbaru
    with connect(sys.argv[1], timeout=30, root_certificates=ca, certificate_chain=cert, private_key=key) as bekal:
        decision = bekal.check(client, "LAS-SMAW-01", as_of="2019-06-01", audience="bnn").decision
        assert decision.outcome is Outcome.ELIGIBLE and decision.priority > 0, decision
        assert "LAS-SMAW-01" in bekal.list_rulesets().course_codes
        cohort = [{**client, "id": f"C-{i}", "preferences": ["LAS-SMAW-01", "JHT-01"]} for i in range(30)]
        inline = bekal.match(cohort, as_of="2019-06-01", seed=7, audience="bnn")
        job = bekal.place_cohort(cohort, as_of="2019-06-01", seed=7, audience="bnn")
        assert job.job is not None and job.job.status is JobStatus.SUCCEEDED
        assert job.placements == inline.placements and job.summary == inline.summary
        assert inline.summary.placed > 0
    print("client ok")
''')


def run(*args: str | Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("BEKAL_")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_client_installs_and_works_without_the_server(tmp_path: Path, server: Server):
    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", venv, cwd=tmp_path, timeout=60)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # a copy: building the distribution writes build/ and *.egg-info next to its sources
    source = shutil.copytree(ROOT / "clients" / "python", tmp_path / "bekal-client",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    installed = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", source,
                    cwd=tmp_path, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    freeze = run(python, "-m", "pip", "freeze", cwd=tmp_path, timeout=60).stdout
    assert "bekal-client" in freeze and "durable" not in freeze and "\nbekal==" not in freeze, freeze
    for module in ("bekal.engine", "bekal.services", "bekal.store", "bekal.decision", "durable"):
        absent = run(python, "-c", f"import {module}", cwd=tmp_path, timeout=60)
        assert absent.returncode != 0 and "No module named" in absent.stderr, (module, absent.stderr)
    creds = server.credentials()
    works = run(python, "-c", SCRIPT, server.address, creds["root_certificates"], creds["certificate_chain"],
                creds["private_key"], cwd=tmp_path, timeout=120)
    assert works.returncode == 0 and "client ok" in works.stdout, works.stdout + works.stderr
