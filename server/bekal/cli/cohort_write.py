"""Writing ``bekal match`` results: per client, per course and the summary; CSV or JSONL, never half-written.

The results may come from :func:`bekal.placement.place` (``--local``) or from a
server through :mod:`bekal.client` (``--server``): both are read through the
protocols of :mod:`bekal.placement.wording`, so both write the same files.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

from bekal.cli.cohort_read import file_format
from bekal.placement.results import Because
from bekal.placement.wording import NotPlacedView, ReasonView, StandingView, describe

# the summary's figures, in the order --summary-out writes them
SUMMARY_FIELDS = ("clients", "placed", "unmatched", "courses", "seats", "seats_filled", "courses_full",
                  "group_clients", "group_placed", "reserved_seats", "reserved_to_group", "proposals", "first_choice",
                  "pairs", "eligible_pairs", "ineligible_pairs", "pending_pairs", "not_ranked_pairs",
                  "ruleset_version", "as_of", "seed", "reserve_order")


class ReasonRow(ReasonView, Protocol):
    @property
    def rule_id(self) -> str: ...
    @property
    def ruleset(self) -> str: ...


class NotPlacedRow(NotPlacedView, Protocol):
    @property
    def reasons(self) -> Sequence[ReasonRow]: ...


class PlacementRow(Protocol):
    @property
    def client_id(self) -> str: ...
    @property
    def course(self) -> str | None: ...
    @property
    def choice(self) -> int | None: ...
    @property
    def standing(self) -> StandingView | None: ...
    @property
    def priority_group(self) -> bool: ...
    @property
    def lottery(self) -> int: ...
    @property
    def why_not(self) -> Sequence[NotPlacedRow]: ...


class CourseFillRow(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def seats(self) -> int: ...
    @property
    def reserved_seats(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def applicants(self) -> int: ...
    @property
    def eligible(self) -> int: ...
    @property
    def group_admitted(self) -> int: ...
    @property
    def group_on_reserved(self) -> int: ...
    @property
    def cutoff(self) -> StandingView | None: ...
    @property
    def open_cutoff(self) -> StandingView | None: ...
    @property
    def ranked(self) -> bool: ...


class SummaryRow(Protocol):
    """The summary's figures, as :class:`bekal.placement.PlacementSummary` and
    :class:`bekal.client.MatchSummary` both have them."""

    @property
    def clients(self) -> int: ...
    @property
    def placed(self) -> int: ...
    @property
    def unmatched(self) -> int: ...
    @property
    def courses(self) -> int: ...
    @property
    def seats(self) -> int: ...
    @property
    def seats_filled(self) -> int: ...
    @property
    def courses_full(self) -> int: ...
    @property
    def group_clients(self) -> int: ...
    @property
    def group_placed(self) -> int: ...
    @property
    def reserved_seats(self) -> int: ...
    @property
    def reserved_to_group(self) -> int: ...
    @property
    def first_choice(self) -> int: ...
    @property
    def pairs(self) -> int: ...
    @property
    def eligible_pairs(self) -> int: ...
    @property
    def ineligible_pairs(self) -> int: ...
    @property
    def pending_pairs(self) -> int: ...
    @property
    def not_ranked_pairs(self) -> int: ...
    @property
    def ruleset_version(self) -> str: ...
    @property
    def as_of(self) -> date: ...
    @property
    def seed(self) -> int: ...
    @property
    def reserve_order(self) -> ReserveOrderView: ...


class ReserveOrderView(Protocol):
    @property
    def value(self) -> str: ...


def _because(w: NotPlacedView) -> str:
    return Because(w.because).value




def _standing(s: StandingView | None) -> dict[str, Any] | None:
    if s is None:
        return None
    out: dict[str, Any] = {}
    if s.priority is not None:
        out["priority"] = s.priority
    if s.rank is not None:
        out["rank"] = s.rank + 1
    out["lottery"] = s.lottery
    return out


def _why_json(w: NotPlacedRow) -> dict[str, Any]:
    out: dict[str, Any] = {"course": w.course, "because": _because(w)}
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


def placement_json(p: PlacementRow) -> dict[str, Any]:
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


def placement_row(p: PlacementRow) -> list[Any]:
    s = p.standing
    return [
        p.client_id, p.course or "", p.choice or "", "" if s is None or s.priority is None else s.priority,
        "" if s is None or s.rank is None else s.rank + 1, p.lottery, "true" if p.priority_group else "false",
        ";".join(f"{w.course}:{_because(w)}" for w in p.why_not),
        " | ".join(describe(w, "en") for w in p.why_not),
        " | ".join(describe(w, "id") for w in p.why_not),
    ]


COURSE_COLUMNS = ("course_code", "seats", "reserved_seats", "filled", "applicants", "eligible", "group_admitted",
                  "group_on_reserved", "cutoff_priority", "cutoff_rank", "cutoff_lottery", "open_cutoff_priority",
                  "open_cutoff_rank", "open_cutoff_lottery", "ranked")


def _cut(s: StandingView | None) -> list[Any]:
    if s is None:
        return ["", "", ""]
    return ["" if s.priority is None else s.priority, "" if s.rank is None else s.rank + 1, s.lottery]


def course_row(f: CourseFillRow) -> list[Any]:
    return [f.code, f.seats, f.reserved_seats, f.filled, f.applicants, f.eligible, f.group_admitted,
            f.group_on_reserved, *_cut(f.cutoff), *_cut(f.open_cutoff), "true" if f.ranked else "false"]


def course_json(f: CourseFillRow) -> dict[str, Any]:
    return {"course_code": f.code, "seats": f.seats, "reserved_seats": f.reserved_seats, "filled": f.filled,
            "applicants": f.applicants, "eligible": f.eligible, "group_admitted": f.group_admitted,
            "group_on_reserved": f.group_on_reserved, "cutoff": _standing(f.cutoff),
            "open_cutoff": _standing(f.open_cutoff), "ranked": f.ranked}


def summary_json(s: SummaryRow) -> dict[str, Any]:
    """The summary's figures (:data:`SUMMARY_FIELDS`): dates ISO, enums by value."""
    out = {}
    for name in SUMMARY_FIELDS:
        value = getattr(s, name)
        out[name] = value.isoformat() if isinstance(value, date) else getattr(value, "value", value)
    return out


def write_atomically(path: str, write: Callable[[IO[str]], object]) -> None:
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


def write_table(path: str, columns: Sequence[str], rows: Iterable[list[Any]],
                objects: Iterable[dict[str, Any]]) -> None:
    """``rows`` to a CSV file or ``objects`` to a JSONL file, by the file's extension."""
    fmt = file_format(path)

    def write(fh: IO[str]) -> None:
        if fmt == ".csv":
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(columns)
            out.writerows(rows)
        else:
            for obj in objects:
                fh.write(json.dumps(obj, ensure_ascii=False))
                fh.write("\n")

    write_atomically(path, write)
