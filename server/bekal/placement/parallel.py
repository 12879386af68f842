"""Eligibility of a big cohort on every core: the placing process and worker processes decide it together.

durable_rules holds the GIL, so only processes run decisions side by side. The
workers are new interpreters (never forks: the server places cohorts on a thread
of a process that runs gRPC threads, and gRPC does not survive a fork), started
once, on the first job that wants them, and kept for the next jobs. Each loads the
job's rules from their texts (``Rulebook.sources``) into an :class:`Engine` of
its own, checks that they hash to the job's version, and keeps one engine per
version.

One job, ``N`` processes: the placing process and ``N - 1`` workers take the
cohort's chunks (the single-process path's chunks of ~500 pairs: the same
``decide_many`` calls, so the same decisions and the same refusals) from the
front, the workers a few chunks at a time, fewer as the end nears, the placing
process one at a time, reading the workers' answers between its own chunks.

What crosses processes is small:

- to a worker, once per job: the rules' texts, the date and the course facts;
  per task: its clients' facts in columns (dates as day numbers) and each
  client's preferences as course numbers;
- back: per pair one number, an index into the worker's table of distinct
  verdicts (outcome, priority, reasons: a 50,000 x 500 cohort has ~11,000 of
  them, sharing ~200 reasons), the table's new rows, and any refusals.

Fail closed: a refusal anywhere stops the job with the same error as the
single-process path (the first chunk, in cohort order, with a refused pair); a
worker that dies or fails fails the job (:class:`WorkersFailed`) and the pool
is started afresh for the next one; nothing is ever placed from part of a cohort.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bekal.decision import Outcome, Reason, Refusal, Verdict
from bekal.placement.cohort import Cohort, Facts
from bekal.placement.errors import VersionChanged, WorkersFailed
from bekal.placement.results import Progress
from bekal.placement.verdicts import Judged

log = logging.getLogger("bekal.placement")

WINDOW = 2  # tasks queued at each worker: one running, one waiting in its pipe
MAX_TASK_CHUNKS = 8  # chunks per task at most (~4,000 pairs, ~0.1 s)
START_TIMEOUT_S = 120.0  # a worker that is not ready by then counts as failed
STALL_TIMEOUT_S = 600.0  # no answer from any worker for this long: failed
REFUSED = 0xFFFFFFFF  # the verdict number of a refused pair
_ABSENT = ...  # a fact a client does not have (pickles as a reference)

Chunk = tuple[int, int, int]  # (first client, end client, pairs)
Deciding = Callable[[Chunk], tuple[list[list[Judged]], "str | None", list[tuple[int, Refusal]]]]


@dataclass
class Decided:
    """Every pair decided under one ruleset version: ``decisions[i][j]`` is client ``i`` x preference ``j``."""

    decisions: list[list[Judged]]
    version: str


# ------------------------------------------------------------------------------------------ wire format


def pack_clients(clients: Sequence[Facts]) -> tuple[list[str], list[list[Any]], list[bool]]:
    """Client facts as columns (without ``preferences``): names, values (``...`` = absent) and which
    columns hold only dates (sent as day numbers: a ``date`` costs ten times more to pickle)."""
    names = [n for n in dict.fromkeys(k for c in clients for k in c) if n != "preferences"]
    columns: list[list[Any]] = []
    dated: list[bool] = []
    for name in names:
        column = [c.get(name, _ABSENT) for c in clients]
        if all(v.__class__ is date or v is None or v is _ABSENT for v in column):
            column = [v.toordinal() if v.__class__ is date else v for v in column]
            dated.append(True)
        else:
            dated.append(False)
        columns.append(column)
    return names, columns, dated


def unpack_clients(names: list[str], columns: list[list[Any]], dated: list[bool]) -> list[dict[str, Any]]:
    """The facts :func:`pack_clients` packed, as equal mappings (the order of keys aside)."""
    fromordinal = date.fromordinal
    columns = [[fromordinal(v) if v.__class__ is int else v for v in column] if is_date else column
               for column, is_date in zip(columns, dated)]
    return [{k: v for k, v in zip(names, row) if v is not _ABSENT} for row in zip(*columns)]


# ------------------------------------------------------------------------------------------ workers


def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker process: decide the tasks it is sent until told to stop or its parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the placing process's to handle
    # no cyclic collection while deciding (nearly everything is freed by reference counting); a full
    # one between jobs instead, while the placing process starts on its own chunks
    gc.disable()
    from bekal.engine import Engine, NotInForce
    from bekal.rulebook import load_rulebook_from_texts

    engines: dict[str, Engine] = {}
    job: _WorkerJob | None = None
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if message[0] == "job":
            _, job_no, version, sources, as_of, courses = message
            job = None
            gc.collect()
            engine, problem = engines.get(version), None
            if engine is None:
                try:
                    rulebook = load_rulebook_from_texts(sources)
                    if rulebook.version != version:
                        raise ValueError(f"the rules' texts hash to {rulebook.version}, not {version}")
                    engine = Engine(rulebook)
                    for old in list(engines)[:-1]:  # one version besides the new one
                        engines.pop(old).close()
                    engines[version] = engine
                except Exception as exc:  # reported with the job's first task
                    problem = f"loading rules {version}: {type(exc).__name__}: {exc}"
            job = _WorkerJob(job_no, engine, problem, as_of, courses)
            continue
        _, job_no, task_no, *task = message
        if job is None or job.job_no != job_no:
            conn.send(("failed", job_no, task_no, "error", "a task for a job this worker was not given"))
            continue
        try:
            conn.send(("done", job_no, task_no, *job.decide(*task)))
        except NotInForce as exc:
            conn.send(("failed", job_no, task_no, "not_in_force", (exc.on.toordinal(), exc.rulesets)))
        except Exception as exc:
            conn.send(("failed", job_no, task_no, "error", f"{type(exc).__name__}: {exc}"))


class _WorkerJob:
    """One job in a worker: its engine, date and courses, and the verdicts sent so far."""

    def __init__(self, job_no: int, engine: Any, problem: str | None, as_of: date, courses: Sequence[Facts]):
        self.job_no = job_no
        self.engine = engine
        self.problem = problem
        self.as_of = as_of
        self.courses = courses
        self.reasons: dict[int, int] = {}  # id(Reason) -> number; `kept` keeps them alive
        self.verdicts: dict[int, int] = {}  # id(Verdict) -> number; `kept` keeps them alive
        self.kept: list[Any] = []
        from bekal.engine import Shared  # a worker decides; the placing process may only read cohorts

        self.shared = Shared()  # each course prepared once for the job

    def decide(self, chunks: list[int], names: list[str], columns: list[list[Any]], dated: list[bool],
               counts: bytes, prefs: bytes) -> tuple[Any, ...]:
        """``chunks``: clients per chunk; ``counts``/``prefs``: preferences per client, course numbers."""
        if self.problem is not None:
            raise RuntimeError(self.problem)
        clients = unpack_clients(names, columns, dated)
        per_client = array("I")
        per_client.frombytes(counts)
        wanted = array("I")
        wanted.frombytes(prefs)
        courses, as_of, judge_many, shared = self.courses, self.as_of, self.engine.judge_many, self.shared
        reasons, verdicts, kept = self.reasons, self.verdicts, self.kept
        new_reasons: list[Reason] = []
        new_verdicts: list[tuple[str, int, tuple[int, ...]]] = []
        ids = array("I")
        refusals: list[tuple[int, str, str, tuple[tuple[str, str], ...], tuple[str, ...]]] = []
        version = self.engine.version
        i = p = 0
        for n in chunks:
            pairs = []
            for client in clients[i:i + n]:
                for _ in range(per_client[i]):
                    pairs.append((client, courses[wanted[p]]))
                    p += 1
                i += 1
            judged = judge_many(pairs, as_of, shared)
            version = judged.version
            for d in judged.verdicts:
                if isinstance(d, Refusal):
                    refusals.append((len(ids), d.client_id, d.course_code, d.violations, d.unjudged))
                    ids.append(REFUSED)
                    continue
                number = verdicts.get(id(d))
                if number is None:
                    kept.append(d)
                    numbers = []
                    for r in d.reasons:
                        k = reasons.get(id(r))
                        if k is None:
                            k = reasons[id(r)] = len(reasons)
                            new_reasons.append(r)
                            kept.append(r)
                        numbers.append(k)
                    number = verdicts[id(d)] = len(verdicts)
                    new_verdicts.append((d.outcome.value, d.priority, tuple(numbers)))
                ids.append(number)
        return version, new_reasons, new_verdicts, ids.tobytes(), refusals


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    conn: multiprocessing.connection.Connection
    outstanding: deque[tuple[int, int]] = field(default_factory=deque)  # (first chunk, end chunk) per task
    reasons: list[Reason] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    def fail(self) -> WorkersFailed:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(1.0)
        code = self.process.returncode
        how = (f"exit code {code}" if code is not None and code >= 0 else
               f"signal {-code}" if code is not None else "its connection closed")
        _POOL.reset()
        return WorkersFailed(f"a placement worker process (pid {self.process.pid}) died ({how}) while deciding "
                             "the cohort; nothing was placed")


class Pool:
    """Worker processes for placement jobs: started on first use, kept, one job at a time.

    A worker is a new interpreter (``python -m bekal.placement.worker``, fork and exec at once:
    safe from a process with gRPC threads) talking over a socket pair; it exits when its
    connection closes, so it never outlives the process that started it.
    """

    def __init__(self) -> None:
        self._workers: list[_Worker] = []
        self._busy = threading.Lock()  # one job at a time
        self._jobs = itertools.count(1)
        self.started_s = 0.0  # seconds the last start of workers took (interpreter, imports, ready)

    @property
    def size(self) -> int:
        return len(self._workers)

    @contextlib.contextmanager
    def claim(self, workers: int) -> Iterator[list[_Worker] | None]:
        """``workers`` started workers for one job, or None while another job has them."""
        if not self._busy.acquire(blocking=False):
            yield None
            return
        try:
            yield self._ensure(workers)
        finally:
            self._busy.release()

    def start(self, workers: int) -> float:
        """Have ``workers`` workers running (waits while a job runs); the seconds it took."""
        with self._busy:
            t0 = time.perf_counter()
            self._ensure(workers)
            return time.perf_counter() - t0

    def _ensure(self, workers: int) -> list[_Worker]:
        if any(w.process.poll() is not None for w in self._workers):
            self._stop_all()
        missing = workers - len(self._workers)
        if missing > 0:
            t0 = time.perf_counter()
            new: list[_Worker] = []
            try:
                for _ in range(missing):
                    new.append(_spawn())
                for w in new:
                    if not w.conn.poll(START_TIMEOUT_S):
                        raise WorkersFailed("a placement worker process did not start in time")
                    w.conn.recv()
            except BaseException as exc:
                for w in new:
                    _stop(w)
                if isinstance(exc, (EOFError, OSError)):
                    raise WorkersFailed(f"a placement worker process failed to start: {exc!r}") from None
                raise
            self._workers += new
            self.started_s = time.perf_counter() - t0
            log.info("started %d placement worker process(es) in %.2f s", missing, self.started_s)
        return self._workers[:workers]

    def next_job(self) -> int:
        return next(self._jobs)

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def reset(self) -> None:
        """Stop every worker (after a failure): the next job starts fresh ones."""
        self._stop_all()

    def close(self) -> None:
        with self._busy:
            self._stop_all()

    def _stop_all(self) -> None:
        workers, self._workers = self._workers, []
        for w in workers:
            _stop(w)


def _spawn() -> _Worker:
    mine, theirs = socket.socketpair()
    try:
        process = subprocess.Popen([sys.executable, "-m", "bekal.placement.worker", str(theirs.fileno())],
                                   pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
    except BaseException:
        mine.close()
        raise
    finally:
        theirs.close()
    return _Worker(process, multiprocessing.connection.Connection(mine.detach()))


def _stop(w: _Worker) -> None:
    with contextlib.suppress(OSError, ValueError):
        w.conn.send(None)
    w.conn.close()
    try:
        w.process.wait(1.0)
    except subprocess.TimeoutExpired:
        w.process.kill()
        w.process.wait(5.0)


def serve(fd: int) -> None:
    """The worker's side (``python -m bekal.placement.worker FD``)."""
    _worker_main(multiprocessing.connection.Connection(fd))


