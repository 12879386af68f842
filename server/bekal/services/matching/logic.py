"""The matching service on domain types: inline matches, and jobs that survive restarts.

A job is stored (input and resolved settings, one transaction) before its id is
returned, so an acknowledged job is never lost. Each worker process runs the
jobs it owns on one background thread, one at a time, with the rules snapshot
current when the job starts (one version for the whole job). Progress goes to
the store, so any worker can answer ``GetMatchJob``. A lease ticker renews the
worker's jobs; jobs of a dead worker (crash, ``kill -9``) are taken over at
start-up and every few seconds after, and run again from their stored input --
or marked failed with the reason after ``max_attempts`` interruptions.

A graceful stop (:meth:`Matching.stop`, SIGTERM) is not an interruption: the
running job stops at its next progress report and is *released* -- queued again,
without an owner, the attempt not counted -- as are the jobs waiting in this
worker, so the next worker to start (or another live one) runs them. A job whose
results are computed already is saved first. A store that cannot be written (a
full disk) makes an upload ``UNAVAILABLE`` with a retry hint, and puts a running
job back in the queue (that attempt counts).

No gRPC and no protobuf here: what is stored with a job (its input as
received, its settings, its results) is written and read by a :class:`JobFormat`
-- :mod:`.codec` in the server.
"""

from __future__ import annotations

import atexit
import logging
import queue
import re
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from bekal.access import provides
from bekal.audience import BLK
from bekal.engine import NotInForce
from bekal.facts import DECLARED, Fact, FactError, resolve_declared
from bekal.matching import ReserveOrder
from bekal.placement import (
    ClientPlacement,
    Cohort,
    CohortError,
    Placement,
    Progress,
    Unjudged,
    make_cohort,
    place,
)
from bekal.placement.cohort import Facts
from bekal.placement.errors import WorkersFailed
from bekal.rulebook import offered_courses, version_files
from bekal.services.errors import (
    JobTakenOver,
    ServiceError,
    Violations,
    internal,
    invalid,
    not_found,
    not_in_force_error,
    storage_unavailable,
)
from bekal.services.limits import MAX_INLINE_CLIENTS, MAX_VIOLATIONS, check_id
from bekal.services.snapshots import ServedRules, Snapshot
from bekal.store import DecisionLog, JobConflict, JobStore, StoreUnavailable
from bekal.store.decisionlog import LoggedJob
from bekal.store.jobs import JobRecord, JobStatus, NewJob, ResultChunk
from bekal.store.owners import new_owner

log = logging.getLogger("bekal.service")

RESULT_CHUNK = 1_000  # clients per stored result chunk and per StreamPlacements message
PROGRESS_EVERY_S = 0.25  # at most this often a progress write


@dataclass(frozen=True)
class MatchSettings:
    """How to place a cohort: every default resolved (a job keeps them so)."""

    as_of: date
    seed: int = 0
    reserve_order: ReserveOrder = ReserveOrder.OPEN_FIRST
    audience: str = BLK


@dataclass(frozen=True)
class CohortRequest:
    """A cohort as a request sends it, read but not yet checked as a whole.

    ``clients``/``courses`` are facts (for an entry whose facts are bad, what the
    cross-checks need: a client's id and preferences, a course's code and seats);
    no ``courses`` means the catalogue's courses offered on the as-of date.
    ``violations`` are the problems found reading it, named as the request names the fields.
    """

    clients: Sequence[Facts]
    courses: Sequence[Facts]
    rankings: Sequence[tuple[str, list[str]]]
    settings: MatchSettings
    violations: Violations = field(default_factory=list)
    provider: str | None = None  # a training centre's request: its own courses only (bekal.access)


@dataclass(frozen=True)
class Upload:
    """An uploaded cohort: read, and the parts as received (stored with the job, hashed for retries)."""

    request_id: str
    cohort: CohortRequest
    parts: Sequence[bytes]
    fingerprint: str


