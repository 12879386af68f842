"""Enrolments, training records, outcomes and alerts (SQLite): the store of monitoring after placement.

Tables (schema version in ``monitoring_schema``; 1 -- every table below), foreign keys on:

- ``enrolment``: one client in one course (unique per course and client), its referring
  office, the training centre (``provider``), status, dates, the waiting-list position;
- ``enrolment_request``: CreateEnrolments request ids, for idempotent retries;
- ``attendance``, ``conduct``: the training centre's records, keyed by (recorder, record id);
- ``outcome``: outcomes after training, keyed by (recorder, record id);
- ``enrolment_summary``: the running :class:`bekal.monitoring.history.Summary` per enrolment;
- ``alert``: the monitoring rules' findings, numbered by ``sequence`` (the cursor of WatchAlerts),
  raised at most once per enrolment and rule.

Every write is one transaction. :meth:`MonitoringStore.record` checks a batch against what
is stored (unknown enrolments, dates before the start, a record id reused with other
content, an outcome before completion), writes the records, updates the summaries, evaluates
the monitoring rules (every touched enrolment in one call, judged by durable_rules as one batch)
and inserts the alerts, all in the same ``BEGIN IMMEDIATE`` .. ``COMMIT``:
a batch is recorded with its alerts or not at all, and a retry of an acknowledged batch
finds every record already there (counted as duplicates) and raises nothing twice.

Read methods for reports and other readers (plain dataclasses, no filtering by caller: the
services apply :mod:`bekal.access`):

- :meth:`MonitoringStore.enrolments` -- every :class:`EnrolmentRow` (course, office, provider,
  status, start and end dates, waiting position), optionally of one course;
- :meth:`MonitoringStore.attendance` -- the raw sessions (:class:`AttendanceRow`: enrolment,
  date, status), optionally from/to a date; :meth:`MonitoringStore.attendance_by_week` --
  (course, ISO week start, status) -> count;
- :meth:`MonitoringStore.conduct` -- :class:`ConductRow` of an enrolment;
- :meth:`MonitoringStore.alerts` -- :class:`AlertRow` with raised and acknowledged times;
- :meth:`MonitoringStore.outcomes` -- :class:`OutcomeRow` with its date and follow-up.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bekal.monitoring.history import Assessment, Session, Summary, steps
from bekal.monitoring.rules import Finding
from bekal.store.sqlite import (
    Database,
    Transaction,
    read_in,
    set_table_schema_version,
    table_schema_version,
    utc_now,
)

SCHEMA_VERSION = 1

ENROLLED, WAITING, COMPLETED, DROPPED_OUT, WITHDRAWN = "enrolled", "waiting", "completed", "dropped_out", "withdrawn"
ENDED = (COMPLETED, DROPPED_OUT)
MAX_BATCH_VIOLATIONS = 100

Violations = list[tuple[str, str]]
# every touched enrolment's (summary, date) in one call -> each one's findings, in order: the rules are
# judged as one durable_rules batch (bekal.monitoring.rules.judge); an exception rolls the whole batch back
Evaluate = Callable[[Sequence[tuple[Summary, date]]], Sequence[Sequence[Finding]]]


class MonitoringConflict(Exception):
    """A write that contradicts what is stored; ``violations`` name the fields (and both records)."""

    def __init__(self, violations: Violations, code: str = "INVALID_ARGUMENT"):
        super().__init__("; ".join(f"{f}: {m}" for f, m in violations))
        self.violations = violations
        self.code = code  # a google.rpc.Code name: INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION, NOT_FOUND


@dataclass(frozen=True, slots=True)
class EnrolmentRow:
    enrolment_id: str
    client_id: str
    course_code: str
    referring_office: str
    provider: str
    status: str
    start_date: date
    end_date: date | None
    end_reason: str
    end_reason_shareable: bool
    waiting_position: int  # 0 unless WAITING
    job_id: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class NewEnrolmentRow:
    client_id: str
    course_code: str
    referring_office: str
    provider: str
    start_date: date
    waiting: bool = False
    job_id: str = ""


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    record_id: str
    enrolment_id: str
    session_date: date
    status: str  # present, absent, excused, late


@dataclass(frozen=True, slots=True)
class ConductRow:
    record_id: str
    enrolment_id: str
    assessment_date: date
    rating: int
    note: str
    note_shareable: bool


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    record_id: str
    enrolment_id: str
    kind: str  # employed, self_employed, seeking_work, further_training
    outcome_date: date
    follow_up: str  # at_completion, month_3, month_6, month_12


@dataclass(frozen=True, slots=True)
class Batch:
    """One RecordTraining batch, valid in itself (the codec checked fields and dates against today)."""

    attendance: Sequence[AttendanceRow] = ()
    conduct: Sequence[ConductRow] = ()
    outcomes: Sequence[OutcomeRow] = ()


@dataclass(frozen=True, slots=True)
class Recorded:
    recorded: int
    duplicates: int
    alerts: Sequence[AlertRow]


@dataclass(frozen=True, slots=True)
class AlertRow:
    sequence: int
    alert_id: str
    enrolment_id: str
    client_id: str
    course_code: str
    referring_office: str
    severity: str  # warning, alert
    rule_id: str
    reason_id: str
    reason_en: str
    source: str
    ruleset_version: str
    raised_at: str
    acknowledged_at: str | None
    acknowledged_by: str


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose enrolments a write may touch: a training centre's (``provider``) or a BNN office's (``office``);
    both None: any (an operator's tools, tests)."""

    provider: str | None = None
    office: str | None = None
    recorder: str = ""  # who records: the key space of record ids

    def allows(self, row: EnrolmentRow) -> bool:
        return (self.provider is None or row.provider == self.provider) and (
            self.office is None or row.referring_office == self.office)


