"""Cohort files for ``bekal match``: clients, courses and rankings in, placements out; CSV or JSONL.

The format is chosen by the file name: ``.csv`` (comma-separated, UTF-8, a
header row) or ``.jsonl`` (one JSON object per line). Column names are the
field names of ``bekal.v1.Client`` / ``bekal.v1.Course`` (see README.md, section Matching).
Every problem is reported as ``file:row:column: message`` -- the row is the line
number in the file (the CSV header is row 1), the column the field's name -- and
all problems of a file are reported at once.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from bekal import facts as schema
from bekal.client.convert import message_from
from bekal.placement import ClientPlacement, CourseFill, NotPlaced, PlacementSummary, describe
from bekal.v1 import facts_pb2

FORMATS = (".csv", ".jsonl")
MAX_PROBLEMS = 50
_PREF_COLUMN = re.compile(r"^preference_(\d+)$")
_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "yes", "y", "1", "ya"}
_FALSE = {"false", "no", "n", "0", "tidak"}
RANKING_COLUMNS = ("course_code", "client_id", "rank")


class FileProblems(Exception):
    """Problems found in input files, each ``file:row:column: message``."""

    def __init__(self, problems: Sequence[str], more: int = 0):
        self.problems = list(problems)
        self.more = more
        super().__init__("\n".join(self.problems))


def file_format(path: str) -> str:
    """``.csv`` or ``.jsonl``; ValueError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown format {suffix or '(no extension)'!r}; name the file .csv or .jsonl")
    return suffix


@dataclass
class Records:
    """Records read from one file, with where each came from."""

    path: str
    records: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # row (line) of each record
    pref_columns: bool = False  # preferences came from preference_1, preference_2, ... columns

    def where(self, index: int | None, column: str | None = None) -> str:
        row = self.rows[index] if index is not None and 0 <= index < len(self.rows) else None
        text = self.path if row is None else f"{self.path}:{row}"
        return f"{text}:{column}" if column else text


class _Problems:
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


def _fields(kind: str) -> Mapping[str, FieldDescriptor]:
    return schema.KINDS[kind].fields_by_name


def _convert_text(kind: str, name: str, text: str) -> Any:
    """A CSV cell as the value a JSON file would hold for the field."""
    fd = _fields(kind)[name]
    text = text.strip()
    if fd.is_repeated:
        return [part.strip() for part in text.split(";") if part.strip()]
    if fd.type == FieldDescriptor.TYPE_BOOL:
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if fd.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
        if not _INT.match(text):
            raise ValueError(f"expected a whole number, got {text!r}")
        return int(text)
    if fd.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if _INT.match(text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    return text


def _check_json_value(kind: str, name: str, value: Any) -> Any:
    fd = _fields(kind)[name]
    if fd.is_repeated:
        if isinstance(value, str):
            return [part.strip() for part in value.split(";") if part.strip()]
        if not isinstance(value, list):
            raise ValueError("expected a list of course codes, most wanted first")
        return value
    if fd.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64) and value is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _unknown(kind: str, name: str) -> str:
    hint = schema.suggest(name, sorted(_fields(kind)))
    return f"unknown column {name!r}" + (f" (did you mean {hint!r}?)" if hint else "")


def read_records(path: str, kind: str) -> Records:
    """Client or course records from a CSV/JSONL file; raises FileProblems (or OSError)."""
    fmt = file_format(path)
    text = _read_text(path)
    return _read_csv(path, kind, text) if fmt == ".csv" else _read_jsonl(path, kind, text)


