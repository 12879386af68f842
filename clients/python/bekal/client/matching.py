"""Matching calls: place a cohort inline, or as a job -- upload, poll, stream the results.

Every call retries UNAVAILABLE like the others (a restarting server resumes a job
it acknowledged); an upload is resent whole with the same request id (the server
answers with the same job), and a download resumes after the last placement
received.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import grpc

from bekal.client import convert
from bekal.client.calls import Calls
from bekal.client.errors import BekalError, JobFailed
from bekal.client.placements import ClientPlacement, JobStatus, MatchJob, MatchResult, ReserveOrder
from bekal.v1 import facts_pb2, matching_pb2, matching_pb2_grpc

Records = Sequence[Mapping[str, Any] | facts_pb2.Client]
CourseRecords = Sequence[Mapping[str, Any] | facts_pb2.Course]
Rankings = Mapping[str, Sequence[str]] | Iterable[tuple[str, Sequence[str]]]
Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: ``uploading``, then the job's phases (``queued``, ``eligibility``,
``matching``, ``explaining``, ``saving``), then ``downloading``."""

CLIENTS_PER_PART = 2_000  # clients per UploadCohort message
RANKINGS_PER_PART = 20_000


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


class MatchingCalls(Calls):
    _matching: matching_pb2_grpc.MatchingServiceStub

    def match(self, clients: Records, *, courses: CourseRecords = (), rankings: Rankings | None = None,
              as_of: date | str | None = None, seed: int = 0, reserve_order: ReserveOrder | str = "open_first",
              audience: str | None = None, timeout: float | None = None) -> MatchResult:
        """Place a cohort of at most 5,000 clients in one call. No ``courses``: the server's catalogue
        courses offered on ``as_of``. Raises :class:`InvalidInput` before sending what cannot be
        encoded, :class:`BekalError` for what the server refuses."""
        request = matching_pb2.MatchRequest(
            settings=convert.settings_pb(as_of, seed, reserve_order, self.audience if audience is None else audience),
            clients=convert.messages_from(facts_pb2.Client, clients, "clients"),
            courses=convert.messages_from(facts_pb2.Course, courses, "courses"),
            rankings=convert.rankings_pb(rankings),
        )
        pb = self.unary(self._matching.Match, request, timeout)
        return MatchResult(tuple(convert.placement_from(p) for p in pb.placements),
                           tuple(convert.course_fill_from(f) for f in pb.courses), convert.summary_from(pb.summary))

    def upload_cohort(self, clients: Records, *, courses: CourseRecords = (), rankings: Rankings | None = None,
                      as_of: date | str | None = None, seed: int = 0,
                      reserve_order: ReserveOrder | str = "open_first", audience: str | None = None,
                      request_id: str | None = None, progress: Progress | None = None,
                      timeout: float | None = None) -> MatchJob:
        """Upload a cohort (up to 200,000 clients) as a job; the job, queued (or already further).

        The cohort goes in parts; a retry sends it again with the same ``request_id`` (default: a new
        UUID), which the server answers with the same job.
        """
        report = progress or _no_progress
        settings = convert.settings_pb(as_of, seed, reserve_order, self.audience if audience is None else audience)
        client_pbs = convert.messages_from(facts_pb2.Client, clients, "clients")
        course_pbs = convert.messages_from(facts_pb2.Course, courses, "courses")
        ranking_pbs = convert.rankings_pb(rankings)
        rid = request_id or str(uuid.uuid4())

        def parts() -> Iterator[matching_pb2.UploadCohortRequest]:
            yield matching_pb2.UploadCohortRequest(request_id=rid, settings=settings, courses=course_pbs)
            for start in range(0, len(ranking_pbs), RANKINGS_PER_PART):
                yield matching_pb2.UploadCohortRequest(rankings=ranking_pbs[start:start + RANKINGS_PER_PART])
            for start in range(0, len(client_pbs), CLIENTS_PER_PART):
                report("uploading", start, len(client_pbs))
                yield matching_pb2.UploadCohortRequest(clients=client_pbs[start:start + CLIENTS_PER_PART])
            report("uploading", len(client_pbs), len(client_pbs))

        pb = self.retrying(lambda t: self._matching.UploadCohort(parts(), timeout=t), timeout)
        return convert.job_from(pb.job)

    def get_match_job(self, job_id: str, *, timeout: float | None = None) -> MatchJob:
        pb = self.unary(self._matching.GetMatchJob, matching_pb2.GetMatchJobRequest(job_id=job_id), timeout)
        return convert.job_from(pb.job)

    def wait_for_job(self, job_id: str, *, progress: Progress | None = None, poll_every: float = 0.2,
                     timeout: float | None = None) -> MatchJob:
        """Poll until the job has succeeded (returned) or failed (:class:`JobFailed`)."""
        report = progress or _no_progress
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get_match_job(job_id, timeout=_left(deadline))
            if job.done:
                break
            report(job.phase or "queued", job.progress_done, job.progress_total)
            time.sleep(poll_every)
        if job.status is JobStatus.FAILED or job.summary is None:
            raise JobFailed(job_id, job.error or "the job failed")
        return job

    def stream_placements(self, job_id: str, *, offset: int = 0,
                          timeout: float | None = None) -> Iterator[ClientPlacement]:
        """A succeeded job's placements in upload order, from client ``offset`` on.

        An interrupted download resumes after the last placement received.
        """
        attempts = self.attempts(timeout)
        received = offset
        while True:
            request = matching_pb2.StreamPlacementsRequest(job_id=job_id, offset=received)
            try:
                for message in self._matching.StreamPlacements(request, timeout=attempts.timeout()):
                    for p in message.placements:
                        received += 1
                        yield convert.placement_from(p)
                    attempts.progressed()
                return
            except grpc.RpcError as exc:
                attempts.failed(exc)

    def place_cohort(self, clients: Records, *, courses: CourseRecords = (), rankings: Rankings | None = None,
                     as_of: date | str | None = None, seed: int = 0,
                     reserve_order: ReserveOrder | str = "open_first", audience: str | None = None,
                     request_id: str | None = None, progress: Progress | None = None, poll_every: float = 0.2,
                     timeout: float | None = None) -> MatchResult:
        """Upload a cohort as a job, wait for it and download its placements: the whole job API in one.

        ``timeout`` bounds all of it (default: each call the client's own). Raises :class:`JobFailed`
        when the job fails, :class:`BekalError` otherwise.
        """
        report = progress or _no_progress
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self.upload_cohort(clients, courses=courses, rankings=rankings, as_of=as_of, seed=seed,
                                 reserve_order=reserve_order, audience=audience, request_id=request_id,
                                 progress=report, timeout=_left(deadline))
        job = self.wait_for_job(job.job_id, progress=report, poll_every=poll_every, timeout=_left(deadline))
        assert job.summary is not None  # wait_for_job returns succeeded jobs only
        placements: list[ClientPlacement] = []
        report("downloading", 0, job.clients)
        for p in self.stream_placements(job.job_id, timeout=_left(deadline)):
            placements.append(p)
            if len(placements) % 1_000 == 0:
                report("downloading", len(placements), job.clients)
        report("downloading", len(placements), job.clients)
        return MatchResult(tuple(placements), job.course_fills, job.summary, job)


def _left(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (None: no deadline); DEADLINE_EXCEEDED once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise BekalError("DEADLINE_EXCEEDED", "the deadline passed before the job was done")
    return left