class MonitoringStore(abc.ABC):
    """Enrolments, training records, outcomes and alerts."""

    @abc.abstractmethod
    def create_enrolments(self, request_id: str, caller: str, new: Sequence[NewEnrolmentRow]) -> list[EnrolmentRow]:
        """Create (or, on a retry, find) enrolments; raises :class:`MonitoringConflict`."""

    @abc.abstractmethod
    def end_enrolment(self, enrolment_id: str, scope: Scope, status: str, end_date: date, reason: str,
                      shareable: bool) -> tuple[EnrolmentRow, EnrolmentRow | None]:
        """End an enrolment; a dropped seat goes to the next on the waiting list (returned second)."""

    @abc.abstractmethod
    def enrolment(self, enrolment_id: str) -> EnrolmentRow | None: ...

    @abc.abstractmethod
    def enrolments(self, course_code: str | None = None, office: str | None = None, provider: str | None = None,
                   after: tuple[str, int, int, str] | None = None, limit: int = 1000) -> list[EnrolmentRow]:
        """Enrolments by course; per course the admitted and ended first, then the waiting list in order."""

    @abc.abstractmethod
    def record(self, batch: Batch, scope: Scope, evaluate: Evaluate, version: str) -> Recorded:
        """Record a batch with the alerts it raises, all or nothing; raises :class:`MonitoringConflict`."""

    @abc.abstractmethod
    def attendance(self, enrolment_id: str | None = None, since: date | None = None,
                   until: date | None = None) -> list[AttendanceRow]: ...

    @abc.abstractmethod
    def attendance_by_week(self) -> dict[tuple[str, date, str], int]: ...

    @abc.abstractmethod
    def conduct(self, enrolment_id: str) -> list[ConductRow]: ...

    @abc.abstractmethod
    def outcomes(self, enrolment_id: str | None = None) -> list[OutcomeRow]: ...

    @abc.abstractmethod
    def alerts(self, office: str | None = None, after: int = 0, limit: int = 1000, unacknowledged: bool = False,
               enrolment_id: str | None = None) -> list[AlertRow]:
        """Alerts with ``sequence > after``, in order."""

    @abc.abstractmethod
    def acknowledge(self, alert_id: str, office: str | None, by: str) -> AlertRow | None: ...

    @abc.abstractmethod
    def last_sequence(self) -> int: ...

    @abc.abstractmethod
    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS enrolment (
    enrolment_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    course_code TEXT NOT NULL,
    referring_office TEXT NOT NULL,
    provider TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    end_reason TEXT NOT NULL DEFAULT '',
    end_reason_shareable INTEGER NOT NULL DEFAULT 0,
    waiting_position INTEGER NOT NULL DEFAULT 0,
    job_id TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (course_code, client_id)
);
CREATE INDEX IF NOT EXISTS enrolment_office ON enrolment (referring_office, course_code);
CREATE INDEX IF NOT EXISTS enrolment_waiting ON enrolment (course_code, waiting_position);
CREATE INDEX IF NOT EXISTS enrolment_client ON enrolment (client_id);
CREATE TABLE IF NOT EXISTS enrolment_request (
    caller TEXT NOT NULL,
    request_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    enrolment_ids TEXT NOT NULL,
    PRIMARY KEY (caller, request_id)
);
CREATE TABLE IF NOT EXISTS attendance (
    recorder TEXT NOT NULL,
    record_id TEXT NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolment (enrolment_id),
    session_date TEXT NOT NULL,
    status TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (recorder, record_id)
);
CREATE INDEX IF NOT EXISTS attendance_enrolment ON attendance (enrolment_id, session_date, record_id);
CREATE TABLE IF NOT EXISTS conduct (
    recorder TEXT NOT NULL,
    record_id TEXT NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolment (enrolment_id),
    assessment_date TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    note TEXT NOT NULL,
    note_shareable INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (recorder, record_id)
);
CREATE INDEX IF NOT EXISTS conduct_enrolment ON conduct (enrolment_id, assessment_date, record_id);
CREATE TABLE IF NOT EXISTS outcome (
    recorder TEXT NOT NULL,
    record_id TEXT NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolment (enrolment_id),
    kind TEXT NOT NULL,
    outcome_date TEXT NOT NULL,
    follow_up TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (recorder, record_id)
);
CREATE INDEX IF NOT EXISTS outcome_enrolment ON outcome (enrolment_id);
CREATE TABLE IF NOT EXISTS enrolment_summary (
    enrolment_id TEXT PRIMARY KEY REFERENCES enrolment (enrolment_id),
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    enrolment_id TEXT NOT NULL REFERENCES enrolment (enrolment_id),
    client_id TEXT NOT NULL,
    course_code TEXT NOT NULL,
    referring_office TEXT NOT NULL,
    severity TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    reason_id TEXT NOT NULL,
    reason_en TEXT NOT NULL,
    source TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    UNIQUE (enrolment_id, rule_id)
);
CREATE INDEX IF NOT EXISTS alert_office ON alert (referring_office, sequence);
CREATE TABLE IF NOT EXISTS monitoring_schema (version INTEGER NOT NULL)
"""

_ENROLMENT = ("enrolment_id, client_id, course_code, referring_office, provider, status, start_date, end_date, "
              "end_reason, end_reason_shareable, waiting_position, job_id, created_at, updated_at")
_ALERT = ("sequence, alert_id, enrolment_id, client_id, course_code, referring_office, severity, rule_id, reason_id, "
          "reason_en, source, ruleset_version, raised_at, acknowledged_at, acknowledged_by")
# per course: admitted and ended first (by enrolment id), then the waiting list by position
_ORDER_KEY = "course_code, (status = 'waiting') , waiting_position, enrolment_id"


def enrolment_id_for(course_code: str, client_id: str) -> str:
    """The id of a client's enrolment in a course: the same wherever and however often it is created."""
    return "enr-" + hashlib.sha256(f"{course_code}\0{client_id}".encode()).hexdigest()[:20]


