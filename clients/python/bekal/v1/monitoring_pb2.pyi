import datetime

from bekal.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrolmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENROLMENT_STATUS_UNSPECIFIED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_ENROLLED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_WAITING: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_COMPLETED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_DROPPED_OUT: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_WITHDRAWN: _ClassVar[EnrolmentStatus]

class AttendanceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTENDANCE_STATUS_UNSPECIFIED: _ClassVar[AttendanceStatus]
    ATTENDANCE_STATUS_PRESENT: _ClassVar[AttendanceStatus]
    ATTENDANCE_STATUS_ABSENT: _ClassVar[AttendanceStatus]
    ATTENDANCE_STATUS_EXCUSED: _ClassVar[AttendanceStatus]
    ATTENDANCE_STATUS_LATE: _ClassVar[AttendanceStatus]

class OutcomeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_KIND_UNSPECIFIED: _ClassVar[OutcomeKind]
    OUTCOME_KIND_EMPLOYED: _ClassVar[OutcomeKind]
    OUTCOME_KIND_SELF_EMPLOYED: _ClassVar[OutcomeKind]
    OUTCOME_KIND_SEEKING_WORK: _ClassVar[OutcomeKind]
    OUTCOME_KIND_FURTHER_TRAINING: _ClassVar[OutcomeKind]

class FollowUp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FOLLOW_UP_UNSPECIFIED: _ClassVar[FollowUp]
    FOLLOW_UP_AT_COMPLETION: _ClassVar[FollowUp]
    FOLLOW_UP_MONTH_3: _ClassVar[FollowUp]
    FOLLOW_UP_MONTH_6: _ClassVar[FollowUp]
    FOLLOW_UP_MONTH_12: _ClassVar[FollowUp]

class AlertSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_SEVERITY_UNSPECIFIED: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_WARNING: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_ALERT: _ClassVar[AlertSeverity]
ENROLMENT_STATUS_UNSPECIFIED: EnrolmentStatus
ENROLMENT_STATUS_ENROLLED: EnrolmentStatus
ENROLMENT_STATUS_WAITING: EnrolmentStatus
ENROLMENT_STATUS_COMPLETED: EnrolmentStatus
ENROLMENT_STATUS_DROPPED_OUT: EnrolmentStatus
ENROLMENT_STATUS_WITHDRAWN: EnrolmentStatus
ATTENDANCE_STATUS_UNSPECIFIED: AttendanceStatus
ATTENDANCE_STATUS_PRESENT: AttendanceStatus
ATTENDANCE_STATUS_ABSENT: AttendanceStatus
ATTENDANCE_STATUS_EXCUSED: AttendanceStatus
ATTENDANCE_STATUS_LATE: AttendanceStatus
OUTCOME_KIND_UNSPECIFIED: OutcomeKind
OUTCOME_KIND_EMPLOYED: OutcomeKind
OUTCOME_KIND_SELF_EMPLOYED: OutcomeKind
OUTCOME_KIND_SEEKING_WORK: OutcomeKind
OUTCOME_KIND_FURTHER_TRAINING: OutcomeKind
FOLLOW_UP_UNSPECIFIED: FollowUp
FOLLOW_UP_AT_COMPLETION: FollowUp
FOLLOW_UP_MONTH_3: FollowUp
FOLLOW_UP_MONTH_6: FollowUp
FOLLOW_UP_MONTH_12: FollowUp
ALERT_SEVERITY_UNSPECIFIED: AlertSeverity
ALERT_SEVERITY_WARNING: AlertSeverity
ALERT_SEVERITY_ALERT: AlertSeverity

class Enrolment(_message.Message):
    __slots__ = ("enrolment_id", "client_id", "course_code", "referring_office", "provider", "status", "start_date", "end_date", "end_reason", "end_reason_shareable", "waiting_position", "job_id", "create_time", "update_time")
    ENROLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    REFERRING_OFFICE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    END_REASON_SHAREABLE_FIELD_NUMBER: _ClassVar[int]
    WAITING_POSITION_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    enrolment_id: str
    client_id: str
    course_code: str
    referring_office: str
    provider: str
    status: EnrolmentStatus
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    end_reason: str
    end_reason_shareable: bool
    waiting_position: int
    job_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, enrolment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., course_code: _Optional[str] = ..., referring_office: _Optional[str] = ..., provider: _Optional[str] = ..., status: _Optional[_Union[EnrolmentStatus, str]] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_reason: _Optional[str] = ..., end_reason_shareable: _Optional[bool] = ..., waiting_position: _Optional[int] = ..., job_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NewEnrolment(_message.Message):
    __slots__ = ("client_id", "course_code", "start_date", "status")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    course_code: str
    start_date: _date_pb2.Date
    status: EnrolmentStatus
    def __init__(self, client_id: _Optional[str] = ..., course_code: _Optional[str] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., status: _Optional[_Union[EnrolmentStatus, str]] = ...) -> None: ...

