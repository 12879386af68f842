"""How long the decision log keeps a decision's facts: ``retention_days``, then they are deleted.

The facts are kept only so that a decision can be replayed (UU 27/2022: personal data no longer
than its purpose needs). Past the retention period :func:`purge_expired` deletes them -- at the
server's start and daily, or by ``bekal log purge`` -- and with a client's last facts its data key
(:mod:`bekal.store.sealing`); ids, rules versions and outcomes stay, so the log still shows what
was decided, only no longer replays it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bekal.store.decisionlog import DecisionLog


def cutoff(retention_days: int, now: datetime | None = None) -> str:
    """The ISO timestamp (UTC, as the store writes them) before which facts are past retention."""
    moment = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def purge_expired(log: DecisionLog, retention_days: int, now: datetime | None = None) -> int:
    """Delete the facts recorded more than ``retention_days`` ago; the number of checks purged."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return log.purge(cutoff(retention_days, now))