@dataclass(frozen=True)
class JobSettings:
    """How a worker runs jobs: lease length and renewal, orphan recovery, retries of interrupted jobs."""

    lease_s: float = 15.0
    tick_s: float = 2.0
    recover_every_s: float = 5.0
    max_attempts: int = 3
    placement_processes: int = 0  # processes deciding a big job's eligibility (bekal.placement.place); 0 = auto


class JobFormat(Protocol):
    """How a job's input, settings and results are kept in the job store (opaque bytes to the store)."""

    def settings_bytes(self, settings: MatchSettings) -> bytes: ...

    def catalogue(self, courses: Sequence[Facts]) -> tuple[list[Facts], bytes]:
        """Catalogue courses as a request would send them: their facts read back, and one input part."""
        ...

    def read_job(self, parts: Sequence[bytes], settings: bytes) -> CohortRequest: ...

    def summary_bytes(self, placement: Placement) -> bytes: ...

    def result_chunks(self, clients: Sequence[ClientPlacement], size: int) -> Iterator[ResultChunk]: ...


def _confirm(replay_log: DecisionLog, kept: LoggedJob, clients: list[str]) -> None:
    """Make a succeeded job's replay record this attempt's, when an attempt that lost the job left its own
    under other rules. The job has succeeded already: a decision log that cannot be written now leaves the
    earlier record (logged), it does not put the job back in the queue."""
    try:
        replay_log.record_job(kept, clients, finished=True)
    except StoreUnavailable as exc:
        log.warning("match job %s: its replay record could not be confirmed: %s", kept.job_id, exc)


