"""The programme's calendar: Kalimantan Selatan's time zone, and today there (the default as-of date)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

WITA = timezone(timedelta(hours=8), "WITA")  # Waktu Indonesia Tengah: Kalimantan Selatan's time zone


def today() -> date:
    """Today in Kalimantan Selatan, the default as-of date."""
    return datetime.now(WITA).date()
