"""Replay calls: decide a logged check again with the rules version that made it, and erase one
client's facts (an auditor's certificate, or a BNN office's for its own checks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bekal.client.calls import Calls
from bekal.client.convert import decision_from, fact_from
from bekal.client.results import Decision, FactScalar
from bekal.v1 import decision_pb2, replay_pb2, replay_pb2_grpc


@dataclass(frozen=True)
class ReplayedDecision:
    """One course of a replayed check: what the log kept, what the same rules decide again, and (asked)
    what today's rules decide, with the differences."""

    course_code: str
    logged_outcome: str  # "ELIGIBLE", "INELIGIBLE", "PENDING"
    logged_priority: int
    logged_rule_ids: tuple[str, ...]
    replayed: Decision
    identical: bool
    current: Decision | None = None
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Replay:
    """What replaying a logged check found; ``identical`` when every course came out as logged."""

    request_id: str
    client_id: str
    caller: str
    ruleset_version: str
    as_of: date
    recorded_time: str  # RFC 3339, UTC
    parameters: dict[str, FactScalar]  # "param.min_age" -> its value in force (dates as YYYY-MM-DD text)
    decisions: tuple[ReplayedDecision, ...]
    identical: bool
    current_ruleset_version: str = ""
    same_as_current: bool = False


@dataclass(frozen=True)
class JobReplay:
    """A matching job placed again: ``identical`` when every client got the same course (or none)."""

    job_id: str
    request_id: str
    creator: str
    ruleset_version: str
    as_of: date
    recorded_time: str
    clients: int
    placed: int
    identical: bool
    differences: tuple[tuple[str, str, str], ...]  # (client id, course then, course now); "" for none


class ReplayCalls(Calls):
    _replay: replay_pb2_grpc.ReplayServiceStub

    def replay_decision(self, request_id: str, *, current_rules: bool = False,
                        timeout: float | None = None) -> Replay:
        """Decide the logged check ``request_id`` again with its rules version; with ``current_rules``,
        also with the rules serving now."""
        request = replay_pb2.ReplayDecisionRequest(request_id=request_id, compare_current_rules=current_rules)
        pb = self.unary(self._replay.ReplayDecision, request, timeout)
        decisions = tuple(
            ReplayedDecision(d.course_code, decision_pb2.Outcome.Name(d.logged.outcome)[8:], d.logged.priority,
                             tuple(d.logged.rule_ids), decision_from(d.replayed), d.identical,
                             decision_from(d.current) if d.HasField("current") else None, tuple(d.differences))
            for d in pb.decisions)
        return Replay(pb.request_id, pb.client_id, pb.caller, pb.ruleset_version,
                      date(pb.as_of_date.year, pb.as_of_date.month, pb.as_of_date.day),
                      pb.recorded_time.ToJsonString() if pb.HasField("recorded_time") else "",
                      {p.name: fact_from(p).value for p in pb.parameters}, decisions, pb.identical,
                      pb.current_ruleset_version, pb.same_as_current)

    def replay_match_job(self, job_id: str, *, timeout: float | None = None) -> JobReplay:
        """Place the succeeded matching job ``job_id`` again with the rules version, input, seed and date it
        ran with (an auditor, or the agency that uploaded it)."""
        pb = self.unary(self._replay.ReplayMatchJob, replay_pb2.ReplayMatchJobRequest(job_id=job_id), timeout)
        return JobReplay(pb.job_id, pb.request_id, pb.creator, pb.ruleset_version,
                         date(pb.as_of_date.year, pb.as_of_date.month, pb.as_of_date.day),
                         pb.recorded_time.ToJsonString() if pb.HasField("recorded_time") else "",
                         pb.clients, pb.placed, pb.identical,
                         tuple((d.client_id, d.logged_course, d.replayed_course) for d in pb.differences))

    def erase_client_facts(self, client_id: str, *, timeout: float | None = None) -> int:
        """Erase the facts the server's decision log keeps about ``client_id``; how many checks lost them."""
        pb = self.unary(self._replay.EraseClientFacts, replay_pb2.EraseClientFactsRequest(client_id=client_id),
                        timeout)
        return int(pb.erased_records)