class Matching:
    """Match inline; upload, run, report and stream jobs."""

    def __init__(self, rules: ServedRules, jobs: JobStore | None, job_format: JobFormat,
                 settings: JobSettings = JobSettings(), replay_log: DecisionLog | None = None):
        self.rules = rules
        self.replay_log = replay_log  # keeps every succeeded job for replay (bekal.services.replay)
        self.jobs = jobs
        self.format = job_format
        self.settings = settings
        self.owner = new_owner()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._stop = threading.Event()
        self._stopped = False
        self._stop_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._current: str | None = None  # the job the runner is working on
        self._to_release: dict[str, bool] = {}  # job id -> count the attempt: releases the store refused so far

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Take over orphaned jobs, then run jobs and renew leases on background threads.

        :meth:`stop` also runs when the process exits normally (after SIGTERM), should its owner not call it.
        """
        if self.jobs is None or self._threads:
            return
        self._recover(self.jobs)
        for target, name in ((self._runner, "bekal-match-jobs"), (self._ticker, "bekal-match-lease")):
            thread = threading.Thread(target=target, args=(self.jobs,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        _stop_at_exit(self)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop running jobs and release this worker's jobs for the next one (the attempt not counted).

        The running job stops at its next progress report, within ``timeout`` seconds, and releases
        itself; a job still running then (a step that reports no progress) and the queued ones are
        released from here. Idempotent; call it before the job store is closed.
        """
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop.set()
        self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.jobs is None:
            return
        waiting = [job_id for job_id in list(self._queued) if job_id]
        current = self._current
        for job_id in ([current] if current else []) + waiting:
            self._to_release.setdefault(job_id, False)
        self._release_pending(self.jobs)
        if self._to_release:
            log.warning("%d match job(s) could not be released (the store is unavailable); they are taken over "
                        "as interrupted", len(self._to_release))

    def _enqueue(self, job_id: str) -> None:
        if job_id not in self._queued:
            self._queued.add(job_id)
            self._queue.put(job_id)

    def _recover(self, jobs: JobStore) -> None:
        try:
            for job in jobs.claim_orphans(self.owner, self.settings.lease_s, self.settings.max_attempts):
                if job.attempts:
                    log.warning("match job %s was interrupted (attempt %d); running it again", job.job_id,
                                job.attempts)
                else:
                    log.info("match job %s taken over from the queue", job.job_id)
                self._enqueue(job.job_id)
        except StoreUnavailable as exc:  # a busy or full database must not stop the ticker
            log.warning("match jobs not recovered now: %s", exc)
        except Exception as exc:
            internal("recovering match jobs", exc)

    def _release_pending(self, jobs: JobStore) -> None:
        """Release the jobs waiting for it (the store was unavailable, or the worker stops)."""
        for job_id, count_attempt in list(self._to_release.items()):
            try:
                if jobs.release(job_id, self.owner, count_attempt=count_attempt):
                    log.info("match job %s released: queued again for any worker", job_id)
            except StoreUnavailable as exc:
                log.warning("match job %s not released yet: %s", job_id, exc)
                continue
            except Exception as exc:
                internal("releasing a match job", exc)
            self._to_release.pop(job_id, None)

    def _ticker(self, jobs: JobStore) -> None:
        last_recovery = time.monotonic()
        while not self._stop.wait(self.settings.tick_s):
            try:
                jobs.renew(self.owner, self.settings.lease_s)
            except StoreUnavailable as exc:
                log.warning("match job leases not renewed: %s", exc)
            except Exception as exc:
                internal("renewing match job leases", exc)
            if self._to_release:
                self._release_pending(jobs)
            if time.monotonic() - last_recovery >= self.settings.recover_every_s:
                last_recovery = time.monotonic()
                self._recover(jobs)

    def _runner(self, jobs: JobStore) -> None:
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

    def match(self, request: CohortRequest) -> Placement:
        """Place a cohort of at most :data:`MAX_INLINE_CLIENTS` now."""
        if len(request.clients) > MAX_INLINE_CLIENTS:
            raise invalid([("clients", f"at most {MAX_INLINE_CLIENTS:,} clients in Match, got "
                                       f"{len(request.clients):,}; upload larger cohorts with UploadCohort")])
        with self.rules.lease() as snap:
            cohort = self._cohort(snap, request, catalogue=True)[0]
            return _place(snap, cohort, request.settings.audience)

    # ------------------------------------------------------------------------------------ jobs

    def upload(self, upload: Upload, creator: str = "") -> JobRecord:
        """Check an uploaded cohort as a whole and store it as a queued job (the same job for a retry);
        ``creator`` (an agency name) is the only one who reads it back."""
        store = self._store()
        with self.rules.lease() as snap:
            cohort, extra = self._cohort(snap, upload.cohort, catalogue=True)
        # the creator is part of what a retry must repeat: another agency reusing a request id is a
        # conflict, never someone else's job
        new = NewJob(request_id=upload.request_id, fingerprint=f"{creator}\n{upload.fingerprint}",
                     settings=self.format.settings_bytes(upload.cohort.settings),
                     clients=len(cohort.clients), courses=len(cohort.courses), creator=creator)
        try:
            job, created = store.create(new, [*upload.parts, *extra], self.owner, self.settings.lease_s)
        except JobConflict:
            raise invalid([("request_id", "already used for a different cohort; use a new request id")]) from None
        except StoreUnavailable as exc:  # a full disk, ...: nothing stored, worth retrying later
            log.error("match job upload: %s", exc)
            raise storage_unavailable("the job store", exc.retry_after) from None
        if created:
            log.info("match job %s stored: %d clients, %d courses", job.job_id, job.clients, job.courses)
            self._enqueue(job.job_id)
        return job

    def get(self, job_id: str, viewer: str | None = None) -> JobRecord:
        """The job, when ``viewer`` (an agency name; None: the server itself) created it; NOT_FOUND otherwise,
        as for a job that does not exist, so a job id says nothing to anyone else."""
        violations: Violations = []
        check_id(job_id, "job_id", violations)
        if violations:
            raise invalid(violations)
        try:
            job = self._store().get(job_id)
        except StoreUnavailable as exc:
            log.error("match job: %s", exc)
            raise storage_unavailable("the job store", exc.retry_after) from None
        if job is None or (viewer is not None and job.creator != viewer):
            raise not_found(f"no match job {job_id!r}", "job_id", "job", "bekal.v1.MatchJob", job_id)
        return job

    def results(self, job_id: str, offset: int, viewer: str | None = None) -> Iterator[ResultChunk]:
        """The stored result chunks from client ``offset`` on; raises before the first when the job is not done."""
        job = self.get(job_id, viewer)
        if offset < 0:
            raise invalid([("offset", "must be >= 0")])
        if job.status is JobStatus.FAILED:
            raise ServiceError("FAILED_PRECONDITION", f"match job {job_id} failed: {job.error}",
                               preconditions=[("JOB_STATUS", job_id, f"failed: {job.error}")],
                               reason="JOB_NOT_SUCCEEDED")
        if job.status is not JobStatus.SUCCEEDED:
            raise ServiceError(
                "FAILED_PRECONDITION",
                f"match job {job_id} is {job.status.value} ({job.phase} {job.progress_done}/{job.progress_total});"
                " poll GetMatchJob until it has succeeded",
                preconditions=[("JOB_STATUS", job_id, f"{job.status.value}: not finished yet")],
                reason="JOB_NOT_SUCCEEDED")
        return _readable(self._store().results(job_id, offset))

    def _store(self) -> JobStore:
        if self.jobs is None:
            raise ServiceError("FAILED_PRECONDITION", "this server keeps no match jobs (no database)",
                               preconditions=[("STORE", "jobs", "the server was started without a job store")],
                               reason="JOBS_NOT_KEPT")
        return self.jobs

    def run_job(self, job_id: str) -> None:
        """Run one job this worker owns (queued); record its results or why it failed.

        Stopping (:meth:`stop`) releases it at its next progress report; a store that cannot be
        written puts it back in the queue (released, the attempt counted) as soon as it can.
        """
        store = self._store()
        self._current = job_id
        try:
            self._run(store, job_id)
        except StoreUnavailable as exc:
            log.warning("match job %s put back in the queue: %s", job_id, exc)
            self._to_release[job_id] = True
            self._release_pending(store)
        finally:
            self._current = None

    def _run(self, store: JobStore, job_id: str) -> None:
        job = store.start(job_id, self.owner, self.settings.lease_s)
        if job is None:
            return  # finished, failed or taken over meanwhile
        log.info("match job %s started (attempt %d)", job_id, job.attempts)
        started = time.perf_counter()
        try:
            placement, kept = self._decide(job)
            clients = [p.client_id for p in placement.clients]
            if self.replay_log is not None:  # kept before the job is acknowledged as succeeded
                self.replay_log.record_job(kept, clients)
            self._save(job, placement)
            if self.replay_log is not None:  # this attempt's results are the job's: so is its record
                _confirm(self.replay_log, kept, clients)
        except JobTakenOver:
            log.warning("match job %s was taken over by another worker", job_id)
            return
        except _Stopping:
            self._to_release[job_id] = False
            self._release_pending(store)
            return
        except StoreUnavailable:
            raise
        except ServiceError as err:
            store.fail(job_id, self.owner, str(err))
            log.info("match job %s failed: %s", job_id, err.code)
            return
        except Exception as exc:
            store.fail(job_id, self.owner, internal("match job", exc).message)
            return
        log.info("match job %s succeeded in %.1f s", job_id, time.perf_counter() - started)

    def _progress(self, job: JobRecord, stoppable: bool = True) -> Progress:
        """Progress reports to the store; with ``stoppable``, a report after :meth:`stop` ends the run."""
        last = [0.0]
        store = self._store()
        stop = self._stop

        def report(phase: str, done: int, total: int) -> None:
            if stoppable and stop.is_set():
                raise _Stopping()
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY_S and done != total and done != 0:
                return
            last[0] = now
            if not store.progress(job.job_id, self.owner, phase, done, total):
                raise JobTakenOver()

        return report

    def _decide(self, job: JobRecord) -> tuple[Placement, LoggedJob]:
        """The job's placement, and the job as the decision log keeps it for replay."""
        parts = self._store().input_parts(job.job_id)
        if not parts:
            raise ServiceError("DATA_LOSS", "the job's stored input is missing")
        request = self.format.read_job(parts, job.settings)
        with self.rules.lease() as snap:
            if self.replay_log is not None:  # the version that places is kept before its result is
                self.replay_log.keep_ruleset(snap.version, version_files(snap.rulebook))
            cohort = self._cohort(snap, request, catalogue=False)[0]
            placement = _place(snap, cohort, request.settings.audience, self._progress(job),
                               self.settings.placement_processes or None)
        kept = LoggedJob(job.job_id, job.request_id, job.creator, snap.version, request.settings.as_of.isoformat(),
                         job.settings, tuple(parts), tuple((p.client_id, p.course or "") for p in placement.clients))
        return placement, kept

    def replay(self, kept: LoggedJob, snap: Snapshot) -> Placement:
        """A kept job placed again, with the rules of ``snap`` (its own kept version, rebuilt), on one process."""
        request = self.format.read_job(kept.parts, kept.settings)
        cohort = self._cohort(snap, request, catalogue=False)[0]
        return _place(snap, cohort, request.settings.audience, None, 1)

    def _save(self, job: JobRecord, placement: Placement) -> None:
        report = self._progress(job, stoppable=False)  # the results are computed: keep them
        total = len(placement.clients)
        chunks: list[ResultChunk] = []
        for chunk in self.format.result_chunks(placement.clients, RESULT_CHUNK):
            chunks.append(chunk)
            report("saving", chunk.first + chunk.count, total)
        if not self._store().finish(job.job_id, self.owner, self.format.summary_bytes(placement), chunks):
            raise JobTakenOver()

    # ------------------------------------------------------------------------------------ checking

    def _cohort(self, snap: Snapshot, request: CohortRequest, *, catalogue: bool) -> tuple[Cohort, list[bytes]]:
        """The request checked as a whole with the snapshot's rules; INVALID_ARGUMENT naming every problem.

        With ``catalogue``, a request without courses gets the catalogue's courses offered on the
        as-of date, returned also as the input part a job keeps.
        """
        settings = request.settings
        violations = list(request.violations)
        gaps = snap.rulebook.compiled.not_in_force(settings.as_of)
        if gaps:  # FAILED_PRECONDITION before any work: nothing is placed on such a date
            raise not_in_force_error(NotInForce(settings.as_of, gaps), "settings.as_of_date")
        courses, extra = list(request.courses), []
        if request.provider is not None:
            _own_courses_only(request, snap.rulebook.courses, request.provider)
        if catalogue and not courses:
            offered = {code: c for code, c in snap.rulebook.courses.items()
                       if request.provider is None or provides(request.provider, c)}
            courses, part = self.format.catalogue([offered[c] for c in offered_courses(offered, settings.as_of)])
            extra.append(part)
        clients = [_declared("client", f"clients[{i}]", c, snap.rulebook.declared, violations)
                   for i, c in enumerate(request.clients)]
        courses = [_declared("course", f"courses[{k}]", c, snap.rulebook.declared, violations)
                   for k, c in enumerate(courses)]
        try:
            cohort: Cohort | None = make_cohort(
                clients, courses, as_of=settings.as_of, seed=settings.seed, rankings=request.rankings,
                reserve_order=settings.reserve_order, parsed=True)
        except CohortError as exc:
            violations += cohort_violations(exc)
            cohort = None
        if violations or cohort is None:
            raise invalid(sorted(violations, key=_path_order)[:MAX_VIOLATIONS])
        return cohort, extra


