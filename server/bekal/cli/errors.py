"""The command line's errors: what ends a command with an exit status and lines on stderr."""

from __future__ import annotations

from collections.abc import Sequence


class Failure(Exception):
    """Stop with exit status ``code`` after printing ``lines``."""

    def __init__(self, code: int, lines: Sequence[str]):
        super().__init__("\n".join(lines))
        self.code = code
        self.lines = list(lines)


class FileProblems(Exception):
    """Problems found in input files, each ``file:row:column: message``; ``more`` not listed."""

    def __init__(self, problems: Sequence[str], more: int = 0):
        self.problems = list(problems)
        self.more = more
        super().__init__("\n".join(self.problems))
