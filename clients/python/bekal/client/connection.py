"""A connection to a bekal server: deadlines, retries with backoff on UNAVAILABLE, plain results."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import grpc

from bekal.client import convert
from bekal.client.errors import BekalError
from bekal.client.results import CheckResult, Reload, Rulesets, RulesetSource, Validation
from bekal.v1 import eligibility_pb2, eligibility_pb2_grpc, rules_pb2, rules_pb2_grpc

DEFAULT_TARGET = "127.0.0.1:50051"
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})


@dataclass(frozen=True)
class Check:
    """One check for :meth:`Client.check_many`: a client against one course (or all offered)."""

    client: Mapping[str, Any] | Any
    course: str | None = None
    as_of: date | str | None = None
    request_id: str | None = None
    explain: bool = False


def _read(value: bytes | str | Path | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def connect(
    target: str = DEFAULT_TARGET,
    *,
    tls: bool = False,
    root_certificates: bytes | str | Path | None = None,
    private_key: bytes | str | Path | None = None,
    certificate_chain: bytes | str | Path | None = None,
    server_name: str | None = None,
    timeout: float = 10.0,
    retries: int = 5,
    backoff: float = 0.1,
    max_backoff: float = 3.0,
    audience: str | None = None,
) -> "Client":
    """Open a channel to ``target`` (``host:port``).

    ``tls=True`` (or any certificate argument) uses TLS: ``root_certificates`` to
    trust a private CA, ``private_key``/``certificate_chain`` for mutual TLS,
    ``server_name`` to override the name checked in the server's certificate.
    Without TLS the channel is plaintext: meant for loopback and private networks.

    ``timeout`` is each call's deadline in seconds, retries included;
    ``retries`` is how many times a call failing with UNAVAILABLE is retried,
    with exponential backoff from ``backoff`` to ``max_backoff`` seconds (with jitter).
    """
    options = [
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ("grpc.keepalive_time_ms", 30_000),
    ]
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    if tls or root_certificates or private_key or certificate_chain:
        creds = grpc.ssl_channel_credentials(
            _read(root_certificates), _read(private_key), _read(certificate_chain)
        )
        channel = grpc.secure_channel(target, creds, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    return Client(channel, timeout=timeout, retries=retries, backoff=backoff,
                  max_backoff=max_backoff, audience=audience)


class Client:
    """The bekal API with plain Python arguments and results. Thread-safe; close when done."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 10.0, retries: int = 5,
                 backoff: float = 0.1, max_backoff: float = 3.0, audience: str | None = None):
        self.channel = channel
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.audience = audience
        self._eligibility = eligibility_pb2_grpc.EligibilityServiceStub(channel)
        self._rules = rules_pb2_grpc.RulesServiceStub(channel)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    # ------------------------------------------------------------------ plumbing

    def _delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)

    def _call(self, method: Any, request: Any, timeout: float | None) -> Any:
        """A unary call with one overall deadline and retries with backoff on UNAVAILABLE."""
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                return method(request, timeout=max(remaining, 0.001))
            except grpc.RpcError as exc:
                if exc.code() not in RETRYABLE or attempt >= self.retries:
                    raise BekalError.from_rpc(exc) from None
                delay = self._delay(attempt)
                if time.monotonic() + delay >= deadline:
                    raise BekalError.from_rpc(exc) from None
                time.sleep(delay)
                attempt += 1

    def _audience(self, audience: str | None) -> int:
        value = self.audience if audience is None else audience
        try:
            return convert.AUDIENCES[value.lower() if value else value]
        except KeyError:
            raise ValueError(f"audience must be 'bnn' or 'blk', got {value!r}") from None

    def _request(self, client: Any, course: str | None, as_of: Any, audience: str | None,
                 explain: bool, request_id: str | None) -> eligibility_pb2.CheckEligibilityRequest:
        return eligibility_pb2.CheckEligibilityRequest(
            request_id=request_id or uuid.uuid4().hex,
            client=convert.client_message(client),
            course_code=course or "",
            as_of_date=convert.as_of_text(as_of),
            audience=self._audience(audience),
            explain=explain,
        )

    # ------------------------------------------------------------------ eligibility

    def check(self, client: Mapping[str, Any] | Any, course: str | None = None, *,
              as_of: date | str | None = None, audience: str | None = None, explain: bool = False,
              request_id: str | None = None, timeout: float | None = None) -> CheckResult:
        """Decide ``client`` (a mapping of Client fields, or a ``bekal.v1.Client``) against
        ``course``, or against every course offered on ``as_of`` when ``course`` is None.

        ``audience`` is "bnn" (case management: every reason) or "blk" (training centre:
        shareable reasons only, needs the client's consent); default: the server's
        default, the training-centre view. Raises :class:`BekalError`.
        """
        request = self._request(client, course, as_of, audience, explain, request_id)
        return convert.result_from(self._call(self._eligibility.CheckEligibility, request, timeout))

    def check_many(self, checks: Iterable[Check | tuple | Mapping[str, Any]], *,
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
        pending: deque[list[eligibility_pb2.CheckEligibilityRequest]] = deque()
        lock = threading.Lock()
        deadline = None if timeout is None else time.monotonic() + timeout
        attempt = 0
        exhausted = False
        while True:
            slots = threading.Semaphore(max(1, window - len(pending)))
            closed = threading.Event()
            with lock:  # a generator of a failed attempt can no longer add to pending (see below)
                resend = list(pending)

            def requests(resend=resend, slots=slots, closed=closed):
                nonlocal exhausted
                for batch in resend:
                    yield eligibility_pb2.CheckEligibilityStreamRequest(checks=batch)
                while not closed.is_set():
                    if not slots.acquire(timeout=0.1):
                        continue
                    with lock:
                        if exhausted or closed.is_set():
                            return
                        batch = next(source, None)
                        if batch is None:
                            exhausted = True
                            return
                        pending.append(batch)
                    yield eligibility_pb2.CheckEligibilityStreamRequest(checks=batch)

            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            call = self._eligibility.CheckEligibilityStream(requests(), timeout=remaining)
            try:
                for response in call:
                    with lock:
                        batch = pending.popleft()
                    slots.release()
                    attempt = 0
                    for request, item in zip(batch, response.results):
                        kind = item.WhichOneof("result")
                        if kind == "error":
                            yield CheckResult(request.request_id,
                                              error=BekalError.from_check_error(item.error))
                        else:
                            yield convert.result_from(item.response)
                with lock:
                    done = exhausted and not pending
                if done:
                    return
                raise BekalError("INTERNAL", "the server closed the stream before answering every check")
            except grpc.RpcError as exc:
                if exc.code() not in RETRYABLE or attempt >= self.retries:
                    raise BekalError.from_rpc(exc) from None
                delay = self._delay(attempt)
                if deadline is not None and time.monotonic() + delay >= deadline:
                    raise BekalError.from_rpc(exc) from None
                time.sleep(delay)
                attempt += 1
            finally:
                closed.set()
                call.cancel()

    def _batches(self, checks: Iterable[Any], as_of: Any, audience: str | None,
                 size: int) -> Iterator[list[eligibility_pb2.CheckEligibilityRequest]]:
        batch: list[eligibility_pb2.CheckEligibilityRequest] = []
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

    # ------------------------------------------------------------------ rules

    def list_rulesets(self, *, timeout: float | None = None) -> Rulesets:
        pb = self._call(self._rules.ListRulesets, rules_pb2.ListRulesetsRequest(), timeout)
        return Rulesets(pb.ruleset_version, tuple(convert.ruleset_from(r) for r in pb.rulesets),
                        tuple(pb.course_codes))

    def get_ruleset(self, name: str, *, timeout: float | None = None) -> RulesetSource:
        pb = self._call(self._rules.GetRuleset, rules_pb2.GetRulesetRequest(name=name), timeout)
        return RulesetSource(pb.ruleset_version, convert.ruleset_from(pb.ruleset), pb.source)

    def validate_rules(self, files: Mapping[str, str] | Sequence[str | Path], *, overlay: bool = False,
                       timeout: float | None = None) -> Validation:
        """Dry-run rule files: a mapping ``path -> text``, or paths of files to read."""
        if not isinstance(files, Mapping):
            files = {Path(p).name: Path(p).read_text(encoding="utf-8") for p in files}
        request = rules_pb2.ValidateRulesRequest(
            files=[rules_pb2.RuleFile(path=p, content=t) for p, t in files.items()], overlay_loaded=overlay,
        )
        pb = self._call(self._rules.ValidateRules, request, timeout)
        return Validation(pb.valid, pb.ruleset_version or None,
                          tuple(convert.diagnostic_from(d) for d in pb.diagnostics), tuple(pb.rulesets))

    def reload_rules(self, *, timeout: float | None = None) -> Reload:
        pb = self._call(self._rules.ReloadRules, rules_pb2.ReloadRulesRequest(), timeout)
        return Reload(pb.ruleset_version, pb.previous_version or None, pb.changed)

    # ------------------------------------------------------------------ health

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """The server's health for ``service`` ("" = overall): "SERVING", "NOT_SERVING", ..."""
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        stub = health_pb2_grpc.HealthStub(self.channel)
        pb = self._call(stub.Check, health_pb2.HealthCheckRequest(service=service), timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(pb.status)

    def wait_until_serving(self, timeout: float = 30.0) -> None:
        """Block until the server reports SERVING (a valid ruleset is loaded)."""
        deadline = time.monotonic() + timeout
        last: BaseException | str = "no answer"
        while time.monotonic() < deadline:
            try:
                status = self.health(timeout=min(2.0, max(deadline - time.monotonic(), 0.01)))
                if status == "SERVING":
                    return
                last = status
            except BekalError as exc:
                last = exc
            time.sleep(0.05)
        raise BekalError("DEADLINE_EXCEEDED", f"server not serving after {timeout} s (last: {last})")
