"""The rules service on domain types: what is loaded, one ruleset's source, dry runs and reloads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from bekal.lang.ast import Ruleset
from bekal.rulebook import SUFFIXES
from bekal.services.errors import RulesRejected, ServiceError, Violations, invalid, not_found
from bekal.services.limits import check_id
from bekal.services.snapshots import ReloadOutcome, ServedRules, Validation, log_rejected


@dataclass(frozen=True)
class LoadedRuleset:
    """A loaded ruleset with its file named relative to the rules folder (as clients name it)."""

    ruleset: Ruleset
    file: str


@dataclass(frozen=True)
class Loaded:
    version: str
    rulesets: tuple[LoadedRuleset, ...]
    course_codes: tuple[str, ...]  # sorted


@dataclass(frozen=True)
class RulesetSource:
    version: str
    ruleset: LoadedRuleset
    source: str  # the whole rule file the ruleset is in


class RulesAdmin:
    """bekal.v1.RulesService without gRPC. ``notify_siblings`` makes the other worker processes reload."""

    def __init__(self, rules: ServedRules, notify_siblings: Callable[[], None] | None = None):
        self.rules = rules
        self.notify_siblings = notify_siblings

    def _loaded(self, ruleset: Ruleset) -> LoadedRuleset:
        return LoadedRuleset(ruleset, self.rules.relative(ruleset.file))

    def list_rulesets(self) -> Loaded:
        with self.rules.lease() as snap:
            book = snap.rulebook
            return Loaded(book.version, tuple(self._loaded(rs) for rs in book.rulesets), tuple(sorted(book.courses)))

    def get_ruleset(self, name: str) -> RulesetSource:
        violations: Violations = []
        check_id(name, "name", violations)  # never echo a 3 MB name back
        if violations:
            raise invalid(violations)
        with self.rules.lease() as snap:
            book = snap.rulebook
            for rs in book.rulesets:
                if rs.name == name:
                    return RulesetSource(book.version, self._loaded(rs), book.sources.get(rs.file, ""))
            known = ", ".join(rs.name for rs in book.rulesets)
            raise not_found(f"no ruleset {name!r}; loaded: {known}", "name", "ruleset", "bekal.v1.Ruleset", name)

    def validate(self, files: Sequence[tuple[str, str]], overlay: bool) -> Validation:
        """Dry-run ``(path, content)`` rule files; paths are relative to the rules folder."""
        violations: Violations = []
        texts: dict[str, str] = {}
        for i, (name, content) in enumerate(files):
            problem = _path_problem(name, texts)
            if problem:
                violations.append((f"files[{i}].path", problem))
            else:
                texts[name] = content
        if not files and not overlay:
            violations.append(("files", "required: at least one rule file"))
        if violations:
            raise invalid(violations)
        return self.rules.validate(texts, overlay)

    def reload(self) -> ReloadOutcome:
        """Reload the rules folder now; FAILED_PRECONDITION naming the problems when it is rejected."""
        try:
            outcome = self.rules.reload()
        except RulesRejected as exc:
            log_rejected(self.rules, exc, "on ReloadRules")
            diagnostics = exc.diagnostics
            version = self.rules.version
            keeps = f"version {version} keeps serving" if version else "no ruleset is loaded"
            raise ServiceError(
                "FAILED_PRECONDITION",
                f"the rule files have {len(diagnostics)} problem(s); {keeps}; first: {diagnostics[0]}",
                preconditions=[("RULES", str(d), d.message + (f" (hint: {d.hint})" if d.hint else ""))
                               for d in diagnostics[:50]],
                reason="RULES_REJECTED",
            ) from None
        if outcome.changed and self.notify_siblings is not None:
            self.notify_siblings()
        return outcome


def _path_problem(name: str, seen: dict[str, str]) -> str | None:
    path = PurePosixPath(name)
    if not name:
        return "required"
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        return "must be relative to the rules folder, without '..'"
    if path.suffix not in SUFFIXES:
        return "rule files end in .yaml or .yml"
    if name in seen:
        return f"{name} appears twice"
    return None
