from google.rpc import status_pb2 as _status_pb2
from google.type import date_pb2 as _date_pb2
from bekal.v1 import decision_pb2 as _decision_pb2
from bekal.v1 import facts_pb2 as _facts_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Audience(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIENCE_UNSPECIFIED: _ClassVar[Audience]
    AUDIENCE_BNN: _ClassVar[Audience]
    AUDIENCE_BLK: _ClassVar[Audience]
AUDIENCE_UNSPECIFIED: Audience
AUDIENCE_BNN: Audience
AUDIENCE_BLK: Audience

class CheckEligibilityRequest(_message.Message):
    __slots__ = ("request_id", "client", "course_code", "as_of_date", "audience", "explain")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client: _facts_pb2.Client
    course_code: str
    as_of_date: _date_pb2.Date
    audience: Audience
    explain: bool
    def __init__(self, request_id: _Optional[str] = ..., client: _Optional[_Union[_facts_pb2.Client, _Mapping]] = ..., course_code: _Optional[str] = ..., as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., audience: _Optional[_Union[Audience, str]] = ..., explain: _Optional[bool] = ...) -> None: ...

class CheckEligibilityResponse(_message.Message):
    __slots__ = ("request_id", "ruleset_version", "as_of_date", "decisions")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    ruleset_version: str
    as_of_date: _date_pb2.Date
    decisions: _containers.RepeatedCompositeFieldContainer[_decision_pb2.Decision]
    def __init__(self, request_id: _Optional[str] = ..., ruleset_version: _Optional[str] = ..., as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., decisions: _Optional[_Iterable[_Union[_decision_pb2.Decision, _Mapping]]] = ...) -> None: ...

class CheckEligibilityStreamRequest(_message.Message):
    __slots__ = ("checks",)
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[CheckEligibilityRequest]
    def __init__(self, checks: _Optional[_Iterable[_Union[CheckEligibilityRequest, _Mapping]]] = ...) -> None: ...

class CheckEligibilityStreamResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CheckEligibilityResult]
    def __init__(self, results: _Optional[_Iterable[_Union[CheckEligibilityResult, _Mapping]]] = ...) -> None: ...

class CheckEligibilityResult(_message.Message):
    __slots__ = ("request_id", "response", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    response: CheckEligibilityResponse
    error: _status_pb2.Status
    def __init__(self, request_id: _Optional[str] = ..., response: _Optional[_Union[CheckEligibilityResponse, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
