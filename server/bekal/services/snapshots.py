"""The rules a worker serves: loaded, reloaded with an atomic swap, validated, and leased by calls.

Consistency under hot reload: a :class:`Snapshot` pairs one rulebook with the
engine built from it. A call leases the current snapshot once and uses it for
everything (course catalogue, rules, version), so a decision can never mix two
versions; a reload builds a new engine beside the old one, swaps the pointer
atomically, and closes the old engine when its last lease ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bekal.engine import Engine, EngineError
from bekal.lang.diagnostics import Diagnostic, Location, RuleError
from bekal.rulebook import Rulebook, load_rulebook, load_rulebook_from_texts
from bekal.services.errors import RulesRejected, ServiceError, internal


@dataclass(eq=False)
class Snapshot:
    """One loaded rulebook with its own engine; leased by calls, closed after its last lease."""

    rulebook: Rulebook
    engine: Engine
    loaded_at: float = field(default_factory=time.time)
    _users: int = 0
    _retired: bool = False

    @property
    def version(self) -> str:
        return self.rulebook.version


@dataclass(frozen=True)
class ReloadOutcome:
    version: str
    previous: str | None
    changed: bool


@dataclass(frozen=True)
class Validation:
    valid: bool
    version: str | None
    diagnostics: tuple[Diagnostic, ...]
    rulesets: tuple[str, ...] = ()


def diagnostics_of(error: BaseException) -> tuple[Diagnostic, ...]:
    """The located problems behind an error: a RuleError's own, else the error as one problem."""
    if isinstance(error, RuleError) and error.diagnostics:
        return tuple(error.diagnostics)
    return (_unlocated(str(error) or type(error).__name__),)


def _unlocated(message: str, file: str = "") -> Diagnostic:
    return Diagnostic(Location(file, 0, 0), message)


def no_rules_error(diagnostics: Sequence[Diagnostic] = ()) -> ServiceError:
    """FAILED_PRECONDITION: nothing can be decided until valid rules are loaded."""
    message = "no valid ruleset is loaded"
    if diagnostics:
        message += f"; the rule files have {len(diagnostics)} problem(s), first: {diagnostics[0]}"
    return ServiceError(
        "FAILED_PRECONDITION",
        message,
        preconditions=[("RULES", str(d), d.message) for d in diagnostics[:20]],
    )


class ServedRules:
    """The rules a worker serves: load, reload (atomic swap), validate, lease."""

    def __init__(self, rules_dir: str | Path):
        self.rules_dir = Path(rules_dir)
        self._lock = threading.Lock()  # guards _current and lease counts
        self._reload_lock = threading.Lock()  # one reload at a time
        self._current: Snapshot | None = None
        self._listeners: list[Callable[[Snapshot], None]] = []
        self.last_error: tuple[Diagnostic, ...] = ()

    # -- reading
    @property
    def current(self) -> Snapshot | None:
        return self._current

    @property
    def version(self) -> str | None:
        snap = self._current
        return snap.version if snap else None

    def on_change(self, listener: Callable[[Snapshot], None]) -> None:
        """Call ``listener(snapshot)`` after every successful swap (health status, logging)."""
        self._listeners.append(listener)

    @contextmanager
    def lease(self) -> Iterator[Snapshot]:
        """The current snapshot, kept open for the block; FAILED_PRECONDITION when none is loaded."""
        with self._lock:
            snap = self._current
            if snap is None:
                raise no_rules_error(self.last_error)
            snap._users += 1
        try:
            yield snap
        finally:
            close = False
            with self._lock:
                snap._users -= 1
                close = snap._retired and snap._users == 0
            if close:
                self._close(snap)

    # -- changing
    def reload(self) -> ReloadOutcome:
        """Load the rules folder; swap it in if valid and different. Raises RulesRejected."""
        with self._reload_lock:
            try:
                rulebook = load_rulebook(self.rules_dir)
            except RuleError as exc:
                self.last_error = diagnostics_of(exc)
                raise RulesRejected(self.last_error) from None
            previous = self._current
            if previous is not None and previous.version == rulebook.version:
                self.last_error = ()
                return ReloadOutcome(rulebook.version, previous.version, False)
            try:
                self.install(rulebook)
            except EngineError as exc:  # durable_rules refused what the checker accepted
                self.last_error = (_unlocated(f"{type(exc).__name__}: {exc}", str(self.rules_dir)),)
                raise RulesRejected(self.last_error) from None
            self.last_error = ()
            return ReloadOutcome(rulebook.version, previous.version if previous else None, True)

    def install(self, rulebook: Rulebook) -> Snapshot:
        """Build an engine for ``rulebook`` and make it current (the old one closes when idle)."""
        engine = Engine(rulebook)
        snap = Snapshot(rulebook, engine)
        with self._lock:
            old, self._current = self._current, snap
            close_old = False
            if old is not None:
                old._retired = True
                close_old = old._users == 0
        if old is not None and close_old:
            self._close(old)
        for listener in list(self._listeners):
            try:
                listener(snap)
            except Exception as exc:  # a listener must not undo a swap
                internal("rules listener", exc)
        return snap

    def validate(self, files: Mapping[str, str], overlay: bool) -> Validation:
        """Dry run, as ``bekal rules check``: parse, check, compile, register in a scratch engine.

        Nothing changes. With ``overlay`` the files replace or add to the loaded ones
        (paths relative to the rules folder).
        """
        texts: dict[str, str] = {}
        if overlay:
            snap = self._current
            if snap is not None:
                texts.update({self.relative(k): v for k, v in snap.rulebook.sources.items()})
        texts.update(files)
        try:
            rulebook = load_rulebook_from_texts(texts)
        except RuleError as exc:
            return Validation(False, None, diagnostics_of(exc))
        try:
            Engine(rulebook).close()
        except EngineError as exc:
            return Validation(False, None, (_unlocated(f"{type(exc).__name__}: {exc}"),))
        return Validation(True, rulebook.version, (), tuple(rs.name for rs in rulebook.rulesets))

    def relative(self, name: str) -> str:
        """A loaded file's name relative to the rules folder (as clients name it)."""
        try:
            return Path(name).resolve().relative_to(self.rules_dir.resolve()).as_posix()
        except ValueError:
            return name

    def close(self) -> None:
        with self._lock:
            snap, self._current = self._current, None
        if snap is not None:
            with self._lock:
                snap._retired = True
                idle = snap._users == 0
            if idle:
                self._close(snap)

    @staticmethod
    def _close(snap: Snapshot) -> None:
        try:
            snap.engine.close()
        except Exception as exc:
            internal("closing an old engine", exc)
