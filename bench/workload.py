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


# Plain input as a case file would hold it (ISO dates, enum names), with every gap and edge the default
# rules care about, so that every rule and every missing-fact check fires on some pairs: minors, clients
# exactly 18 on the as-of date, old clients, every rehabilitation stage, refused consent, low scores, and
# a few percent of clients without a birth date, stage, consent, education or test score.
STAGE_MIX = [("post_rehabilitation", 70), ("outpatient", 8), ("inpatient", 6), ("assessment", 4),
             ("dropped_out", 6), (None, 6)]
REFERRER_MIX = [("bnn", 50), ("self", 20), ("other_agency", 22), (None, 8)]
EDUCATION_MIX = [("none", 3), ("sd", 10), ("smp", 22), ("sma", 27), ("smk", 25), ("diploma", 6),
                 ("bachelor", 2), (None, 5)]


def _pick(rng: random.Random, mix: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in mix], weights=[w for _, w in mix])[0]


def _birth_date(rng: random.Random, as_of: date) -> date:
    roll = rng.random()
    if roll < 0.06:  # minors: 15 to 17
        age = rng.randint(15, 17)
    elif roll < 0.10:  # 18 exactly: turns 18 within the last year, some on the as-of date itself
        age = 18
    elif roll < 0.88:
        age = rng.randint(19, 45)
    else:  # older than some courses admit
        age = rng.randint(46, 60)
    birthday = as_of.replace(year=as_of.year - age)
    if rng.random() < 0.05:
        return birthday  # an exact birthday: `age` years old today
    return birthday - timedelta(days=rng.randint(0, 364))


def plain_clients(n: int, seed: int = 11, as_of: date = AS_OF) -> list[dict[str, Any]]:
    """``n`` clients as plain input (for ``bekal.facts.parse_facts``), seeded; absent facts are left out."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        c: dict[str, Any] = {"id": f"BNNK-BJB-{i:06d}", "referring_office": "BNNK Banjarbaru"}
        if rng.random() < 0.95:
            c["birth_date"] = _birth_date(rng, as_of).isoformat()
        stage = _pick(rng, STAGE_MIX)
        if stage is not None:
            c["rehab_stage"] = stage
        if stage == "post_rehabilitation":
            c["rehab_completed_date"] = (as_of - timedelta(days=rng.randint(10, 700))).isoformat()
        referrer = _pick(rng, REFERRER_MIX)
        if referrer is not None:
            c["referrer"] = referrer
        education = _pick(rng, EDUCATION_MIX)
        if education is not None:
            c["education"] = education
        roll = rng.random()
        if roll < 0.90:
            c["consent_to_share"] = True
        elif roll < 0.95:
            c["consent_to_share"] = False
        if rng.random() < 0.92:  # some half marks: thresholds are compared as numbers, not integers
            c["written_test_score"] = rng.randint(84, 196) / 2
        if rng.random() < 0.90:
            c["interview_score"] = float(rng.randint(44, 98))
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
