"""Fixtures every suite may use: the default rules, loaded once, and an engine serving them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bekal.engine import Engine
from bekal.rulebook import Rulebook, load_rulebook
from tests.support.paths import RULES


@pytest.fixture(scope="session")
def default_rulebook() -> Rulebook:
    return load_rulebook(RULES)


@pytest.fixture(scope="module")
def default_engine(default_rulebook: Rulebook) -> Iterator[Engine]:
    engine = Engine(default_rulebook)
    yield engine
    engine.close()
