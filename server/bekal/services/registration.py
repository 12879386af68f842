"""Serving a ``bekal.v1`` service on the asyncio gRPC server: one gate every call goes through.

Every RPC of every service is registered here, so every call gets the same treatment:

1. **who** is calling, from its client certificate (:mod:`bekal.serve.identity`);
2. **may** it (:func:`bekal.access.authorize`: deny by default), and not too often
   (rule changes are rate-limited per caller);
3. **room**: streaming calls are bounded overall and per peer, so idle streams cannot
   take the server from others (asyncio: an idle stream costs no thread; health is
   answered on the event loop, never queued behind work);
4. **bytes in**: requests arrive undecoded and are parsed here, so garbage is
   ``INVALID_ARGUMENT`` (per message in a stream), not gRPC's ``INTERNAL``; a stream
   that sends nothing for ``idle_timeout`` seconds is closed;
5. **errors out**: a :class:`ServiceError` becomes its status with ``google.rpc`` details,
   anything else ``INTERNAL`` with a reference id (:func:`bekal.services.guard.to_status`);
6. **the audit trail**: who called what, when, about which pseudonymous client, and how
   it ended.

Handlers are ``async def Method(self, request, call)`` (a decoded message, or an async
iterator of messages and per-message :class:`ServiceError` for client streams); blocking
work (the engine, the stores) runs through :meth:`Call.run` on a bounded thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import DecodeError, Message

from bekal.access import RATE_LIMITED, Denied, Principal, Role, authorize
from bekal.serve.identity import Identities, Unknown
from bekal.services.errors import ServiceError, denied, internal
from bekal.services.guard import to_status
from bekal.store import AuditEvent, AuditLog

log = logging.getLogger("bekal.service")
T = TypeVar("T")


def serialize(message: Message | bytes) -> bytes:
    """A response as bytes: a message serialized, or bytes a fast encoder already produced."""
    return message if isinstance(message, bytes) else message.SerializeToString()


UNKNOWN_CALLER = Principal("unknown-certificate", Role.PUBLIC, authenticated=False)  # audited, never admitted


@dataclass(frozen=True)
class Limits:
    """What keeps one caller from starving the others."""

    streams: int = 64  # streaming calls open at once, in all
    streams_per_peer: int = 8  # ... from one network address
    idle_timeout: float = 60.0  # seconds a client stream may send nothing before it is closed
    rule_changes_per_minute: int = 30  # ValidateRules + ReloadRules per caller


@dataclass
class Call:
    """What a handler gets besides its request: who calls, where blocking work runs, what to audit."""

    principal: Principal
    method: str
    context: grpc.aio.ServicerContext[Any, Any]
    executor: Executor
    subjects: list[str] = field(default_factory=list)
    streaming: bool = False
    refused: ServiceError | None = None  # why the caller may not call at all (set by Gate.enter)
    stream_key: str | None = None  # whose stream count this call holds (set by Gate.admit)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking ``fn(*args)`` on the worker's thread pool (the event loop stays free)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def about(self, *subjects: str) -> None:
        """Note what the call is about, for the audit trail (pseudonymous ids only)."""
        self.subjects.extend(s for s in subjects if s)

    def check_deadline(self) -> None:
        """Work whose caller has already given up is not started."""
        remaining = self.context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise ServiceError("DEADLINE_EXCEEDED", "the call's deadline passed before it was decided")
        if self.context.cancelled():
            raise ServiceError("CANCELLED", "the caller cancelled the call")


class Gate:
    """Identity, authorization, admission and the audit trail for every call of a worker."""

    def __init__(self, identities: Identities, executor: Executor, limits: Limits = Limits(),
                 audit: AuditLog | None = None):
        self.identities = identities
        self.executor = executor
        self.limits = limits
        self.audit = audit
        self._streams = 0
        self._per_peer: dict[str, int] = {}
        self._changes: dict[str, list[float]] = {}

    def enter(self, context: grpc.aio.ServicerContext[Any, Any], method: str, streaming: bool) -> Call:
        """The call, once its caller is known (:attr:`Call.admitted` says whether it may proceed:
        :meth:`admit` raises the reason it may not). Every call is audited, refused ones too."""
        try:
            principal = self.identities.principal(context.auth_context())
        except Unknown as exc:
            return Call(UNKNOWN_CALLER, method, context, self.executor,
                        refused=ServiceError("UNAUTHENTICATED", str(exc), reason="CERTIFICATE_UNKNOWN"))
        return Call(principal, method, context, self.executor, streaming=streaming)

    def admit(self, call: Call) -> None:
        """May this caller make this call now? Raises the ServiceError saying why not."""
        if call.refused is not None:
            raise call.refused
        try:
            authorize(call.principal, call.method)
        except Denied as exc:
            raise denied(exc, "ROLE_NOT_ALLOWED") from None
        if call.method in RATE_LIMITED:
            self._rate_limit(call.principal, call.method)
        if call.streaming:
            # an agency's streams count together, wherever it connects from; callers without a
            # certificate count by network address
            key = call.principal.name if call.principal.authenticated else _address(call.context.peer())
            if self._streams >= self.limits.streams:
                raise ServiceError("RESOURCE_EXHAUSTED", f"the server has {self._streams} streams open, its limit; "
                                   "retry later", retry_after=1.0, reason="TOO_MANY_STREAMS")
            if self._per_peer.get(key, 0) >= self.limits.streams_per_peer:
                raise ServiceError("RESOURCE_EXHAUSTED", f"{self.limits.streams_per_peer} streams of yours are open, "
                                   "the limit per caller; close idle ones or retry later", retry_after=1.0,
                                   reason="TOO_MANY_STREAMS")
            self._streams += 1
            self._per_peer[key] = self._per_peer.get(key, 0) + 1
            call.stream_key = key

    def leave(self, call: Call, code: str) -> None:
        if call.stream_key is not None:
            self._streams -= 1
            left = self._per_peer.get(call.stream_key, 1) - 1
            if left:
                self._per_peer[call.stream_key] = left
            else:
                self._per_peer.pop(call.stream_key, None)
            call.stream_key = None
        if self.audit is not None:
            event = AuditEvent.now(call.principal.name, call.principal.role.value, call.method,
                                   tuple(dict.fromkeys(call.subjects))[:100], code)
            try:
                self.audit.record(event)
            except Exception as exc:  # the answer has gone; the failure is logged with a reference
                internal("audit trail", exc)

    def _rate_limit(self, principal: Principal, method: str) -> None:
        now = time.monotonic()
        recent = [t for t in self._changes.get(principal.name, []) if now - t < 60]
        if len(recent) >= self.limits.rule_changes_per_minute:
            raise ServiceError("RESOURCE_EXHAUSTED", f"at most {self.limits.rule_changes_per_minute} rule "
                               "validations and reloads a minute; retry later", retry_after=60 - (now - recent[0]),
                               reason="RATE_LIMITED")
        recent.append(now)
        self._changes[principal.name] = recent


def _address(peer: str) -> str:
    """``ipv4:127.0.0.1:5000`` -> ``ipv4:127.0.0.1`` (the port differs per connection)."""
    return peer.rsplit(":", 1)[0] if peer.count(":") >= 2 else peer


async def _fail(context: grpc.aio.ServicerContext[Any, Any], what: str, exc: BaseException) -> str:
    error = exc if isinstance(exc, ServiceError) else internal(what, exc)
    await context.abort_with_status(to_status(error))  # type: ignore[attr-defined]  # missing from grpc-stubs
    return error.code  # pragma: no cover - abort raises


def _decode(cls: type[Message], raw: bytes, what: str) -> Message:
    try:
        return cls.FromString(raw)
    except (DecodeError, RuntimeWarning, ValueError):
        raise ServiceError("INVALID_ARGUMENT", f"the {what} is not a valid {cls.DESCRIPTOR.full_name} message",
                           [("request", "could not be decoded")], reason="REQUEST_MALFORMED") from None


async def _messages(raw: AsyncIterator[bytes], cls: type[Message],
                    idle: float) -> AsyncIterator[Message | ServiceError]:
    """A client stream, decoded message by message; an undecodable one is a ServiceError in its place."""
    iterator = raw.__aiter__()
    while True:
        try:
            data = await asyncio.wait_for(iterator.__anext__(), idle)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise ServiceError("RESOURCE_EXHAUSTED", f"the stream sent nothing for {idle:.0f} s and was closed; "
                               "open a new one when there is work", reason="STREAM_IDLE") from None
        try:
            yield _decode(cls, data, "message")
        except ServiceError as err:
            yield err


def _request(raw: Any, cls: type[Message], client_streaming: bool, idle: float) -> Any:
    return _messages(raw, cls, idle) if client_streaming else _decode(cls, raw, "request")


Handler = Callable[..., Any]  # async def (request, call) -> response, or an async generator of responses


def register(server: grpc.aio.Server, service: ServiceDescriptor, servicer: Any, gate: Gate) -> str:
    """Serve ``servicer``'s methods (named as the service's RPCs) on ``server`` through ``gate``."""
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    for method in service.methods:
        name = f"/{service.full_name}/{method.name}"
        request = message_factory.GetMessageClass(method.input_type)
        impl = getattr(servicer, method.name)
        streaming = method.client_streaming or method.server_streaming
        behavior: Callable[..., Any]
        if method.server_streaming:
            behavior = _streaming_out(gate, name, request, impl, method.client_streaming, streaming)
            make = grpc.stream_stream_rpc_method_handler if method.client_streaming else \
                grpc.unary_stream_rpc_method_handler
        else:
            behavior = _unary_out(gate, name, request, impl, method.client_streaming, streaming)
            make = grpc.stream_unary_rpc_method_handler if method.client_streaming else \
                grpc.unary_unary_rpc_method_handler
        handlers[method.name] = make(behavior, request_deserializer=None, response_serializer=serialize)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    return service.full_name


@contextlib.asynccontextmanager
async def _served(gate: Gate, context: grpc.aio.ServicerContext[Any, Any], name: str,
                  streaming: bool) -> AsyncIterator[Call]:
    """One call through the gate: admitted or refused, its errors turned into statuses, audited."""
    code = "OK"
    call = gate.enter(context, name, streaming)
    try:
        gate.admit(call)
        yield call
    except asyncio.CancelledError:
        code = "CANCELLED"
        raise
    except Exception as exc:
        code = exc.code if isinstance(exc, ServiceError) else "INTERNAL"
        await _fail(context, name, exc)
    finally:
        gate.leave(call, code)


def _unary_out(gate: Gate, name: str, cls: type[Message], impl: Handler, client_streaming: bool,
               streaming: bool) -> Callable[..., Awaitable[Any]]:
    async def behavior(raw: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        async with _served(gate, context, name, streaming) as call:
            return await impl(_request(raw, cls, client_streaming, gate.limits.idle_timeout), call)
    return behavior


def _streaming_out(gate: Gate, name: str, cls: type[Message], impl: Handler, client_streaming: bool,
                   streaming: bool) -> Callable[..., AsyncIterator[Any]]:
    async def behavior(raw: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        async with _served(gate, context, name, streaming) as call:
            async for response in impl(_request(raw, cls, client_streaming, gate.limits.idle_timeout), call):
                yield response
    return behavior
