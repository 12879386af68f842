"""Place a cohort of clients into course seats: eligibility, matching and explanations in one job.

Plain Python: no gRPC, no files. The CLI (``bekal match``) and the gRPC
``MatchingService`` both call :func:`place`, so a cohort is placed the same way
everywhere::

    cohort = make_cohort(clients, courses, as_of=date(2019, 6, 1), seed=2019)
    result = place(engine, cohort)            # engine: bekal.engine.Engine
    for p in result.clients:
        print(p.client_id, p.course, [describe(w) for w in p.why_not])

- :mod:`bekal.placement.cohort` -- input checks: :func:`make_cohort`, every problem at once;
- :mod:`bekal.placement.run` -- :func:`place`: eligibility under one version, the instance, matching;
- :mod:`bekal.placement.explain` -- why not, per client; course fills; the summary;
- :mod:`bekal.placement.wording` -- :func:`describe`: a why-not in English or Indonesian;
- :mod:`bekal.placement.results` -- the result types; :mod:`bekal.placement.errors` -- the errors.
"""

from bekal.audience import AUDIENCES
from bekal.placement.cohort import Cohort, make_cohort
from bekal.placement.errors import CohortError, RulesKeptChanging, Unjudged
from bekal.placement.results import (
    Because,
    ClientPlacement,
    CourseFill,
    NotPlaced,
    Placement,
    PlacementSummary,
    Progress,
)
from bekal.placement.run import Decider, place
from bekal.placement.wording import describe

__all__ = [
    "AUDIENCES",
    "Because",
    "ClientPlacement",
    "Cohort",
    "CohortError",
    "CourseFill",
    "Decider",
    "NotPlaced",
    "Placement",
    "PlacementSummary",
    "Progress",
    "RulesKeptChanging",
    "Unjudged",
    "describe",
    "make_cohort",
    "place",
]