_POOL = Pool()


def pool() -> Pool:
    """The worker processes of this process's placement jobs."""
    return _POOL


def start_workers(processes: int) -> float:
    """Start the workers a job on ``processes`` processes uses, ahead of it; the seconds it took."""
    return _POOL.start(max(0, processes - 1))


# ------------------------------------------------------------------------------------------ a job


def decide_parallel(engine: Any, rulebook: Any, cohort: Cohort, report: Progress, chunks: Sequence[Chunk],
                    workers: list[_Worker], deciding: Deciding) -> Decided:
    """Decide ``cohort`` with ``engine`` in this process and with ``workers``, under ``rulebook``'s version.

    ``deciding(chunk)`` decides one chunk here (the single-process path's step): its per-client
    decisions, their version and its refused pairs with their client. Raises VersionChanged when
    the engine's rules change meanwhile, and what the single-process path raises for refusals.
    """
    version = rulebook.version
    job_no = _POOL.next_job()
    clients = cohort.clients
    course_no = {c["code"]: k for k, c in enumerate(cohort.courses)}
    for w in workers:
        w.reasons, w.verdicts = [], []
        _send(w, ("job", job_no, version, dict(rulebook.sources), cohort.as_of, cohort.courses))
    total = sum(n for _, _, n in chunks)
    decisions: list[list[Judged]] = [[] for _ in clients]
    refused: dict[int, list[tuple[int, Refusal]]] = {}
    state = _JobState(len(chunks), 1 + len(workers))
    report("eligibility", 0, total)

    def give(w: _Worker) -> None:
        while len(w.outstanding) < WINDOW and not state.stopped:
            task = state.take_task()
            if task is None:
                return
            first, end = task
            a, b = chunks[first][0], chunks[end - 1][1]
            mine = clients[a:b]
            names, columns, dated = pack_clients(mine)
            counts = array("I", [len(c["preferences"]) for c in mine])
            prefs = array("I", [course_no[code] for c in mine for code in c["preferences"]])
            _send(w, ("task", job_no, first, [chunks[k][1] - chunks[k][0] for k in range(first, end)],
                      names, columns, dated, counts.tobytes(), prefs.tobytes()))
            w.outstanding.append((first, end))

    def answer(w: _Worker) -> None:
        try:
            message = w.conn.recv()
        except (EOFError, OSError):
            raise w.fail() from None
        if message[1] != job_no:
            return  # an answer to an earlier job (none is left over, but never mix jobs)
        first, end = w.outstanding.popleft()
        if message[0] == "failed":
            _failed(message[3], message[4])
        _, _, _, their_version, new_reasons, new_verdicts, id_bytes, refusals = message
        if their_version != version:
            raise WorkersFailed(f"a placement worker decided under rules {their_version}, the job is under {version}")
        if getattr(engine, "version", version) != version:
            raise VersionChanged()  # the rules were reloaded: decide the cohort again, all under the new ones
        w.reasons += new_reasons
        reasons = w.reasons
        w.verdicts += [Verdict(Outcome(o), tuple([reasons[r] for r in rs]), p) for o, p, rs in new_verdicts]
        table = w.verdicts
        ids = array("I")
        ids.frombytes(id_bytes)
        pos = 0
        if refusals:
            _place_refusals(refusals, chunks, first, end, clients, refused)
            state.stopped = True
        for k in range(first, end):
            a, b, n = chunks[k]
            if k not in refused:
                for i in range(a, b):
                    m = len(clients[i]["preferences"])
                    decisions[i] = [table[x] for x in ids[pos:pos + m]]
                    pos += m
            else:
                pos += n
            state.done += n
        report("eligibility", state.done, total)
        give(w)

    conns: dict[Any, _Worker] = {w.conn: w for w in workers}
    clean = False
    try:
        for w in workers:
            give(w)
        while True:
            for ready in multiprocessing.connection.wait(list(conns), timeout=0):
                answer(conns[ready])
            k = None if state.stopped else state.take_one()
            if k is not None:
                mine, their_version, refusals = deciding(chunks[k])
                if refusals:
                    refused[k] = refusals
                    state.stopped = True
                elif their_version != version:
                    raise VersionChanged()
                else:
                    decisions[chunks[k][0]:chunks[k][1]] = mine
                    state.done += chunks[k][2]
                    report("eligibility", state.done, total)
                continue
            if not any(w.outstanding for w in workers):
                break
            ready_now = multiprocessing.connection.wait(list(conns), timeout=STALL_TIMEOUT_S)
            if not ready_now:
                _POOL.reset()
                raise WorkersFailed(f"no placement worker answered in {STALL_TIMEOUT_S:.0f} s; nothing was placed")
            for ready in ready_now:
                answer(conns[ready])
        clean = True
    finally:
        if not clean:
            _drain(workers)
    if refused:
        first_refused = min(refused)
        from bekal.placement.run import refuse

        refuse(cohort, refused[first_refused])
    return Decided(decisions, version)


