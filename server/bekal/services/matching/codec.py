"""``bekal.v1`` matching messages <-> :mod:`.logic` and :mod:`bekal.placement` types.

Also the format a job is kept in (:class:`ProtobufJobFormat`): its input parts as
uploaded, its resolved settings, its summary and its results as the serialized
messages the RPCs send, results compressed in chunks.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from bekal.client.enums import number_of
from bekal.decision import Reason
from bekal.matching import ReserveOrder, Standing
from bekal.placement import Because, ClientPlacement, CourseFill, Placement, PlacementSummary
from bekal.placement.cohort import Facts
from bekal.services.codec import AUDIENCE_PB, as_of_from, audience_from, client_facts, course_facts, reason_pb
from bekal.services.errors import ServiceError, Violations, invalid
from bekal.services.guard import status_pb
from bekal.services.limits import (
    MAX_COURSES,
    MAX_INLINE_CLIENTS,
    MAX_JOB_CLIENTS,
    MAX_RANKED,
    MAX_UPLOAD_BYTES,
    MAX_VIOLATIONS,
    MiB,
    check_client_id,
    check_id,
    date_pb,
    timestamp_pb,
)
from bekal.services.matching.logic import CohortRequest, MatchSettings, Upload
from bekal.store.jobs import JobRecord, JobStatus, ResultChunk
from bekal.v1 import decision_pb2, facts_pb2, matching_pb2

RESERVE_ORDER = {
    matching_pb2.RESERVE_ORDER_UNSPECIFIED: ReserveOrder.OPEN_FIRST,
    matching_pb2.RESERVE_ORDER_OPEN_FIRST: ReserveOrder.OPEN_FIRST,
    matching_pb2.RESERVE_ORDER_RESERVED_FIRST: ReserveOrder.RESERVED_FIRST,
}
RESERVE_ORDER_PB = {
    ReserveOrder.OPEN_FIRST: matching_pb2.RESERVE_ORDER_OPEN_FIRST,
    ReserveOrder.RESERVED_FIRST: matching_pb2.RESERVE_ORDER_RESERVED_FIRST,
}
BECAUSE_PB = {
    Because.INELIGIBLE: matching_pb2.NOT_PLACED_REASON_INELIGIBLE,
    Because.PENDING: matching_pb2.NOT_PLACED_REASON_PENDING,
    Because.NOT_RANKED: matching_pb2.NOT_PLACED_REASON_NOT_RANKED,
    Because.FULL: matching_pb2.NOT_PLACED_REASON_FULL,
    Because.WITHHELD: matching_pb2.NOT_PLACED_REASON_WITHHELD,
}
JOB_STATUS_PB = {
    JobStatus.QUEUED: matching_pb2.MATCH_JOB_STATUS_QUEUED,
    JobStatus.RUNNING: matching_pb2.MATCH_JOB_STATUS_RUNNING,
    JobStatus.SUCCEEDED: matching_pb2.MATCH_JOB_STATUS_SUCCEEDED,
    JobStatus.FAILED: matching_pb2.MATCH_JOB_STATUS_FAILED,
}
PHASE_PB = {
    "queued": matching_pb2.MATCH_JOB_PHASE_QUEUED,
    "eligibility": matching_pb2.MATCH_JOB_PHASE_ELIGIBILITY,
    "matching": matching_pb2.MATCH_JOB_PHASE_MATCHING,
    "explaining": matching_pb2.MATCH_JOB_PHASE_EXPLAINING,
    "saving": matching_pb2.MATCH_JOB_PHASE_SAVING,
    "done": matching_pb2.MATCH_JOB_PHASE_DONE,
}
SUMMARY_FIGURES = ("clients", "placed", "unmatched", "courses", "seats", "seats_filled", "courses_full",
                   "group_clients", "group_placed", "reserved_seats", "reserved_to_group", "first_choice", "pairs",
                   "eligible_pairs", "ineligible_pairs", "pending_pairs", "withheld_pairs", "not_ranked_pairs",
                   "proposals", "seed", "ruleset_version")


# ------------------------------------------------------------------------------------------- requests


def settings_from(pb: matching_pb2.MatchSettings, violations: Violations, prefix: str = "settings.") -> MatchSettings:
    """The settings with their defaults resolved (empty as-of date: today in Kalimantan Selatan)."""
    as_of = as_of_from(pb, "as_of_date", f"{prefix}as_of_date", violations)
    order = RESERVE_ORDER.get(pb.reserve_order)
    if order is None:
        violations.append((f"{prefix}reserve_order", f"unknown reserve order {pb.reserve_order}"))
    audience = audience_from(pb.audience, f"{prefix}audience", violations)
    return MatchSettings(as_of, pb.seed, order or ReserveOrder.OPEN_FIRST, audience)


def settings_pb(settings: MatchSettings) -> matching_pb2.MatchSettings:
    """Settings with every default filled in (the as-of date above all), as a job keeps them."""
    return matching_pb2.MatchSettings(
        as_of_date=date_pb(settings.as_of), seed=settings.seed,
        reserve_order=RESERVE_ORDER_PB[settings.reserve_order], audience=AUDIENCE_PB[settings.audience],
    )


def cohort_request(clients: Sequence[facts_pb2.Client], courses: Sequence[facts_pb2.Course],
                   rankings: Sequence[matching_pb2.CourseRanking], settings: MatchSettings,
                   violations: Violations) -> CohortRequest:
    """A cohort's messages read into facts; every bad field named (at most :data:`MAX_VIOLATIONS`)."""
    if len(courses) > MAX_COURSES:
        raise invalid([("courses", f"at most {MAX_COURSES:,} courses, got {len(courses):,}")])
    client_list: list[Facts] = []
    for i, client in enumerate(clients):
        facts = client_facts(client, f"clients[{i}]", violations)
        # keep what the cross-checks need, so every problem is reported in one answer
        client_list.append(facts if facts is not None
                           else {"id": client.id, "preferences": list(client.preferences)})
        _stop_at_limit(violations)
    course_list: list[Facts] = []
    for k, course in enumerate(courses):
        facts = course_facts(course, f"courses[{k}]", violations)
        course_list.append(facts if facts is not None else {"code": course.code, "seats": course.seats})
        _stop_at_limit(violations)
    for r, ranking in enumerate(rankings):
        for c, client_id in enumerate(ranking.client_ids):
            check_client_id(client_id, f"rankings[{r}].client_ids[{c}]", violations)
            _stop_at_limit(violations)
    entries = [(r.course_code, list(r.client_ids)) for r in rankings]
    return CohortRequest(client_list, course_list, entries, settings, violations)