def alert_id_for(enrolment_id: str, rule_id: str) -> str:
    return "alr-" + hashlib.sha256(f"{enrolment_id}\0{rule_id}".encode()).hexdigest()[:20]


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _enrolment(row: Sequence[Any]) -> EnrolmentRow:
    return EnrolmentRow(row[0], row[1], row[2], row[3], row[4], row[5], date.fromisoformat(row[6]), _day(row[7]),
                        row[8], bool(row[9]), row[10], row[11], row[12], row[13])


def _alert(row: Sequence[Any]) -> AlertRow:
    return AlertRow(*row)


_FIELDS = tuple(f.name for f in fields(Summary))
_DAYS = {"start", "last_attended"}
_KEYS = {"last_session", "latest_assessment"}  # (date, record id)


def _state(summary: Summary) -> str:
    """A summary as the JSON list of its fields (dates as text): written for every enrolment of every batch."""
    out: list[Any] = []
    for name in _FIELDS:
        value = getattr(summary, name)
        if name in _DAYS and value is not None:
            value = value.isoformat()
        elif name in _KEYS and value is not None:
            value = [value[0].isoformat(), value[1]]
        out.append(value)
    return json.dumps(out, separators=(",", ":"))


def _summary(text: str) -> Summary:
    values = json.loads(text)
    data: dict[str, Any] = dict(zip(_FIELDS, values, strict=True))
    for name in _DAYS:
        if data[name] is not None:
            data[name] = date.fromisoformat(data[name])
    for name in _KEYS:
        if data[name] is not None:
            data[name] = (date.fromisoformat(data[name][0]), data[name][1])
    return Summary(**data)


def _describe(enrolment_id: str, day: date, what: Any) -> str:
    return f"(enrolment {enrolment_id}, {day.isoformat()}, {what})"


