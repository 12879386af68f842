"""Reading cohort files for ``bekal match``: clients, courses and rankings; CSV or JSONL.

The format is chosen by the file name: ``.csv`` (comma-separated, UTF-8, a
header row) or ``.jsonl`` (one JSON object per line). Column names are the
field names of ``bekal.v1.Client`` / ``bekal.v1.Course`` (see docs/matching.md).
Every problem is reported as ``file:row:column: message`` -- the row is the line
number in the file (the CSV header is row 1), the column the field's name -- and
all problems of a file are reported at once (:mod:`bekal.cli.row_errors`).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import FieldDescriptor

from bekal import facts as schema
from bekal.cli.errors import FileProblems
from bekal.cli.row_errors import Problems, Rows
from bekal.i18n import _
from bekal.v1 import facts_pb2

if TYPE_CHECKING:
    from google._upb import _message as upb

FORMATS = (".csv", ".jsonl")
_PREF_COLUMN = re.compile(r"^preference_(\d+)$")
_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "yes", "y", "1", "ya"}
_FALSE = {"false", "no", "n", "0", "tidak"}
RANKING_COLUMNS = ("course_code", "client_id", "rank")


def file_format(path: str) -> str:
    """``.csv`` or ``.jsonl``; ValueError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(_("{path}: unknown format {suffix!r}; name the file .csv or .jsonl", path=path,
                           suffix=suffix or _("(no extension)")))
    return suffix


