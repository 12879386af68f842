"""Python client for the bekal gRPC API (``bekal.v1``).

>>> from bekal.client import connect
>>> with connect("127.0.0.1:50051") as bekal:
...     result = bekal.check({"id": "BNNK-BJB-2019-0007", "birth_date": "1998-04-02",
...                           "rehab_stage": "post_rehabilitation", "consent_to_share": True},
...                          "LAS-SMAW-01", as_of="2019-06-01", audience="bnn")
...     print(result.decision.outcome)

Results are plain Python (:class:`bekal.decision.Decision` and the dataclasses
in :mod:`bekal.client.results`); failures raise :class:`BekalError` with the
status code name and the fields at fault.
"""

from bekal.client.connection import DEFAULT_TARGET, Check, Client, connect
from bekal.client.errors import BekalError, FieldViolation
from bekal.client.results import CheckResult, Diagnostic, Reload, Rulesets, RulesetInfo, RulesetSource, Validation
from bekal.decision import Decision, FactValue, Outcome, Reason

__all__ = [
    "DEFAULT_TARGET", "BekalError", "Check", "CheckResult", "Client", "Decision", "Diagnostic", "FactValue",
    "FieldViolation", "Outcome", "Reason", "Reload", "RulesetInfo", "RulesetSource", "Rulesets", "Validation",
    "connect",
]
