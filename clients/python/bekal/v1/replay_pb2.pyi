import datetime

from bekal.v1 import decision_pb2 as _decision_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReplayDecisionRequest(_message.Message):
    __slots__ = ("request_id", "compare_current_rules")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMPARE_CURRENT_RULES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    compare_current_rules: bool
    def __init__(self, request_id: _Optional[str] = ..., compare_current_rules: _Optional[bool] = ...) -> None: ...

class ReplayDecisionResponse(_message.Message):
    __slots__ = ("request_id", "client_id", "caller", "ruleset_version", "as_of_date", "recorded_time", "parameters", "decisions", "identical", "current_ruleset_version", "same_as_current")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_TIME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    IDENTICAL_FIELD_NUMBER: _ClassVar[int]
    CURRENT_RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    SAME_AS_CURRENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client_id: str
    caller: str
    ruleset_version: str
    as_of_date: _date_pb2.Date
    recorded_time: _timestamp_pb2.Timestamp
    parameters: _containers.RepeatedCompositeFieldContainer[_decision_pb2.FactValue]
    decisions: _containers.RepeatedCompositeFieldContainer[ReplayedDecision]
    identical: bool
    current_ruleset_version: str
    same_as_current: bool
    def __init__(self, request_id: _Optional[str] = ..., client_id: _Optional[str] = ..., caller: _Optional[str] = ..., ruleset_version: _Optional[str] = ..., as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., recorded_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parameters: _Optional[_Iterable[_Union[_decision_pb2.FactValue, _Mapping]]] = ..., decisions: _Optional[_Iterable[_Union[ReplayedDecision, _Mapping]]] = ..., identical: _Optional[bool] = ..., current_ruleset_version: _Optional[str] = ..., same_as_current: _Optional[bool] = ...) -> None: ...

class ReplayedDecision(_message.Message):
    __slots__ = ("course_code", "logged", "replayed", "identical", "current", "differences")
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    LOGGED_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    IDENTICAL_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    course_code: str
    logged: LoggedOutcome
    replayed: _decision_pb2.Decision
    identical: bool
    current: _decision_pb2.Decision
    differences: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, course_code: _Optional[str] = ..., logged: _Optional[_Union[LoggedOutcome, _Mapping]] = ..., replayed: _Optional[_Union[_decision_pb2.Decision, _Mapping]] = ..., identical: _Optional[bool] = ..., current: _Optional[_Union[_decision_pb2.Decision, _Mapping]] = ..., differences: _Optional[_Iterable[str]] = ...) -> None: ...

class LoggedOutcome(_message.Message):
    __slots__ = ("outcome", "priority", "rule_ids")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RULE_IDS_FIELD_NUMBER: _ClassVar[int]
    outcome: _decision_pb2.Outcome
    priority: int
    rule_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, outcome: _Optional[_Union[_decision_pb2.Outcome, str]] = ..., priority: _Optional[int] = ..., rule_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class EraseClientFactsRequest(_message.Message):
    __slots__ = ("client_id",)
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    def __init__(self, client_id: _Optional[str] = ...) -> None: ...

class EraseClientFactsResponse(_message.Message):
    __slots__ = ("client_id", "erased_records", "erase_time")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ERASED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    ERASE_TIME_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    erased_records: int
    erase_time: _timestamp_pb2.Timestamp
    def __init__(self, client_id: _Optional[str] = ..., erased_records: _Optional[int] = ..., erase_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReplayMatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ReplayMatchJobResponse(_message.Message):
    __slots__ = ("job_id", "request_id", "creator", "ruleset_version", "as_of_date", "recorded_time", "clients", "placed", "identical", "differences")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_TIME_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    PLACED_FIELD_NUMBER: _ClassVar[int]
    IDENTICAL_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    request_id: str
    creator: str
    ruleset_version: str
    as_of_date: _date_pb2.Date
    recorded_time: _timestamp_pb2.Timestamp
    clients: int
    placed: int
    identical: bool
    differences: _containers.RepeatedCompositeFieldContainer[PlacementDifference]
    def __init__(self, job_id: _Optional[str] = ..., request_id: _Optional[str] = ..., creator: _Optional[str] = ..., ruleset_version: _Optional[str] = ..., as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., recorded_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., clients: _Optional[int] = ..., placed: _Optional[int] = ..., identical: _Optional[bool] = ..., differences: _Optional[_Iterable[_Union[PlacementDifference, _Mapping]]] = ...) -> None: ...

class PlacementDifference(_message.Message):
    __slots__ = ("client_id", "logged_course", "replayed_course")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    LOGGED_COURSE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_COURSE_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    logged_course: str
    replayed_course: str
    def __init__(self, client_id: _Optional[str] = ..., logged_course: _Optional[str] = ..., replayed_course: _Optional[str] = ...) -> None: ...
