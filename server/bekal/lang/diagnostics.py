"""Errors in rule files, each pinned to ``file:line:col`` (1-based) with an optional hint."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Location:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, line: int, col: int) -> Location:
        """A position inside an embedded text (an expression in a YAML scalar) that starts here."""
        return Location(self.file, self.line + line - 1, col if line > 1 else self.col + col - 1)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    location: Location
    message: str
    hint: str | None = None

    @property
    def file(self) -> str:
        return self.location.file

    @property
    def line(self) -> int:
        return self.location.line

    @property
    def col(self) -> int:
        return self.location.col

    def __str__(self) -> str:
        from bekal.i18n import _

        text = f"{self.location}: {self.message}"
        return text + "\n" + _("    hint: {hint}", hint=self.hint) if self.hint else text


class RuleError(Exception):
    """Rule files that cannot be used, with every problem found (not just the first)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: d.location)
        super().__init__("\n".join(str(d) for d in self.diagnostics))