@dataclass
class Records(Rows):
    """Records read from one file (``rows``: the row of each)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    pref_columns: bool = False  # preferences came from preference_1, preference_2, ... columns


def _fields(kind: str) -> Mapping[str, FieldDescriptor | upb.FieldDescriptor]:
    by_name = (facts_pb2.Client if kind == "client" else facts_pb2.Course).DESCRIPTOR.fields_by_name
    return {n: f for n, f in by_name.items() if n != schema.DECLARED}  # declared facts are columns of their own


class Columns:
    """The columns a cohort file of ``kind`` may have: the API's fields, and the facts the rules folder
    declares (``declared``, typed), or with ``open_columns`` (a server checks them) any other column."""

    def __init__(self, kind: str, declared: Mapping[str, schema.Fact] | None = None, open_columns: bool = False):
        self.kind = kind
        self.fields = _fields(kind)
        self.declared = {n.split(".", 1)[1]: f for n, f in (declared or {}).items() if f.kind == kind}
        self.open = open_columns

    def known(self, name: str) -> bool:
        if name in self.fields or name in self.declared:
            return True
        # an open column close to a field of the API is a typo of it, not a fact of its own
        return self.open and not difflib.get_close_matches(name, list(self.fields), n=1, cutoff=0.8)

    def unknown(self, name: str, field: bool = False) -> str:
        """Why a column (``field``: a JSONL field) is refused."""
        hint = schema.suggest(name, sorted({*self.fields, *self.declared}))
        if field:
            if hint:
                return _("unknown field {name!r} (did you mean {hint!r}?)", name=name, hint=hint)
            return _("unknown field {name!r}; a new fact is declared in the rules folder's facts file", name=name)
        if hint:
            return _("unknown column {name!r} (did you mean {hint!r}?)", name=name, hint=hint)
        return _("unknown column {name!r}; a new fact is declared in the rules folder's facts file", name=name)

    def convert_text(self, name: str, text: str) -> Any:
        if name in self.fields:
            return _convert_text(self.kind, name, text)
        fact = self.declared.get(name)
        text = text.strip()
        if fact is not None:
            if fact.type == schema.BOOL:
                return _bool(text)
            if fact.type == schema.NUMBER:
                return _number(text, fact.integer)
            return text
        # an open column: the server has the declarations, so send the value as it reads
        low = text.lower()
        if low in _TRUE - {"1"} or low in _FALSE - {"0"}:
            return low in _TRUE
        if _INT.match(text):
            return int(text)
        try:
            return float(text) if text.lower() not in ("nan", "inf", "-inf", "infinity") else text
        except ValueError:
            return text

    def check_json(self, name: str, value: Any) -> Any:
        return _check_json_value(self.kind, name, value) if name in self.fields else value


def _bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(_("expected true or false, got {value!r}", value=text))


def _number(text: str, whole: bool) -> int | float:
    if _INT.match(text):
        return int(text)
    if whole:
        raise ValueError(_("expected a whole number, got {value!r}", value=text))
    try:
        return float(text)
    except ValueError:
        raise ValueError(_("expected a number, got {value}", value=repr(text))) from None


def _convert_text(kind: str, name: str, text: str) -> Any:
    """A CSV cell as the value a JSON file would hold for the field."""
    fd = _fields(kind)[name]
    text = text.strip()
    if fd.is_repeated:
        return [part.strip() for part in text.split(";") if part.strip()]
    if fd.type == FieldDescriptor.TYPE_BOOL:
        return _bool(text)
    if fd.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
        return _number(text, whole=True)
    if fd.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _number(text, whole=False)
    return text


def _check_json_value(kind: str, name: str, value: Any) -> Any:
    fd = _fields(kind)[name]
    if fd.is_repeated:
        if isinstance(value, str):
            return [part.strip() for part in value.split(";") if part.strip()]
        if not isinstance(value, list):
            raise ValueError(_("expected a list of course codes, most wanted first"))
        return value
    if fd.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64) and value is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ValueError(_("expected a whole number, got {value!r}", value=value))
    return value


def read_records(path: str, kind: str, declared: Mapping[str, schema.Fact] | None = None,
                 open_columns: bool = False) -> Records:
    """Client or course records from a CSV/JSONL file; raises FileProblems (or OSError).

    Columns are the API's fields and the facts the rules declare (``declared``); with
    ``open_columns`` any other column is kept too, for a server to check against its declarations."""
    fmt = file_format(path)
    text = _read_text(path)
    columns = Columns(kind, declared, open_columns)
    return _read_csv(path, columns, text) if fmt == ".csv" else _read_jsonl(path, columns, text)


def _read_text(path: str) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblems([_("{path}: not UTF-8 text (byte {byte}); save the file as UTF-8", path=path,
                              byte=exc.start)]) from None


def _read_csv(path: str, columns: Columns, text: str) -> Records:
    out = Records(path)
    problems = Problems()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblems([_("{path}:1: empty file; expected a header row", path=path)]) from None
    except csv.Error as exc:
        raise FileProblems([_("{path}:1: not valid CSV: {error}", path=path, error=exc)]) from None
    names = [h.strip() for h in header]
    kind = columns.kind
    prefs: dict[int, int] = {}  # column position -> preference number
    for col, name in enumerate(names):
        m = _PREF_COLUMN.match(name)
        if kind == "client" and m and int(m.group(1)) >= 1:
            prefs[col] = int(m.group(1))
            continue
        if not name:
            problems.add(_("{path}:1:{col}: empty column name", path=path, col=col + 1))
        elif not columns.known(name):
            extra = _("; is the file separated by ';'? bekal reads comma-separated files") if ";" in name else ""
            problems.add(f"{path}:1:{name}: {columns.unknown(name)}{extra}")
        elif names.index(name) != col:
            problems.add(_("{path}:1:{name}: column appears twice", path=path, name=name))
    if prefs and "preferences" in names:
        problems.add(_("{path}:1:preferences: use either a preferences column or preference_1, preference_2, ... "
                       "columns, not both", path=path))
    problems.raise_if_any()
    out.pref_columns = bool(prefs)
    id_column = "id" if kind == "client" else "code"
    if id_column not in names:
        problems.add(_("{path}:1:{name}: required column is missing", path=path, name=id_column))
        problems.raise_if_any()
    try:
        for cells in reader:
            row = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) != len(names):
                problems.add(_("{path}:{row}: {cells} cells, but the header has {columns} columns", path=path, row=row,
                               cells=len(cells), columns=len(names)))
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
                    record[name] = columns.convert_text(name, cell)
                except ValueError as exc:
                    problems.add(f"{path}:{row}:{name}: {exc}")
            if prefs:
                record["preferences"] = [code for _n, code in sorted(chosen)]
            out.records.append(record)
            out.rows.append(row)
    except csv.Error as exc:
        problems.add(_("{path}:{row}: not valid CSV: {error}", path=path, row=reader.line_num, error=exc))
    problems.raise_if_any()
    return out


def _jsonl_objects(path: str, text: str, what: str, problems: Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row, object)`` for each non-blank line that is a JSON object; the rest go to ``problems``."""
    for row, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(_("{path}:{row}:{col}: not valid JSON: {error}", path=path, row=row, col=exc.colno,
                           error=exc.msg))
            continue
        if not isinstance(obj, dict):
            problems.add(_("{path}:{row}:1: expected a JSON object with {what}", path=path, row=row, what=what))
            continue
        yield row, obj


