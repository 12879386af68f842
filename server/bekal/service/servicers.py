"""The gRPC servicers: protobuf in, plain Python call, protobuf out; errors as rich statuses.

Nothing decides anything here: :mod:`bekal.service.core` does, and is tested
without gRPC. Every handler ends in one of three ways: a response, a
:class:`~bekal.service.errors.ServiceError` turned into its status with
``google.rpc`` details, or — for anything unexpected — ``INTERNAL`` with a
reference id in the message and the code location in the log.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

import grpc

from bekal.service import convert
from bekal.service.core import Eligibility, Rules, RulesRejected
from bekal.service.errors import ServiceError, internal, invalid, to_status
from bekal.service.watcher import log_rejected
from bekal.service.wire import Encoder
from bekal.v1 import eligibility_pb2, eligibility_pb2_grpc, rules_pb2, rules_pb2_grpc

log = logging.getLogger("bekal.service")


def _abort(context: grpc.ServicerContext, error: ServiceError) -> None:
    context.abort_with_status(to_status(error))


def run_guarded(context: grpc.ServicerContext, what: str, fn: Callable[[], object]):
    """Call ``fn``; turn its failures into statuses (abort raises, ending the RPC)."""
    try:
        return fn()
    except ServiceError as err:
        error = err
    except Exception as exc:  # never UNKNOWN with a traceback
        error = internal(what, exc)
    _abort(context, error)


def _expired(context: grpc.ServicerContext) -> None:
    """Deadlines are honoured: work whose caller has already given up is not started."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        raise ServiceError("DEADLINE_EXCEEDED", "the call's deadline passed before it was decided")
    if not context.is_active():
        raise ServiceError("CANCELLED", "the caller cancelled the call")


class EligibilityServicer(eligibility_pb2_grpc.EligibilityServiceServicer):
    """bekal.v1.EligibilityService. Responses leave as bytes from :mod:`bekal.service.wire`."""

    def __init__(self, eligibility: Eligibility, draining: threading.Event):
        self.eligibility = eligibility
        self.draining = draining
        self.encoder = Encoder()

    def CheckEligibility(self, request, context):
        def call():
            check = convert.parse_check(request)
            _expired(context)
            return self.encoder.response(self.eligibility.check(check))

        return run_guarded(context, "CheckEligibility", call)

    def CheckEligibilityStream(
        self, request_iterator, context
    ) -> Iterator[eligibility_pb2.CheckEligibilityStreamResponse]:
        # Every message received is answered; once the server drains, the stream is closed
        # with UNAVAILABLE after the next answer, so the caller resends the rest elsewhere.
        for request in request_iterator:

            def call(request=request):
                checks = convert.parse_stream_request(request)
                _expired(context)
                results = self.eligibility.check_many(checks)
                return self.encoder.stream_response(request.checks, results)

            yield run_guarded(context, "CheckEligibilityStream", call)
            if self.draining.is_set():
                _abort(context, ServiceError(
                    "UNAVAILABLE", "server is shutting down; resend the unanswered checks"))


