"""``bekal.v1`` eligibility messages <-> :mod:`.logic` types: translation and input checks only.

Responses are built here with the generated classes (the reference encoding); the
bulk path sends the byte-for-byte equal encoding of :mod:`.wire` instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from google.rpc import status_pb2

from bekal.services.codec import as_of_from, audience_from, client_facts, decision_pb
from bekal.services.eligibility.logic import Check, CheckResult
from bekal.services.errors import ServiceError, Violations, invalid
from bekal.services.guard import status_pb
from bekal.services.limits import MAX_CHECKS, MAX_ID, check_id, date_pb
from bekal.v1 import eligibility_pb2


def fingerprint(request: eligibility_pb2.CheckEligibilityRequest) -> str:
    """Digest identifying a request's content: a retry has the same one."""
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()[:32]


def parse_check(request: eligibility_pb2.CheckEligibilityRequest) -> Check:
    """A CheckEligibilityRequest as a :class:`Check`; INVALID_ARGUMENT naming every bad field."""
    violations: Violations = []
    check_id(request.request_id, "request_id", violations)
    client = None
    if not request.HasField("client"):
        violations.append(("client", "required"))
    else:
        client = client_facts(request.client, "client", violations)
    if len(request.course_code) > MAX_ID:
        violations.append(("course_code", f"at most {MAX_ID} characters"))
    as_of = as_of_from(request, "as_of_date", "as_of_date", violations)
    audience = audience_from(request.audience, "audience", violations)
    if violations:
        raise invalid(violations)
    return Check(
        request_id=request.request_id,
        client=client or {},
        course_code=request.course_code or None,
        as_of=as_of,
        audience=audience,
        explain=request.explain,
        fingerprint=fingerprint(request),
    )


def parse_stream_request(request: eligibility_pb2.CheckEligibilityStreamRequest) -> list[Check | ServiceError]:
    """Each check parsed on its own: a bad one becomes its error, the others go on."""
    if len(request.checks) > MAX_CHECKS:
        raise invalid([("checks", f"at most {MAX_CHECKS} checks per message, got {len(request.checks)}")])
    out: list[Check | ServiceError] = []
    for check in request.checks:
        try:
            out.append(parse_check(check))
        except ServiceError as err:
            out.append(err)
    return out


def response_pb(
    result: CheckResult, out: eligibility_pb2.CheckEligibilityResponse | None = None
) -> eligibility_pb2.CheckEligibilityResponse:
    out = eligibility_pb2.CheckEligibilityResponse() if out is None else out
    out.request_id = result.request_id
    out.ruleset_version = result.ruleset_version
    out.as_of_date.CopyFrom(date_pb(result.as_of))
    for decision in result.decisions:
        decision_pb(decision, out.decisions.add())
    return out


def error_pb(error: ServiceError, out: status_pb2.Status) -> None:
    """A failed check of the stream: the same ``google.rpc.Status`` a unary call fails with."""
    out.CopyFrom(status_pb(error))


def stream_response_pb(
    requests: Sequence[eligibility_pb2.CheckEligibilityRequest],
    results: Iterable[CheckResult | ServiceError],
) -> eligibility_pb2.CheckEligibilityStreamResponse:
    out = eligibility_pb2.CheckEligibilityStreamResponse()
    for request, result in zip(requests, results):
        item = out.results.add()
        item.request_id = request.request_id
        if isinstance(result, ServiceError):
            error_pb(result, item.error)
        else:
            response_pb(result, item.response)
    return out
