"""CatalogService on a real server: the catalogue the server decides with, paged, as of a date."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from google.rpc import error_details_pb2

from bekal.v1 import catalog_pb2, catalog_pb2_grpc
from tests.support.people import pb_date
from tests.support.servers import rpc_failure


@pytest.fixture(scope="module")
def stub(server):
    with server.channel() as ch:
        yield catalog_pb2_grpc.CatalogServiceStub(ch)


def _all_pages(stub, size: int, as_of: str) -> list[list[str]]:
    pages, token = [], ""
    while True:
        page = stub.ListCourses(catalog_pb2.ListCoursesRequest(page_size=size, page_token=token,
                                                               as_of_date=pb_date(as_of)), timeout=10)
        pages.append([c.code for c in page.courses])
        assert page.ruleset_version.startswith("sha256:") and page.as_of_date == pb_date(as_of)
        token = page.next_page_token
        if not token:
            return pages


def test_lists_the_courses_offered_on_the_date_page_by_page(stub):
    assert _all_pages(stub, 1, "2019-06-01") == [["JHT-01"], ["LAS-01"]]  # OLD-01 started in January
    assert _all_pages(stub, 0, "2019-01-01") == [["JHT-01", "LAS-01", "OLD-01"]]
    assert _all_pages(stub, 0, "2019-07-02") == [["JHT-01"]]


def test_a_course_comes_with_every_field_of_the_catalogue_in_its_api_types(stub):
    course = stub.GetCourse(catalog_pb2.GetCourseRequest(code="LAS-01"), timeout=10).course
    assert (course.code, course.title, course.seats, course.trade) == ("LAS-01", "Pengelasan", 10, "las")
    assert course.start_date == pb_date("2019-07-01")
    assert course.HasField("min_written_score") and course.min_written_score == 60.0
    assert not course.HasField("min_interview_score")


def test_bad_requests_name_the_field_and_an_unknown_code_is_not_found(stub):
    code, fields, status = rpc_failure(stub.GetCourse, catalog_pb2.GetCourseRequest(code="NOPE-01"))
    assert code == grpc.StatusCode.NOT_FOUND and "code" in fields
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.reason == "COURSE_NOT_FOUND"
    code, fields, _ = rpc_failure(stub.ListCourses, catalog_pb2.ListCoursesRequest(page_token="garbage"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in fields
    first = stub.ListCourses(catalog_pb2.ListCoursesRequest(page_size=1, as_of_date=pb_date("2019-06-01")),
                             timeout=10)
    code, fields, _ = rpc_failure(stub.ListCourses, catalog_pb2.ListCoursesRequest(
        page_token=first.next_page_token, as_of_date=pb_date("2019-01-01")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "another as_of_date" in fields["page_token"]
    code, fields, _ = rpc_failure(stub.ListCourses, catalog_pb2.ListCoursesRequest(as_of_date=pb_date("2019-02-30")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "as_of_date" in fields
    code, fields, _ = rpc_failure(stub.ListCourses, catalog_pb2.ListCoursesRequest(page_size=-1))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_size" in fields


def test_the_python_client_reads_the_catalogue_as_the_courses_file_writes_it(server):
    with server.connect(timeout=10) as api:
        assert [c["code"] for c in api.courses("2019-06-01", page_size=1)] == ["JHT-01", "LAS-01"]
        las = api.course("LAS-01")
    assert las["start_date"] == date(2019, 7, 1) and las["min_written_score"] == 60.0 and las["seats"] == 10
    assert "min_interview_score" not in las
