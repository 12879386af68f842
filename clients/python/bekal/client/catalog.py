"""Catalogue calls: the courses the server decides with, as the courses file writes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from bekal.client import convert
from bekal.client.calls import Calls
from bekal.client.enums import short_name
from bekal.v1 import catalog_pb2, catalog_pb2_grpc, facts_pb2


def course_dict(pb: facts_pb2.Course) -> dict[str, Any]:
    """A ``bekal.v1.Course`` as the courses file writes it: set fields only, dates as ``date``, enums in
    lower case (``"smk"``), declared facts as plain keys; ready to pass back to ``match(courses=...)``."""
    out: dict[str, Any] = {}
    for field, value in pb.ListFields():
        if field.name == convert.DECLARED:
            for key, entry in value.items():
                which = entry.WhichOneof("value")
                if which == "date_value":
                    out[key] = convert.date_from(entry.date_value)
                elif which is not None:
                    out[key] = getattr(entry, which)
        elif field.enum_type is not None:
            out[field.name] = short_name(field.enum_type, value)
        elif field.message_type is not None:  # google.type.Date
            out[field.name] = convert.date_from(value)
        else:
            out[field.name] = value
    return out


class CatalogCalls(Calls):
    _catalog: catalog_pb2_grpc.CatalogServiceStub

    def courses(self, as_of: date | str | None = None, *, page_size: int = 100,
                timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Every course offered on ``as_of`` (default: today in WITA), in code order, a page at a time."""
        token = ""
        while True:
            request = catalog_pb2.ListCoursesRequest(page_size=page_size, page_token=token,
                                                     as_of_date=convert.as_of_pb(as_of))
            page = self.unary(self._catalog.ListCourses, request, timeout)
            for course in page.courses:
                yield course_dict(course)
            token = page.next_page_token
            if not token:
                return

    def course(self, code: str, *, timeout: float | None = None) -> dict[str, Any]:
        """One course of the catalogue by its code; BekalError NOT_FOUND for an unknown one."""
        pb = self.unary(self._catalog.GetCourse, catalog_pb2.GetCourseRequest(code=code), timeout)
        return course_dict(pb.course)
