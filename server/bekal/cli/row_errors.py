"""Problems located in cohort files: ``file:row:column: message``, the row a line number, the column a field.

Reading collects every problem of a file (:class:`Problems`); a problem found
later -- by :func:`bekal.placement.make_cohort` or by a server -- names a field
path (``clients[3].preferences[1]``), which :func:`locate` turns back into the
file, row and column it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bekal.cli.errors import FileProblems
from bekal.i18n import _

MAX_PROBLEMS = 50  # problems listed per file (the rest are counted)


class Problems:
    """The problems of one file, listed up to :data:`MAX_PROBLEMS`."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.more = 0

    def add(self, text: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(text)
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.items:
            raise FileProblems(self.items, self.more)


@dataclass
class Rows:
    """Where the entries read from one file came from: its path and each entry's row (line)."""

    path: str
    rows: list[int] = field(default_factory=list)

    def where(self, index: int | None, column: str | None = None) -> str:
        row = self.rows[index] if index is not None and 0 <= index < len(self.rows) else None
        text = self.path if row is None else f"{self.path}:{row}"
        return f"{text}:{column}" if column else text


_PATH = re.compile(r"^(clients|courses|rankings)\[(\d+)\](?:\.([a-z0-9_]+)(?:\[(\d+)\])?)?$")
_DECLARED = re.compile(r"^((?:clients|courses)\[\d+\])\.declared\[([a-z0-9_]+)\]$")  # a declared fact's column


def locate(field_path: str, clients: Rows, courses: Rows | None, rankings: Rows | None,
           pref_columns: bool = False) -> tuple[str, str] | None:
    """Where a field path points in the files, and a prefix for the message.

    ``clients[3].birth_date`` -> ``("cohort.csv:5:birth_date", "")``;
    ``clients[3].preferences[1]`` -> ``("cohort.csv:5:preferences", "preference 2: ")``
    (``pref_columns``: the file has ``preference_1``, ``preference_2``, ... columns instead, and the
    column is named). None when the path names no file row.
    """
    declared = _DECLARED.match(field_path)
    if declared:  # clients[3].declared[dependants]: the column `dependants`
        field_path = f"{declared.group(1)}.{declared.group(2)}"
    m = _PATH.match(field_path)
    if not m:
        return None
    kind, index, name, sub = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    if kind == "clients":
        prefix = ""
        if name == "preferences" and sub is not None:
            if pref_columns:
                name = f"preference_{int(sub) + 1}"
            else:
                prefix = _("preference {n}: ", n=int(sub) + 1)
        return clients.where(index, name), prefix
    if kind == "courses":
        return (courses.where(index, name), "") if courses is not None else None
    if rankings is None:
        return None
    column = {"course_code": "course_code", "client_ids": "client_id"}.get(name or "", name)
    return rankings.where(index, column), ""


OPTIONS = {"as_of": "--as-of", "settings.as_of_date": "--as-of", "seed": "--seed", "settings.seed": "--seed"}


def located_lines(violations: Sequence[tuple[str, str]], clients: Rows, courses: Rows | None,
                  rankings: Rows | None, pref_columns: bool = False, more: int = 0) -> list[str]:
    """Each ``(field path, message)`` as ``file:row:column: message`` (a setting as its option)."""
    lines = []
    for name, message in violations:
        found = locate(name, clients, courses, rankings, pref_columns)
        where, prefix = found if found is not None else (OPTIONS.get(name, name), "")
        lines.append(f"{where}: {prefix}{message}")
    if more:
        lines.append(_("... and {n} more problems", n=more))
    return lines
