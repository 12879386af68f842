"""A matching job as a ``google.longrunning.Operation`` (AIP-151), and operation names."""

from __future__ import annotations

import google.longrunning.operations_proto_pb2 as operations_pb2
from google.protobuf import any_pb2

from bekal.services.errors import Violations, invalid
from bekal.services.limits import check_id
from bekal.services.matching import codec as matching_codec
from bekal.store.jobs import JobRecord, JobStatus

PREFIX = "operations/"


def operation_name(job_id: str) -> str:
    return PREFIX + job_id


def job_id_of(name: str, field: str = "name") -> str:
    """The job id of an operation name ``operations/<job id>``; INVALID_ARGUMENT naming ``field`` otherwise."""
    violations: Violations = []
    if not name.startswith(PREFIX):
        violations.append((field, f"an operation name is {PREFIX}<job id> (MatchJob.operation_name)"))
    else:
        check_id(name[len(PREFIX):], field, violations)
    if violations:
        raise invalid(violations)
    return name[len(PREFIX):]


def operation_pb(job: JobRecord) -> operations_pb2.Operation:
    """The job as an Operation: ``metadata`` is the ``bekal.v1.MatchJob`` (status, phase, progress) while it
    runs and after; ``done`` once it succeeded or failed; then ``response`` is the final ``MatchJob`` (summary
    and course fills; StreamPlacements has the per-client results) or ``error`` its ``google.rpc.Status``."""
    job_pb = matching_codec.job_pb(job)
    packed = any_pb2.Any()
    packed.Pack(job_pb)
    out = operations_pb2.Operation(name=operation_name(job.job_id), metadata=packed)
    if job.status is JobStatus.SUCCEEDED:
        out.done = True
        out.response.CopyFrom(packed)
    elif job.status is JobStatus.FAILED:
        out.done = True
        out.error.CopyFrom(job_pb.error)
    return out
