"""Request limits and the checks every service applies to ids, texts and dates, in one place."""

from __future__ import annotations

from datetime import date

from bekal.services.errors import Violations

MAX_ID = 128  # request_id, client.id, course codes, job_id
MAX_TEXT = 256  # any other text field of a client
MAX_PREFERENCES = 100  # course codes a client lists
MAX_CHECKS = 10_000  # checks per CheckEligibilityStream message
MAX_INLINE_CLIENTS = 5_000  # clients in Match; larger cohorts go through UploadCohort
MAX_JOB_CLIENTS = 200_000  # clients in one match job
MAX_COURSES = 10_000  # courses in one match
MAX_RANKED = 1_000_000  # client ids in all the rankings of one match job
MiB = 1024 * 1024
MAX_UPLOAD_BYTES = 256 * MiB  # all the parts of one UploadCohort
MAX_VIOLATIONS = 100  # field violations reported at most for one cohort


def check_id(value: str, field: str, violations: Violations) -> None:
    """An id: required, at most :data:`MAX_ID` characters, no control characters."""
    if not value:
        violations.append((field, "required"))
    elif len(value) > MAX_ID:
        violations.append((field, f"at most {MAX_ID} characters, got {len(value)}"))
    elif not value.isprintable():
        violations.append((field, "must not contain control characters"))


def check_text(value: str, field: str, violations: Violations, limit: int = MAX_TEXT) -> None:
    """A text: at most ``limit`` characters."""
    if len(value) > limit:
        violations.append((field, f"at most {limit} characters"))


def bad_date(text: str) -> str:
    return f"not a real date in YYYY-MM-DD form: {text[:40]!r}"


def parse_date(text: str, field: str, violations: Violations) -> date | None:
    """``YYYY-MM-DD`` (exactly), or None with a violation."""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        violations.append((field, bad_date(text)))
        return None
