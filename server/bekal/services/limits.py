"""Request limits and the checks every service applies to ids, texts and dates, in one place."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from bekal.services.errors import Violations, invalid

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
MIN_YEAR, MAX_YEAR = 1900, 2199  # a google.type.Date outside these years is a typing error

DEFAULT_PSEUDONYM_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
_pseudonym = re.compile(DEFAULT_PSEUDONYM_PATTERN)


def set_pseudonym_pattern(pattern: str) -> None:
    """The pattern every client id must match (serve config ``pseudonym_pattern``), for this process.

    One per process: a server process serves one configuration. Raises ValueError for a bad regex."""
    global _pseudonym
    try:
        _pseudonym = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


def pseudonym_pattern() -> str:
    return _pseudonym.pattern


def check_client_id(value: str, field: str, violations: Violations) -> None:
    """A client id: an id (:func:`check_id`) that matches the pseudonym pattern, so a name such as
    ``Budi Santoso`` is refused (the README promises pseudonymous ids: client data is health data)."""
    before = len(violations)
    check_id(value, field, violations)
    if len(violations) == before and _pseudonym.fullmatch(value) is None:
        violations.append((field, f"not a pseudonymous id: must match {_pseudonym.pattern}"))


def one_id(value: str, field: str) -> str:
    """A request whose one field is an id (``GetCourse.code``, ``ReplayDecision.request_id``): the id,
    checked as :func:`check_id` does, or INVALID_ARGUMENT naming ``field``."""
    violations: Violations = []
    check_id(value, field, violations)
    if violations:
        raise invalid(violations)
    return value


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


def date_from_pb(value: date_pb2.Date, field: str, violations: Violations) -> date | None:
    """A full ``google.type.Date`` as a date; None with a violation for a partial or impossible one."""
    try:
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError
        return date(value.year, value.month, value.day)
    except ValueError:
        violations.append((field, f"not a real date: year {MIN_YEAR}-{MAX_YEAR}, month and day all set, got "
                                  f"{value.year:04d}-{value.month:02d}-{value.day:02d}"))
        return None


def optional_date(message: Any, name: str, field: str, violations: Violations) -> date | None:
    """The date in ``message.name`` when it is set, else None (unknown)."""
    return date_from_pb(getattr(message, name), field, violations) if message.HasField(name) else None


def date_pb(value: date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def timestamp_pb(rfc3339: str) -> timestamp_pb2.Timestamp:
    """A stored RFC 3339 time (``2026-12-03T04:05:06.789Z``) as a ``google.protobuf.Timestamp``."""
    out = timestamp_pb2.Timestamp()
    if rfc3339:
        out.FromJsonString(rfc3339)
    return out
