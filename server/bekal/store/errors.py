"""The store's errors: what a caller of :mod:`bekal.store` catches, by type."""

from __future__ import annotations


class StoreUnavailable(RuntimeError):
    """The store cannot take the write now (locked too long, disk full, ...): the caller may retry."""


class SchemaTooNew(RuntimeError):
    """The database was written by a newer bekal: this one must not touch it."""


class JobConflict(Exception):
    """The request id was used before for a different upload."""
