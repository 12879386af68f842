"""Clients and courses every rule lets through: the one place the test suites take them from.

:func:`eligible_client` is ELIGIBLE for every course of the default catalogue
(``rules/``) and of the service tests' rules on the dates the tests use: 25 years
old in 2019, after rehabilitation, both selection tests passed, SMA, consent
given, referred by BNN. Override any field; ``None`` leaves it out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from google.type import date_pb2

from bekal.facts import parse_facts

MOU_DATE = date(2019, 5, 16)  # the day of the BNNK Banjarbaru / BLK Kalsel MoU
INTAKE_DATE = "2019-06-01"  # the as-of date of the service and placement tests

_ELIGIBLE: dict[str, Any] = {
    "id": "BNNK-BJB-2019-0001",
    "birth_date": "1994-03-01",
    "rehab_stage": "post_rehabilitation",
    "rehab_completed_date": "2019-02-28",
    "referrer": "bnn",
    "referring_office": "BNNK Banjarbaru",
    "written_test_score": 72,
    "interview_score": 80,
    "education": "sma",
    "consent_to_share": True,
}


def eligible_client(**overrides: Any) -> dict[str, Any]:
    """A client as a file or a request sends it (dates as text): eligible for every course."""
    client = {**_ELIGIBLE, **overrides}
    return {k: v for k, v in client.items() if v is not None}


def eligible_facts(**overrides: Any) -> dict[str, Any]:
    """:func:`eligible_client` as the engine takes it (:func:`bekal.facts.parse_facts`: dates as ``date``)."""
    return parse_facts("client", eligible_client(**overrides))


READY = eligible_facts(domicile="Banjarbaru")  # the rule tests' client, as facts


def applicant(cid: str, *preferences: str, **overrides: Any) -> dict[str, Any]:
    """A self-referred :func:`eligible_client` applying for ``preferences`` (most wanted first): no BNN
    priority, so placements are decided by the lottery unless a test gives one."""
    fields: dict[str, Any] = {"id": cid, "referrer": "self", "referring_office": None, "written_test_score": 80,
                              "preferences": list(preferences)}
    return eligible_client(**{**fields, **overrides})


def course(code: str, seats: int, reserved: int = 0, **extra: Any) -> dict[str, Any]:
    """A course with the catalogue's usual pass marks (written 50, interview 60) and no age limits,
    starting after :data:`INTAKE_DATE`."""
    return {"code": code, "title": f"Kursus {code}", "blk": "BLK Provinsi Kalsel", "seats": seats,
            "reserved_bnn_seats": reserved, "start_date": "2019-07-01", "min_written_score": 50,
            "min_interview_score": 60, **extra}


def pb_date(text: str) -> date_pb2.Date:
    """``YYYY-M-D`` text as a ``google.type.Date``, impossible ones too (``2019-13-01``): the tests' way of
    writing dates in request messages."""
    year, month, day = (int(p) for p in text.split("-"))
    return date_pb2.Date(year=year, month=month, day=day)