def _stop_at_limit(violations: Violations) -> None:
    if len(violations) >= MAX_VIOLATIONS:
        raise invalid(violations[:MAX_VIOLATIONS])


def match_request(request: matching_pb2.MatchRequest) -> CohortRequest:
    violations: Violations = []
    settings = settings_from(request.settings, violations)
    if len(request.clients) > MAX_INLINE_CLIENTS:
        raise invalid([("clients", f"at most {MAX_INLINE_CLIENTS:,} clients in Match, got "
                                   f"{len(request.clients):,}; upload larger cohorts with UploadCohort")])
    return cohort_request(request.clients, request.courses, request.rankings, settings, violations)


def fingerprint(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:32]


class UploadReader:
    """An upload read part by part, with its limits checked as the parts arrive (nothing beyond them is
    kept in memory): request id and settings from the first part, the cohort from all of them."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.clients: list[facts_pb2.Client] = []
        self.courses: list[facts_pb2.Course] = []
        self.rankings: list[matching_pb2.CourseRanking] = []
        self.request_id = ""
        self.settings = matching_pb2.MatchSettings()
        self.violations: Violations = []
        self.size = 0
        self.ranked = 0

    def add(self, part: matching_pb2.UploadCohortRequest) -> None:
        k = len(self.raw)
        data = part.SerializeToString(deterministic=True)
        self.size += len(data)
        if self.size > MAX_UPLOAD_BYTES:
            raise invalid([("request", f"an upload may be at most {MAX_UPLOAD_BYTES // MiB} MiB in all")])
        self.raw.append(data)
        if k == 0:
            self.request_id = part.request_id
            self.settings = part.settings
        else:
            if part.request_id and part.request_id != self.request_id:
                self.violations.append(("request_id", f"part {k} names another request id; send it in the first"
                                                      " part only"))
            if part.HasField("settings"):
                self.violations.append(("settings", f"part {k} has settings; send them in the first part only"))
        self.clients.extend(part.clients)
        self.courses.extend(part.courses)
        self.rankings.extend(part.rankings)
        self.ranked += sum(len(r.client_ids) for r in part.rankings)
        if len(self.clients) > MAX_JOB_CLIENTS:
            raise invalid([("clients", f"at most {MAX_JOB_CLIENTS:,} clients in a job")])
        if len(self.courses) > MAX_COURSES:
            raise invalid([("courses", f"at most {MAX_COURSES:,} courses in a job")])
        if self.ranked > MAX_RANKED:
            raise invalid([("rankings", f"at most {MAX_RANKED:,} ranked client ids in a job")])

    def finish(self) -> Upload:
        if not self.raw:
            raise invalid([("request_id", "required: the upload was empty")])
        check_id(self.request_id, "request_id", self.violations)
        resolved = settings_from(self.settings, self.violations)
        cohort = cohort_request(self.clients, self.courses, self.rankings, resolved, self.violations)
        return Upload(self.request_id, cohort, self.raw, fingerprint(self.raw))


def upload(parts: Iterable[matching_pb2.UploadCohortRequest]) -> Upload:
    """An upload's parts read (see :class:`UploadReader`)."""
    reader = UploadReader()
    for part in parts:
        reader.add(part)
    return reader.finish()


