"""The matching service's logic and codec without gRPC: inline matches, jobs run in-process, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bekal.audience import BNN
from bekal.client.convert import client_message
from bekal.services.errors import ServiceError
from bekal.services.matching import codec
from bekal.services.matching.logic import CohortRequest, Matching, MatchSettings, Upload
from bekal.services.snapshots import ServedRules
from bekal.store import SQLiteJobStore
from bekal.store.jobs import JobStatus
from bekal.v1 import facts_pb2, matching_pb2
from tests.support.people import applicant, pb_date

AS_OF = date(2019, 6, 1)
SETTINGS = MatchSettings(AS_OF, seed=7, audience=BNN)


@pytest.fixture
def matching(rules: ServedRules, tmp_path: Path) -> Iterator[Matching]:
    store = SQLiteJobStore(tmp_path / "jobs.db")
    yield Matching(rules, store, codec.ProtobufJobFormat())  # no threads: the tests run the jobs themselves
    store.close()


def cohort(*clients: dict, courses: tuple = ()) -> CohortRequest:
    request = matching_pb2.MatchRequest(
        settings=codec.settings_pb(SETTINGS),
        clients=[codec_client(c) for c in clients], courses=list(courses))
    return codec.match_request(request)


def codec_client(facts: dict) -> facts_pb2.Client:
    return client_message(facts)


def test_an_inline_match_places_from_the_catalogue(matching: Matching):
    placement = matching.match(cohort(applicant("A", "JHT-01", referrer="bnn"), applicant("B", "JHT-01")))
    a, b = placement.clients
    assert a.course == "JHT-01" and a.priority_group
    assert placement.summary.as_of == AS_OF and placement.summary.seed == 7
    assert placement.summary.courses >= 8  # every catalogue course offered on the date


def test_a_bad_cohort_names_every_field_in_path_order(matching: Matching):
    with pytest.raises(ServiceError) as err:
        matching.match(cohort(applicant("A", "JHT-01", "NOPE-01"), applicant("A", "JHT-01"),
                              applicant("C", "JHT-01", domicile="x" * 300)))
    assert err.value.code == "INVALID_ARGUMENT"
    assert [f for f, _ in err.value.violations] == ["clients[0].preferences[1]", "clients[1].id", "clients[2].domicile"]


def test_a_date_no_ruleset_covers_is_refused(matching: Matching):
    early = matching_pb2.MatchRequest(settings=matching_pb2.MatchSettings(as_of_date=pb_date("2010-01-01")),
                                      clients=[codec_client(applicant("A", "JHT-01"))])
    with pytest.raises(ServiceError) as err:
        matching.match(codec.match_request(early))
    assert err.value.code == "FAILED_PRECONDITION"
    assert dict(err.value.violations)["settings.as_of_date"] == (
        "the rules are not in force on 2010-01-01 (not in force: eligibility, priority)")


def upload(request_id: str, *clients: dict, seed: int = 7) -> Upload:
    parts = [matching_pb2.UploadCohortRequest(request_id=request_id, settings=codec.settings_pb(
        MatchSettings(AS_OF, seed=seed, audience=BNN))),
        matching_pb2.UploadCohortRequest(clients=[codec_client(c) for c in clients])]
    return codec.upload(parts)


def test_a_job_runs_in_process_and_equals_the_inline_match(matching: Matching):
    clients = [applicant(f"C{i}", "JHT-01", "LAS-SMAW-01", referrer="bnn" if i % 3 else "self") for i in range(40)]
    job = matching.upload(upload("r1", *clients))
    assert job.status is JobStatus.QUEUED and job.clients == 40
    assert matching.upload(upload("r1", *clients)).job_id == job.job_id  # a retry is the same job
    with pytest.raises(ServiceError) as conflict:
        matching.upload(upload("r1", *clients, seed=8))
    assert conflict.value.violations[0][0] == "request_id"
    with pytest.raises(ServiceError) as early:
        list(matching.results(job.job_id, 0))
    assert early.value.code == "FAILED_PRECONDITION"
    matching.run_job(job.job_id)
    done = matching.get(job.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 1
    streamed = [p for payload in codec.stream_messages(matching.results(job.job_id, 0), 0)
                for p in matching_pb2.StreamPlacementsResponse.FromString(payload).placements]
    inline = codec.match_response(matching.match(cohort(*clients)))
    assert streamed == list(inline.placements)
    assert codec.job_pb(done).summary == inline.summary


def test_unknown_and_bad_job_ids(matching: Matching):
    with pytest.raises(ServiceError) as unknown:
        matching.get("no-such-job")
    assert unknown.value.code == "NOT_FOUND" and unknown.value.resource == ("bekal.v1.MatchJob", "no-such-job")
    with pytest.raises(ServiceError) as missing:
        matching.get("")
    assert missing.value.code == "INVALID_ARGUMENT" and missing.value.violations == [("job_id", "required")]


def test_settings_resolve_their_defaults():
    violations: list[tuple[str, str]] = []
    settings = codec.settings_from(matching_pb2.MatchSettings(as_of_date=pb_date("2019-06-01"), reserve_order=9),
                                   violations)
    assert settings.as_of == AS_OF and settings.audience == ""
    assert violations == [("settings.reserve_order", "unknown reserve order 9")]
    assert codec.settings_from(codec.settings_pb(SETTINGS), []) == SETTINGS


def test_catalogue_courses_read_back_as_a_request_would_send_them(rules: ServedRules):
    with rules.lease() as snap:
        course = snap.rulebook.courses["LAS-SMAW-01"]
    (facts,), part = codec.ProtobufJobFormat().catalogue([course])
    assert facts["min_written_score"] == 60.0 and facts["min_education"] == "smp" and facts["start_date"] == date(
        2019, 7, 1)
    assert matching_pb2.UploadCohortRequest.FromString(part).courses[0].code == "LAS-SMAW-01"


def test_a_training_centre_places_into_its_own_courses_only(matching: Matching):
    from dataclasses import replace

    from tests.support.people import course

    own = replace(cohort(applicant("A", "JHT-01"), applicant("B", "LAS-SMAW-01")), provider="BLK Provinsi Kalsel")
    placement = matching.match(own)  # the catalogue's courses are all BLK Provinsi Kalsel's
    assert placement.summary.courses >= 8
    other = replace(own, provider="BLK Banjarmasin")
    with pytest.raises(ServiceError) as err:
        matching.match(other)
    assert err.value.code == "PERMISSION_DENIED"
    assert [f for f, _ in err.value.violations] == ["clients[0].preferences[0]", "clients[1].preferences[0]"]
    theirs = codec.course_message(codec_course(course("X-01", 3)))
    given = cohort(applicant("A", "X-01"), courses=(theirs,))
    with pytest.raises(ServiceError) as err:
        matching.match(replace(given, provider="BLK Banjarmasin"))
    assert [f for f, _ in err.value.violations] == ["courses[0].blk", "clients[0].preferences[0]"]
    assert matching.match(replace(given, provider="BLK Provinsi Kalsel")).clients[0].course == "X-01"


def codec_course(facts: dict) -> dict:
    from bekal.facts import parse_facts

    return parse_facts("course", facts)
