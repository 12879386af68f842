"""Registering a servicer for a ``bekal.v1`` service: one function for every service.

Like the generated ``add_*Servicer_to_server`` functions, except that the handlers
are found from the service's descriptor, and a handler may return already-encoded
bytes (the hand-written fast encoders) as well as messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

_KINDS: dict[tuple[bool, bool], Callable[..., grpc.RpcMethodHandler[Any, Any]]] = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def serialize(message: Message | bytes) -> bytes:
    """A response as bytes: a message serialized, or bytes a fast encoder already produced."""
    return message if isinstance(message, bytes) else message.SerializeToString()


def register(server: grpc.Server, service: ServiceDescriptor, servicer: Any) -> str:
    """Serve ``servicer``'s methods (named as the service's RPCs) on ``server``; the service's full name."""
    handlers = {}
    for method in service.methods:
        kind = _KINDS[(method.client_streaming, method.server_streaming)]
        request = message_factory.GetMessageClass(method.input_type)
        handlers[method.name] = kind(getattr(servicer, method.name), request_deserializer=request.FromString,
                                     response_serializer=serialize)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)  # type: ignore[attr-defined]
    return service.full_name
