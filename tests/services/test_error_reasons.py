"""One error model: every error carries ErrorInfo with a documented, stable reason -- in a unary call's
trailer and in a failed item of a stream alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.rpc import error_details_pb2

from bekal.services.errors import DOMAIN, REASONS, ServiceError, invalid, not_found
from bekal.services.guard import status_pb

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrators.md"


def test_every_reason_is_documented_and_nothing_else():
    text = DOCS.read_text()
    table = text[text.index("| reason (`ErrorInfo.reason`)"):]
    table = table[:table.index("\n\n")]
    assert re.findall(r"^\| `([A-Z_]+)` \| ", table, re.MULTILINE) == list(REASONS)


def test_an_undocumented_reason_cannot_be_raised():
    with pytest.raises(ValueError, match="undocumented"):
        ServiceError("INVALID_ARGUMENT", "x", reason="SOMETHING_NEW")


@pytest.mark.parametrize(("error", "reason"), [
    (invalid([("client.id", "required")]), "FIELD_INVALID"),
    (not_found("no course", "course_code", "course", "bekal.v1.Course", "X"), "COURSE_NOT_FOUND"),
    (not_found("no job", "job_id", "job", "bekal.v1.MatchJob", "X"), "JOB_NOT_FOUND"),
    (ServiceError("UNAVAILABLE", "later", retry_after=1.0), "STORAGE_UNAVAILABLE"),
])
def test_the_status_carries_error_info_first_then_the_details(error, reason):
    status = status_pb(error)
    assert status.code == error.number and status.message == error.message
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.reason == reason and info.domain == DOMAIN
    if error.violations:
        bad = error_details_pb2.BadRequest()
        assert any(d.Unpack(bad) for d in status.details)
        assert [(v.field, v.description) for v in bad.field_violations] == list(error.violations)