class CreateEnrolmentsRequest(_message.Message):
    __slots__ = ("request_id", "job_id", "enrolments")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLMENTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    job_id: str
    enrolments: _containers.RepeatedCompositeFieldContainer[NewEnrolment]
    def __init__(self, request_id: _Optional[str] = ..., job_id: _Optional[str] = ..., enrolments: _Optional[_Iterable[_Union[NewEnrolment, _Mapping]]] = ...) -> None: ...

class CreateEnrolmentsResponse(_message.Message):
    __slots__ = ("enrolments",)
    ENROLMENTS_FIELD_NUMBER: _ClassVar[int]
    enrolments: _containers.RepeatedCompositeFieldContainer[Enrolment]
    def __init__(self, enrolments: _Optional[_Iterable[_Union[Enrolment, _Mapping]]] = ...) -> None: ...

class EndEnrolmentRequest(_message.Message):
    __slots__ = ("enrolment_id", "status", "end_date", "reason", "reason_shareable")
    ENROLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_SHAREABLE_FIELD_NUMBER: _ClassVar[int]
    enrolment_id: str
    status: EnrolmentStatus
    end_date: _date_pb2.Date
    reason: str
    reason_shareable: bool
    def __init__(self, enrolment_id: _Optional[str] = ..., status: _Optional[_Union[EnrolmentStatus, str]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., reason: _Optional[str] = ..., reason_shareable: _Optional[bool] = ...) -> None: ...

class EndEnrolmentResponse(_message.Message):
    __slots__ = ("enrolment", "promoted")
    ENROLMENT_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_FIELD_NUMBER: _ClassVar[int]
    enrolment: Enrolment
    promoted: Enrolment
    def __init__(self, enrolment: _Optional[_Union[Enrolment, _Mapping]] = ..., promoted: _Optional[_Union[Enrolment, _Mapping]] = ...) -> None: ...

class ListEnrolmentsRequest(_message.Message):
    __slots__ = ("course_code", "page_size", "page_token")
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    course_code: str
    page_size: int
    page_token: str
    def __init__(self, course_code: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEnrolmentsResponse(_message.Message):
    __slots__ = ("enrolments", "next_page_token")
    ENROLMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    enrolments: _containers.RepeatedCompositeFieldContainer[Enrolment]
    next_page_token: str
    def __init__(self, enrolments: _Optional[_Iterable[_Union[Enrolment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetEnrolmentRecordRequest(_message.Message):
    __slots__ = ("enrolment_id",)
    ENROLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    enrolment_id: str
    def __init__(self, enrolment_id: _Optional[str] = ...) -> None: ...

class Attendance(_message.Message):
    __slots__ = ("record_id", "enrolment_id", "session_date", "status")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_DATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    enrolment_id: str
    session_date: _date_pb2.Date
    status: AttendanceStatus
    def __init__(self, record_id: _Optional[str] = ..., enrolment_id: _Optional[str] = ..., session_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., status: _Optional[_Union[AttendanceStatus, str]] = ...) -> None: ...

class ConductAssessment(_message.Message):
    __slots__ = ("record_id", "enrolment_id", "assessment_date", "rating", "note", "note_shareable")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_DATE_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    NOTE_SHAREABLE_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    enrolment_id: str
    assessment_date: _date_pb2.Date
    rating: int
    note: str
    note_shareable: bool
    def __init__(self, record_id: _Optional[str] = ..., enrolment_id: _Optional[str] = ..., assessment_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., rating: _Optional[int] = ..., note: _Optional[str] = ..., note_shareable: _Optional[bool] = ...) -> None: ...

class TrainingOutcome(_message.Message):
    __slots__ = ("record_id", "enrolment_id", "kind", "outcome_date", "follow_up")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_DATE_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UP_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    enrolment_id: str
    kind: OutcomeKind
    outcome_date: _date_pb2.Date
    follow_up: FollowUp
    def __init__(self, record_id: _Optional[str] = ..., enrolment_id: _Optional[str] = ..., kind: _Optional[_Union[OutcomeKind, str]] = ..., outcome_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., follow_up: _Optional[_Union[FollowUp, str]] = ...) -> None: ...

class RecordTrainingRequest(_message.Message):
    __slots__ = ("attendance", "conduct", "outcomes")
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    CONDUCT_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    attendance: _containers.RepeatedCompositeFieldContainer[Attendance]
    conduct: _containers.RepeatedCompositeFieldContainer[ConductAssessment]
    outcomes: _containers.RepeatedCompositeFieldContainer[TrainingOutcome]
    def __init__(self, attendance: _Optional[_Iterable[_Union[Attendance, _Mapping]]] = ..., conduct: _Optional[_Iterable[_Union[ConductAssessment, _Mapping]]] = ..., outcomes: _Optional[_Iterable[_Union[TrainingOutcome, _Mapping]]] = ...) -> None: ...

class RecordTrainingResponse(_message.Message):
    __slots__ = ("recorded", "duplicates", "alerts_raised")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    ALERTS_RAISED_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    duplicates: int
    alerts_raised: int
    def __init__(self, recorded: _Optional[int] = ..., duplicates: _Optional[int] = ..., alerts_raised: _Optional[int] = ...) -> None: ...

class GetEnrolmentRecordResponse(_message.Message):
    __slots__ = ("enrolment", "attendance", "conduct", "outcomes", "alerts")
    ENROLMENT_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    CONDUCT_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    enrolment: Enrolment
    attendance: _containers.RepeatedCompositeFieldContainer[Attendance]
    conduct: _containers.RepeatedCompositeFieldContainer[ConductAssessment]
    outcomes: _containers.RepeatedCompositeFieldContainer[TrainingOutcome]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, enrolment: _Optional[_Union[Enrolment, _Mapping]] = ..., attendance: _Optional[_Iterable[_Union[Attendance, _Mapping]]] = ..., conduct: _Optional[_Iterable[_Union[ConductAssessment, _Mapping]]] = ..., outcomes: _Optional[_Iterable[_Union[TrainingOutcome, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class AlertReason(_message.Message):
    __slots__ = ("rule_id", "messages", "source")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.LocalizedText]
    source: str
    def __init__(self, rule_id: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[_common_pb2.LocalizedText, _Mapping]]] = ..., source: _Optional[str] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("sequence", "alert_id", "enrolment_id", "client_id", "course_code", "referring_office", "severity", "reason", "ruleset_version", "raise_time", "acknowledge_time", "acknowledged_by")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    REFERRING_OFFICE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    RAISE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    alert_id: str
    enrolment_id: str
    client_id: str
    course_code: str
    referring_office: str
    severity: AlertSeverity
    reason: AlertReason
    ruleset_version: str
    raise_time: _timestamp_pb2.Timestamp
    acknowledge_time: _timestamp_pb2.Timestamp
    acknowledged_by: str
    def __init__(self, sequence: _Optional[int] = ..., alert_id: _Optional[str] = ..., enrolment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., course_code: _Optional[str] = ..., referring_office: _Optional[str] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., reason: _Optional[_Union[AlertReason, _Mapping]] = ..., ruleset_version: _Optional[str] = ..., raise_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acknowledge_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acknowledged_by: _Optional[str] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "unacknowledged_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNACKNOWLEDGED_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    unacknowledged_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., unacknowledged_only: _Optional[bool] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts", "next_page_token")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    next_page_token: str
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AcknowledgeAlertRequest(_message.Message):
    __slots__ = ("alert_id",)
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    def __init__(self, alert_id: _Optional[str] = ...) -> None: ...

class AcknowledgeAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: Alert
    def __init__(self, alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...

class WatchAlertsRequest(_message.Message):
    __slots__ = ("after_sequence", "follow")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    follow: bool
    def __init__(self, after_sequence: _Optional[int] = ..., follow: _Optional[bool] = ...) -> None: ...

class WatchAlertsResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: Alert
    def __init__(self, alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...
