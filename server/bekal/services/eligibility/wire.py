"""Hand-written protobuf encoding of the eligibility responses: the bulk path's hot loop.

Building ``bekal.v1.Decision`` messages field by field in Python costs more per
decision than the rest of the service together. But most of a decision repeats:
the engine hands out the same immutable ``Reason`` object for every decision
with the same rule and values, course codes and versions repeat. So reasons are
encoded once and cached by identity, and a decision is the concatenation of
cached pieces in protobuf wire format. The result is byte-for-byte what the
generated code would parse as the same message (tests/services/test_wire.py
checks it against :mod:`bekal.services.eligibility.codec` for every field).

Only the non-explain path is encoded here; explain traces go through the
generated classes (:func:`bekal.services.codec.decision_pb`), which stays the reference.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from datetime import date

from bekal.decision import Decision, FactValue, Reason
from bekal.services.codec import ENUM_PREFIX, OUTCOME_PB, decision_pb
from bekal.services.eligibility.logic import CheckResult
from bekal.services.errors import ServiceError
from bekal.services.guard import status_pb
from bekal.v1 import decision_pb2, eligibility_pb2

_LIMIT = 100_000


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int32/int64 negatives: ten bytes, two's complement
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (tag byte already includes wire type 2)."""
    n = len(payload)
    return bytes((tag, n)) + payload if n < 0x80 else bytes((tag,)) + varint(n) + payload


def _str(tag: int, text: str) -> bytes:
    return _len(tag, text.encode("utf-8")) if text else b""


def _fact(f: FactValue) -> bytes:
    out = _str(0x0A, f.name)
    v = f.value
    if v is None:
        return out
    if isinstance(v, bool):
        return out + b"\x28" + (b"\x01" if v else b"\x00")
    if isinstance(v, int):
        return out + b"\x18" + varint(v)
    if isinstance(v, float):
        return out + b"\x21" + _pack_double(v)
    if isinstance(v, date):
        return out + _len(0x32, _date(v))
    if f.name in ENUM_PREFIX:
        return out + _len(0x3A, (ENUM_PREFIX[f.name] + str(v).upper()).encode("utf-8"))
    return out + _len(0x12, str(v).encode("utf-8"))


def _date(d: date) -> bytes:
    """A ``google.type.Date``: year (1), month (2), day (3), each a varint (never 0 for a real date)."""
    return b"\x08" + varint(d.year) + b"\x10" + varint(d.month) + b"\x18" + varint(d.day)


_pack_double = struct.Struct("<d").pack


class Encoder:
    """Encodes decisions and responses; caches per-reason and per-string bytes (bounded)."""

    def __init__(self) -> None:
        self._reasons: dict[int, tuple[Reason, bytes]] = {}
        self._strings: dict[tuple[int, str], bytes] = {}

    def reason(self, r: Reason) -> bytes:
        hit = self._reasons.get(id(r))
        if hit is not None and hit[0] is r:
            return hit[1]
        if len(self._reasons) >= _LIMIT:
            self._reasons.clear()
        parts = [
            _str(0x0A, r.rule_id), _str(0x12, r.ruleset),
            b"\x18" + varint(OUTCOME_PB[r.outcome]),
            *[_len(0x32, _fact(f)) for f in r.facts],
            _str(0x3A, r.source),
            b"\x40\x01" if r.shareable else b"",
            b"\x48" + varint(r.priority) if r.priority else b"",
            *[_len(0x52, m.encode("utf-8")) for m in r.missing],
            _len(0x5A, _str(0x0A, "id") + _str(0x12, r.message_id)),  # messages: LocalizedText, id then en
            _len(0x5A, _str(0x0A, "en") + _str(0x12, r.message_en)),
        ]
        encoded = _len(0x22, b"".join(parts))  # as Decision.reasons (field 4)
        self._reasons[id(r)] = (r, encoded)
        return encoded

    def string(self, tag: int, text: str) -> bytes:
        key = (tag, text)
        hit = self._strings.get(key)
        if hit is None:
            if len(self._strings) >= _LIMIT:
                self._strings.clear()
            hit = self._strings[key] = _str(tag, text)
        return hit

    def decision(self, d: Decision, client_field: bytes, tail: bytes) -> bytes:
        """``client_field``: encoded client_id; ``tail``: encoded ruleset_version + as_of_date (field 7)."""
        if d.trace:
            msg = decision_pb2.Decision()
            decision_pb(d, msg)
            return msg.SerializeToString()
        reason = self.reason
        body = b"".join((
            client_field,
            self.string(0x12, d.course_code),
            b"\x18" + varint(OUTCOME_PB[d.outcome]),
            *[reason(r) for r in d.reasons],
            b"\x28" + varint(d.priority) if d.priority else b"",
            tail,
            *[_len(0x42, m.encode("utf-8")) for m in d.missing],
        ))
        return body

    def response(self, result: CheckResult) -> bytes:
        """A ``CheckEligibilityResponse``."""
        version = result.ruleset_version
        parts = [_str(0x0A, result.request_id), self.string(0x12, version), _len(0x1A, _date(result.as_of))]
        tails: dict[tuple[str, date], bytes] = {}
        clients: dict[str, bytes] = {}
        for d in result.decisions:
            key = (d.ruleset_version, d.as_of)
            tail = tails.get(key)
            if tail is None:
                tail = tails[key] = self.string(0x32, d.ruleset_version) + _len(0x3A, _date(d.as_of))
            cf = clients.get(d.client_id)
            if cf is None:
                cf = clients[d.client_id] = _str(0x0A, d.client_id)
            parts.append(_len(0x22, self.decision(d, cf, tail)))
        return b"".join(parts)

    def stream_response(self, requests: Sequence[eligibility_pb2.CheckEligibilityRequest],
                        results: Iterable[CheckResult | ServiceError]) -> bytes:
        """A ``CheckEligibilityStreamResponse``: one result per request, in order."""
        parts = []
        for request, result in zip(requests, results):
            rid = _str(0x0A, request.request_id)
            if isinstance(result, ServiceError):
                item = rid + _len(0x1A, status_pb(result).SerializeToString())
            else:
                item = rid + _len(0x12, self.response(result))
            parts.append(_len(0x0A, item))
        return b"".join(parts)
