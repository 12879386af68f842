"""A server on the default rules for the client tests (module-scoped: the tests do not change it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import Server, default_rules_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = default_rules_server(tmp_path_factory.mktemp("client"))
    try:
        srv.wait_serving()
        yield srv
    finally:
        assert srv.stop() == 0, srv.log()
