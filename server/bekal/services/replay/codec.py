"""``bekal.v1`` replay messages <-> :mod:`.logic` types."""

from __future__ import annotations

from datetime import datetime

from bekal.decision import FactValue
from bekal.services.codec import decision_pb, fact_value_pb
from bekal.services.limits import date_pb, one_id, timestamp_pb
from bekal.services.replay.logic import Erased, JobReplay, Replay
from bekal.v1 import decision_pb2, replay_pb2

MAX_DIFFERENCES = 1000  # differences listed in one answer (identical says whether there are any)
_OUTCOME = {"ELIGIBLE": decision_pb2.OUTCOME_ELIGIBLE, "INELIGIBLE": decision_pb2.OUTCOME_INELIGIBLE,
            "PENDING": decision_pb2.OUTCOME_PENDING}


def request_id_of(request: replay_pb2.ReplayDecisionRequest) -> str:
    return one_id(request.request_id, "request_id")


def job_id_of(request: replay_pb2.ReplayMatchJobRequest) -> str:
    return one_id(request.job_id, "job_id")


def client_id_of(request: replay_pb2.EraseClientFactsRequest) -> str:
    # an id only, not the pseudonym pattern: facts logged before the pattern was set (or under a wider
    # one) must stay erasable -- refusing an erasure would keep health data against the client's right
    return one_id(request.client_id, "client_id")


def replay_response(replay: Replay) -> replay_pb2.ReplayDecisionResponse:
    entry = replay.entry
    as_of = datetime.fromisoformat(entry.as_of).date()
    out = replay_pb2.ReplayDecisionResponse(
        request_id=entry.request_id, client_id=entry.client_id, caller=entry.caller,
        ruleset_version=entry.ruleset_version,
        as_of_date=date_pb(as_of),
        recorded_time=timestamp_pb(entry.created_at), identical=replay.identical,
        current_ruleset_version=replay.current_version, same_as_current=replay.same_as_current)
    for name, value in sorted(replay.parameters.items()):
        fact_value_pb(FactValue(f"param.{name}", value), out.parameters.add())
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
        as_of_date=date_pb(as_of),
        recorded_time=timestamp_pb(job.created_at), clients=len(replay.replayed),
        placed=sum(1 for _c, course in replay.replayed if course), identical=replay.identical)
    for cid, logged, again in replay.differences[:MAX_DIFFERENCES]:
        out.differences.add(client_id=cid, logged_course=logged, replayed_course=again)
    return out


def erase_response(erased: Erased) -> replay_pb2.EraseClientFactsResponse:
    out = replay_pb2.EraseClientFactsResponse(client_id=erased.client_id, erased_records=erased.records)
    out.erase_time.GetCurrentTime()
    return out
