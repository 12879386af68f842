"""The store's errors: what a caller of :mod:`bekal.store` catches, by type.

Every error about the database itself is a :class:`StoreError`, a ``RuntimeError``: the server's
start-up prints its one-line message as ``cannot start: ...`` and exits 1, never a traceback.
Messages name files and SQLite's reason, never stored data.
"""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used: a database path that is a directory, a file that is not a database,
    a database written with another secret key, a secret file others can read. One line, no data."""


class StoreUnavailable(StoreError):
    """The store cannot take the write (or read) now -- locked too long, disk full, read-only, I/O
    error: nothing was changed, and the caller may retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float = 5.0):
        super().__init__(message)
        self.retry_after = retry_after


class SchemaTooNew(StoreError):
    """The database was written by a newer bekal: this one must not touch it."""


class JobConflict(Exception):
    """The request id was used before for a different upload."""
