"""Hot reload: poll the rules folder and reload when its files change.

Polling (default once a second) needs nothing outside the standard library and
works on every filesystem, including bind mounts where inotify stays silent. A
change is picked up once the folder has been stable for one more poll and its
newest file is at least one polling interval old, so an editor writing a file in pieces is
not caught half-way; a file that changes while it is read is refused and read again
at the next poll. An invalid change is logged once (``file:line:col: message``
lines) and the previous version keeps serving until the files are fixed; so is a
change that would lose a ruleset or rules silently (``bekal.rulebook.reload_problems``)
or whose rule tests fail.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from bekal.rulebook import SUFFIXES
from bekal.services.errors import RulesRejected
from bekal.services.snapshots import ServedRules, log_rejected

log = logging.getLogger("bekal.service")


def signature(folder: Path) -> tuple[object, ...]:
    """What changes when any rule file changes: names, sizes and modification times."""
    entries: list[tuple[str, int, int]] = []
    try:
        if folder.is_file():
            st = folder.stat()
            return ((folder.name, st.st_mtime_ns, st.st_size),)
        for root, _dirs, files in os.walk(folder):
            for name in files:
                if name.endswith(SUFFIXES):
                    path = os.path.join(root, name)
                    try:
                        st = os.stat(path)
                    except FileNotFoundError:
                        continue
                    entries.append((path, st.st_mtime_ns, st.st_size))
    except OSError:
        return ("unreadable",)
    return tuple(sorted(entries))


def reload_and_log(rules: ServedRules, when: str) -> bool:
    """Reload, logging the outcome; True when a new version is serving."""
    try:
        outcome = rules.reload()
    except RulesRejected as exc:
        log_rejected(rules, exc, when)
        return False
    if outcome.changed:
        log.info("rules %s: now serving version %s (was %s)", when, outcome.version, outcome.previous or "none")
    return outcome.changed


def _newest(sig: tuple[object, ...]) -> float:
    """Modification time (seconds) of the newest file in a signature; 0 for none."""
    times = [entry[1] for entry in sig if isinstance(entry, tuple) and len(entry) == 3]
    return max(times, default=0) / 1e9


class RulesWatcher(threading.Thread):
    """A daemon thread reloading ``rules`` when its folder changes."""

    def __init__(self, rules: ServedRules, interval: float = 1.0):
        super().__init__(name="bekal-rules-watcher", daemon=True)
        self.rules = rules
        self.interval = interval
        self._stop = threading.Event()
        self._seen = signature(rules.rules_dir)

    def run(self) -> None:
        pending = None
        while not self._stop.wait(self.interval):
            try:
                current = signature(self.rules.rules_dir)
                if current == self._seen:
                    pending = None
                    continue
                if current != pending or _newest(current) > time.time() - self.interval:
                    pending = current  # still changing, or just written: wait
                    continue
                reload_and_log(self.rules, "changed on disk")
                pending = None
                if signature(self.rules.rules_dir) == current:  # else it changed meanwhile: read it again
                    self._seen = current
            except Exception as exc:  # the watcher must never die
                log.error("rules watcher: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
