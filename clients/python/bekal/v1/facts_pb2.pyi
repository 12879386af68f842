from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RehabStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REHAB_STAGE_UNSPECIFIED: _ClassVar[RehabStage]
    REHAB_STAGE_ASSESSMENT: _ClassVar[RehabStage]
    REHAB_STAGE_INPATIENT: _ClassVar[RehabStage]
    REHAB_STAGE_OUTPATIENT: _ClassVar[RehabStage]
    REHAB_STAGE_POST_REHABILITATION: _ClassVar[RehabStage]
    REHAB_STAGE_DROPPED_OUT: _ClassVar[RehabStage]

class Referrer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFERRER_UNSPECIFIED: _ClassVar[Referrer]
    REFERRER_BNN: _ClassVar[Referrer]
    REFERRER_SELF: _ClassVar[Referrer]
    REFERRER_OTHER_AGENCY: _ClassVar[Referrer]

class Education(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EDUCATION_UNSPECIFIED: _ClassVar[Education]
    EDUCATION_NONE: _ClassVar[Education]
    EDUCATION_SD: _ClassVar[Education]
    EDUCATION_SMP: _ClassVar[Education]
    EDUCATION_SMA: _ClassVar[Education]
    EDUCATION_SMK: _ClassVar[Education]
    EDUCATION_DIPLOMA: _ClassVar[Education]
    EDUCATION_BACHELOR: _ClassVar[Education]
REHAB_STAGE_UNSPECIFIED: RehabStage
REHAB_STAGE_ASSESSMENT: RehabStage
REHAB_STAGE_INPATIENT: RehabStage
REHAB_STAGE_OUTPATIENT: RehabStage
REHAB_STAGE_POST_REHABILITATION: RehabStage
REHAB_STAGE_DROPPED_OUT: RehabStage
REFERRER_UNSPECIFIED: Referrer
REFERRER_BNN: Referrer
REFERRER_SELF: Referrer
REFERRER_OTHER_AGENCY: Referrer
EDUCATION_UNSPECIFIED: Education
EDUCATION_NONE: Education
EDUCATION_SD: Education
EDUCATION_SMP: Education
EDUCATION_SMA: Education
EDUCATION_SMK: Education
EDUCATION_DIPLOMA: Education
EDUCATION_BACHELOR: Education

class DeclaredValue(_message.Message):
    __slots__ = ("string_value", "int_value", "double_value", "bool_value", "date_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    DATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    double_value: float
    bool_value: bool
    date_value: _date_pb2.Date
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., double_value: _Optional[float] = ..., bool_value: _Optional[bool] = ..., date_value: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class Client(_message.Message):
    __slots__ = ("id", "birth_date", "rehab_stage", "rehab_completed_date", "referrer", "referring_office", "written_test_score", "interview_score", "education", "preferences", "consent_to_share", "domicile", "declared")
    class DeclaredEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: DeclaredValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[DeclaredValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    REHAB_STAGE_FIELD_NUMBER: _ClassVar[int]
    REHAB_COMPLETED_DATE_FIELD_NUMBER: _ClassVar[int]
    REFERRER_FIELD_NUMBER: _ClassVar[int]
    REFERRING_OFFICE_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_TEST_SCORE_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_SCORE_FIELD_NUMBER: _ClassVar[int]
    EDUCATION_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    CONSENT_TO_SHARE_FIELD_NUMBER: _ClassVar[int]
    DOMICILE_FIELD_NUMBER: _ClassVar[int]
    DECLARED_FIELD_NUMBER: _ClassVar[int]
    id: str
    birth_date: _date_pb2.Date
    rehab_stage: RehabStage
    rehab_completed_date: _date_pb2.Date
    referrer: Referrer
    referring_office: str
    written_test_score: float
    interview_score: float
    education: Education
    preferences: _containers.RepeatedScalarFieldContainer[str]
    consent_to_share: bool
    domicile: str
    declared: _containers.MessageMap[str, DeclaredValue]
    def __init__(self, id: _Optional[str] = ..., birth_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., rehab_stage: _Optional[_Union[RehabStage, str]] = ..., rehab_completed_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., referrer: _Optional[_Union[Referrer, str]] = ..., referring_office: _Optional[str] = ..., written_test_score: _Optional[float] = ..., interview_score: _Optional[float] = ..., education: _Optional[_Union[Education, str]] = ..., preferences: _Optional[_Iterable[str]] = ..., consent_to_share: _Optional[bool] = ..., domicile: _Optional[str] = ..., declared: _Optional[_Mapping[str, DeclaredValue]] = ...) -> None: ...

class Course(_message.Message):
    __slots__ = ("code", "title", "blk", "trade", "seats", "start_date", "min_written_score", "min_interview_score", "min_age", "max_age", "min_education", "reserved_bnn_seats", "declared")
    class DeclaredEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: DeclaredValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[DeclaredValue, _Mapping]] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BLK_FIELD_NUMBER: _ClassVar[int]
    TRADE_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    MIN_WRITTEN_SCORE_FIELD_NUMBER: _ClassVar[int]
    MIN_INTERVIEW_SCORE_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    MIN_EDUCATION_FIELD_NUMBER: _ClassVar[int]
    RESERVED_BNN_SEATS_FIELD_NUMBER: _ClassVar[int]
    DECLARED_FIELD_NUMBER: _ClassVar[int]
    code: str
    title: str
    blk: str
    trade: str
    seats: int
    start_date: _date_pb2.Date
    min_written_score: float
    min_interview_score: float
    min_age: int
    max_age: int
    min_education: Education
    reserved_bnn_seats: int
    declared: _containers.MessageMap[str, DeclaredValue]
    def __init__(self, code: _Optional[str] = ..., title: _Optional[str] = ..., blk: _Optional[str] = ..., trade: _Optional[str] = ..., seats: _Optional[int] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., min_written_score: _Optional[float] = ..., min_interview_score: _Optional[float] = ..., min_age: _Optional[int] = ..., max_age: _Optional[int] = ..., min_education: _Optional[_Union[Education, str]] = ..., reserved_bnn_seats: _Optional[int] = ..., declared: _Optional[_Mapping[str, DeclaredValue]] = ...) -> None: ...
