"""Enum values of ``bekal.v1`` messages as files, rules and people write them: lower case, no type prefix.

``REHAB_STAGE_POST_REHABILITATION`` is written ``post_rehabilitation``: the prefix
is the name of the enum's zero value without ``UNSPECIFIED``. This module is the
one place that convention is coded; the server's fact schema and codecs use it too.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, TypeAlias

from google.protobuf import descriptor

if TYPE_CHECKING:
    from google._upb import _message as upb

    EnumDescriptor: TypeAlias = descriptor.EnumDescriptor | upb.EnumDescriptor
else:
    EnumDescriptor = descriptor.EnumDescriptor

UNSPECIFIED = "UNSPECIFIED"


def enum_prefix(enum: EnumDescriptor) -> str:
    """``REHAB_STAGE_`` for ``RehabStage`` (from its zero value ``REHAB_STAGE_UNSPECIFIED``)."""
    zero: str = enum.values_by_number[0].name
    return zero[: -len(UNSPECIFIED)]


def short_name(enum: EnumDescriptor, number: int) -> str:
    """``post_rehabilitation`` for ``REHAB_STAGE_POST_REHABILITATION``'s number."""
    name: str = enum.values_by_number[number].name
    return name[len(enum_prefix(enum)):].lower()


def short_names(enum: EnumDescriptor) -> tuple[str, ...]:
    """Every value but the zero (unspecified) one, as written in files, in declaration order."""
    prefix = enum_prefix(enum)
    return tuple(v.name[len(prefix):].lower() for v in enum.values if v.number != 0)


def number_of(enum: EnumDescriptor, value: object) -> int:
    """The number of a value written short (``post_rehabilitation``), in full, or as its number.

    ValueError naming the allowed values (and the closest one) for anything else.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    prefix = enum_prefix(enum)
    text = str(value).strip()
    for candidate in (text, text.upper(), prefix + text.upper()):
        if candidate in enum.values_by_name:
            number: int = enum.values_by_name[candidate].number
            return number
    allowed = short_names(enum)
    close = difflib.get_close_matches(text.lower(), allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown value {value!r}; one of {', '.join(allowed)}{hint}")
