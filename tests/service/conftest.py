"""Helpers for the service tests: the real server as a subprocess on a free loopback port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import Server

HERE = Path(__file__).parent
TEST_RULES = HERE / "rules"
AS_OF = "2019-06-01"


def adult(**overrides) -> dict:
    """A client every test rule lets through (25 years old on AS_OF, passed the written test)."""
    client = {
        "id": "BNNK-BJB-2019-0001",
        "birth_date": "1994-03-01",
        "rehab_stage": "post_rehabilitation",
        "rehab_completed_date": "2019-02-28",
        "referrer": "bnn",
        "referring_office": "BNNK Banjarbaru",
        "written_test_score": 72,
        "interview_score": 80,
        "education": "sma",
        "consent_to_share": True,
    }
    client.update(overrides)
    return {k: v for k, v in client.items() if v is not None}


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A private copy of the test rules, free to edit."""
    target = tmp_path / "rules"
    shutil.copytree(TEST_RULES, target)
    return target


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    """Start servers with ``start_server(rules_dir, *args, workers=1)``; all are stopped at the end."""
    servers: list[Server] = []

    def start(rules: Path, *args: str, workers: int = 1, wait: str = "serving", env: dict | None = None) -> Server:
        server = Server(tmp_path, rules, *args, workers=workers, env=env)
        servers.append(server)
        if wait == "serving":
            server.wait_serving()
        elif wait == "listening":
            server.wait_listening()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """One shared server on the test rules, for tests that do not change it."""
    tmp = tmp_path_factory.mktemp("shared")
    rules = tmp / "rules"
    shutil.copytree(TEST_RULES, rules)
    srv = Server(tmp, rules)
    try:
        srv.wait_serving()
        yield srv
    finally:
        code = srv.stop()
        assert code == 0, srv.log()