class _JobState:
    """Which chunks are given out: from the front, the workers' tasks shrinking as the end nears."""

    def __init__(self, chunks: int, processes: int):
        self.next = 0
        self.chunks = chunks
        self.processes = processes
        self.done = 0
        self.stopped = False  # a refusal was seen: nothing more is given out

    def take_one(self) -> int | None:
        if self.next >= self.chunks:
            return None
        self.next += 1
        return self.next - 1

    def take_task(self) -> tuple[int, int] | None:
        left = self.chunks - self.next
        if left <= 0:
            return None
        size = max(1, min(MAX_TASK_CHUNKS, left // (3 * self.processes)))
        first = self.next
        self.next += size
        return first, first + size


def _send(w: _Worker, message: tuple[Any, ...]) -> None:
    try:
        w.conn.send(message)
    except (OSError, ValueError):
        raise w.fail() from None


def _failed(kind: str, detail: Any) -> None:
    if kind == "not_in_force":
        from bekal.engine import NotInForce

        on, rulesets = detail
        raise NotInForce(date.fromordinal(on), rulesets)
    raise WorkersFailed(f"a placement worker process failed: {detail}; nothing was placed")


def _place_refusals(refusals: Sequence[tuple[int, str, str, Any, Any]], chunks: Sequence[Chunk], first: int,
                    end: int, clients: Sequence[Facts], refused: dict[int, list[tuple[int, Refusal]]]) -> None:
    """File a task's refused pairs (numbered within the task) under their chunk, with their client."""
    owners: list[tuple[int, int]] = []  # (chunk, client) per pair of the task
    for k in range(first, end):
        a, b, _ = chunks[k]
        for i in range(a, b):
            owners += [(k, i)] * len(clients[i]["preferences"])
    for pos, client_id, course_code, violations, unjudged in refusals:
        k, i = owners[pos]
        refused.setdefault(k, []).append((i, Refusal(client_id, course_code, tuple(violations), tuple(unjudged))))


def _drain(workers: list[_Worker]) -> None:
    """After a job stopped early: read the answers still due, so the next job starts clean; a worker
    that does not answer in time is stopped (the pool starts afresh)."""
    deadline = time.monotonic() + 30.0
    try:
        for w in workers:
            while w.outstanding:
                if not w.conn.poll(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError
                w.conn.recv()
                w.outstanding.popleft()
    except (TimeoutError, EOFError, OSError):
        _POOL.reset()
