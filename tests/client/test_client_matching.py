"""The client's matching calls against the real server: inline, as a job (upload, poll, stream), and the
results read back into the client's own types exactly as the library placed them."""

from __future__ import annotations

import pytest

from bekal.cli import cohort_read, cohort_write
from bekal.client import BekalError, InvalidInput, JobStatus, connect
from bekal.engine import Engine
from bekal.placement import make_cohort, place
from tests.support.paths import EXAMPLES
from tests.support.people import INTAKE_DATE as AS_OF
from tests.support.people import applicant
from tests.support.servers import Server, free_port


@pytest.fixture(scope="module")
def examples() -> tuple[cohort_read.Records, cohort_read.Records, cohort_read.Rankings]:
    return (cohort_read.read_records(str(EXAMPLES / "cohort.csv"), "client"),
            cohort_read.read_records(str(EXAMPLES / "courses.csv"), "course"),
            cohort_read.read_rankings(str(EXAMPLES / "rankings.csv")))


def rows(placements):
    """Placements as ``bekal match`` writes them (CSV rows and JSON objects): every field and reason."""
    return [cohort_write.placement_row(p) for p in placements], [cohort_write.placement_json(p) for p in placements]


def test_inline_and_job_results_equal_the_library(server: Server, examples, default_engine: Engine):
    clients, courses, rankings = examples
    local = place(default_engine, make_cohort(clients.records, courses.records, as_of=AS_OF, seed=2019,
                                              rankings=rankings.entries), audience="bnn")
    phases: list[str] = []
    with server.connect(timeout=30) as bekal:
        inline = bekal.match(clients.records, courses=courses.records, rankings=rankings.entries, as_of=AS_OF,
                             seed=2019, audience="bnn")
        job = bekal.place_cohort(clients.records, courses=courses.records, rankings=rankings.entries, as_of=AS_OF,
                                 seed=2019, audience="bnn", progress=lambda phase, done, total: phases.append(phase))
        assert job.job is not None and job.job.status is JobStatus.SUCCEEDED and job.job.attempts == 1
        assert job.placements == inline.placements and job.courses == inline.courses
        assert job.summary == inline.summary
        assert list(bekal.stream_placements(job.job.job_id, offset=15)) == list(job.placements[15:])
        again = bekal.get_match_job(job.job.job_id)
        assert again.summary == job.summary and again.course_fills == job.courses
    assert rows(inline.placements) == rows(local.clients)
    assert [cohort_write.course_row(f) for f in inline.courses] == [cohort_write.course_row(f) for f in local.courses]
    assert cohort_write.summary_json(inline.summary) == cohort_write.summary_json(local.summary)
    assert phases[0] == "uploading" and phases[-1] == "downloading"


def test_the_catalogue_by_default_and_a_training_centres_view(server: Server):
    with server.connect(timeout=30) as bekal:
        result = bekal.match([applicant("A", "JHT-01", "LAS-SMAW-01", referrer="bnn"),
                              applicant("B", "JHT-01", rehab_stage="outpatient")], as_of=AS_OF)
    a, b = result.placements
    assert result.summary.courses >= 8
    assert a.course == "JHT-01" and a.priority_group and a.standing is not None and a.standing.priority == 10
    assert b.course is None and b.why_not[0].because.value == "pending" and b.why_not[0].reasons  # BNN's view
    with server.connect(as_="blk-kalsel", timeout=30) as blk:
        shown = blk.match([applicant("A", "JHT-01", "LAS-SMAW-01", referrer="bnn"),
                           applicant("B", "JHT-01", rehab_stage="outpatient")], as_of=AS_OF)
    assert shown.placements[1].why_not[0].because.value == "withheld" and shown.placements[1].why_not[0].reasons == ()


def test_bad_input_is_named_by_record_and_field(server: Server):
    with server.connect(timeout=30) as bekal:
        with pytest.raises(InvalidInput) as encoding:  # refused before anything is sent
            bekal.match([applicant("A", "JHT-01"), applicant("B", "JHT-01", rehab_stage="in patient")], as_of=AS_OF)
        assert [f for f, _ in encoding.value.violations] == ["clients[1].rehab_stage"]
        assert "one of assessment" in encoding.value.violations[0][1]
        with pytest.raises(BekalError) as refused:  # refused by the server
            bekal.place_cohort([applicant("A", "JHT-01", "NOPE-01")], as_of=AS_OF)
        assert refused.value.code == "INVALID_ARGUMENT"
        assert list(refused.value.fields) == ["clients[0].preferences[1]"]
        assert refused.value.fields["clients[0].preferences[1]"].startswith("unknown course 'NOPE-01'")
        with pytest.raises(BekalError) as unknown:
            bekal.get_match_job("no-such-job")
        assert unknown.value.code == "NOT_FOUND" and unknown.value.resource == ("bekal.v1.MatchJob", "no-such-job")


def test_no_server_is_unavailable_quickly():
    with connect(f"127.0.0.1:{free_port()}", timeout=1) as bekal:
        with pytest.raises(BekalError) as info:
            bekal.wait_until_connected(0.5)
        assert info.value.code == "UNAVAILABLE" and "no server answers" in info.value.message
        with pytest.raises(BekalError) as call:
            bekal.get_match_job("x")
        assert call.value.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
