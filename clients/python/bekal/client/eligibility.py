"""Eligibility calls: one check, or many over one stream with resends on reconnect."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import grpc

from bekal.client import convert
from bekal.client.calls import Calls
from bekal.client.errors import BekalError
from bekal.client.results import CheckResult
from bekal.client.retry import Attempts
from bekal.v1 import eligibility_pb2, eligibility_pb2_grpc, facts_pb2

ClientFacts = Mapping[str, Any] | facts_pb2.Client
Batch = list[eligibility_pb2.CheckEligibilityRequest]


@dataclass(frozen=True)
class Check:
    """One check for :meth:`EligibilityCalls.check_many`: a client against one course (or all offered)."""

    client: ClientFacts
    course: str | None = None
    as_of: date | str | None = None
    request_id: str | None = None
    explain: bool = False


class EligibilityCalls(Calls):
    _eligibility: eligibility_pb2_grpc.EligibilityServiceStub

    def _request(self, client: ClientFacts, course: str | None, as_of: date | str | None, audience: str | None,
                 explain: bool, request_id: str | None) -> eligibility_pb2.CheckEligibilityRequest:
        return eligibility_pb2.CheckEligibilityRequest(
            request_id=request_id or uuid.uuid4().hex,
            client=convert.client_message(client),
            course_code=course or "",
            as_of_date=convert.as_of_pb(as_of),
            audience=convert.audience_pb(self.audience if audience is None else audience),
            explain=explain,
        )

    def check(self, client: ClientFacts, course: str | None = None, *, as_of: date | str | None = None,
              audience: str | None = None, explain: bool = False, request_id: str | None = None,
              timeout: float | None = None) -> CheckResult:
        """Decide ``client`` (a mapping of Client fields, or a ``bekal.v1.Client``) against
        ``course``, or against every course offered on ``as_of`` when ``course`` is None.

        ``audience`` is "bnn" (case management: every reason) or "blk" (training centre:
        shareable reasons only, needs the client's consent); default: the server's
        default, the training-centre view. Raises :class:`BekalError`.
        """
        request = self._request(client, course, as_of, audience, explain, request_id)
        return convert.result_from(self.unary(self._eligibility.CheckEligibility, request, timeout))

    def check_many(self, checks: Iterable[Check | tuple[Any, ...] | ClientFacts], *,
                   as_of: date | str | None = None, audience: str | None = None,
                   batch_size: int = 200, window: int = 8,
                   timeout: float | None = None) -> Iterator[CheckResult]:
        """Bulk checks over one stream; yields one :class:`CheckResult` per check, in order.

        Items are :class:`Check`, ``(client, course)`` tuples, or bare clients (all offered
        courses). A bad check yields a result whose ``error`` is set; the stream goes on.
        At most ``window`` batches are in flight. If the connection fails with UNAVAILABLE
        (a server restarting or draining), unanswered batches are resent on a new stream
        with the same request ids, so nothing is decided twice in the server's log.
        ``timeout`` bounds the whole stream (default: none).
        """
        source = iter(self._batches(checks, as_of, audience, batch_size))
        pending: deque[Batch] = deque()
        lock = threading.Lock()
        attempts = Attempts(self.retry, None if timeout is None else time.monotonic() + timeout)
        exhausted = False
        while True:
            slots = threading.Semaphore(max(1, window - len(pending)))
            closed = threading.Event()
            with lock:  # a generator of a failed attempt can no longer add to pending (see below)
                resend = list(pending)

            def requests(resend: list[Batch] = resend, slots: threading.Semaphore = slots,
                         closed: threading.Event = closed) -> Iterator[eligibility_pb2.CheckEligibilityStreamRequest]:
                nonlocal exhausted
                for batch in resend:
                    yield eligibility_pb2.CheckEligibilityStreamRequest(checks=batch)
                while not closed.is_set():
                    if not slots.acquire(timeout=0.1):
                        continue
                    with lock:
                        if exhausted or closed.is_set():
                            return
                        fresh: Batch | None = next(source, None)
                        if fresh is None:
                            exhausted = True
                            return
                        pending.append(fresh)
                    yield eligibility_pb2.CheckEligibilityStreamRequest(checks=fresh)

            call = self._eligibility.CheckEligibilityStream(requests(), timeout=attempts.timeout())
            try:
                for response in call:
                    with lock:
                        batch = pending.popleft()
                    slots.release()
                    attempts.progressed()
                    for request, item in zip(batch, response.results):
                        if item.WhichOneof("result") == "error":
                            yield CheckResult(request.request_id, error=BekalError.from_status(item.error))
                        else:
                            yield convert.result_from(item.response)
                with lock:
                    done = exhausted and not pending
                if done:
                    return
                raise BekalError("INTERNAL", "the server closed the stream before answering every check")
            except grpc.RpcError as exc:
                attempts.failed(exc)
            finally:
                closed.set()
                call.cancel()

    def _batches(self, checks: Iterable[Any], as_of: date | str | None, audience: str | None,
                 size: int) -> Iterator[Batch]:
        batch: Batch = []
        for item in checks:
            if isinstance(item, eligibility_pb2.CheckEligibilityRequest):
                request = item
            else:
                if isinstance(item, tuple):
                    item = Check(*item)
                elif not isinstance(item, Check):
                    item = Check(item)
                request = self._request(item.client, item.course, item.as_of or as_of, audience,
                                        item.explain, item.request_id)
            batch.append(request)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch
