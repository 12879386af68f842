"""Seeded synthetic clients for benchmarks: realistic mixes of stages, scores and gaps."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

AS_OF = date(2019, 5, 16)
STAGES = ["post_rehabilitation"] * 7 + ["outpatient", "inpatient", "dropped_out"]
EDUCATION = ["sd", "smp", "sma", "smk", "smk", "sma", "diploma"]


def clients(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        c: dict[str, Any] = {
            "id": f"BNNK-BJB-{i:06d}",
            "birth_date": AS_OF - timedelta(days=rng.randint(16 * 365, 50 * 365)),
            "rehab_stage": rng.choice(STAGES),
            "referrer": rng.choice(["bnn", "bnn", "self", "other_agency"]),
            "referring_office": "BNNK Banjarbaru",
            "education": rng.choice(EDUCATION),
            "consent_to_share": rng.random() < 0.95,
        }
        if c["rehab_stage"] == "post_rehabilitation":
            c["rehab_completed_date"] = AS_OF - timedelta(days=rng.randint(10, 700))
        if rng.random() < 0.9:
            c["written_test_score"] = float(rng.randint(35, 95))
        if rng.random() < 0.8:
            c["interview_score"] = float(rng.randint(40, 95))
        out.append(c)
    return out


def print_table(rows: list[dict[str, Any]], fmt: Callable[[object], str]) -> None:
    """Right-aligned columns, one row per dict, the keys of the first as headers."""
    headers = list(rows[0])
    cells = [[fmt(r.get(h, "")) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths)))
