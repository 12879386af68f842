"""What each agency is shown of a decision: the BNN view, and a training centre's view that
reveals nothing hidden (docs/integrators.md, "What a training centre sees").

The clients are drug-rehabilitation patients. BNN case management, which refers
them, sees every reason and the explain trace. A training centre (BLK) sees:

- **WITHHELD**, and nothing else (no reasons, priority 0, nothing missing), when the
  client has not consented to sharing, or when any reason behind the decision is
  BNN-only (a rule that reads a BNN-only fact: rehabilitation stage or dates, consent;
  :func:`bekal.lang.checker.shareable`). Clients held back for *different* hidden
  reasons -- still in rehabilitation, dropped out, no consent, a BNN-only fact missing --
  are indistinguishable: same outcome word, same (absent) reasons, same shape;
- otherwise the decision with its shareable reasons (test scores, course limits), the
  priority of those reasons, and what is missing -- which never contradicts itself: the
  outcome follows from the reasons shown.

Which view a caller gets is decided by its certificate (:func:`bekal.access.audience_for`);
forgetting to say never shows more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from bekal.decision import Decision, Outcome, Reason

BNN = "bnn"  # BNN case management: everything
BLK = "blk"  # a training centre: only what reveals nothing hidden
AUDIENCES = (BNN, BLK)

_HOLDS = (Outcome.INELIGIBLE, Outcome.PENDING)


def consented(client: Mapping[str, Any]) -> bool:
    """Did the client consent to sharing with a training centre? Unknown is no."""
    return client.get("consent_to_share") is True


class Judged(Protocol):
    """What :func:`withheld` reads of a decision (a :class:`Decision`, or a placement's verdict)."""

    @property
    def reasons(self) -> tuple[Reason, ...]: ...


def withheld(decision: Judged, client: Mapping[str, Any]) -> bool:
    """Does a training centre see only WITHHELD for this decision?"""
    return not consented(client) or any(not r.shareable and r.outcome in _HOLDS for r in decision.reasons)


def for_audience(decision: Decision, audience: str, client: Mapping[str, Any]) -> Decision:
    """What ``audience`` may see of ``decision`` about ``client`` (the facts it was decided on)."""
    if audience == BNN:
        return decision
    if withheld(decision, client):
        return Decision(decision.client_id, decision.course_code, Outcome.WITHHELD, (), 0, decision.ruleset_version,
                        decision.as_of)
    shown = tuple(r for r in decision.reasons if r.shareable)
    if len(shown) == len(decision.reasons) and not decision.trace:
        return decision
    return replace(decision, reasons=shown, priority=sum(r.priority for r in shown), trace=())
