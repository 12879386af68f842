"""Storage behind small interfaces: the decision log and the match jobs, in SQLite by default.

- :mod:`bekal.store.decisionlog` -- every answered eligibility check, once per request id (no facts);
- :mod:`bekal.store.jobs` -- matching jobs, their input until they end, and their results;
- :mod:`bekal.store.owners` -- which worker process owns a job, and whether it still lives;
- :mod:`bekal.store.sqlite` -- the one SQLite helper both use (location, WAL, transactions);
- :mod:`bekal.store.errors` -- what callers catch.

The store keeps no personal data beyond a running job's input: decisions are logged by request id
with the pseudonymous client id, never the facts. A PostgreSQL implementation of the same interfaces
can serve several server replicas later.
"""

from __future__ import annotations

from pathlib import Path

from bekal.store.decisionlog import DecisionLog, LoggedDecision, LoggedRequest, Recorded, SQLiteDecisionLog
from bekal.store.errors import JobConflict, SchemaTooNew, StoreUnavailable
from bekal.store.jobs import JobStore, SQLiteJobStore
from bekal.store.sqlite import sqlite_path


def open_decision_log(location: str | Path) -> DecisionLog:
    """The decision log named by ``--db``: a file path (SQLite), ``:memory:``, or ``sqlite:///path``."""
    return SQLiteDecisionLog(sqlite_path(location))


def open_job_store(location: str | Path) -> JobStore:
    """The job store named by ``--db`` (as :func:`open_decision_log`; the same file holds both)."""
    return SQLiteJobStore(sqlite_path(location))


__all__ = ["DecisionLog", "JobConflict", "JobStore", "LoggedDecision", "LoggedRequest", "Recorded", "SchemaTooNew",
           "StoreUnavailable", "open_decision_log", "open_job_store"]