def course_message(facts: Mapping[str, Any]) -> facts_pb2.Course:
    """Course facts (``bekal.facts`` form, e.g. from the catalogue) as a ``bekal.v1.Course``."""
    msg = facts_pb2.Course()
    for fd in msg.DESCRIPTOR.fields:
        value = facts.get(fd.name)
        if value is None:
            continue
        if fd.enum_type is not None:
            setattr(msg, fd.name, number_of(fd.enum_type, value))
        elif isinstance(value, date):
            getattr(msg, fd.name).CopyFrom(date_pb(value))
        else:
            setattr(msg, fd.name, value)
    return msg


# ------------------------------------------------------------------------------------------- results


def _standing_pb(s: Standing | None, out: matching_pb2.Standing) -> None:
    if s is None:
        return
    if s.priority is not None:
        out.priority = s.priority
    if s.rank is not None:
        out.rank = s.rank + 1
    out.lottery = s.lottery


class PlacementEncoder:
    """ClientPlacement -> message, building each shared reason's message once."""

    def __init__(self) -> None:
        self._reasons: dict[int, tuple[Reason, bytes]] = {}

    def _reason(self, reason: Reason) -> bytes:
        hit = self._reasons.get(id(reason))
        if hit is None or hit[0] is not reason:
            out = decision_pb2.Reason()
            reason_pb(reason, out)
            hit = self._reasons[id(reason)] = (reason, out.SerializeToString())
        return hit[1]

    def placement(self, p: ClientPlacement, out: matching_pb2.ClientPlacement) -> None:
        out.client_id = p.client_id
        if p.course is not None:
            out.course_code = p.course
            out.choice = p.choice or 0
            _standing_pb(p.standing, out.standing)
        out.priority_group = p.priority_group
        out.lottery = p.lottery
        for w in p.why_not:
            item = out.why_not.add()
            item.course_code = w.course
            item.reason = BECAUSE_PB[w.because]
            for r in w.reasons:
                item.reasons.add().MergeFromString(self._reason(r))
            item.missing.extend(w.missing)
            if w.because is Because.FULL:
                _standing_pb(w.cutoff, item.cutoff)
                _standing_pb(w.standing, item.standing)


def course_fill_pb(f: CourseFill, out: matching_pb2.CourseFill) -> None:
    out.course_code = f.code
    out.seats = f.seats
    out.reserved_seats = f.reserved_seats
    out.filled = f.filled
    out.applicants = f.applicants
    out.eligible = f.eligible
    out.group_admitted = f.group_admitted
    out.group_on_reserved = f.group_on_reserved
    _standing_pb(f.cutoff, out.cutoff)
    _standing_pb(f.open_cutoff, out.open_cutoff)
    out.ranked = f.ranked


