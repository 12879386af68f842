"""Fixtures for the placement tests; helpers live in placementhelp.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bekal.engine import Engine
from bekal.rulebook import Rulebook, load_rulebook
from placementhelp import RULES


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return load_rulebook(RULES)


@pytest.fixture(scope="module")
def engine(rulebook: Rulebook) -> Iterator[Engine]:
    eng = Engine(rulebook)
    yield eng
    eng.close()