def _declared(kind: str, where: str, facts: Facts, declared: Mapping[str, Fact], violations: Violations) -> Facts:
    """``facts`` with its declared facts checked against the rules' facts file (bad ones named as
    ``clients[3].declared[KEY]`` in ``violations``)."""
    if DECLARED not in facts:
        return facts
    try:
        return resolve_declared(kind, facts, declared)
    except FactError as exc:
        violations.extend((f"{where}.{name.split('.', 1)[1]}", message) for name, message in exc.violations)
        return {k: v for k, v in facts.items() if k != DECLARED}


def _own_courses_only(request: CohortRequest, catalogue: Mapping[str, Facts], provider: str) -> None:
    """A training centre places clients into its own courses only: a course of another centre, given
    or preferred, is PERMISSION_DENIED naming it (:func:`bekal.access.check_course`)."""
    denied: Violations = []
    given = {str(c.get("code")): c for c in request.courses}
    for i, course in enumerate(request.courses):
        if not provides(provider, course):
            denied.append((f"courses[{i}].blk", f"course {course.get('code')} is not {provider}'s"))
    for i, client in enumerate(request.clients):
        for j, code in enumerate(client.get("preferences") or ()):
            preferred = given.get(code) or catalogue.get(code)
            if preferred is not None and not provides(provider, preferred):
                denied.append((f"clients[{i}].preferences[{j}]", f"course {code} is not {provider}'s"))
    if denied:
        raise ServiceError("PERMISSION_DENIED", f"a training centre places clients into its own courses only "
                           f"({len(denied)} not {provider}'s)", denied[:MAX_VIOLATIONS], reason="COURSE_NOT_OWNED")


