"""The rules a worker serves: loaded, reloaded with an atomic swap, validated, and leased by calls.

Consistency under hot reload: a :class:`Snapshot` pairs one rulebook with the
engine built from it. A call leases the current snapshot once and uses it for
everything (course catalogue, rules, version), so a decision can never mix two
versions; a reload builds a new engine beside the old one, swaps the pointer
atomically, and closes the old engine when its last lease ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bekal.engine import Engine, EngineError
from bekal.lang.diagnostics import Diagnostic, Location, RuleError
from bekal.rulebook import Rulebook, load_rulebook, reload_problems
from bekal.ruletests import gate
from bekal.sandbox import dry_run
from bekal.services.errors import RulesRejected, ServiceError, internal

log = logging.getLogger("bekal.service")


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
                # the same rules; the tests beside them may have changed: they must still pass
                failures = gate(rulebook, previous.engine)
                if failures:
                    self.last_error = tuple(failures)
                    raise RulesRejected(self.last_error)
                self.last_error = ()
                return ReloadOutcome(rulebook.version, previous.version, False)
            try:
                engine = Engine(rulebook)
            except EngineError as exc:  # durable_rules refused what the checker accepted
                self.last_error = (_unlocated(f"{type(exc).__name__}: {exc}", str(self.rules_dir)),)
                raise RulesRejected(self.last_error) from None
            # the gate: nothing goes live that loses a ruleset or rules silently, or fails its own tests
            problems = reload_problems(previous.rulebook, rulebook) if previous is not None else []
            problems += gate(rulebook, engine)
            if problems:
                engine.close()
                self.last_error = tuple(problems)
                raise RulesRejected(self.last_error)
            self.install(rulebook, engine)
            self.last_error = ()
            return ReloadOutcome(rulebook.version, previous.version if previous else None, True)

    def install(self, rulebook: Rulebook, engine: Engine | None = None) -> Snapshot:
        """Make ``rulebook`` current with ``engine`` (built for it if not given); the old one closes when idle."""
        engine = engine or Engine(rulebook)
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
        """Dry run, as ``bekal rules check`` and ``test``: parse, check, compile, register, run the rule tests.

        Nothing changes. With ``overlay`` the files replace or add to the loaded ones
        (paths relative to the rules folder).
        """
        texts: dict[str, str] = {}
        if overlay:
            snap = self._current
            if snap is not None:
                texts.update({self.relative(k): v for k, v in snap.rulebook.sources.items()})
        texts.update(files)
        # rule text from a caller is untrusted: checked in a child process with time and memory limits
        result = dry_run(texts)
        return Validation(result.valid, result.version, result.diagnostics, result.rulesets)

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


def log_rejected(rules: ServedRules, exc: RulesRejected, when: str) -> None:
    version = rules.version
    keeps = f"version {version} keeps serving" if version else "nothing is served until they are fixed"
    log.error("rule files in %s rejected (%s): %d problem(s); %s",
              rules.rules_dir, when, len(exc.diagnostics), keeps)
    for d in exc.diagnostics[:50]:
        log.error("  %s%s", d, f" (hint: {d.hint})" if d.hint else "")
