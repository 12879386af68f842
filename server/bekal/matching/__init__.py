"""Matching library: place clients into course seats by client-proposing deferred acceptance.

Pure Python, no rules engine and no gRPC inside: the caller supplies the
acceptable pairs (the rules' ELIGIBLE decisions) with a priority score per pair,
or a selection panel's ranking per course. Typical use::

    from bekal.matching import Client, Course, Instance, deferred_acceptance, check_stability

    inst = Instance(clients=[...], courses=[...], priorities={(client_id, course_code): score}, seed=2019)
    result = deferred_acceptance(inst)
    assert check_stability(inst, result.placements) == []
"""

from .deferred_acceptance import deferred_acceptance
from .errors import InvalidInstance
from .model import (
    Client,
    Course,
    CourseResult,
    Instance,
    Market,
    MatchResult,
    Reason,
    ReserveOrder,
    Standing,
    Summary,
    WhyNot,
    compile_instance,
    lottery_numbers,
)
from .stability import Violation, ViolationKind, check_stability

__all__ = [
    "Client",
    "Course",
    "CourseResult",
    "Instance",
    "InvalidInstance",
    "Market",
    "MatchResult",
    "Reason",
    "ReserveOrder",
    "Standing",
    "Summary",
    "Violation",
    "ViolationKind",
    "WhyNot",
    "check_stability",
    "compile_instance",
    "deferred_acceptance",
    "lottery_numbers",
]
