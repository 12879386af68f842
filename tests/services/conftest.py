"""Fixtures for the service tests: a private copy of their rules, and the real server as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bekal.services.snapshots import ServedRules
from tests.support.paths import RULES, TEST_RULES, copy_of
from tests.support.servers import Server


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A private copy of the test rules, free to edit."""
    return copy_of(TEST_RULES, tmp_path)


@pytest.fixture(scope="module")
def rules() -> Iterator[ServedRules]:
    """The programme's rules (the tests' copy) served in-process once per module, for logic tests
    that read them and change nothing; a module that edits its rules defines its own ``rules``."""
    served = ServedRules(RULES)
    served.reload()
    yield served
    served.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    """Start servers with ``start_server(rules_dir, *args, workers=1)``; all are stopped at the end."""
    servers: list[Server] = []

    def start(rules: Path, *args: str, workers: int = 1, wait: str = "serving", env: dict | None = None,
              security: str = "mtls") -> Server:
        server = Server(tmp_path, rules, *args, workers=workers, env=env, security=security)
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
    srv = Server(tmp, copy_of(TEST_RULES, tmp))
    try:
        srv.wait_serving()
        yield srv
    finally:
        code = srv.stop()
        assert code == 0, srv.log()
