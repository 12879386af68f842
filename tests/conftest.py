"""Fixtures every suite may use: the default rules, loaded once, an engine serving them, and a private copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bekal.engine import Engine
from bekal.rulebook import Rulebook, load_rulebook
from tests.support.paths import RULES, copy_of


@pytest.fixture(scope="session")
def default_rulebook() -> Rulebook:
    return load_rulebook(RULES)


@pytest.fixture(scope="module")
def default_engine(default_rulebook: Rulebook) -> Iterator[Engine]:
    engine = Engine(default_rulebook)
    yield engine
    engine.close()


@pytest.fixture
def default_rules_dir(tmp_path: Path) -> Path:
    """A private copy of the default rules, free to edit."""
    return copy_of(RULES, tmp_path)
