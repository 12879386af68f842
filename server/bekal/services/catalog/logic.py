"""The course catalogue of the loaded rules, page by page (https://google.aip.dev/158), on plain types.

The catalogue is part of the rulebook (its courses file), so a page belongs to one ruleset
version: a page token holds the last course code returned, the as-of date and the version, and
a token from before a reload (or for another date) is refused rather than silently paging
through another catalogue.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bekal.rulebook import offered_courses
from bekal.services.errors import invalid, not_found
from bekal.services.snapshots import ServedRules

DEFAULT_PAGE = 100
MAX_PAGE = 500


@dataclass(frozen=True)
class CoursePage:
    courses: tuple[Mapping[str, Any], ...]  # course facts (bekal.facts form), in code order
    next_page_token: str  # "" on the last page
    version: str
    as_of: date


@dataclass(frozen=True)
class FoundCourse:
    course: Mapping[str, Any]
    version: str


def _token(last: str, as_of: date, version: str) -> str:
    raw = json.dumps([last, as_of.isoformat(), version], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(token: str, as_of: date, version: str) -> str | None:
    """The last code of the previous page (None for the first); INVALID_ARGUMENT if the token is not
    ours or was made for another date or catalogue version."""
    if not token:
        return None
    try:
        last, day, made_for = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise invalid([("page_token", "not a page token this server gave out")]) from None
    if day != as_of.isoformat():
        raise invalid([("page_token", "made for another as_of_date; send the same date as for the first page")])
    if made_for != version:
        raise invalid([("page_token", "the catalogue changed (the rules were reloaded); start from the first page")])
    return str(last)


class Catalog:
    """bekal.v1.CatalogService without gRPC."""

    def __init__(self, rules: ServedRules):
        self.rules = rules

    def list_courses(self, as_of: date, page_size: int, page_token: str) -> CoursePage:
        if page_size < 0:
            raise invalid([("page_size", "must not be negative")])
        size = DEFAULT_PAGE if page_size == 0 else min(page_size, MAX_PAGE)
        with self.rules.lease() as snap:
            courses = snap.rulebook.courses
            version = snap.rulebook.version
        after = _after(page_token, as_of, version)
        codes = [c for c in offered_courses(courses, as_of) if after is None or c > after]
        page = codes[:size]
        token = _token(page[-1], as_of, version) if len(codes) > size else ""
        return CoursePage(tuple(courses[c] for c in page), token, version, as_of)

    def get_course(self, code: str) -> FoundCourse:
        with self.rules.lease() as snap:
            course = snap.rulebook.courses.get(code)
            version = snap.rulebook.version
        if course is None:
            raise not_found(f"no course {code!r} in the loaded catalogue", "code", "course", "bekal.v1.Course", code)
        return FoundCourse(course, version)