def _read_text(path: str) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblems([f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"]) from None


def _read_csv(path: str, kind: str, text: str) -> Records:
    out = Records(path)
    problems = _Problems()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblems([f"{path}:1: empty file; expected a header row"]) from None
    except csv.Error as exc:
        raise FileProblems([f"{path}:1: not valid CSV: {exc}"]) from None
    names = [h.strip() for h in header]
    known = _fields(kind)
    prefs: dict[int, int] = {}  # column position -> preference number
    for col, name in enumerate(names):
        m = _PREF_COLUMN.match(name)
        if kind == "client" and m and int(m.group(1)) >= 1:
            prefs[col] = int(m.group(1))
            continue
        if not name:
            problems.add(f"{path}:1:{col + 1}: empty column name")
        elif name not in known:
            extra = "; is the file separated by ';'? bekal reads comma-separated files" if ";" in name else ""
            problems.add(f"{path}:1:{name}: {_unknown(kind, name)}{extra}")
        elif names.index(name) != col:
            problems.add(f"{path}:1:{name}: column appears twice")
    if prefs and "preferences" in names:
        problems.add(f"{path}:1:preferences: use either a preferences column or preference_1, preference_2, ..."
                     " columns, not both")
    problems.raise_if_any()
    out.pref_columns = bool(prefs)
    id_column = "id" if kind == "client" else "code"
    if id_column not in names:
        problems.add(f"{path}:1:{id_column}: required column is missing")
        problems.raise_if_any()
    try:
        for cells in reader:
            row = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) != len(names):
                problems.add(f"{path}:{row}: {len(cells)} cells, but the header has {len(names)} columns")
                continue
            record: dict[str, Any] = {}
            chosen: list[tuple[int, str]] = []
            for col, (name, cell) in enumerate(zip(names, cells)):
                if col in prefs:
                    if cell.strip():
                        chosen.append((prefs[col], cell.strip()))
                    continue
                if not cell.strip():
                    continue
                try:
                    record[name] = _convert_text(kind, name, cell)
                except ValueError as exc:
                    problems.add(f"{path}:{row}:{name}: {exc}")
            if prefs:
                record["preferences"] = [code for _, code in sorted(chosen)]
            out.records.append(record)
            out.rows.append(row)
    except csv.Error as exc:
        problems.add(f"{path}:{reader.line_num}: not valid CSV: {exc}")
    problems.raise_if_any()
    return out


def _jsonl_objects(path: str, text: str, what: str, problems: "_Problems") -> Iterator[tuple[int, dict]]:
    """``(row, object)`` for each non-blank line that is a JSON object; the rest go to ``problems``."""
    for row, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(f"{path}:{row}:{exc.colno}: not valid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            problems.add(f"{path}:{row}:1: expected a JSON object with {what}")
            continue
        yield row, obj


def _read_jsonl(path: str, kind: str, text: str) -> Records:
    out = Records(path)
    problems = _Problems()
    known = _fields(kind)
    for row, obj in _jsonl_objects(path, text, f"{kind} fields", problems):
        record: dict[str, Any] = {}
        for name, value in obj.items():
            if name not in known:
                problems.add(f"{path}:{row}:{name}: {_unknown(kind, name).replace('column', 'field')}")
                continue
            try:
                record[name] = _check_json_value(kind, name, value)
            except ValueError as exc:
                problems.add(f"{path}:{row}:{name}: {exc}")
        out.records.append(record)
        out.rows.append(row)
    problems.raise_if_any()
    return out


@dataclass
class Rankings:
    """Ranking entries ``(course_code, [client_id])``, one per file row, best first per course."""

    path: str
    entries: list[tuple[str, list[str]]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    def where(self, index: int | None, column: str | None = None) -> str:
        row = self.rows[index] if index is not None and 0 <= index < len(self.rows) else None
        text = self.path if row is None else f"{self.path}:{row}"
        return f"{text}:{column}" if column else text


def read_rankings(path: str) -> Rankings:
    """A selection panel's rankings: rows of ``course_code, client_id, rank`` (1 = best)."""
    fmt = file_format(path)
    text = _read_text(path)
    problems = _Problems()
    raw: list[tuple[int, dict[str, Any]]] = []
    if fmt == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            for name in header:
                if name not in RANKING_COLUMNS:
                    problems.add(f"{path}:1:{name}: unknown column; a rankings file has the columns "
                                 + ", ".join(RANKING_COLUMNS))
            for name in RANKING_COLUMNS:
                if name not in header:
                    problems.add(f"{path}:1:{name}: required column is missing")
            problems.raise_if_any()
            for rec in reader:
                if not any((v or "").strip() for v in rec.values() if isinstance(v, str)):
                    continue
                raw.append((reader.line_num, {k: (v or "").strip() for k, v in rec.items() if k in RANKING_COLUMNS}))
        except csv.Error as exc:
            problems.add(f"{path}:{reader.line_num}: not valid CSV: {exc}")
    else:
        for row, obj in _jsonl_objects(path, text, ", ".join(RANKING_COLUMNS), problems):
            for name in obj:
                if name not in RANKING_COLUMNS:
                    problems.add(f"{path}:{row}:{name}: unknown field; use " + ", ".join(RANKING_COLUMNS))
            raw.append((row, obj))
    problems.raise_if_any()

    seen: dict[tuple[str, int], int] = {}
    rows: list[tuple[str, int, str, int]] = []
    for row, rec in raw:
        ok = True
        values = {}
        for name in ("course_code", "client_id"):
            value = rec.get(name)
            if not isinstance(value, str) or not value.strip():
                problems.add(f"{path}:{row}:{name}: required")
                ok = False
            else:
                values[name] = value.strip()
        rank = rec.get("rank")
        if isinstance(rank, str) and _INT.match(rank.strip()):
            rank = int(rank)
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            problems.add(f"{path}:{row}:rank: expected a whole number >= 1 (1 = best), got {rank!r}")
            ok = False
        if not ok:
            continue
        key = (values["course_code"], rank)
        if key in seen:
            problems.add(f"{path}:{row}:rank: rank {rank} for {key[0]} is already given at row {seen[key]}")
            continue
        seen[key] = row
        rows.append((values["course_code"], rank, values["client_id"], row))
    problems.raise_if_any()
    out = Rankings(path)
    for code, _rank, cid, row in sorted(rows):
        out.entries.append((code, [cid]))
        out.rows.append(row)
    return out


# ------------------------------------------------------------------------------------------ locating


_PATH = re.compile(r"^(clients|courses|rankings)\[(\d+)\](?:\.([a-z_]+)(?:\[(\d+)\])?)?$")


def locate(field_path: str, clients: Records, courses: Records | None, rankings: Rankings | None
           ) -> tuple[str, str] | None:
    """Where a field path points in the files, and a prefix for the message.

    ``clients[3].birth_date`` -> ``("cohort.csv:5:birth_date", "")``;
    ``clients[3].preferences[1]`` -> ``("cohort.csv:5:preferences", "preference 2: ")``.
    None when the path names no file row.
    """
    m = _PATH.match(field_path)
    if not m:
        return None
    kind, index, name, sub = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    if kind == "clients":
        prefix = ""
        if name == "preferences" and sub is not None:
            if clients.pref_columns:
                name = f"preference_{int(sub) + 1}"
            else:
                prefix = f"preference {int(sub) + 1}: "
        return clients.where(index, name), prefix
    if kind == "courses":
        return (courses.where(index, name), "") if courses is not None else None
    if rankings is None:
        return None
    column = {"course_code": "course_code", "client_ids": "client_id"}.get(name or "", name)
    return rankings.where(index, column), ""


# ------------------------------------------------------------------------------------------ writing


def _standing(s) -> dict[str, Any] | None:
    if s is None:
        return None
    out: dict[str, Any] = {}
    if s.priority is not None:
        out["priority"] = s.priority
    if s.rank is not None:
        out["rank"] = s.rank + 1
    out["lottery"] = s.lottery
    return out


def _why_json(w: NotPlaced) -> dict[str, Any]:
    out: dict[str, Any] = {"course": w.course, "because": w.because.value}
    if w.reasons:
        out["reasons"] = [{"rule_id": r.rule_id, "ruleset": r.ruleset, "message_id": r.message_id,
                           "message_en": r.message_en, **({"missing": list(r.missing)} if r.missing else {})}
                          for r in w.reasons]
    if w.missing:
        out["missing"] = list(w.missing)
    if w.cutoff is not None or w.standing is not None:
        out["cutoff"] = _standing(w.cutoff)
        out["standing"] = _standing(w.standing)
    out["explanation_en"] = describe(w, "en")
    out["explanation_id"] = describe(w, "id")
    return out


def placement_json(p: ClientPlacement) -> dict[str, Any]:
    return {
        "client_id": p.client_id,
        "course": p.course,
        "choice": p.choice,
        "standing": _standing(p.standing),
        "priority_group": p.priority_group,
        "lottery": p.lottery,
        "why_not": [_why_json(w) for w in p.why_not],
    }


PLACEMENT_COLUMNS = ("client_id", "course", "choice", "priority", "rank", "lottery", "priority_group",
                     "why_not", "why_not_en", "why_not_id")


def placement_row(p: ClientPlacement) -> list[Any]:
    s = p.standing
    return [
        p.client_id, p.course or "", p.choice or "", "" if s is None or s.priority is None else s.priority,
        "" if s is None or s.rank is None else s.rank + 1, p.lottery, "true" if p.priority_group else "false",
        ";".join(f"{w.course}:{w.because.value}" for w in p.why_not),
        " | ".join(describe(w, "en") for w in p.why_not),
        " | ".join(describe(w, "id") for w in p.why_not),
    ]


COURSE_COLUMNS = ("course_code", "seats", "reserved_seats", "filled", "applicants", "eligible", "group_admitted",
                  "group_on_reserved", "cutoff_priority", "cutoff_rank", "cutoff_lottery", "open_cutoff_priority",
                  "open_cutoff_rank", "open_cutoff_lottery", "ranked")


def _cut(s) -> list[Any]:
    if s is None:
        return ["", "", ""]
    return ["" if s.priority is None else s.priority, "" if s.rank is None else s.rank + 1, s.lottery]


def course_row(f: CourseFill) -> list[Any]:
    return [f.code, f.seats, f.reserved_seats, f.filled, f.applicants, f.eligible, f.group_admitted,
            f.group_on_reserved, *_cut(f.cutoff), *_cut(f.open_cutoff), "true" if f.ranked else "false"]


def course_json(f: CourseFill) -> dict[str, Any]:
    return {"course_code": f.code, "seats": f.seats, "reserved_seats": f.reserved_seats, "filled": f.filled,
            "applicants": f.applicants, "eligible": f.eligible, "group_admitted": f.group_admitted,
            "group_on_reserved": f.group_on_reserved, "cutoff": _standing(f.cutoff),
            "open_cutoff": _standing(f.open_cutoff), "ranked": f.ranked}


def summary_json(s: PlacementSummary) -> dict[str, Any]:
    out = {}
    for f in fields(s):
        value = getattr(s, f.name)
        out[f.name] = value.isoformat() if isinstance(value, date) else getattr(value, "value", value)
    return out


def write_atomically(path: str, write) -> None:
    """Write through a temporary file in the same folder, renamed into place: never a half-written file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_table(path: str, columns: Sequence[str], rows: Iterable[list[Any]], objects: Iterable[dict[str, Any]]
                ) -> None:
    """``rows`` to a CSV file or ``objects`` to a JSONL file, by the file's extension."""
    fmt = file_format(path)

    def write(fh) -> None:
        if fmt == ".csv":
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(columns)
            out.writerows(rows)
        else:
            for obj in objects:
                fh.write(json.dumps(obj, ensure_ascii=False))
                fh.write("\n")

    write_atomically(path, write)


def client_message(record: Mapping[str, Any]) -> facts_pb2.Client:
    """A client record (as read) as a ``bekal.v1.Client``; ValueError naming the field."""
    return message_from(facts_pb2.Client, record)


def course_message(record: Mapping[str, Any]) -> facts_pb2.Course:
    return message_from(facts_pb2.Course, record)
