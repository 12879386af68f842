"""``bekal.v1.CatalogService``: messages in, :class:`.logic.Catalog` call, messages out."""

from __future__ import annotations

import grpc

from bekal.services.catalog import codec
from bekal.services.catalog.logic import Catalog
from bekal.services.registration import Call, Gate, register
from bekal.services.snapshots import ServedRules
from bekal.v1 import catalog_pb2

SERVICE = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"]


class CatalogServicer:
    """bekal.v1.CatalogService."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    async def ListCourses(self, request: catalog_pb2.ListCoursesRequest,
                          call: Call) -> catalog_pb2.ListCoursesResponse:
        as_of, size, token = codec.list_query(request)
        return codec.list_response(self.catalog.list_courses(as_of, size, token))

    async def GetCourse(self, request: catalog_pb2.GetCourseRequest, call: Call) -> catalog_pb2.GetCourseResponse:
        code = codec.course_code(request)
        call.about(code)
        return codec.get_response(self.catalog.get_course(code))


def add_to(server: grpc.aio.Server, gate: Gate, rules: ServedRules) -> str:
    """Serve the catalogue on ``server``; the service's full name."""
    return register(server, SERVICE, CatalogServicer(Catalog(rules)), gate)
