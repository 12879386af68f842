"""The decision log: every answered eligibility check, once per request id, without facts.

Decisions are logged by request id with the pseudonymous client id, the course,
the outcome, the ids of the rules behind it, the ruleset version and the as-of
date -- never the facts. :class:`DecisionLog` is what the eligibility service
needs; :class:`SQLiteDecisionLog` keeps it in an SQLite file (see
:mod:`bekal.store.sqlite`), and a PostgreSQL implementation of the same
interface can serve several server replicas later.

What it keeps that could still reveal health data, and how that is contained:

- the request's fingerprint: a plain digest of the request is a test for guessed
  facts, so only ``HMAC-SHA256(secret, digest)`` is stored (:mod:`bekal.store.secrets`);
- the rule ids behind each decision (``summary``): an id such as
  ``eligibility/rehab-not-finished`` tells the client's rehabilitation status, so the
  summary is for the auditor role only -- no service answer reads it back; only the
  auditors' read of the log (the RPC that serves it checks the role) does.

Schema versions (``PRAGMA user_version``): 1 -- the ``request`` table; 2 -- fingerprints
keyed: the unsalted digests of version 1 are replaced by HMACs of themselves (a digest
cannot be recomputed without its request, and the HMAC of the old digest is exactly
what a retry of that request now stores, so retries of old requests are still
recognised), and the database remembers its key's id (see :func:`~bekal.store.secrets.check_key`);
3 -- who asked (``caller``) and the listing indexes; 4 -- what a replay needs (see below); 5 -- whose
records an erasure covered (``erasure.scope``: the agency whose own requests it erased, NULL for every
agency's; erasures logged before schema 5 read as every agency's).

Replay (schema 4). A decision is reproducible from what the log keeps beside it:

- ``request.parameters``: the rule parameters in force on the as-of date (JSON; rule data, no facts);
- ``ruleset_version``: every rules version that ever served, by content hash, with the text of its
  files (:meth:`DecisionLog.keep_ruleset`, written when a version starts serving and, at the latest,
  before the first decision made with it);
- ``request_facts``: the client's facts as the engine took them, *sealed* (AES-GCM, one data key per
  client wrapped by the facts key, the request id as associated data: :mod:`bekal.store.sealing`);
  without the facts key the log still shows ids, versions and outcomes, never facts;
- ``client_key``: the wrapped data keys; ``erasure``: which client's facts were erased, when, by whom.

Facts are deleted after the retention period (:meth:`DecisionLog.purge`) or on erasure of one client
(:meth:`DecisionLog.erase_client`); their data key goes with the last of them (crypto-shredding).
Everything else -- ids, versions, outcomes, rule ids -- stays.
"""

from __future__ import annotations

import abc
import builtins
import enum
import hmac
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bekal.store.errors import SchemaTooNew, StoreError
from bekal.store.sealing import (
    FactsUnreadable,
    new_data_key,
    open_facts,
    open_job,
    seal_facts,
    seal_job,
    unwrap_key,
    wrap_key,
)
from bekal.store.secrets import KEY_BYTES, check_key, key_fingerprints, key_id, keyed, load_or_create, secret_for
from bekal.store.sqlite import Database, Transaction, insert_rows, read_in, utc_now

log = logging.getLogger("bekal.store")