def summary_pb(s: PlacementSummary, out: matching_pb2.MatchSummary) -> None:
    for name in SUMMARY_FIGURES:
        setattr(out, name, getattr(s, name))
    out.as_of_date.CopyFrom(date_pb(s.as_of))
    out.reserve_order = RESERVE_ORDER_PB[s.reserve_order]


def match_response(placement: Placement, with_placements: bool = True) -> matching_pb2.MatchResponse:
    out = matching_pb2.MatchResponse()
    summary_pb(placement.summary, out.summary)
    for fill in placement.courses:
        course_fill_pb(fill, out.courses.add())
    if with_placements:
        encoder = PlacementEncoder()
        for p in placement.clients:
            encoder.placement(p, out.placements.add())
    return out


def job_pb(job: JobRecord) -> matching_pb2.MatchJob:
    out = matching_pb2.MatchJob(
        job_id=job.job_id, status=JOB_STATUS_PB[job.status],
        phase=PHASE_PB.get(job.phase, matching_pb2.MATCH_JOB_PHASE_UNSPECIFIED),
        progress_done=job.progress_done, progress_total=job.progress_total, clients=job.clients,
        courses=job.courses, create_time=timestamp_pb(job.created_at), update_time=timestamp_pb(job.updated_at),
        attempts=job.attempts, operation_name=f"operations/{job.job_id}",
    )
    if job.error:
        out.error.CopyFrom(status_pb(ServiceError("INTERNAL", job.error, reason="JOB_FAILED")))
    out.settings.ParseFromString(job.settings)
    if job.status is JobStatus.SUCCEEDED and job.summary:
        results = matching_pb2.MatchResponse.FromString(job.summary)
        out.summary.CopyFrom(results.summary)
        out.course_fills.extend(results.courses)
    return out


def stream_messages(chunks: Iterable[ResultChunk], offset: int) -> Iterator[bytes]:
    """Serialized ``StreamPlacementsResponse`` messages from client ``offset`` on."""
    for chunk in chunks:
        payload = zlib.decompress(chunk.payload)
        if chunk.first >= offset:
            yield payload
            continue
        msg = matching_pb2.StreamPlacementsResponse.FromString(payload)
        rest = matching_pb2.StreamPlacementsResponse(placements=msg.placements[offset - chunk.first:])
        if rest.placements:
            yield rest.SerializeToString()


class ProtobufJobFormat:
    """:class:`.logic.JobFormat` in ``bekal.v1`` messages: what the RPCs receive and send, kept as bytes."""

    def settings_bytes(self, settings: MatchSettings) -> bytes:
        return settings_pb(settings).SerializeToString()

    def catalogue(self, courses: Sequence[Facts]) -> tuple[list[Facts], bytes]:
        messages = [course_message(c) for c in courses]
        violations: Violations = []
        facts: list[Facts] = [course_facts(m, f"courses[{k}]", violations) or {} for k, m in enumerate(messages)]
        part = matching_pb2.UploadCohortRequest(courses=messages).SerializeToString(deterministic=True)
        return facts, part

    def read_job(self, parts: Sequence[bytes], settings: bytes) -> CohortRequest:
        messages = [matching_pb2.UploadCohortRequest.FromString(b) for b in parts]
        violations: Violations = []
        resolved = settings_from(matching_pb2.MatchSettings.FromString(settings), violations)
        return cohort_request([c for p in messages for c in p.clients], [c for p in messages for c in p.courses],
                              [r for p in messages for r in p.rankings], resolved, violations)

    def summary_bytes(self, placement: Placement) -> bytes:
        return match_response(placement, with_placements=False).SerializeToString()

    def result_chunks(self, clients: Sequence[ClientPlacement], size: int) -> Iterator[ResultChunk]:
        encoder = PlacementEncoder()
        for first in range(0, len(clients), size):
            msg = matching_pb2.StreamPlacementsResponse()
            batch = clients[first:first + size]
            for p in batch:
                encoder.placement(p, msg.placements.add())
            yield ResultChunk(first, len(batch), zlib.compress(msg.SerializeToString(), 1))
