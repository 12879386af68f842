"""Pages of a List method (https://google.aip.dev/158), one way for every service.

A page size of 0 means the default, a negative one is a field violation, a large one is capped.
A page token is opaque to callers: the position of the last item returned and a digest of
the filters (and anything else the listing depends on, such as an as-of date or a rules
version), so a token sent with other filters is refused rather than silently paging through
something else -- and a token never carries a filter's value (a client id) in readable form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bekal.services.errors import invalid

DEFAULT_PAGE = 100
MAX_PAGE = 500
T = TypeVar("T")

NOT_OURS = "not a page token this server gave out"
OTHER_FILTERS = "made for other filters; send the same filters as for the first page"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_page_token: str  # "" on the last page


def page_size(requested: int) -> int:
    """The number of items to return for a request's ``page_size``."""
    if requested < 0:
        raise invalid([("page_size", "must not be negative")])
    return DEFAULT_PAGE if requested == 0 else min(requested, MAX_PAGE)


def _digest(filters: Sequence[Any]) -> str:
    return hashlib.sha256(json.dumps(list(filters), default=str).encode()).hexdigest()[:16]


def page_token(position: Any, filters: Sequence[Any]) -> str:
    """A token for the page after ``position`` (JSON: a number, a text or a list of them)."""
    raw = json.dumps({"p": position, "f": _digest(filters)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_position(token: str, filters: Sequence[Any], mismatch: str = OTHER_FILTERS) -> Any:
    """The position a page token holds (None for the first page); INVALID_ARGUMENT naming ``page_token``
    if it is not ours, or was made for other ``filters`` (``mismatch`` says what to do then)."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position, digest = data["p"], data["f"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise invalid([("page_token", NOT_OURS)]) from None
    if digest != _digest(filters):
        raise invalid([("page_token", mismatch)])
    return position


def not_ours() -> Exception:
    """The error for a token that decodes but holds no position this listing could have made."""
    return invalid([("page_token", NOT_OURS)])
