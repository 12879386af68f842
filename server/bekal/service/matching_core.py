"""The matching service's logic without gRPC: inline matches, and jobs that survive restarts.

A job is stored (input and resolved settings, one transaction) before its id is
returned, so an acknowledged job is never lost. Each worker process runs the
jobs it owns on one background thread, one at a time, with the rules snapshot
current when the job starts (one version for the whole job). Progress goes to
the store, so any worker can answer ``GetMatchJob``. A lease ticker renews the
worker's jobs; jobs of a dead worker (crash, ``kill -9``) are taken over at
start-up and every few seconds after, and run again from their stored input --
or marked failed with the reason after ``max_attempts`` interruptions.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from bekal.engine import NotInForce
from bekal.placement import CohortError, Placement, Unjudged, place
from bekal.rulebook import offered_courses
from bekal.service.core import Rules, not_in_force_error, today
from bekal.service.errors import ServiceError, internal, invalid
from bekal.service.matching_convert import (
    MAX_COURSES,
    MAX_INLINE_CLIENTS,
    MAX_JOB_CLIENTS,
    PlacementEncoder,
    check_id,
    cohort_error,
    cohort_from_pb,
    course_fill_pb,
    course_message,
    fingerprint,
    parse_settings,
    resolved_settings,
    summary_pb,
    JOB_STATUS_PB,
)
from bekal.store.jobs import Conflict, JobRecord, JobStatus, JobStore, ResultChunk, new_owner
from bekal.v1 import matching_pb2

log = logging.getLogger("bekal.service")

RESULT_CHUNK = 1_000  # clients per stored result chunk and per StreamPlacements message
PROGRESS_EVERY_S = 0.25  # at most this often a progress write


class _Lost(Exception):
    """Another worker took the job over (our lease ran out): stop working on it."""


class MatchingCore:
    """Match inline; upload, run, report and stream jobs."""

    def __init__(self, rules: Rules, jobs: JobStore | None, *, lease_s: float = 15.0, tick_s: float = 2.0,
                 recover_every_s: float = 5.0, max_attempts: int = 3):
        self.rules = rules
        self.jobs = jobs
        self.owner = new_owner()
        self.lease_s = lease_s
        self.tick_s = tick_s
        self.recover_every_s = recover_every_s
        self.max_attempts = max_attempts
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Take over orphaned jobs, then run jobs and renew leases on background threads."""
        if self.jobs is None or self._threads:
            return
        self._recover()
        for target, name in ((self._runner, "bekal-match-jobs"), (self._ticker, "bekal-match-lease")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _enqueue(self, job_id: str) -> None:
        if job_id not in self._queued:
            self._queued.add(job_id)
            self._queue.put(job_id)

    def _recover(self) -> None:
        try:
            for job in self.jobs.claim_orphans(self.owner, self.lease_s, self.max_attempts):
                log.warning("match job %s was interrupted (attempt %d); running it again", job.job_id, job.attempts)
                self._enqueue(job.job_id)
        except Exception as exc:  # a busy database must not stop the ticker
            internal("recovering match jobs", exc)

    def _ticker(self) -> None:
        last_recovery = time.monotonic()
        while not self._stop.wait(self.tick_s):
            try:
                self.jobs.renew(self.owner, self.lease_s)
            except Exception as exc:
                internal("renewing match job leases", exc)
            if time.monotonic() - last_recovery >= self.recover_every_s:
                last_recovery = time.monotonic()
                self._recover()

    def _runner(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._stop.is_set():
                return
            # a job waits (queued, its lease renewed) until rules are loaded: at start-up the
            # recovered jobs are queued before the worker has loaded its rules
            while self.rules.current is None and not self._stop.wait(0.2):
                pass
            if self._stop.is_set():
                return
            self._queued.discard(job_id)
            try:
                self.run_job(job_id)
            except Exception as exc:  # never let the runner die
                internal("match job runner", exc)

    # ------------------------------------------------------------------------------------ inline

    def match(self, request: matching_pb2.MatchRequest) -> matching_pb2.MatchResponse:
        values, violations = parse_settings(request.settings, today())
        if len(request.clients) > MAX_INLINE_CLIENTS:
            raise invalid([("clients", f"at most {MAX_INLINE_CLIENTS:,} clients in Match, got "
                                       f"{len(request.clients):,}; upload larger cohorts with UploadCohort")])
        with self.rules.lease() as snap:
            _check_in_force(snap, values["as_of"], violations)
            courses = list(request.courses) or _catalogue(snap, values["as_of"])
            cohort = cohort_from_pb(request.clients, courses, request.rankings, values, violations,
                                    max_clients=MAX_INLINE_CLIENTS)
            placement = _place(snap.engine, cohort, values["audience"])
        response = matching_pb2.MatchResponse()
        _results_pb(placement, response)
        encoder = PlacementEncoder()
        for p in placement.clients:
            encoder.placement(p, response.placements.add())
        return response

    # ------------------------------------------------------------------------------------ jobs

    def upload(self, parts: Iterable[matching_pb2.UploadCohortRequest]) -> matching_pb2.MatchJob:
        store = self._store()
        raw: list[bytes] = []
        clients: list[Any] = []
        courses: list[Any] = []
        rankings: list[Any] = []
        request_id = ""
        settings = None
        violations: list[tuple[str, str]] = []
        for k, part in enumerate(parts):
            raw.append(part.SerializeToString(deterministic=True))
            if k == 0:
                request_id = part.request_id
                settings = part.settings
            else:
                if part.request_id and part.request_id != request_id:
                    violations.append(("request_id", f"part {k} names another request id; send it in the first"
                                                     " part only"))
                if part.HasField("settings"):
                    violations.append(("settings", f"part {k} has settings; send them in the first part only"))
            clients.extend(part.clients)
            courses.extend(part.courses)
            rankings.extend(part.rankings)
            if len(clients) > MAX_JOB_CLIENTS:
                raise invalid([("clients", f"at most {MAX_JOB_CLIENTS:,} clients in a job")])
            if len(courses) > MAX_COURSES:
                raise invalid([("courses", f"at most {MAX_COURSES:,} courses in a job")])
        if not raw:
            raise invalid([("request_id", "required: the upload was empty")])
        check_id(request_id, "request_id", violations)
        values, settings_violations = parse_settings(settings or matching_pb2.MatchSettings(), today())
        violations += settings_violations
        extra: list[bytes] = []
        with self.rules.lease() as snap:
            _check_in_force(snap, values["as_of"], violations)
            if not courses:
                courses = _catalogue(snap, values["as_of"])
                extra.append(matching_pb2.UploadCohortRequest(courses=courses).SerializeToString(deterministic=True))
            cohort = cohort_from_pb(clients, courses, rankings, values, violations, max_clients=MAX_JOB_CLIENTS)
        from bekal.store.jobs import NewJob

        new = NewJob(request_id=request_id, fingerprint=fingerprint(raw),
                     settings=resolved_settings(values).SerializeToString(),
                     clients=len(cohort.clients), courses=len(cohort.courses))
        try:
            job, created = store.create(new, raw + extra, self.owner, self.lease_s)
        except Conflict:
            raise invalid([("request_id", "already used for a different cohort; use a new request id")]) from None
        if created:
            log.info("match job %s stored: %d clients, %d courses", job.job_id, job.clients, job.courses)
            self._enqueue(job.job_id)
        return job_pb(job)

    def get(self, job_id: str) -> matching_pb2.MatchJob:
        return job_pb(self._job(job_id))

    def placements(self, job_id: str, offset: int) -> Iterator[bytes]:
        """Serialized ``StreamPlacementsResponse`` messages; raises before the first when the job is not done."""
        job = self._job(job_id)
        if offset < 0:
            raise invalid([("offset", "must be >= 0")])
        if job.status is JobStatus.FAILED:
            raise ServiceError("FAILED_PRECONDITION", f"match job {job_id} failed: {job.error}",
                               preconditions=[("JOB_STATUS", job_id, f"failed: {job.error}")])
        if job.status is not JobStatus.SUCCEEDED:
            raise ServiceError(
                "FAILED_PRECONDITION",
                f"match job {job_id} is {job.status.value} ({job.phase} {job.progress_done}/{job.progress_total});"
                " poll GetMatchJob until it has succeeded",
                preconditions=[("JOB_STATUS", job_id, f"{job.status.value}: not finished yet")])
        return self._stream(job_id, offset)

    def _stream(self, job_id: str, offset: int) -> Iterator[bytes]:
        for chunk in self._store().results(job_id, offset):
            payload = zlib.decompress(chunk.payload)
            if chunk.first >= offset:
                yield payload
                continue
            msg = matching_pb2.StreamPlacementsResponse.FromString(payload)
            rest = matching_pb2.StreamPlacementsResponse(placements=msg.placements[offset - chunk.first:])
            if rest.placements:
                yield rest.SerializeToString()

    def _job(self, job_id: str) -> JobRecord:
        violations: list[tuple[str, str]] = []
        check_id(job_id, "job_id", violations)
        if violations:
            raise invalid(violations)
        job = self._store().get(job_id)
        if job is None:
            raise ServiceError("NOT_FOUND", f"no match job {job_id!r}", [("job_id", f"unknown job {job_id!r}")],
                               resource=("bekal.v1.MatchJob", job_id))
        return job

    def _store(self) -> JobStore:
        if self.jobs is None:
            raise ServiceError("FAILED_PRECONDITION", "this server keeps no match jobs (no database)",
                               preconditions=[("STORE", "jobs", "the server was started without a job store")])
        return self.jobs

    def run_job(self, job_id: str) -> None:
        """Run one job this worker owns (queued); record its results or why it failed."""
        store = self._store()
        job = store.start(job_id, self.owner, self.lease_s)
        if job is None:
            return  # finished, failed or taken over meanwhile
        log.info("match job %s started (attempt %d)", job_id, job.attempts)
        started = time.perf_counter()
        try:
            placement = self._decide(job)
            self._save(job, placement)
        except _Lost:
            log.warning("match job %s was taken over by another worker", job_id)
            return
        except ServiceError as err:
            store.fail(job_id, self.owner, str(err))
            log.info("match job %s failed: %s", job_id, err.code)
            return
        except Exception as exc:
            err = internal("match job", exc)
            store.fail(job_id, self.owner, err.message)
            return
        log.info("match job %s succeeded in %.1f s", job_id, time.perf_counter() - started)

    def _progress(self, job: JobRecord):
        last = [0.0]
        store = self._store()

        def report(phase: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY_S and done != total and done != 0:
                return
            last[0] = now
            if not store.progress(job.job_id, self.owner, phase, done, total):
                raise _Lost()

        return report

    def _decide(self, job: JobRecord) -> Placement:
        parts = [matching_pb2.UploadCohortRequest.FromString(b) for b in self._store().input_parts(job.job_id)]
        if not parts:
            raise ServiceError("DATA_LOSS", "the job's stored input is missing")
        clients = [c for p in parts for c in p.clients]
        courses = [c for p in parts for c in p.courses]
        rankings = [r for p in parts for r in p.rankings]
        values, violations = parse_settings(matching_pb2.MatchSettings.FromString(job.settings), today())
        with self.rules.lease() as snap:
            _check_in_force(snap, values["as_of"], violations)
            cohort = cohort_from_pb(clients, courses, rankings, values, violations, max_clients=MAX_JOB_CLIENTS)
            return _place(snap.engine, cohort, values["audience"], self._progress(job))

    def _save(self, job: JobRecord, placement: Placement) -> None:
        report = self._progress(job)
        total = len(placement.clients)
        encoder = PlacementEncoder()
        chunks: list[ResultChunk] = []
        for first in range(0, total, RESULT_CHUNK):
            msg = matching_pb2.StreamPlacementsResponse()
            batch = placement.clients[first:first + RESULT_CHUNK]
            for p in batch:
                encoder.placement(p, msg.placements.add())
            chunks.append(ResultChunk(first, len(batch), zlib.compress(msg.SerializeToString(), 1)))
            report("saving", first + len(batch), total)
        summary = matching_pb2.MatchResponse()
        _results_pb(placement, summary)
        if not self._store().finish(job.job_id, self.owner, summary.SerializeToString(), chunks):
            raise _Lost()


def _place(engine: Any, cohort: Any, audience: str, progress: Any = None) -> Placement:
    try:
        return place(engine, cohort, progress=progress, audience=audience)
    except CohortError as exc:
        raise cohort_error(exc) from None
    except NotInForce as exc:
        raise not_in_force_error(exc, "settings.as_of_date") from None
    except Unjudged as exc:
        log.error("match: %s", exc)
        raise ServiceError("INTERNAL", str(exc)) from None


def _check_in_force(snap: Any, as_of: Any, violations: list[tuple[str, str]]) -> None:
    """FAILED_PRECONDITION before any work when some ruleset is not in force on ``as_of``."""
    gaps = snap.rulebook.compiled.not_in_force(as_of)
    if gaps:
        raise not_in_force_error(NotInForce(as_of, gaps), "settings.as_of_date")


def _catalogue(snap: Any, as_of: Any) -> list:
    courses = snap.rulebook.courses
    return [course_message(courses[code]) for code in offered_courses(courses, as_of)]


def _results_pb(placement: Placement, out: matching_pb2.MatchResponse) -> None:
    summary_pb(placement.summary, out.summary)
    for fill in placement.courses:
        course_fill_pb(fill, out.courses.add())


def job_pb(job: JobRecord) -> matching_pb2.MatchJob:
    out = matching_pb2.MatchJob(
        job_id=job.job_id, status=JOB_STATUS_PB[job.status.value], phase=job.phase,
        progress_done=job.progress_done, progress_total=job.progress_total, clients=job.clients,
        courses=job.courses, error=job.error, created_time=job.created_at, update_time=job.updated_at,
        attempts=job.attempts,
    )
    out.settings.ParseFromString(job.settings)
    if job.status is JobStatus.SUCCEEDED and job.summary:
        results = matching_pb2.MatchResponse.FromString(job.summary)
        out.summary.CopyFrom(results.summary)
        out.course_fills.extend(results.courses)
    return out
