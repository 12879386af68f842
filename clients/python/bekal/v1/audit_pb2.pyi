import datetime

from bekal.v1 import decision_pb2 as _decision_pb2
from bekal.v1 import eligibility_pb2 as _eligibility_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import code_pb2 as _code_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_REFERRER: _ClassVar[Role]
    ROLE_TRAINING_PROVIDER: _ClassVar[Role]
    ROLE_RULE_AUTHOR: _ClassVar[Role]
    ROLE_AUDITOR: _ClassVar[Role]
    ROLE_OPERATOR: _ClassVar[Role]
    ROLE_PUBLIC: _ClassVar[Role]
ROLE_UNSPECIFIED: Role
ROLE_REFERRER: Role
ROLE_TRAINING_PROVIDER: Role
ROLE_RULE_AUTHOR: Role
ROLE_AUDITOR: Role
ROLE_OPERATOR: Role
ROLE_PUBLIC: Role

class ListDecisionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "client_id", "caller")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    client_id: str
    caller: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., client_id: _Optional[str] = ..., caller: _Optional[str] = ...) -> None: ...

class ListDecisionsResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LoggedCheck]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LoggedCheck, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LoggedCheck(_message.Message):
    __slots__ = ("request_id", "client_id", "caller", "audience", "ruleset_version", "as_of_date", "record_time", "decisions")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client_id: str
    caller: str
    audience: _eligibility_pb2.Audience
    ruleset_version: str
    as_of_date: _date_pb2.Date
    record_time: _timestamp_pb2.Timestamp
    decisions: _containers.RepeatedCompositeFieldContainer[LoggedDecision]
    def __init__(self, request_id: _Optional[str] = ..., client_id: _Optional[str] = ..., caller: _Optional[str] = ..., audience: _Optional[_Union[_eligibility_pb2.Audience, str]] = ..., ruleset_version: _Optional[str] = ..., as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decisions: _Optional[_Iterable[_Union[LoggedDecision, _Mapping]]] = ...) -> None: ...

class LoggedDecision(_message.Message):
    __slots__ = ("course_code", "outcome", "priority", "rule_ids")
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RULE_IDS_FIELD_NUMBER: _ClassVar[int]
    course_code: str
    outcome: _decision_pb2.Outcome
    priority: int
    rule_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, course_code: _Optional[str] = ..., outcome: _Optional[_Union[_decision_pb2.Outcome, str]] = ..., priority: _Optional[int] = ..., rule_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListAuditEventsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "principal", "subject")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    principal: str
    subject: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., principal: _Optional[str] = ..., subject: _Optional[str] = ...) -> None: ...

class ListAuditEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AuditEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[AuditEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AuditEvent(_message.Message):
    __slots__ = ("sequence", "event_time", "principal", "role", "method", "subjects", "code")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    principal: str
    role: Role
    method: str
    subjects: _containers.RepeatedScalarFieldContainer[str]
    code: _code_pb2.Code
    def __init__(self, sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., principal: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., method: _Optional[str] = ..., subjects: _Optional[_Iterable[str]] = ..., code: _Optional[_Union[_code_pb2.Code, str]] = ...) -> None: ...
