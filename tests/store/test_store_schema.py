"""A database a newer bekal wrote is refused at open, by every store, naming the store and both versions.

Migrating it down would silently lose what this version does not know (columns, tables), so the
server must not start on it; the operator sees one line saying which part is newer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bekal.store import SchemaTooNew, open_stores
from bekal.store.audit import SCHEMA_VERSION as AUDIT_VERSION
from bekal.store.decisionlog import SCHEMA_VERSION as LOG_VERSION
from bekal.store.jobs import SCHEMA_VERSION as JOBS_VERSION
from bekal.store.monitoring import SCHEMA_VERSION as MONITORING_VERSION


def newer(db: Path, where: str) -> None:
    with sqlite3.connect(db) as conn:
        if where == "user_version":
            conn.execute(f"PRAGMA user_version = {LOG_VERSION + 1}")
        else:
            conn.execute(f"UPDATE {where} SET version = version + 1")


@pytest.mark.parametrize(("where", "what", "current"), [
    ("user_version", "database schema", LOG_VERSION),
    ("match_schema", "matching job schema", JOBS_VERSION),
    ("audit_schema", "audit trail schema", AUDIT_VERSION),
    ("monitoring_schema", "monitoring schema", MONITORING_VERSION),
])
def test_a_newer_schema_is_refused_at_open(tmp_path: Path, where: str, what: str, current: int):
    db = tmp_path / "bekal.db"
    open_stores(db).close()
    open_stores(db).close()  # the same version opens again, unchanged
    newer(db, where)
    with pytest.raises(SchemaTooNew) as refused:
        open_stores(db)
    assert str(refused.value) == f"{db}: {what} {current + 1} is newer than this bekal ({current})"
