"""Deadlines and retries: one overall deadline per call, UNAVAILABLE retried with backoff and jitter."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import grpc

from bekal.client.errors import BekalError

RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})


@dataclass(frozen=True)
class RetryPolicy:
    """How a call failing with UNAVAILABLE (a server starting, draining or restarting) is tried again.

    ``retries``: at most this many times (None: no count limit); ``give_up_after``: not once the
    server has been unavailable this many seconds within the call (None: no such limit). Delays
    grow exponentially from ``backoff`` to ``max_backoff`` seconds, with jitter. The call's
    deadline bounds everything.
    """

    retries: int | None = 5
    backoff: float = 0.1
    max_backoff: float = 3.0
    give_up_after: float | None = None

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0))


class Attempts:
    """The attempts of one call under ``policy`` until ``deadline`` (``time.monotonic()``; None: none)."""

    def __init__(self, policy: RetryPolicy, deadline: float | None):
        self.policy = policy
        self.deadline = deadline
        self.attempt = 0
        self._unavailable_since: float | None = None

    def timeout(self) -> float | None:
        """What is left of the deadline, for the next attempt."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.monotonic(), 0.001)

    def progressed(self) -> None:
        """The call got an answer: count the retries afresh (streams that resume)."""
        self.attempt = 0
        self._unavailable_since = None

    def failed(self, exc: grpc.RpcError) -> None:
        """Sleep before the next attempt, or raise :class:`BekalError` when there is none."""
        now = time.monotonic()
        if exc.code() not in RETRYABLE:
            raise BekalError.from_rpc(exc) from None
        if self._unavailable_since is None:
            self._unavailable_since = now
        policy = self.policy
        delay = policy.delay(self.attempt)
        if (policy.retries is not None and self.attempt >= policy.retries) or (
                policy.give_up_after is not None and now - self._unavailable_since >= policy.give_up_after) or (
                self.deadline is not None and now + delay >= self.deadline):
            raise BekalError.from_rpc(exc) from None
        time.sleep(delay)
        self.attempt += 1