class _Stopping(Exception):
    """The worker stops: leave the running job (it is released, not failed)."""


def _readable(chunks: Iterator[ResultChunk]) -> Iterator[ResultChunk]:
    """Result chunks read lazily; a store that cannot be read now is UNAVAILABLE with a retry hint."""
    try:
        yield from chunks
    except StoreUnavailable as exc:
        log.error("match job results: %s", exc)
        raise storage_unavailable("the job store", exc.retry_after) from None


def _stop_at_exit(matching: Matching) -> None:
    """Run ``matching.stop()`` when the process exits normally, before daemon threads are abandoned.

    ``threading._register_atexit`` hooks run when the main thread ends, in a plain process and in a
    ``multiprocessing`` worker alike (where :mod:`atexit` hooks do not run); ``atexit`` is the
    fallback. Holds only a weak reference. A worker that calls :meth:`Matching.stop` itself (as
    it should, on SIGTERM) makes this a no-op.
    """
    ref = weakref.ref(matching)

    def hook() -> None:
        target = ref()
        if target is not None:
            try:
                target.stop()
            except Exception as exc:  # at exit: say what, never raise
                log.warning("stopping match jobs at exit: %s", type(exc).__name__)

    register = getattr(threading, "_register_atexit", None)
    try:
        if register is not None:
            register(hook)
        else:  # pragma: no cover - every CPython since 3.9 has it
            atexit.register(hook)
    except RuntimeError:  # the interpreter is shutting down already
        pass


def cohort_violations(exc: CohortError) -> Violations:
    """A cohort's problems with the settings named as the request names them."""
    renamed = {"as_of": "settings.as_of_date", "seed": "settings.seed", "reserve_order": "settings.reserve_order"}
    return [(renamed.get(f, f), m) for f, m in exc.violations]


def _path_order(violation: tuple[str, str]) -> tuple[tuple[int, int | str], ...]:
    """Sort key: by field path, with indices compared as numbers."""
    parts = re.split(r"\[(\d+)\]", violation[0])
    return tuple((0, int(p)) if i % 2 else (1, p) for i, p in enumerate(parts))


def _place(snap: Snapshot, cohort: Cohort, audience: str, progress: Progress | None = None,
           processes: int | None = None) -> Placement:
    try:
        return place(snap.engine, cohort, progress=progress, audience=audience, processes=processes)
    except CohortError as exc:
        raise invalid(cohort_violations(exc)) from None
    except NotInForce as exc:
        raise not_in_force_error(exc, "settings.as_of_date") from None
    except (Unjudged, WorkersFailed) as exc:
        log.error("match: %s", exc)
        raise ServiceError("INTERNAL", str(exc)) from None