def _read_jsonl(path: str, columns: Columns, text: str) -> Records:
    out = Records(path)
    problems = Problems()
    for row, obj in _jsonl_objects(path, text, _("{kind} fields", kind=columns.kind), problems):
        record: dict[str, Any] = {}
        for name, value in obj.items():
            if not columns.known(name):
                problems.add(f"{path}:{row}:{name}: {columns.unknown(name, field=True)}")
                continue
            try:
                record[name] = columns.check_json(name, value)
            except ValueError as exc:
                problems.add(f"{path}:{row}:{name}: {exc}")
        out.records.append(record)
        out.rows.append(row)
    problems.raise_if_any()
    return out


@dataclass
class Rankings(Rows):
    """Ranking entries ``(course_code, [client_id])``, one per file row, best first per course."""

    entries: list[tuple[str, list[str]]] = field(default_factory=list)


def read_rankings(path: str) -> Rankings:
    """A selection panel's rankings: rows of ``course_code, client_id, rank`` (1 = best)."""
    fmt = file_format(path)
    text = _read_text(path)
    problems = Problems()
    raw: list[tuple[int, dict[str, Any]]] = []
    if fmt == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            for name in header:
                if name not in RANKING_COLUMNS:
                    problems.add(_("{path}:1:{name}: unknown column; a rankings file has the columns {columns}",
                                   path=path, name=name, columns=", ".join(RANKING_COLUMNS)))
            for name in RANKING_COLUMNS:
                if name not in header:
                    problems.add(_("{path}:1:{name}: required column is missing", path=path, name=name))
            problems.raise_if_any()
            for rec in reader:
                if not any((v or "").strip() for v in rec.values() if isinstance(v, str)):
                    continue
                raw.append((reader.line_num, {k: (v or "").strip() for k, v in rec.items() if k in RANKING_COLUMNS}))
        except csv.Error as exc:
            problems.add(_("{path}:{row}: not valid CSV: {error}", path=path, row=reader.line_num, error=exc))
    else:
        for row, obj in _jsonl_objects(path, text, ", ".join(RANKING_COLUMNS), problems):
            for name in obj:
                if name not in RANKING_COLUMNS:
                    problems.add(_("{path}:{row}:{name}: unknown field; use {columns}", path=path, row=row, name=name,
                                   columns=", ".join(RANKING_COLUMNS)))
            raw.append((row, obj))
    problems.raise_if_any()

    seen: dict[tuple[str, int], int] = {}
    rows: list[tuple[str, int, str, int]] = []
    for row, rec in raw:
        ok = True
        values: dict[str, str] = {}
        for name in ("course_code", "client_id"):
            value = rec.get(name)
            if not isinstance(value, str) or not value.strip():
                problems.add(_("{path}:{row}:{name}: required", path=path, row=row, name=name))
                ok = False
            else:
                values[name] = value.strip()
        rank = rec.get("rank")
        if isinstance(rank, str) and _INT.match(rank.strip()):
            rank = int(rank)
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            problems.add(_("{path}:{row}:rank: expected a whole number >= 1 (1 = best), got {rank!r}", path=path,
                           row=row, rank=rank))
            continue
        if not ok:
            continue
        key = (values["course_code"], rank)
        if key in seen:
            problems.add(_("{path}:{row}:rank: rank {rank} for {course} is already given at row {other}", path=path,
                           row=row, rank=rank, course=key[0], other=seen[key]))
            continue
        seen[key] = row
        rows.append((values["course_code"], rank, values["client_id"], row))
    problems.raise_if_any()
    out = Rankings(path)
    for code, _rank, cid, row in sorted(rows):
        out.entries.append((code, [cid]))
        out.rows.append(row)
    return out