SCHEMA_VERSION = 5
FACTS_KEY_FILE_NAME = "bekal-facts.key"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS request (
    request_id      TEXT PRIMARY KEY,
    fingerprint     TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    audience        TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    as_of           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    created_at      TEXT NOT NULL
) WITHOUT ROWID;
"""
# schema 3: who asked (an agency name), and the orders the auditors' listing pages in
_SCHEMA_3 = [
    "ALTER TABLE request ADD COLUMN caller TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS request_time ON request (created_at, request_id)",
    "CREATE INDEX IF NOT EXISTS request_client ON request (client_id, created_at, request_id)",
    "CREATE INDEX IF NOT EXISTS request_caller ON request (caller, created_at, request_id)",
]
# schema 5: whose records an erasure covered (see the module's doc)
_SCHEMA_5 = ["ALTER TABLE erasure ADD COLUMN scope TEXT"]
# schema 4: what a replay needs (see the module's doc)
_SCHEMA_4 = [
    "ALTER TABLE request ADD COLUMN parameters TEXT NOT NULL DEFAULT ''",
    """CREATE TABLE IF NOT EXISTS ruleset_version (
        version      TEXT PRIMARY KEY,
        files        TEXT NOT NULL,
        first_served TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS client_key (
        client_id  TEXT PRIMARY KEY,
        wrapped    BLOB NOT NULL,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS request_facts (
        request_id TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL,
        sealed     BLOB NOT NULL,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS request_facts_client ON request_facts (client_id)",
    "CREATE INDEX IF NOT EXISTS request_facts_time ON request_facts (created_at)",
    """CREATE TABLE IF NOT EXISTS erasure (
        sequence  INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL,
        erased_by TEXT NOT NULL,
        records   INTEGER NOT NULL,
        erased_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS erasure_client ON erasure (client_id)",
    """CREATE TABLE IF NOT EXISTS job_replay (
        job_id          TEXT PRIMARY KEY,
        request_id      TEXT NOT NULL,
        creator         TEXT NOT NULL,
        ruleset_version TEXT NOT NULL,
        as_of           TEXT NOT NULL,
        placed          INTEGER NOT NULL,
        sealed          BLOB,
        created_at      TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS job_client (
        client_id TEXT NOT NULL,
        job_id    TEXT NOT NULL,
        PRIMARY KEY (client_id, job_id)
    ) WITHOUT ROWID""",
]
_COLUMNS = ("request_id, fingerprint, client_id, audience, ruleset_version, as_of, summary, created_at, caller, "
            "parameters")
MAX_PAGE = 1000  # most entries one list() call returns


def _adds_existing_column(statement: str, columns: set[str]) -> bool:
    """Is ``statement`` an ``ALTER TABLE ... ADD COLUMN`` of a column the table has already? (A migration
    that stopped half-way, or a database moved back a version by hand, is migrated again cleanly.)"""
    words = statement.split()
    return words[:2] == ["ALTER", "TABLE"] and words[3:5] == ["ADD", "COLUMN"] and words[5] in columns


def _stored_keys(read: Callable[[str, Sequence[Any]], list[Any]], client_ids: Sequence[str]) -> dict[str, bytes]:
    """The stored (wrapped) data keys of ``client_ids`` that have one, read with ``read(sql, params)``."""
    rows = read_in(read, "SELECT client_id, wrapped FROM client_key WHERE client_id IN", client_ids)
    return {client_id: bytes(wrapped) for client_id, wrapped in rows}


class Recorded(str, enum.Enum):
    """What happened to one request handed to :meth:`DecisionLog.record`."""

    NEW = "new"  # first time: its decisions are now durable
    DUPLICATE = "duplicate"  # the same request id with the same fingerprint was recorded before
    CONFLICT = "conflict"  # the request id was used before for a different request


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One decision as the decision log keeps it: identifiers and outcome, no facts."""

    course_code: str
    outcome: str  # ELIGIBLE / INELIGIBLE / PENDING
    priority: int
    rule_ids: tuple[str, ...]  # "ruleset/rule" of every reason

    def line(self) -> str:
        return f"{self.course_code} {self.outcome} {self.priority} {','.join(self.rule_ids)}"


def parse_summary(summary: str) -> tuple[LoggedDecision, ...]:
    """The decisions packed in :attr:`LoggedRequest.summary`."""
    out = []
    for line in summary.splitlines():
        code, outcome, priority, *rest = line.split(" ")
        rules = rest[0] if rest else ""
        out.append(LoggedDecision(code, outcome, int(priority), tuple(r for r in rules.split(",") if r)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One answered check (one client, one or more courses): the unit of idempotency.

    ``summary`` packs its decisions, one line each: ``COURSE OUTCOME PRIORITY ruleset/rule,...``
    (see :class:`LoggedDecision`); one row per request keeps the log cheap at bulk rates. Rule ids
    can reveal health status (``eligibility/rehab-not-finished``): the summary is readable only
    through the auditor role.
    """

    request_id: str
    # to record: the plain digest of the request (bekal.services.eligibility.codec.fingerprint), held in
    # memory only; as recorded (get): HMAC-SHA256(secret, digest), the only form the store keeps
    fingerprint: str
    client_id: str  # pseudonymous id, never a name or national id number
    audience: str
    ruleset_version: str
    as_of: str  # YYYY-MM-DD
    summary: str
    created_at: str = ""  # ISO timestamp (UTC), set by the store
    caller: str = ""  # the agency that asked (bekal.access.Principal.name)
    parameters: str = ""  # JSON: the rule parameters in force on as_of (rule data, not facts)
    # to record only: the client's facts as the engine took them; stored sealed, never read back by get()
    facts: Mapping[str, Any] | None = None

    @property
    def decisions(self) -> tuple[LoggedDecision, ...]:
        return parse_summary(self.summary)


@dataclass(frozen=True, slots=True)
class Erasure:
    """One erasure of a client's facts: who asked, when, how many records went, and whose records it
    covered (``scope``: the agency whose own requests it erased; None: every agency's)."""

    client_id: str
    erased_by: str
    records: int
    erased_at: str
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedJob:
    """A succeeded matching job as the decision log keeps it to replay it: its whole input (every client
    of the cohort: sealed, and deleted when any one of them is erased) and where each client was placed."""

    job_id: str
    request_id: str
    creator: str  # the agency that uploaded it
    ruleset_version: str
    as_of: str  # YYYY-MM-DD
    settings: bytes  # as the job store keeps them (serialized bekal.v1.MatchSettings)
    parts: tuple[bytes, ...]  # the stored input parts
    placed: tuple[tuple[str, str], ...]  # (client id, course code or "") in upload order
    created_at: str = ""
    sealed: bool = True  # False: the input is gone (erased, or past retention); parts and placed are empty

    def blob(self) -> bytes:
        """settings, parts and placements in one length-prefixed frame."""
        placed = json.dumps(self.placed, separators=(",", ":")).encode()
        out = bytearray()
        for piece in (self.settings, placed, *self.parts):
            out += len(piece).to_bytes(8, "big") + piece
        return bytes(out)

    @staticmethod
    def pieces(blob: bytes) -> tuple[bytes, list[tuple[str, str]], tuple[bytes, ...]]:
        pieces, i = [], 0
        while i < len(blob):
            n = int.from_bytes(blob[i:i + 8], "big")
            pieces.append(blob[i + 8:i + 8 + n])
            i += 8 + n
        return pieces[0], [(str(c), str(k)) for c, k in json.loads(pieces[1])], tuple(pieces[2:])


def default_facts_key_file(db: str | Path) -> Path | None:
    """``bekal-facts.key`` in the database file's folder; None for ``:memory:`` (a random key)."""
    text = str(db)
    return None if text == ":memory:" else Path(text).parent / FACTS_KEY_FILE_NAME


class DecisionLog(abc.ABC):
    """What the eligibility service needs from storage. Implementations must be safe to call from many
    threads."""

    @abc.abstractmethod
    def record(self, requests: Sequence[LoggedRequest]) -> list[Recorded]:
        """Durably record answered requests, in one transaction; one status per request.

        A request id already recorded is not recorded again: the result says whether
        the earlier request had the same fingerprint (a retry) or not (a conflict).
        Fingerprints are compared, and kept, as keyed digests (HMAC with the store's secret).
        When this returns, every NEW request survives a crash of the process.
        Raises StoreUnavailable when nothing could be recorded.
        """

    @abc.abstractmethod
    def get(self, request_id: str) -> LoggedRequest | None:
        """The recorded request with this id, or None."""

    @abc.abstractmethod
    def list(self, after: tuple[str, str] | None = None, limit: int = 100, client_id: str | None = None,
             caller: str | None = None) -> list[LoggedRequest]:
        """Recorded requests after the position ``after`` (``(created_at, request_id)`` of the last one
        seen), oldest first, at most ``limit`` (up to :data:`MAX_PAGE`); only those about ``client_id``
        and/or asked by ``caller`` when given. For the auditors' reading of the log."""

    @abc.abstractmethod
    def count(self) -> int:
        """Number of recorded requests (for tests and status)."""

    @abc.abstractmethod
    def keep_ruleset(self, version: str, files: Mapping[str, str]) -> bool:
        """Keep the text of a rules version (file name -> text) by its content hash; True if it was new.
        Raises StoreUnavailable when it cannot be written (then nothing may be decided with it)."""

    @abc.abstractmethod
    def ruleset(self, version: str) -> dict[str, str] | None:
        """The files of a kept rules version, or None."""

    @abc.abstractmethod
    def facts(self, request_id: str) -> dict[str, Any] | None:
        """The facts a recorded request was decided on, unsealed; None when there are none (erased,
        past retention, or recorded before schema 4). Raises FactsUnreadable when they do not open."""

    @abc.abstractmethod
    def erase_client(self, client_id: str, erased_by: str, caller: str | None = None) -> int:
        """Delete the facts of ``client_id`` (only of the requests ``caller`` made, when given) and,
        with its last facts, its data key; record the erasure. The number of records erased."""

    @abc.abstractmethod
    def erasures(self, client_id: str) -> builtins.list[Erasure]:
        """The erasures of one client's facts, oldest first."""

    @abc.abstractmethod
    def record_job(self, job: LoggedJob, client_ids: Sequence[str], *, finished: bool = False) -> None:
        """Keep a succeeded job for replay (idempotent by job id): its input sealed, its clients indexed
        (so erasing one of them finds it). Raises StoreUnavailable when it cannot be written.

        A job is kept before its results are acknowledged, so an attempt that then loses the job to
        another worker has left its record, possibly under other rules. ``finished=True`` says this
        attempt's results are the ones the job store kept: its record replaces one of another rules
        version, unless a client of the job was erased meanwhile (nothing erased comes back)."""

    @abc.abstractmethod
    def job(self, job_id: str) -> LoggedJob | None:
        """A kept job, its input unsealed (``sealed`` False and no input when it is gone)."""

    @abc.abstractmethod
    def purge(self, before: str) -> int:
        """Delete the facts recorded before ``before`` (an ISO timestamp, UTC) and the data keys
        left without facts; ids, versions and outcomes stay. The number of records purged."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection(s)."""


class SQLiteDecisionLog(Database, DecisionLog):
    """:class:`DecisionLog` on one SQLite file (or ``:memory:``).

    Checkpoints (copying the WAL into the database) run on a background thread, not inside a
    caller's commit, so they do not add to request latency. ``secret`` keys the fingerprints
    (default: :func:`~bekal.store.secrets.secret_for` the path: ``bekal.key`` next to the file).
    """

    _what = "the decision log"

    def __init__(self, path: str | Path = "bekal.db", *, secret: bytes | None = None, busy_timeout_s: float = 10.0,
                 checkpoint_every_s: float = 1.0, facts_key: bytes | None = None,
                 facts_key_file: str | Path | None = None):
        self._secret = secret  # None: loaded at open, once the path is known to be a database
        self._facts_key = facts_key  # None: from facts_key_file (or its default), checked at open
        self._facts_key_file = facts_key_file
        self._kept_versions: set[str] = set()
        super().__init__(path, busy_timeout_s=busy_timeout_s, checkpoint_in_background=True)
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if not self.memory and checkpoint_every_s > 0:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(checkpoint_every_s,), name="bekal-store-checkpoint",
                daemon=True)
            self._checkpointer.start()

    def _migrate(self, cur: Transaction) -> None:
        version = cur.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(f"{self.path}: database schema {version} is newer than this bekal ({SCHEMA_VERSION})")
        if self._secret is None:
            self._secret = secret_for(self.path)
        secret = self._secret
        check_key(cur, secret, self.path)
        cur.execute(_SCHEMA)
        columns = {row[1] for row in cur.execute("PRAGMA table_info(request)").fetchall()}
        if version < 3:
            for statement in _SCHEMA_3:
                if not _adds_existing_column(statement, columns):
                    cur.execute(statement)
        if version < 4:
            for statement in _SCHEMA_4:
                if not _adds_existing_column(statement, columns):
                    cur.execute(statement)
        if version < 5:
            erasure_columns = {row[1] for row in cur.execute("PRAGMA table_info(erasure)").fetchall()}
            for statement in _SCHEMA_5:
                if not _adds_existing_column(statement, erasure_columns):
                    cur.execute(statement)
        self._check_facts_key(cur)
        if version == 1:  # unsalted digests -> HMACs of themselves (see the module's doc)
            log.info("decision log %s: %d fingerprints keyed (schema 1 -> 2)", self.path,
                     key_fingerprints(self._db, cur, secret, "request"))
        # written even when unchanged: a read-only database fails here, at open
        cur.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_facts_key(self, cur: Transaction) -> None:
        """Load the facts key and check it is the one the database was written with (fail closed:
        a missing key file for a database that has one recorded is refused, never replaced)."""
        cur.execute("CREATE TABLE IF NOT EXISTS facts_key (key_id TEXT NOT NULL)")
        row = cur.execute("SELECT key_id FROM facts_key").fetchone()
        if self._facts_key is None:
            file = Path(self._facts_key_file) if self._facts_key_file is not None else default_facts_key_file(
                self.path)
            if file is None:
                self._facts_key = os.urandom(KEY_BYTES)
            else:
                if row is not None and not file.exists():
                    raise StoreError(
                        f"facts key file {file} is missing, and the decision log {self.path} holds facts sealed "
                        f"with key id {row[0]}: restore that key file (see docs/operators.md, Decision facts)")
                self._facts_key = load_or_create(file)
        mine = key_id(self._facts_key)
        if row is None:
            cur.execute("INSERT INTO facts_key VALUES (?)", (mine,))
        elif row[0] != mine:
            raise StoreError(
                f"decision log {self.path} was written with another facts key (key id {row[0]}, this one {mine}): "
                "restore that key file (see docs/operators.md, Decision facts)")

    @property
    def _key(self) -> bytes:
        assert self._secret is not None  # set at open
        return self._secret

    @property
    def _fkey(self) -> bytes:
        assert self._facts_key is not None  # set at open
        return self._facts_key

    def _checkpoint_loop(self, every: float) -> None:
        db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        try:
            while not self._closed.wait(every):
                if self._dirty.is_set():
                    self._dirty.clear()
                    try:
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    except sqlite3.Error as exc:  # busy or locked: the next round tries again
                        log.debug("checkpoint skipped: %s", exc)
        finally:
            db.close()

    def record(self, requests: Sequence[LoggedRequest]) -> list[Recorded]:
        if not requests:
            return []
        now = utc_now()
        # The write lock is the whole database's, shared with the other worker processes and the audit
        # trail, so what needs no write is done before taking it: the keyed fingerprints, each client's
        # data key (read, or made and wrapped) and the sealed facts. Under the lock the keys are read
        # again (:meth:`_settle_keys`): a key another writer made, replaced or erased meanwhile is used as
        # it is now and that client's facts sealed again, so the log ends as if all was done under the
        # lock, which is held for statements only (measured: with sealing under it, two workers serving
        # streams spent most of their time waiting for each other's transactions).
        fingerprints = [keyed(self._key, req.fingerprint) for req in requests]
        keys = self._read_keys(list(dict.fromkeys(req.client_id for req in requests if req.facts is not None)))
        sealed = [None if req.facts is None else seal_facts(keys[req.client_id][0], req.request_id, req.facts)
                  for req in requests]
        results: list[Recorded] = []
        # locked by another process for too long, disk full, I/O error: StoreUnavailable, nothing recorded
        with self._tx("be written") as cur:
            # a request id recorded before (or earlier in this batch) is a retry when its fingerprint is
            # the same, else a conflict; the rest is written in a few statements (sqlite.insert_rows)
            seen: dict[str, str] = dict(read_in(cur.rows, "SELECT request_id, fingerprint FROM request WHERE "
                                                "request_id IN", list(dict.fromkeys(r.request_id for r in requests))))
            rows: list[tuple[Any, ...]] = []
            new_facts: list[int] = []  # the requests recorded now that keep facts
            for k, (req, fingerprint) in enumerate(zip(requests, fingerprints)):
                fp = seen.get(req.request_id)
                if fp is None:
                    seen[req.request_id] = fingerprint
                    rows.append((req.request_id, fingerprint, req.client_id, req.audience, req.ruleset_version,
                                 req.as_of, req.summary, now, req.caller, req.parameters))
                    if req.facts is not None:
                        new_facts.append(k)
                    results.append(Recorded.NEW)
                else:
                    results.append(Recorded.DUPLICATE if hmac.compare_digest(fp, fingerprint) else Recorded.CONFLICT)
            insert_rows(cur, f"INSERT INTO request ({_COLUMNS}) VALUES", rows)
            # only a client with facts recorded now gets a key stored (a retry of an erased client's
            # request stores nothing)
            changed = self._settle_keys(cur, keys, list(dict.fromkeys(requests[k].client_id for k in new_facts)), now)
            facts_rows = []
            for k in new_facts:
                req, facts = requests[k], sealed[k]
                if req.client_id in changed and req.facts is not None:
                    facts = seal_facts(keys[req.client_id][0], req.request_id, req.facts)
                facts_rows.append((req.request_id, req.client_id, facts, now))
            insert_rows(cur, "INSERT INTO request_facts VALUES", facts_rows)
        self._dirty.set()
        return results

    def _read_keys(self, client_ids: Sequence[str]) -> dict[str, tuple[bytes, bytes, bool]]:
        """Per client: its data key, its wrapped form, and whether that is stored (else it is new, made here).
        Read and made without the write lock; :meth:`_settle_keys` checks them under it."""
        stored = _stored_keys(self._all, client_ids)
        keys: dict[str, tuple[bytes, bytes, bool]] = {}
        for client_id in client_ids:
            wrapped = stored.get(client_id)
            if wrapped is not None:
                keys[client_id] = (unwrap_key(self._fkey, client_id, wrapped), wrapped, True)
            else:
                data_key = new_data_key()
                keys[client_id] = (data_key, wrap_key(self._fkey, client_id, data_key), False)
        return keys

    def _settle_keys(self, cur: Transaction, keys: dict[str, tuple[bytes, bytes, bool]], client_ids: Sequence[str],
                     now: str) -> builtins.set[str]:
        """Under the write lock: the key each client's facts are sealed with is the one stored. A new key
        is stored; where another writer stored, replaced or erased one since :meth:`_read_keys`, the
        stored key (or, erased, a new one stored now) replaces it in ``keys``. The clients whose keys
        changed (rare: a race with another writer), whose facts must be sealed again."""
        stored = _stored_keys(cur.rows, client_ids)
        changed: builtins.set[str] = set()
        new_rows: list[tuple[str, bytes, str]] = []
        for client_id in client_ids:
            data_key, wrapped, was_stored = keys[client_id]
            now_stored = stored.get(client_id)
            if now_stored == wrapped:
                continue  # stored as it was read
            if now_stored is not None:  # another writer stored this client's key meanwhile
                keys[client_id] = (unwrap_key(self._fkey, client_id, now_stored), now_stored, True)
                changed.add(client_id)
                continue
            if was_stored:  # erased meanwhile: a new key, as on the client's first record
                data_key = new_data_key()
                wrapped = wrap_key(self._fkey, client_id, data_key)
                changed.add(client_id)
            new_rows.append((client_id, wrapped, now))
            keys[client_id] = (data_key, wrapped, True)
        insert_rows(cur, "INSERT INTO client_key VALUES", new_rows)
        return changed

    def get(self, request_id: str) -> LoggedRequest | None:
        row = self._one(f"SELECT {_COLUMNS} FROM request WHERE request_id = ?", (request_id,))
        return None if row is None else LoggedRequest(*row)

    def keep_ruleset(self, version: str, files: Mapping[str, str]) -> bool:
        if version in self._kept_versions:
            return False
        text = json.dumps(dict(sorted(files.items())), ensure_ascii=False)
        with self._tx("keep a rules version") as cur:
            cur.execute("INSERT OR IGNORE INTO ruleset_version VALUES (?, ?, ?)", (version, text, utc_now()))
            new = cur.rowcount == 1
        self._kept_versions.add(version)
        return new

    def ruleset(self, version: str) -> dict[str, str] | None:
        row = self._one("SELECT files FROM ruleset_version WHERE version = ?", (version,))
        if row is None:
            return None
        files = json.loads(row[0])
        return {str(k): str(v) for k, v in files.items()}

    def facts(self, request_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT f.client_id, f.sealed, k.wrapped FROM request_facts f LEFT JOIN client_key k "
                        "ON k.client_id = f.client_id WHERE f.request_id = ?", (request_id,))
        if row is None:
            return None
        client_id, sealed, wrapped = row
        if wrapped is None:
            raise FactsUnreadable(f"the facts of request {request_id}: the client's data key is gone")
        data_key = unwrap_key(self._fkey, client_id, bytes(wrapped))
        return open_facts(data_key, request_id, bytes(sealed))

    def erase_client(self, client_id: str, erased_by: str, caller: str | None = None) -> int:
        with self._tx("erase a client's facts") as cur:
            if caller is None:
                cur.execute("DELETE FROM request_facts WHERE client_id = ?", (client_id,))
            else:
                cur.execute("DELETE FROM request_facts WHERE client_id = ? AND request_id IN "
                            "(SELECT request_id FROM request WHERE client_id = ? AND caller = ?)",
                            (client_id, client_id, caller))
            erased = cur.rowcount
            # a job's input holds every client of its cohort: it goes whole, when any one of them is erased
            jobs = [row[0] for row in cur.execute(
                "SELECT j.job_id FROM job_client c JOIN job_replay j ON j.job_id = c.job_id WHERE c.client_id = ? "
                "AND j.sealed IS NOT NULL" + ("" if caller is None else " AND j.creator = ?"),
                (client_id,) if caller is None else (client_id, caller)).fetchall()]
            for job_id in jobs:
                cur.execute("UPDATE job_replay SET sealed = NULL WHERE job_id = ?", (job_id,))
            erased += len(jobs)
            cur.execute("DELETE FROM client_key WHERE client_id = ? AND NOT EXISTS "
                        "(SELECT 1 FROM request_facts WHERE client_id = ?)", (client_id, client_id))
            cur.execute("INSERT INTO erasure (client_id, erased_by, records, erased_at, scope) VALUES (?, ?, ?, ?, ?)",
                        (client_id, erased_by, erased, utc_now(), caller))
        self._dirty.set()
        return erased

    def record_job(self, job: LoggedJob, client_ids: Sequence[str], *, finished: bool = False) -> None:
        placed = sum(1 for _c, course in job.placed if course)
        if finished:  # the same version places the same input the same way: nothing to write then
            row = self._one("SELECT ruleset_version FROM job_replay WHERE job_id = ? AND sealed IS NOT NULL",
                            (job.job_id,))
            if row is None or row[0] == job.ruleset_version:
                return
        sealed = seal_job(self._fkey, job.job_id, job.blob())
        with self._tx("keep a match job for replay") as cur:
            if finished:
                cur.execute("UPDATE job_replay SET request_id = ?, creator = ?, ruleset_version = ?, as_of = ?, "
                            "placed = ?, sealed = ? WHERE job_id = ? AND sealed IS NOT NULL",
                            (job.request_id, job.creator, job.ruleset_version, job.as_of, placed, sealed, job.job_id))
            else:
                cur.execute("INSERT OR IGNORE INTO job_replay VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (job.job_id, job.request_id, job.creator, job.ruleset_version, job.as_of, placed,
                             sealed, utc_now()))
                if cur.rowcount == 1:
                    cur.executemany("INSERT OR IGNORE INTO job_client VALUES (?, ?)",
                                    [(c, job.job_id) for c in dict.fromkeys(client_ids)])
        self._dirty.set()

    def job(self, job_id: str) -> LoggedJob | None:
        row = self._one("SELECT job_id, request_id, creator, ruleset_version, as_of, sealed, created_at "
                        "FROM job_replay WHERE job_id = ?", (job_id,))
        if row is None:
            return None
        job_id, request_id, creator, version, as_of, sealed, created = row
        if sealed is None:
            return LoggedJob(job_id, request_id, creator, version, as_of, b"", (), (), created, sealed=False)
        settings, placed, parts = LoggedJob.pieces(open_job(self._fkey, job_id, bytes(sealed)))
        return LoggedJob(job_id, request_id, creator, version, as_of, settings, parts,
                         tuple((c, k) for c, k in placed), created)

    def erasures(self, client_id: str) -> builtins.list[Erasure]:
        rows = self._all("SELECT client_id, erased_by, records, erased_at, scope FROM erasure WHERE client_id = ? "
                         "ORDER BY sequence", (client_id,))
        return [Erasure(*row) for row in rows]

    def purge(self, before: str) -> int:
        with self._tx("purge facts past retention") as cur:
            cur.execute("DELETE FROM request_facts WHERE created_at < ?", (before,))
            purged = cur.rowcount
            cur.execute("UPDATE job_replay SET sealed = NULL WHERE created_at < ? AND sealed IS NOT NULL", (before,))
            purged += cur.rowcount
            cur.execute("DELETE FROM client_key WHERE NOT EXISTS "
                        "(SELECT 1 FROM request_facts f WHERE f.client_id = client_key.client_id)")
        self._dirty.set()
        return purged

    def list(self, after: tuple[str, str] | None = None, limit: int = 100, client_id: str | None = None,
             caller: str | None = None) -> list[LoggedRequest]:
        where, args = [], []
        if after is not None:
            where.append("(created_at, request_id) > (?, ?)")
            args += list(after)
        for column, value in (("client_id", client_id), ("caller", caller)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = (f"SELECT {_COLUMNS} FROM request" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY created_at, request_id LIMIT ?")
        rows = self._all(sql, (*args, max(1, min(limit, MAX_PAGE))))
        return [LoggedRequest(*row) for row in rows]

    def count(self) -> int:
        (n,) = self._one("SELECT count(*) FROM request")
        return int(n)

    def close(self) -> None:
        self._closed.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
        with self._lock:
            try:
                if not self.memory:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._db.close()