class RulesServicer(rules_pb2_grpc.RulesServiceServicer):
    """bekal.v1.RulesService."""

    def __init__(self, rules: Rules, notify_siblings: Callable[[], None] | None = None):
        self.rules = rules
        self.notify_siblings = notify_siblings

    def ListRulesets(self, request, context):
        def call():
            with self.rules.lease() as snap:
                book = snap.rulebook
                return rules_pb2.ListRulesetsResponse(
                    ruleset_version=book.version,
                    rulesets=[convert.ruleset_info_pb(rs, self.rules.relative(rs.file)) for rs in book.rulesets],
                    course_codes=sorted(book.courses),
                )

        return run_guarded(context, "ListRulesets", call)

    def GetRuleset(self, request, context):
        def call():
            if not request.name:
                raise invalid([("name", "required")])
            with self.rules.lease() as snap:
                book = snap.rulebook
                for rs in book.rulesets:
                    if rs.name == request.name:
                        return rules_pb2.GetRulesetResponse(
                            ruleset_version=book.version,
                            ruleset=convert.ruleset_info_pb(rs, self.rules.relative(rs.file)),
                            source=book.sources.get(rs.file, ""),
                        )
                known = ", ".join(rs.name for rs in book.rulesets)
                raise ServiceError(
                    "NOT_FOUND", f"no ruleset {request.name!r}; loaded: {known}",
                    [("name", f"unknown ruleset {request.name!r}")],
                    resource=("bekal.v1.Ruleset", request.name),
                )

        return run_guarded(context, "GetRuleset", call)

    def ValidateRules(self, request, context):
        def call():
            violations = []
            files: dict[str, str] = {}
            for i, f in enumerate(request.files):
                path = PurePosixPath(f.path)
                if not f.path:
                    violations.append((f"files[{i}].path", "required"))
                elif path.is_absolute() or ".." in path.parts or "\\" in f.path:
                    violations.append((f"files[{i}].path", "must be relative to the rules folder, without '..'"))
                elif path.suffix not in (".yaml", ".yml"):
                    violations.append((f"files[{i}].path", "rule files end in .yaml or .yml"))
                elif f.path in files:
                    violations.append((f"files[{i}].path", f"{f.path} appears twice"))
                else:
                    files[f.path] = f.content
            if not request.files and not request.overlay_loaded:
                violations.append(("files", "required: at least one rule file"))
            if violations:
                raise invalid(violations)
            result = self.rules.validate(files, request.overlay_loaded)
            return rules_pb2.ValidateRulesResponse(
                valid=result.valid,
                ruleset_version=result.version or "",
                diagnostics=[convert.diagnostic_pb(d) for d in result.diagnostics],
                rulesets=list(result.rulesets),
            )

        return run_guarded(context, "ValidateRules", call)

    def ReloadRules(self, request, context):
        def call():
            try:
                outcome = self.rules.reload()
            except RulesRejected as exc:
                log_rejected(self.rules, exc, "on ReloadRules")
                diagnostics = exc.diagnostics
                version = self.rules.version
                keeps = f"version {version} keeps serving" if version else "no ruleset is loaded"
                raise ServiceError(
                    "FAILED_PRECONDITION",
                    f"the rule files have {len(diagnostics)} problem(s); {keeps}; first: {diagnostics[0]}",
                    preconditions=[("RULES", str(d), d.message + (f" (hint: {d.hint})" if d.hint else ""))
                                   for d in diagnostics[:50]],
                ) from None
            if outcome.changed and self.notify_siblings is not None:
                self.notify_siblings()
            return rules_pb2.ReloadRulesResponse(
                ruleset_version=outcome.version,
                previous_version=outcome.previous or "",
                changed=outcome.changed,
            )

        return run_guarded(context, "ReloadRules", call)


def _serialize(message) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


def add_eligibility_servicer(servicer: EligibilityServicer, server: grpc.Server) -> None:
    """Register like the generated ``add_EligibilityServiceServicer_to_server``, except that a
    handler may return already-encoded bytes (the wire fast path) as well as messages."""
    handlers = {
        "CheckEligibility": grpc.unary_unary_rpc_method_handler(
            servicer.CheckEligibility,
            request_deserializer=eligibility_pb2.CheckEligibilityRequest.FromString,
            response_serializer=_serialize,
        ),
        "CheckEligibilityStream": grpc.stream_stream_rpc_method_handler(
            servicer.CheckEligibilityStream,
            request_deserializer=eligibility_pb2.CheckEligibilityStreamRequest.FromString,
            response_serializer=_serialize,
        ),
    }
    name = eligibility_pb2.DESCRIPTOR.services_by_name["EligibilityService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    server.add_registered_method_handlers(name, handlers)


def notify_supervisor() -> None:
    """Ask the supervising process to make every worker reload (it forwards SIGHUP)."""
    os.kill(os.getppid(), signal.SIGHUP)
