"""Storage behind small interfaces: the decision log and the match jobs, in SQLite by default.

- :mod:`bekal.store.decisionlog` -- every answered eligibility check, once per request id (no facts);
- :mod:`bekal.store.jobs` -- matching jobs, their input until they end, and their results;
- :mod:`bekal.store.owners` -- which worker process owns a job, and whether it still lives;
- :mod:`bekal.store.secrets` -- the secret key of the keyed digests (``secret_file``);
- :mod:`bekal.store.sqlite` -- the one SQLite helper they use (location, WAL, transactions, errors);
- :mod:`bekal.store.errors` -- what callers catch: every database problem is a :class:`StoreError`
  (a ``RuntimeError``: the server prints ``cannot start: ...``), a failed write :class:`StoreUnavailable`.

The store keeps no personal data beyond a running job's input: decisions are logged by request id
with the pseudonymous client id, never the facts, and request digests only keyed (HMAC). A
PostgreSQL implementation of the same interfaces can serve several server replicas later.
"""

from __future__ import annotations

from pathlib import Path

from bekal.store.decisionlog import DecisionLog, LoggedDecision, LoggedRequest, Recorded, SQLiteDecisionLog
from bekal.store.errors import JobConflict, SchemaTooNew, StoreError, StoreUnavailable
from bekal.store.jobs import JobStore, SQLiteJobStore
from bekal.store.sqlite import sqlite_path


def open_decision_log(location: str | Path, secret: bytes | None = None) -> DecisionLog:
    """The decision log named by ``--db``: a file path (SQLite), ``:memory:``, or ``sqlite:///path``.

    ``secret`` keys the request fingerprints (:func:`bekal.store.secrets.secret_for`); None: the key
    file ``bekal.key`` next to the database (created if missing), or a random key for ``:memory:``.
    Raises :class:`StoreError` (one line) when the database or the key cannot be used.
    """
    return SQLiteDecisionLog(sqlite_path(location), secret=secret)


def open_job_store(location: str | Path, secret: bytes | None = None) -> JobStore:
    """The job store named by ``--db`` (as :func:`open_decision_log`; the same file holds both)."""
    return SQLiteJobStore(sqlite_path(location), secret=secret)


__all__ = ["DecisionLog", "JobConflict", "JobStore", "LoggedDecision", "LoggedRequest", "Recorded", "SchemaTooNew",
           "StoreError", "StoreUnavailable", "open_decision_log", "open_job_store"]
