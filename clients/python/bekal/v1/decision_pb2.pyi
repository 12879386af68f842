from bekal.v1 import common_pb2 as _common_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_ELIGIBLE: _ClassVar[Outcome]
    OUTCOME_INELIGIBLE: _ClassVar[Outcome]
    OUTCOME_PENDING: _ClassVar[Outcome]
    OUTCOME_WITHHELD: _ClassVar[Outcome]

class RuleStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_STATUS_UNSPECIFIED: _ClassVar[RuleStatus]
    RULE_STATUS_FIRED: _ClassVar[RuleStatus]
    RULE_STATUS_NOT_FIRED: _ClassVar[RuleStatus]
    RULE_STATUS_MISSING_FACTS: _ClassVar[RuleStatus]
    RULE_STATUS_NOT_IN_FORCE: _ClassVar[RuleStatus]
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_ELIGIBLE: Outcome
OUTCOME_INELIGIBLE: Outcome
OUTCOME_PENDING: Outcome
OUTCOME_WITHHELD: Outcome
RULE_STATUS_UNSPECIFIED: RuleStatus
RULE_STATUS_FIRED: RuleStatus
RULE_STATUS_NOT_FIRED: RuleStatus
RULE_STATUS_MISSING_FACTS: RuleStatus
RULE_STATUS_NOT_IN_FORCE: RuleStatus

class FactValue(_message.Message):
    __slots__ = ("name", "string_value", "int_value", "double_value", "bool_value", "date_value", "enum_value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    DATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    ENUM_VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    string_value: str
    int_value: int
    double_value: float
    bool_value: bool
    date_value: _date_pb2.Date
    enum_value: str
    def __init__(self, name: _Optional[str] = ..., string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., double_value: _Optional[float] = ..., bool_value: _Optional[bool] = ..., date_value: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., enum_value: _Optional[str] = ...) -> None: ...

class Reason(_message.Message):
    __slots__ = ("rule_id", "ruleset", "outcome", "facts", "citation", "shareable", "priority", "missing", "messages")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULESET_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    CITATION_FIELD_NUMBER: _ClassVar[int]
    SHAREABLE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    ruleset: str
    outcome: Outcome
    facts: _containers.RepeatedCompositeFieldContainer[FactValue]
    citation: str
    shareable: bool
    priority: int
    missing: _containers.RepeatedScalarFieldContainer[str]
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.LocalizedText]
    def __init__(self, rule_id: _Optional[str] = ..., ruleset: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., facts: _Optional[_Iterable[_Union[FactValue, _Mapping]]] = ..., citation: _Optional[str] = ..., shareable: _Optional[bool] = ..., priority: _Optional[int] = ..., missing: _Optional[_Iterable[str]] = ..., messages: _Optional[_Iterable[_Union[_common_pb2.LocalizedText, _Mapping]]] = ...) -> None: ...

class RuleTrace(_message.Message):
    __slots__ = ("rule_id", "ruleset", "status", "facts", "location", "effect", "effect_priority")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULESET_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    EFFECT_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    ruleset: str
    status: RuleStatus
    facts: _containers.RepeatedCompositeFieldContainer[FactValue]
    location: str
    effect: Outcome
    effect_priority: int
    def __init__(self, rule_id: _Optional[str] = ..., ruleset: _Optional[str] = ..., status: _Optional[_Union[RuleStatus, str]] = ..., facts: _Optional[_Iterable[_Union[FactValue, _Mapping]]] = ..., location: _Optional[str] = ..., effect: _Optional[_Union[Outcome, str]] = ..., effect_priority: _Optional[int] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("client_id", "course_code", "outcome", "reasons", "priority", "ruleset_version", "as_of_date", "missing", "trace")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    course_code: str
    outcome: Outcome
    reasons: _containers.RepeatedCompositeFieldContainer[Reason]
    priority: int
    ruleset_version: str
    as_of_date: _date_pb2.Date
    missing: _containers.RepeatedScalarFieldContainer[str]
    trace: _containers.RepeatedCompositeFieldContainer[RuleTrace]
    def __init__(self, client_id: _Optional[str] = ..., course_code: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., reasons: _Optional[_Iterable[_Union[Reason, _Mapping]]] = ..., priority: _Optional[int] = ..., ruleset_version: _Optional[str] = ..., as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., missing: _Optional[_Iterable[str]] = ..., trace: _Optional[_Iterable[_Union[RuleTrace, _Mapping]]] = ...) -> None: ...
