"""Writing ``bekal match`` results: per client, per course and the summary; CSV or JSONL, never half-written.

The results may come from :func:`bekal.placement.place` (``--local``) or from a
server through :mod:`bekal.client` (``--server``): both are read through the
protocols of :mod:`bekal.views`, so both write the same files.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any

from bekal.cli.cohort_read import file_format
from bekal.placement.wording import describe
from bekal.views import CourseFillView, NotPlacedView, PlacementView, StandingView, SummaryView

# the summary's figures, in the order --summary-out writes them
SUMMARY_FIELDS = ("clients", "placed", "unmatched", "courses", "seats", "seats_filled", "courses_full",
                  "group_clients", "group_placed", "reserved_seats", "reserved_to_group", "proposals", "first_choice",
                  "pairs", "eligible_pairs", "ineligible_pairs", "pending_pairs", "withheld_pairs", "not_ranked_pairs",
                  "ruleset_version", "as_of", "seed", "reserve_order")




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


def _why_json(w: NotPlacedView) -> dict[str, Any]:
    out: dict[str, Any] = {"course": w.course, "because": w.because.value}
    if w.reasons:
        out["reasons"] = [{"rule_id": r.rule_id, "ruleset": r.ruleset,
                           "messages": {"id": r.indonesian, "en": r.english},
                           **({"missing": list(r.missing)} if r.missing else {})}
                          for r in w.reasons]
    if w.missing:
        out["missing"] = list(w.missing)
    if w.cutoff is not None or w.standing is not None:
        out["cutoff"] = _standing(w.cutoff)
        out["standing"] = _standing(w.standing)
    out["explanation_en"] = describe(w, "en")
    out["explanation_id"] = describe(w, "id")
    return out


def placement_json(p: PlacementView) -> dict[str, Any]:
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


def placement_row(p: PlacementView) -> list[Any]:
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


def _cut(s: StandingView | None) -> list[Any]:
    if s is None:
        return ["", "", ""]
    return ["" if s.priority is None else s.priority, "" if s.rank is None else s.rank + 1, s.lottery]


def course_row(f: CourseFillView) -> list[Any]:
    return [f.code, f.seats, f.reserved_seats, f.filled, f.applicants, f.eligible, f.group_admitted,
            f.group_on_reserved, *_cut(f.cutoff), *_cut(f.open_cutoff), "true" if f.ranked else "false"]


def course_json(f: CourseFillView) -> dict[str, Any]:
    return {"course_code": f.code, "seats": f.seats, "reserved_seats": f.reserved_seats, "filled": f.filled,
            "applicants": f.applicants, "eligible": f.eligible, "group_admitted": f.group_admitted,
            "group_on_reserved": f.group_on_reserved, "cutoff": _standing(f.cutoff),
            "open_cutoff": _standing(f.open_cutoff), "ranked": f.ranked}


def summary_json(s: SummaryView) -> dict[str, Any]:
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