def _assessed(rating: int, note: str, shared: bool) -> str:
    """A conduct record's content for comparing a retry with what is stored: the note as a digest."""
    digest = hashlib.sha256(note.encode()).hexdigest()[:8]
    return f"rating {rating}, note {'shared' if shared else 'not shared'} #{digest}"


class SQLiteMonitoringStore(Database, MonitoringStore):
    """:class:`MonitoringStore` in the SQLite file the other stores use (own tables, own schema version)."""

    _what = "the monitoring store"

    def __init__(self, path: str | Path = "bekal.db", *, busy_timeout_s: float = 10.0):
        super().__init__(path, busy_timeout_s=busy_timeout_s)
        self._db.execute("PRAGMA foreign_keys=ON")  # per connection, outside a transaction

    def _migrate(self, cur: Transaction) -> None:
        table_schema_version(cur, "monitoring_schema", SCHEMA_VERSION, "monitoring", self.path)
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                cur.execute(statement)
        set_table_schema_version(cur, "monitoring_schema", SCHEMA_VERSION)

    # ------------------------------------------------------------------------------ enrolments

    def create_enrolments(self, request_id: str, caller: str, new: Sequence[NewEnrolmentRow]) -> list[EnrolmentRow]:
        digest = hashlib.sha256(json.dumps([[n.client_id, n.course_code, n.referring_office, n.provider,
                                              n.start_date.isoformat(), n.waiting, n.job_id] for n in new]
                                            ).encode()).hexdigest()
        now = utc_now()
        with self._tx("create the enrolments") as cur:
            seen = cur.execute("SELECT digest, enrolment_ids FROM enrolment_request WHERE caller = ? AND "
                               "request_id = ?", (caller, request_id)).fetchone()
            if seen is not None:
                if seen[0] != digest:
                    raise MonitoringConflict([("request_id", f"request id {request_id!r} was used before for other "
                                                             "enrolments; use a new request id")], "ALREADY_EXISTS")
                return [self._get(cur, e) for e in json.loads(seen[1])]
            violations: Violations = []
            rows: list[EnrolmentRow] = []
            last_position: dict[str, int] = {}  # course -> its waiting list's last position so far
            for k, item in enumerate(new):
                eid = enrolment_id_for(item.course_code, item.client_id)
                existing = self._get_or_none(cur, eid)
                if existing is not None:
                    same = (existing.referring_office == item.referring_office
                            and existing.start_date == item.start_date)
                    if not same:
                        violations.append((f"enrolments[{k}]", f"client {item.client_id} is already enrolled in "
                                           f"{item.course_code} as {eid} (office {existing.referring_office}, start "
                                           f"{existing.start_date}); this one: office {item.referring_office}, start "
                                           f"{item.start_date}"))
                    rows.append(existing)
                    continue
                position = 0
                if item.waiting:
                    if item.course_code not in last_position:
                        last_position[item.course_code] = cur.execute(
                            "SELECT max(waiting_position) FROM enrolment WHERE course_code = ?",
                            (item.course_code,)).fetchone()[0] or 0
                    position = last_position[item.course_code] = last_position[item.course_code] + 1
                cur.execute(f"INSERT INTO enrolment ({_ENROLMENT}) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, '', 0, ?, ?, ?, ?)",
                            (eid, item.client_id, item.course_code, item.referring_office, item.provider,
                             WAITING if item.waiting else ENROLLED, item.start_date.isoformat(), position,
                             item.job_id, now, now))
                rows.append(self._get(cur, eid))
            if violations:
                cur.rollback = True
                raise MonitoringConflict(violations, "ALREADY_EXISTS")
            cur.execute("INSERT INTO enrolment_request VALUES (?, ?, ?, ?)",
                        (caller, request_id, digest, json.dumps([r.enrolment_id for r in rows])))
        return rows

    def _get_or_none(self, cur: Transaction, enrolment_id: str) -> EnrolmentRow | None:
        row = cur.execute(f"SELECT {_ENROLMENT} FROM enrolment WHERE enrolment_id = ?", (enrolment_id,)).fetchone()
        return None if row is None else _enrolment(row)

    def _get(self, cur: Transaction, enrolment_id: str) -> EnrolmentRow:
        row = self._get_or_none(cur, enrolment_id)
        assert row is not None
        return row

    def end_enrolment(self, enrolment_id: str, scope: Scope, status: str, end_date: date, reason: str,
                      shareable: bool) -> tuple[EnrolmentRow, EnrolmentRow | None]:
        now = utc_now()
        with self._tx("end the enrolment") as cur:
            row = self._get_or_none(cur, enrolment_id)
            if row is None or not scope.allows(row):
                raise MonitoringConflict([("enrolment_id", f"unknown enrolment {enrolment_id!r}")], "NOT_FOUND")
            if row.status in ENDED:
                if (row.status, row.end_date, row.end_reason) == (status, end_date, reason):
                    return row, None  # a retry
                raise MonitoringConflict([("enrolment_id", f"the enrolment already ended: {row.status} on "
                                                           f"{row.end_date}")], "FAILED_PRECONDITION")
            if row.status != ENROLLED:
                raise MonitoringConflict([("enrolment_id", f"the enrolment is {row.status}, not enrolled")],
                                         "FAILED_PRECONDITION")
            if end_date < row.start_date:
                raise MonitoringConflict([("end_date", f"{end_date} is before the start {row.start_date}")])
            cur.execute("UPDATE enrolment SET status = ?, end_date = ?, end_reason = ?, end_reason_shareable = ?, "
                        "updated_at = ? WHERE enrolment_id = ?",
                        (status, end_date.isoformat(), reason, int(shareable), now, enrolment_id))
            promoted = self._promote(cur, row, end_date, now) if status == DROPPED_OUT else None
            return self._get(cur, enrolment_id), promoted

    def _promote(self, cur: Transaction, dropped: EnrolmentRow, end_date: date, now: str) -> EnrolmentRow | None:
        """The freed seat goes to the first on the course's waiting list who is still waiting for a seat:
        someone who meanwhile holds a seat in another course withdraws from this list instead."""
        waiting = cur.execute(f"SELECT {_ENROLMENT} FROM enrolment WHERE course_code = ? AND status = ? "
                              "ORDER BY waiting_position, enrolment_id", (dropped.course_code, WAITING)).fetchall()
        for raw in waiting:
            row = _enrolment(raw)
            seated = cur.execute("SELECT 1 FROM enrolment WHERE client_id = ? AND status = ? AND enrolment_id != ?",
                                 (row.client_id, ENROLLED, row.enrolment_id)).fetchone()
            if seated:
                cur.execute("UPDATE enrolment SET status = ?, waiting_position = 0, updated_at = ? "
                            "WHERE enrolment_id = ?", (WITHDRAWN, now, row.enrolment_id))
                continue
            start = max(row.start_date, end_date + timedelta(days=1))
            cur.execute("UPDATE enrolment SET status = ?, waiting_position = 0, start_date = ?, updated_at = ? "
                        "WHERE enrolment_id = ?", (ENROLLED, start.isoformat(), now, row.enrolment_id))
            return self._get(cur, row.enrolment_id)
        return None

    def enrolment(self, enrolment_id: str) -> EnrolmentRow | None:
        row = self._one(f"SELECT {_ENROLMENT} FROM enrolment WHERE enrolment_id = ?", (enrolment_id,))
        return None if row is None else _enrolment(row)

    def enrolments(self, course_code: str | None = None, office: str | None = None, provider: str | None = None,
                   after: tuple[str, int, int, str] | None = None, limit: int = 1000) -> list[EnrolmentRow]:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("course_code", course_code), ("referring_office", office), ("provider", provider)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if after is not None:
            where.append("(course_code, (status = 'waiting'), waiting_position, enrolment_id) > (?, ?, ?, ?)")
            params.extend(after)
        sql = (f"SELECT {_ENROLMENT} FROM enrolment" + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY {_ORDER_KEY} LIMIT ?")
        return [_enrolment(r) for r in self._all(sql, (*params, limit))]

    # ------------------------------------------------------------------------------ records

    def record(self, batch: Batch, scope: Scope, evaluate: Evaluate, version: str) -> Recorded:
        now = utc_now()
        with self._tx("record the training records") as cur:
            violations: Violations = []
            enrolments: dict[str, EnrolmentRow | None] = {}

            # what the batch refers to, read in a few statements rather than one per record
            wanted = {r.enrolment_id for part in (batch.attendance, batch.conduct, batch.outcomes) for r in part}
            for raw in read_in(cur.rows, f"SELECT {_ENROLMENT} FROM enrolment WHERE enrolment_id IN", sorted(wanted)):
                found = _enrolment(raw)
                enrolments[found.enrolment_id] = found if scope.allows(found) else None
            stored_sessions = {r[0]: r[1:] for r in read_in(
                cur.rows, "SELECT record_id, enrolment_id, session_date, status FROM attendance WHERE recorder = ? "
                          "AND record_id IN", sorted({a.record_id for a in batch.attendance}), (scope.recorder,))}
            stored_conduct = {r[0]: r[1:] for r in read_in(
                cur.rows, "SELECT record_id, enrolment_id, assessment_date, rating, note, note_shareable FROM "
                          "conduct WHERE recorder = ? AND record_id IN", sorted({c.record_id for c in batch.conduct}),
                (scope.recorder,))}
            stored_outcomes = {r[0]: r[1:] for r in read_in(
                cur.rows, "SELECT record_id, enrolment_id, outcome_date, kind, follow_up FROM outcome WHERE "
                          "recorder = ? AND record_id IN", sorted({o.record_id for o in batch.outcomes}),
                (scope.recorder,))}

            def enrolled_on(field: str, eid: str, day_field: str, day: date, until_end: bool) -> EnrolmentRow | None:
                """The enrolment a training record of ``day`` belongs to, or None with the violation added:
                unknown (or not the recorder's), before the course start, after the enrolment ended
                (``until_end``), or a client who is not enrolled."""
                row = enrolments.get(eid)
                if row is None:
                    violations.append((f"{field}.enrolment_id", f"unknown enrolment {eid!r}"))
                elif day < row.start_date:
                    violations.append((f"{field}.{day_field}", f"{day} is before the course start {row.start_date}"))
                elif until_end and row.end_date is not None and day > row.end_date:
                    violations.append((f"{field}.{day_field}", f"{day} is after the enrolment ended {row.end_date}"))
                elif row.status in (WAITING, WITHDRAWN):
                    violations.append((f"{field}.enrolment_id", f"the client is {row.status}, not enrolled"))
                else:
                    return row
                return None

            fresh_sessions: dict[str, list[AttendanceRow]] = {}
            fresh_conduct: dict[str, list[ConductRow]] = {}
            recorded = duplicates = 0
            in_batch: dict[tuple[str, str], tuple[str, str]] = {}  # (table, record id) -> (field, content)

            def seen_before(table: str, record_id: str, field: str, content: str, stored: str | None) -> bool | None:
                """True: a duplicate of what is stored; None: a conflict (reported); False: new."""
                earlier = in_batch.get((table, record_id))
                if earlier is not None and earlier[1] != content:
                    violations.append((field, f"record id {record_id!r} appears twice with other content: "
                                              f"{earlier[0]} {earlier[1]} and {content}"))
                    return None
                in_batch[(table, record_id)] = (field, content)
                if stored is not None:
                    if stored != content:
                        violations.append((field, f"record id {record_id!r} was recorded before as {stored}; "
                                                  f"this one is {content}"))
                        return None
                    return True
                return earlier is not None

            for k, a in enumerate(batch.attendance):
                field = f"attendance[{k}]"
                if enrolled_on(field, a.enrolment_id, "session_date", a.session_date, until_end=True) is None:
                    continue
                stored = stored_sessions.get(a.record_id)
                content = _describe(a.enrolment_id, a.session_date, a.status)
                was = seen_before("attendance", a.record_id, f"{field}.record_id", content,
                                  None if stored is None else _describe(stored[0], date.fromisoformat(stored[1]),
                                                                        stored[2]))
                if was is None:
                    continue
                if was:
                    duplicates += 1
                    continue
                fresh_sessions.setdefault(a.enrolment_id, []).append(a)
            for k, c in enumerate(batch.conduct):
                field = f"conduct[{k}]"
                if enrolled_on(field, c.enrolment_id, "assessment_date", c.assessment_date, until_end=False) is None:
                    continue
                stored = stored_conduct.get(c.record_id)
                content = _describe(c.enrolment_id, c.assessment_date, _assessed(c.rating, c.note, c.note_shareable))
                before = None if stored is None else _describe(
                    stored[0], date.fromisoformat(stored[1]), _assessed(stored[2], stored[3], bool(stored[4])))
                was = seen_before("conduct", c.record_id, f"{field}.record_id", content, before)
                if was is None:
                    continue
                if was:
                    duplicates += 1
                    continue
                fresh_conduct.setdefault(c.enrolment_id, []).append(c)
            fresh_outcomes: list[OutcomeRow] = []
            for k, o in enumerate(batch.outcomes):
                field = f"outcomes[{k}]"
                row = enrolments.get(o.enrolment_id)
                if row is None:
                    violations.append((f"{field}.enrolment_id", f"unknown enrolment {o.enrolment_id!r}"))
                    continue
                if row.status != COMPLETED or row.end_date is None:
                    violations.append((f"{field}.enrolment_id", f"an outcome follows completion; the enrolment is "
                                                                f"{row.status}"))
                    continue
                if o.outcome_date < row.end_date:
                    violations.append((f"{field}.outcome_date", f"{o.outcome_date} is before the course was completed "
                                                                f"on {row.end_date}"))
                    continue
                stored = stored_outcomes.get(o.record_id)
                content = _describe(o.enrolment_id, o.outcome_date, f"{o.kind} at {o.follow_up}")
                before = None if stored is None else _describe(stored[0], date.fromisoformat(stored[1]),
                                                               f"{stored[2]} at {stored[3]}")
                was = seen_before("outcome", o.record_id, f"{field}.record_id", content, before)
                if was is None:
                    continue
                if was:
                    duplicates += 1
                    continue
                fresh_outcomes.append(o)
            if violations:
                cur.rollback = True
                raise MonitoringConflict(violations[:MAX_BATCH_VIOLATIONS])
            cur.executemany("INSERT INTO attendance VALUES (?, ?, ?, ?, ?, ?)",
                            [(scope.recorder, a.record_id, a.enrolment_id, a.session_date.isoformat(), a.status, now)
                             for rows in fresh_sessions.values() for a in rows])
            cur.executemany("INSERT INTO conduct VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [(scope.recorder, c.record_id, c.enrolment_id, c.assessment_date.isoformat(), c.rating,
                              c.note, int(c.note_shareable), now) for rows in fresh_conduct.values() for c in rows])
            cur.executemany("INSERT INTO outcome VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(scope.recorder, o.record_id, o.enrolment_id, o.kind, o.outcome_date.isoformat(),
                              o.follow_up, now) for o in fresh_outcomes])
            recorded = sum(map(len, fresh_sessions.values())) + sum(map(len, fresh_conduct.values())) + len(
                fresh_outcomes)
            raised: list[AlertRow] = []
            touched = list(dict.fromkeys([*fresh_sessions, *fresh_conduct]))
            states = dict(read_in(
                cur.rows, "SELECT enrolment_id, state FROM enrolment_summary WHERE enrolment_id IN", sorted(touched)))
            kept: list[tuple[str, str]] = []
            judged: list[tuple[Summary, date]] = []
            owners: list[str] = []
            for eid in touched:
                row = enrolments[eid]
                assert row is not None
                walked = self._updated(cur, row, states.get(eid), fresh_sessions.get(eid, []),
                                       fresh_conduct.get(eid, []))
                kept.append((eid, _state(walked[-1][0])))
                judged += [(summary, max(on, row.start_date)) for summary, on in walked]
                owners += [eid] * len(walked)
            findings = evaluate(judged) if judged else []
            if len(findings) != len(judged):  # never half the batch's alerts
                raise RuntimeError(f"the monitoring rules answered for {len(findings)} of {len(judged)} states")
            for eid, of_enrolment in zip(owners, findings):
                row = enrolments[eid]
                assert row is not None
                for finding in of_enrolment:
                    alert_id = alert_id_for(eid, finding.rule_id)
                    done = cur.execute(
                        "INSERT INTO alert (alert_id, enrolment_id, client_id, course_code, referring_office, "
                        "severity, rule_id, reason_id, reason_en, source, ruleset_version, raised_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (alert_id, eid, row.client_id, row.course_code, row.referring_office, finding.severity,
                         finding.rule_id, finding.reason_id, finding.reason_en, finding.source, version, now))
                    if done.rowcount:
                        raised.append(_alert(cur.execute(f"SELECT {_ALERT} FROM alert WHERE alert_id = ?",
                                                         (alert_id,)).fetchone()))
            cur.executemany("INSERT INTO enrolment_summary VALUES (?, ?) ON CONFLICT (enrolment_id) DO UPDATE SET "
                            "state = excluded.state", kept)
            return Recorded(recorded, duplicates, raised)

    def _updated(self, cur: Transaction, row: EnrolmentRow, stored: str | None, sessions: Sequence[AttendanceRow],
                 conduct: Sequence[ConductRow]) -> list[tuple[Summary, date]]:
        """The enrolment's summaries after each new record, in date order (the last is the one kept):
        extended from the stored summary or, for a record before the latest, the whole history again."""
        walked = steps(_summary(stored) if stored else Summary(row.start_date),
                       [Session(a.session_date, a.record_id, a.status) for a in sessions],
                       [Assessment(c.assessment_date, c.record_id, c.rating) for c in conduct])
        if walked is None:  # a record before the latest: the whole history again (it holds the new rows)
            history = cur.execute("SELECT session_date, record_id, status FROM attendance WHERE enrolment_id = ?",
                                  (row.enrolment_id,)).fetchall()
            ratings = cur.execute("SELECT assessment_date, record_id, rating FROM conduct WHERE enrolment_id = ?",
                                  (row.enrolment_id,)).fetchall()
            walked = steps(Summary(row.start_date), [Session(date.fromisoformat(d), r, s) for d, r, s in history],
                           [Assessment(date.fromisoformat(d), r, g) for d, r, g in ratings])
            assert walked is not None  # from the start, in order: every session is the latest so far
        return walked

    # ------------------------------------------------------------------------------ reads

    def attendance(self, enrolment_id: str | None = None, since: date | None = None,
                   until: date | None = None) -> list[AttendanceRow]:
        where: list[str] = []
        params: list[Any] = []
        if enrolment_id is not None:
            where.append("enrolment_id = ?")
            params.append(enrolment_id)
        if since is not None:
            where.append("session_date >= ?")
            params.append(since.isoformat())
        if until is not None:
            where.append("session_date <= ?")
            params.append(until.isoformat())
        sql = ("SELECT record_id, enrolment_id, session_date, status FROM attendance"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY enrolment_id, session_date, record_id")
        return [AttendanceRow(r, e, date.fromisoformat(d), s) for r, e, d, s in self._all(sql, params)]

    def attendance_by_week(self) -> dict[tuple[str, date, str], int]:
        rows = self._all("SELECT e.course_code, a.session_date, a.status, count(*) FROM attendance a JOIN enrolment e "
                         "USING (enrolment_id) GROUP BY e.course_code, a.session_date, a.status")
        out: dict[tuple[str, date, str], int] = {}
        for course, day, status, n in rows:
            d = date.fromisoformat(day)
            key = (course, d - timedelta(days=d.weekday()), status)
            out[key] = out.get(key, 0) + n
        return out

    def conduct(self, enrolment_id: str) -> list[ConductRow]:
        rows = self._all("SELECT record_id, enrolment_id, assessment_date, rating, note, note_shareable FROM conduct "
                         "WHERE enrolment_id = ? ORDER BY assessment_date, record_id", (enrolment_id,))
        return [ConductRow(r, e, date.fromisoformat(d), g, n, bool(s)) for r, e, d, g, n, s in rows]

    def outcomes(self, enrolment_id: str | None = None) -> list[OutcomeRow]:
        sql = "SELECT record_id, enrolment_id, kind, outcome_date, follow_up FROM outcome"
        params: tuple[Any, ...] = ()
        if enrolment_id is not None:
            sql += " WHERE enrolment_id = ?"
            params = (enrolment_id,)
        rows = self._all(sql + " ORDER BY enrolment_id, outcome_date, record_id", params)
        return [OutcomeRow(r, e, k, date.fromisoformat(d), f) for r, e, k, d, f in rows]

    def alerts(self, office: str | None = None, after: int = 0, limit: int = 1000, unacknowledged: bool = False,
               enrolment_id: str | None = None) -> list[AlertRow]:
        where: list[str] = ["sequence > ?"]
        params: list[Any] = [after]
        if office is not None:
            where.append("referring_office = ?")
            params.append(office)
        if enrolment_id is not None:
            where.append("enrolment_id = ?")
            params.append(enrolment_id)
        if unacknowledged:
            where.append("acknowledged_at IS NULL")
        sql = f"SELECT {_ALERT} FROM alert WHERE " + " AND ".join(where) + " ORDER BY sequence LIMIT ?"
        return [_alert(r) for r in self._all(sql, (*params, limit))]

    def acknowledge(self, alert_id: str, office: str | None, by: str) -> AlertRow | None:
        with self._tx("acknowledge the alert") as cur:
            row = cur.execute(f"SELECT {_ALERT} FROM alert WHERE alert_id = ?", (alert_id,)).fetchone()
            if row is None or (office is not None and row[5] != office):
                return None
            if row[13] is None:
                cur.execute("UPDATE alert SET acknowledged_at = ?, acknowledged_by = ? WHERE alert_id = ?",
                            (utc_now(), by, alert_id))
            return _alert(cur.execute(f"SELECT {_ALERT} FROM alert WHERE alert_id = ?", (alert_id,)).fetchone())

    def last_sequence(self) -> int:
        row = self._one("SELECT max(sequence) FROM alert")
        return int(row[0] or 0)


def open_monitoring_store(location: str | Path) -> MonitoringStore:
    """The monitoring store named by ``--db`` (the same file as the other stores)."""
    from bekal.store.sqlite import sqlite_path

    return SQLiteMonitoringStore(sqlite_path(location))

