"""``bekal.v1`` catalogue messages <-> :mod:`.logic` types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bekal.services.catalog.logic import CoursePage, FoundCourse
from bekal.services.codec import as_of_from
from bekal.services.errors import Violations, invalid
from bekal.services.limits import check_text, date_pb, one_id
from bekal.services.matching.codec import course_message
from bekal.v1 import catalog_pb2, facts_pb2

_FIELDS = {f.name for f in facts_pb2.Course.DESCRIPTOR.fields}


def list_query(request: catalog_pb2.ListCoursesRequest) -> tuple[date, int, str]:
    """(as-of date, page size, page token) of a ListCourses request; INVALID_ARGUMENT naming bad fields."""
    violations: Violations = []
    as_of = as_of_from(request, "as_of_date", "as_of_date", violations)
    check_text(request.page_token, "page_token", violations, 512)
    if violations:
        raise invalid(violations)
    return as_of, request.page_size, request.page_token


def course_code(request: catalog_pb2.GetCourseRequest) -> str:
    return one_id(request.code, "code")


def course_pb(facts: Mapping[str, Any]) -> facts_pb2.Course:
    """A catalogue course as a message: its fields, and the facts its rules folder declares in ``declared``
    (so a partner can send it to Match as it is)."""
    msg = course_message(facts)
    for key, value in facts.items():
        if key in _FIELDS or value is None:
            continue
        entry = msg.declared[key]
        if isinstance(value, bool):
            entry.bool_value = value
        elif isinstance(value, int):
            entry.int_value = value
        elif isinstance(value, float):
            entry.double_value = value
        elif isinstance(value, date):
            entry.date_value.CopyFrom(date_pb(value))
        else:
            entry.string_value = str(value)
    return msg


def list_response(page: CoursePage) -> catalog_pb2.ListCoursesResponse:
    return catalog_pb2.ListCoursesResponse(courses=[course_pb(c) for c in page.courses],
                                           next_page_token=page.next_page_token, ruleset_version=page.version,
                                           as_of_date=date_pb(page.as_of))


def get_response(found: FoundCourse) -> catalog_pb2.GetCourseResponse:
    return catalog_pb2.GetCourseResponse(course=course_pb(found.course), ruleset_version=found.version)
