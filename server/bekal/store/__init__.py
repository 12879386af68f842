"""Storage behind small interfaces: the decision log, the match jobs and the audit trail, in SQLite by default.

- :mod:`bekal.store.decisionlog` -- every answered eligibility check, once per request id, with what
  replays it: the rules versions it used, and its facts sealed (:mod:`bekal.store.sealing`);
- :mod:`bekal.store.jobs` -- matching jobs, their input until they end, and their results;
- :mod:`bekal.store.monitoring` -- enrolments, attendance, conduct, outcomes and monitoring alerts;
- :mod:`bekal.store.audit` -- who called what, when, about which pseudonymous client (append-only);
- :mod:`bekal.store.owners` -- which worker process owns a job, and whether it still lives;
- :mod:`bekal.store.secrets` -- the secret key of the keyed digests (``secret_file``);
- :mod:`bekal.store.sqlite` -- the one SQLite helper they use (location, WAL, transactions, errors);
- :mod:`bekal.store.errors` -- what callers catch: every database problem is a :class:`StoreError`
  (a ``RuntimeError``: the server prints ``cannot start: ...``), a failed write :class:`StoreUnavailable`.

The store keeps no personal data in the clear beyond a running job's input: decisions are logged by
request id with the pseudonymous client id, their facts only sealed (AES-GCM, erasable per client,
deleted after the retention period), and request digests only keyed (HMAC). A
PostgreSQL implementation of the same interfaces can serve several server replicas later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bekal.store.audit import AuditEvent, AuditLog, SQLiteAuditLog
from bekal.store.decisionlog import DecisionLog, Erasure, LoggedDecision, LoggedRequest, Recorded, SQLiteDecisionLog
from bekal.store.errors import JobConflict, SchemaTooNew, StoreError, StoreUnavailable
from bekal.store.jobs import JobStore, SQLiteJobStore
from bekal.store.monitoring import MonitoringStore, SQLiteMonitoringStore
from bekal.store.sealing import FactsUnreadable
from bekal.store.secrets import secret_for
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


def open_audit_log(location: str | Path) -> AuditLog:
    """The audit trail named by ``--db`` (the same file; its own tables, and a writer thread)."""
    return SQLiteAuditLog(sqlite_path(location))


@dataclass(frozen=True)
class Stores:
    """Every store of one server process, on one database file and one key."""

    decisions: DecisionLog
    jobs: JobStore
    audit: AuditLog
    monitoring: MonitoringStore

    def close(self) -> None:
        """Close them all (the audit trail last: it writes what is still queued)."""
        self.decisions.close()
        self.jobs.close()
        self.monitoring.close()
        self.audit.close()


def open_stores(location: str | Path, secret_file: str | Path | None = None,
                facts_key_file: str | Path | None = None) -> Stores:
    """The decision log, job store and audit trail named by ``--db``, keyed by ``secret_file``.

    ``secret_file`` None: ``bekal.key`` next to the database (``:memory:``: a random key).
    ``facts_key_file`` seals the decision log's facts (:mod:`bekal.store.sealing`); None:
    ``bekal-facts.key`` next to the database.
    Raises :class:`StoreError` (a ``RuntimeError``; one line, never the key) when the database or
    the key file cannot be used; nothing is left open then.
    """
    path = sqlite_path(location)
    secret = None if secret_file is None else secret_for(path, secret_file)  # None: each store loads the default
    decisions = SQLiteDecisionLog(path, secret=secret, facts_key_file=facts_key_file)
    try:
        jobs = SQLiteJobStore(path, secret=secret)
    except BaseException:
        decisions.close()
        raise
    try:
        monitoring = SQLiteMonitoringStore(path)
    except BaseException:
        decisions.close()
        jobs.close()
        raise
    try:
        audit = SQLiteAuditLog(path)
    except BaseException:
        decisions.close()
        jobs.close()
        monitoring.close()
        raise
    return Stores(decisions, jobs, audit, monitoring)


__all__ = ["AuditEvent", "AuditLog", "DecisionLog", "Erasure", "FactsUnreadable", "JobConflict", "JobStore",
           "LoggedDecision", "LoggedRequest", "MonitoringStore", "Recorded", "SchemaTooNew", "Stores", "StoreError",
           "StoreUnavailable", "open_audit_log", "open_decision_log", "open_job_store", "open_stores"]
