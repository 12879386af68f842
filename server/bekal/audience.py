"""Who may see what: the one place that decides what each agency is shown (docs/architecture.md).

The clients are drug-rehabilitation patients. BNN case management, which refers
them, sees every reason and the explain trace. A training centre (BLK) sees a
decision only for a client who consented to sharing, and then only the outcome,
the priority and the reasons the rule authors marked ``shareable`` (never
rehabilitation details, never the trace). Unknown or unspecified audiences get
the training centre's view: forgetting to say who you are never shows more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from bekal.decision import Decision, Reason

BNN = "bnn"  # BNN case management: everything
BLK = "blk"  # training centre: outcome, priority, shareable reasons; needs consent
AUDIENCES = (BNN, BLK)


def consented(client: Mapping[str, Any]) -> bool:
    """Did the client consent to sharing with a training centre? Unknown is no."""
    return client.get("consent_to_share") is True


def may_see(client: Mapping[str, Any], audience: str) -> bool:
    """May ``audience`` see anything decided about this client?"""
    return audience == BNN or consented(client)


def visible_reasons(reasons: Iterable[Reason], audience: str) -> tuple[Reason, ...]:
    """The reasons ``audience`` may read."""
    return tuple(reasons) if audience == BNN else tuple(r for r in reasons if r.shareable)


def for_audience(decision: Decision, audience: str) -> Decision:
    """What ``audience`` may see of a decision (the caller has checked :func:`may_see`)."""
    if audience == BNN:
        return decision
    reasons = visible_reasons(decision.reasons, audience)
    if len(reasons) == len(decision.reasons) and not decision.trace:
        return decision
    return replace(decision, reasons=reasons, trace=())
