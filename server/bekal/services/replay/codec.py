"""``bekal.v1`` replay messages <-> :mod:`.logic` types."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from google.type import date_pb2  # type: ignore[import-untyped]

from bekal.services.codec import decision_pb
from bekal.services.errors import Violations, invalid
from bekal.services.limits import check_id
from bekal.services.replay.logic import Erased, JobReplay, Replay
from bekal.v1 import decision_pb2, replay_pb2

MAX_DIFFERENCES = 1000  # differences listed in one answer (identical says whether there are any)
_OUTCOME = {"ELIGIBLE": decision_pb2.OUTCOME_ELIGIBLE, "INELIGIBLE": decision_pb2.OUTCOME_INELIGIBLE,
            "PENDING": decision_pb2.OUTCOME_PENDING}


def request_id_of(request: replay_pb2.ReplayDecisionRequest) -> str:
    violations: Violations = []
    check_id(request.request_id, "request_id", violations)
    if violations:
        raise invalid(violations)
    return request.request_id


def job_id_of(request: replay_pb2.ReplayMatchJobRequest) -> str:
    violations: Violations = []
    check_id(request.job_id, "job_id", violations)
    if violations:
        raise invalid(violations)
    return request.job_id


def client_id_of(request: replay_pb2.EraseClientFactsRequest) -> str:
    violations: Violations = []
    check_id(request.client_id, "client_id", violations)
    if violations:
        raise invalid(violations)
    return request.client_id


def timestamp(iso: str) -> timestamp_pb2.Timestamp:
    """An ISO timestamp of the store (UTC) as a Timestamp; unset for an empty or unreadable one."""
    out = timestamp_pb2.Timestamp()
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return out
    out.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return out


def replay_response(replay: Replay) -> replay_pb2.ReplayDecisionResponse:
    entry = replay.entry
    as_of = datetime.fromisoformat(entry.as_of).date()
    out = replay_pb2.ReplayDecisionResponse(
        request_id=entry.request_id, client_id=entry.client_id, caller=entry.caller,
        ruleset_version=entry.ruleset_version,
        as_of_date=date_pb2.Date(year=as_of.year, month=as_of.month, day=as_of.day),
        recorded_time=timestamp(entry.created_at), identical=replay.identical,
        current_ruleset_version=replay.current_version, same_as_current=replay.same_as_current)
    for name, value in sorted(replay.parameters.items()):
        out.parameters.add(name=name, value=json.dumps(value, ensure_ascii=False))
    for course in replay.courses:
        item = out.decisions.add(course_code=course.course_code, identical=course.identical,
                                 differences=course.differences)
        item.logged.outcome = _OUTCOME.get(course.logged.outcome, decision_pb2.OUTCOME_UNSPECIFIED)
        item.logged.priority = course.logged.priority
        item.logged.rule_ids.extend(course.logged.rule_ids)
        decision_pb(course.replayed, item.replayed)
        if course.current is not None:
            decision_pb(course.current, item.current)
    return out


def job_response(replay: JobReplay) -> replay_pb2.ReplayMatchJobResponse:
    job = replay.job
    as_of = datetime.fromisoformat(job.as_of).date()
    out = replay_pb2.ReplayMatchJobResponse(
        job_id=job.job_id, request_id=job.request_id, creator=job.creator, ruleset_version=job.ruleset_version,
        as_of_date=date_pb2.Date(year=as_of.year, month=as_of.month, day=as_of.day),
        recorded_time=timestamp(job.created_at), clients=len(replay.replayed),
        placed=sum(1 for _c, course in replay.replayed if course), identical=replay.identical)
    for cid, logged, again in replay.differences[:MAX_DIFFERENCES]:
        out.differences.add(client_id=cid, logged_course=logged, replayed_course=again)
    return out


def erase_response(erased: Erased) -> replay_pb2.EraseClientFactsResponse:
    out = replay_pb2.EraseClientFactsResponse(client_id=erased.client_id, erased_records=erased.records)
    out.erase_time.GetCurrentTime()
    return out
