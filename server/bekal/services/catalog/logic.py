"""The course catalogue of the loaded rules, page by page (https://google.aip.dev/158), on plain types.

The catalogue is part of the rulebook (its courses file), so a page belongs to one ruleset
version: a page token (:mod:`bekal.services.pages`) holds the last course code returned and is bound to
the as-of date and the version, so a token from before a reload (or for another date) is refused
rather than silently paging through another catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bekal.rulebook import offered_courses
from bekal.services import pages
from bekal.services.errors import not_found
from bekal.services.snapshots import ServedRules


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


_CHANGED = ("made for another as_of_date or catalogue version (the rules were reloaded); send the same date, or "
            "start from the first page")


class Catalog:
    """bekal.v1.CatalogService without gRPC."""

    def __init__(self, rules: ServedRules):
        self.rules = rules

    def list_courses(self, as_of: date, page_size: int, page_token: str) -> CoursePage:
        size = pages.page_size(page_size)
        with self.rules.lease() as snap:
            courses = snap.rulebook.courses
            version = snap.rulebook.version
        after = pages.page_position(page_token, [as_of.isoformat(), version], _CHANGED)
        if after is not None and not isinstance(after, str):
            raise pages.not_ours()
        codes = [c for c in offered_courses(courses, as_of) if after is None or c > after]
        page = codes[:size]
        token = pages.page_token(page[-1], [as_of.isoformat(), version]) if len(codes) > size else ""
        return CoursePage(tuple(courses[c] for c in page), token, version, as_of)

    def get_course(self, code: str) -> FoundCourse:
        with self.rules.lease() as snap:
            course = snap.rulebook.courses.get(code)
            version = snap.rulebook.version
        if course is None:
            raise not_found(f"no course {code!r} in the loaded catalogue", "code", "course", "bekal.v1.Course", code)
        return FoundCourse(course, version)

