"""Hypothesis strategies for any protobuf message, read from its descriptor: for fuzzing request handling.

Values lean to what breaks servers: empty and huge strings, control characters and
unpaired surrogates' neighbours, numbers at the edges of their types (NaN, infinities,
-0.0, 1e308), enum numbers nobody defined (99, -1), deep and repeated sub-messages.
"""

from __future__ import annotations

import math
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "JHT-01", "2019-06-01", "1990-02-30", "9999-12-31", "0000-01-01", "bnn", "x" * 5000,
                     "\x00", "ä" * 300, "1e308", "NaN", "-0", "BNNK-BJB-2019-0001", "../../etc/passwd",
                     "{client.rehab_stage}", "post_rehabilitation"]),
)
_FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, math.nan, math.inf, 100.0000001, 50.0]))
_INTS = {
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: st.integers(0, 2**64 - 1),
}


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    t = field.type
    if t == FieldDescriptor.TYPE_MESSAGE:
        return messages(field.message_type, depth + 1)
    if t == FieldDescriptor.TYPE_STRING:
        return _TEXT
    if t == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _FLOATS
    if t == FieldDescriptor.TYPE_ENUM:
        defined = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(defined), st.sampled_from([99, -1, 2**31 - 1]))
    return _INTS[t]


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    """Messages of type ``descriptor`` with any subset of fields set (repeated fields: up to 4 items)."""
    cls = message_factory.GetMessageClass(descriptor)
    if depth > 4:
        return st.just(cls())
    fields = list(descriptor.fields)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        msg = cls()
        for field in draw(st.lists(st.sampled_from(fields), unique_by=lambda f: f.number, max_size=len(fields))
                          if fields else st.just([])):
            repeated = field.is_repeated
            values = draw(st.lists(_value(field, depth), max_size=4)) if repeated else [draw(_value(field, depth))]
            target = getattr(msg, field.name)
            for value in values:
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    if field.message_type.GetOptions().map_entry:
                        continue  # maps: left empty (their entries are plain key/value pairs)
                    (target.add() if repeated else target).CopyFrom(value)
                elif repeated:
                    target.append(value)
                else:
                    setattr(msg, field.name, value)
        return msg

    return build()
