"""What every group of calls shares: the channel, each call's deadline, the retry policy, the audience."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from bekal.client.retry import Attempts, RetryPolicy

R = TypeVar("R")


class Calls:
    """Base of the call groups (:class:`bekal.client.Client` combines them)."""

    channel: grpc.Channel
    timeout: float  # each call's deadline in seconds, retries included
    retry: RetryPolicy
    audience: str | None  # default audience: "bnn", "blk", or None (the server's default, "blk")

    def attempts(self, timeout: float | None) -> Attempts:
        """The attempts of one call, with ``timeout`` (default: the client's) as its deadline."""
        budget = self.timeout if timeout is None else timeout
        return Attempts(self.retry, time.monotonic() + budget)

    def unary(self, method: Callable[..., R], request: Any, timeout: float | None) -> R:
        """A unary call with one overall deadline and retries with backoff on UNAVAILABLE."""
        attempts = self.attempts(timeout)
        while True:
            try:
                return method(request, timeout=attempts.timeout())
            except grpc.RpcError as exc:
                attempts.failed(exc)

    def retrying(self, call: Callable[[float | None], R], timeout: float | None) -> R:
        """``call(time left)`` retried like :meth:`unary`: for streams (which restart from their start)."""
        attempts = self.attempts(timeout)
        while True:
            try:
                return call(attempts.timeout())
            except grpc.RpcError as exc:
                attempts.failed(exc)
