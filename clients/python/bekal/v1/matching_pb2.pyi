import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.type import date_pb2 as _date_pb2
from bekal.v1 import decision_pb2 as _decision_pb2
from bekal.v1 import eligibility_pb2 as _eligibility_pb2
from bekal.v1 import facts_pb2 as _facts_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReserveOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVE_ORDER_UNSPECIFIED: _ClassVar[ReserveOrder]
    RESERVE_ORDER_OPEN_FIRST: _ClassVar[ReserveOrder]
    RESERVE_ORDER_RESERVED_FIRST: _ClassVar[ReserveOrder]

class NotPlacedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOT_PLACED_REASON_UNSPECIFIED: _ClassVar[NotPlacedReason]
    NOT_PLACED_REASON_INELIGIBLE: _ClassVar[NotPlacedReason]
    NOT_PLACED_REASON_PENDING: _ClassVar[NotPlacedReason]
    NOT_PLACED_REASON_NOT_RANKED: _ClassVar[NotPlacedReason]
    NOT_PLACED_REASON_FULL: _ClassVar[NotPlacedReason]
    NOT_PLACED_REASON_WITHHELD: _ClassVar[NotPlacedReason]

class MatchJobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_JOB_STATUS_UNSPECIFIED: _ClassVar[MatchJobStatus]
    MATCH_JOB_STATUS_QUEUED: _ClassVar[MatchJobStatus]
    MATCH_JOB_STATUS_RUNNING: _ClassVar[MatchJobStatus]
    MATCH_JOB_STATUS_SUCCEEDED: _ClassVar[MatchJobStatus]
    MATCH_JOB_STATUS_FAILED: _ClassVar[MatchJobStatus]

class MatchJobPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_JOB_PHASE_UNSPECIFIED: _ClassVar[MatchJobPhase]
    MATCH_JOB_PHASE_QUEUED: _ClassVar[MatchJobPhase]
    MATCH_JOB_PHASE_ELIGIBILITY: _ClassVar[MatchJobPhase]
    MATCH_JOB_PHASE_MATCHING: _ClassVar[MatchJobPhase]
    MATCH_JOB_PHASE_EXPLAINING: _ClassVar[MatchJobPhase]
    MATCH_JOB_PHASE_SAVING: _ClassVar[MatchJobPhase]
    MATCH_JOB_PHASE_DONE: _ClassVar[MatchJobPhase]
RESERVE_ORDER_UNSPECIFIED: ReserveOrder
RESERVE_ORDER_OPEN_FIRST: ReserveOrder
RESERVE_ORDER_RESERVED_FIRST: ReserveOrder
NOT_PLACED_REASON_UNSPECIFIED: NotPlacedReason
NOT_PLACED_REASON_INELIGIBLE: NotPlacedReason
NOT_PLACED_REASON_PENDING: NotPlacedReason
NOT_PLACED_REASON_NOT_RANKED: NotPlacedReason
NOT_PLACED_REASON_FULL: NotPlacedReason
NOT_PLACED_REASON_WITHHELD: NotPlacedReason
MATCH_JOB_STATUS_UNSPECIFIED: MatchJobStatus
MATCH_JOB_STATUS_QUEUED: MatchJobStatus
MATCH_JOB_STATUS_RUNNING: MatchJobStatus
MATCH_JOB_STATUS_SUCCEEDED: MatchJobStatus
MATCH_JOB_STATUS_FAILED: MatchJobStatus
MATCH_JOB_PHASE_UNSPECIFIED: MatchJobPhase
MATCH_JOB_PHASE_QUEUED: MatchJobPhase
MATCH_JOB_PHASE_ELIGIBILITY: MatchJobPhase
MATCH_JOB_PHASE_MATCHING: MatchJobPhase
MATCH_JOB_PHASE_EXPLAINING: MatchJobPhase
MATCH_JOB_PHASE_SAVING: MatchJobPhase
MATCH_JOB_PHASE_DONE: MatchJobPhase

class MatchSettings(_message.Message):
    __slots__ = ("as_of_date", "seed", "reserve_order", "audience")
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    RESERVE_ORDER_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    as_of_date: _date_pb2.Date
    seed: int
    reserve_order: ReserveOrder
    audience: _eligibility_pb2.Audience
    def __init__(self, as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., seed: _Optional[int] = ..., reserve_order: _Optional[_Union[ReserveOrder, str]] = ..., audience: _Optional[_Union[_eligibility_pb2.Audience, str]] = ...) -> None: ...

class CourseRanking(_message.Message):
    __slots__ = ("course_code", "client_ids")
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    course_code: str
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, course_code: _Optional[str] = ..., client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MatchRequest(_message.Message):
    __slots__ = ("settings", "clients", "courses", "rankings")
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    RANKINGS_FIELD_NUMBER: _ClassVar[int]
    settings: MatchSettings
    clients: _containers.RepeatedCompositeFieldContainer[_facts_pb2.Client]
    courses: _containers.RepeatedCompositeFieldContainer[_facts_pb2.Course]
    rankings: _containers.RepeatedCompositeFieldContainer[CourseRanking]
    def __init__(self, settings: _Optional[_Union[MatchSettings, _Mapping]] = ..., clients: _Optional[_Iterable[_Union[_facts_pb2.Client, _Mapping]]] = ..., courses: _Optional[_Iterable[_Union[_facts_pb2.Course, _Mapping]]] = ..., rankings: _Optional[_Iterable[_Union[CourseRanking, _Mapping]]] = ...) -> None: ...

class MatchResponse(_message.Message):
    __slots__ = ("summary", "courses", "placements")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    summary: MatchSummary
    courses: _containers.RepeatedCompositeFieldContainer[CourseFill]
    placements: _containers.RepeatedCompositeFieldContainer[ClientPlacement]
    def __init__(self, summary: _Optional[_Union[MatchSummary, _Mapping]] = ..., courses: _Optional[_Iterable[_Union[CourseFill, _Mapping]]] = ..., placements: _Optional[_Iterable[_Union[ClientPlacement, _Mapping]]] = ...) -> None: ...

class Standing(_message.Message):
    __slots__ = ("priority", "rank", "lottery")
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_FIELD_NUMBER: _ClassVar[int]
    priority: int
    rank: int
    lottery: int
    def __init__(self, priority: _Optional[int] = ..., rank: _Optional[int] = ..., lottery: _Optional[int] = ...) -> None: ...

class NotPlaced(_message.Message):
    __slots__ = ("course_code", "reason", "reasons", "missing", "cutoff", "standing")
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_FIELD_NUMBER: _ClassVar[int]
    STANDING_FIELD_NUMBER: _ClassVar[int]
    course_code: str
    reason: NotPlacedReason
    reasons: _containers.RepeatedCompositeFieldContainer[_decision_pb2.Reason]
    missing: _containers.RepeatedScalarFieldContainer[str]
    cutoff: Standing
    standing: Standing
    def __init__(self, course_code: _Optional[str] = ..., reason: _Optional[_Union[NotPlacedReason, str]] = ..., reasons: _Optional[_Iterable[_Union[_decision_pb2.Reason, _Mapping]]] = ..., missing: _Optional[_Iterable[str]] = ..., cutoff: _Optional[_Union[Standing, _Mapping]] = ..., standing: _Optional[_Union[Standing, _Mapping]] = ...) -> None: ...

class ClientPlacement(_message.Message):
    __slots__ = ("client_id", "course_code", "choice", "standing", "priority_group", "lottery", "why_not")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    CHOICE_FIELD_NUMBER: _ClassVar[int]
    STANDING_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_GROUP_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_FIELD_NUMBER: _ClassVar[int]
    WHY_NOT_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    course_code: str
    choice: int
    standing: Standing
    priority_group: bool
    lottery: int
    why_not: _containers.RepeatedCompositeFieldContainer[NotPlaced]
    def __init__(self, client_id: _Optional[str] = ..., course_code: _Optional[str] = ..., choice: _Optional[int] = ..., standing: _Optional[_Union[Standing, _Mapping]] = ..., priority_group: _Optional[bool] = ..., lottery: _Optional[int] = ..., why_not: _Optional[_Iterable[_Union[NotPlaced, _Mapping]]] = ...) -> None: ...

class CourseFill(_message.Message):
    __slots__ = ("course_code", "seats", "reserved_seats", "filled", "applicants", "eligible", "group_admitted", "group_on_reserved", "cutoff", "open_cutoff", "ranked")
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    RESERVED_SEATS_FIELD_NUMBER: _ClassVar[int]
    FILLED_FIELD_NUMBER: _ClassVar[int]
    APPLICANTS_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    GROUP_ADMITTED_FIELD_NUMBER: _ClassVar[int]
    GROUP_ON_RESERVED_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_FIELD_NUMBER: _ClassVar[int]
    OPEN_CUTOFF_FIELD_NUMBER: _ClassVar[int]
    RANKED_FIELD_NUMBER: _ClassVar[int]
    course_code: str
    seats: int
    reserved_seats: int
    filled: int
    applicants: int
    eligible: int
    group_admitted: int
    group_on_reserved: int
    cutoff: Standing
    open_cutoff: Standing
    ranked: bool
    def __init__(self, course_code: _Optional[str] = ..., seats: _Optional[int] = ..., reserved_seats: _Optional[int] = ..., filled: _Optional[int] = ..., applicants: _Optional[int] = ..., eligible: _Optional[int] = ..., group_admitted: _Optional[int] = ..., group_on_reserved: _Optional[int] = ..., cutoff: _Optional[_Union[Standing, _Mapping]] = ..., open_cutoff: _Optional[_Union[Standing, _Mapping]] = ..., ranked: _Optional[bool] = ...) -> None: ...

class MatchSummary(_message.Message):
    __slots__ = ("clients", "placed", "unmatched", "courses", "seats", "seats_filled", "courses_full", "group_clients", "group_placed", "reserved_seats", "reserved_to_group", "first_choice", "pairs", "eligible_pairs", "ineligible_pairs", "pending_pairs", "withheld_pairs", "not_ranked_pairs", "proposals", "ruleset_version", "as_of_date", "seed", "reserve_order")
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    PLACED_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    SEATS_FILLED_FIELD_NUMBER: _ClassVar[int]
    COURSES_FULL_FIELD_NUMBER: _ClassVar[int]
    GROUP_CLIENTS_FIELD_NUMBER: _ClassVar[int]
    GROUP_PLACED_FIELD_NUMBER: _ClassVar[int]
    RESERVED_SEATS_FIELD_NUMBER: _ClassVar[int]
    RESERVED_TO_GROUP_FIELD_NUMBER: _ClassVar[int]
    FIRST_CHOICE_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_PAIRS_FIELD_NUMBER: _ClassVar[int]
    INELIGIBLE_PAIRS_FIELD_NUMBER: _ClassVar[int]
    PENDING_PAIRS_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_PAIRS_FIELD_NUMBER: _ClassVar[int]
    NOT_RANKED_PAIRS_FIELD_NUMBER: _ClassVar[int]
    PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    RESERVE_ORDER_FIELD_NUMBER: _ClassVar[int]
    clients: int
    placed: int
    unmatched: int
    courses: int
    seats: int
    seats_filled: int
    courses_full: int
    group_clients: int
    group_placed: int
    reserved_seats: int
    reserved_to_group: int
    first_choice: int
    pairs: int
    eligible_pairs: int
    ineligible_pairs: int
    pending_pairs: int
    withheld_pairs: int
    not_ranked_pairs: int
    proposals: int
    ruleset_version: str
    as_of_date: _date_pb2.Date
    seed: int
    reserve_order: ReserveOrder
    def __init__(self, clients: _Optional[int] = ..., placed: _Optional[int] = ..., unmatched: _Optional[int] = ..., courses: _Optional[int] = ..., seats: _Optional[int] = ..., seats_filled: _Optional[int] = ..., courses_full: _Optional[int] = ..., group_clients: _Optional[int] = ..., group_placed: _Optional[int] = ..., reserved_seats: _Optional[int] = ..., reserved_to_group: _Optional[int] = ..., first_choice: _Optional[int] = ..., pairs: _Optional[int] = ..., eligible_pairs: _Optional[int] = ..., ineligible_pairs: _Optional[int] = ..., pending_pairs: _Optional[int] = ..., withheld_pairs: _Optional[int] = ..., not_ranked_pairs: _Optional[int] = ..., proposals: _Optional[int] = ..., ruleset_version: _Optional[str] = ..., as_of_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., seed: _Optional[int] = ..., reserve_order: _Optional[_Union[ReserveOrder, str]] = ...) -> None: ...

class UploadCohortRequest(_message.Message):
    __slots__ = ("request_id", "settings", "clients", "courses", "rankings")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    RANKINGS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    settings: MatchSettings
    clients: _containers.RepeatedCompositeFieldContainer[_facts_pb2.Client]
    courses: _containers.RepeatedCompositeFieldContainer[_facts_pb2.Course]
    rankings: _containers.RepeatedCompositeFieldContainer[CourseRanking]
    def __init__(self, request_id: _Optional[str] = ..., settings: _Optional[_Union[MatchSettings, _Mapping]] = ..., clients: _Optional[_Iterable[_Union[_facts_pb2.Client, _Mapping]]] = ..., courses: _Optional[_Iterable[_Union[_facts_pb2.Course, _Mapping]]] = ..., rankings: _Optional[_Iterable[_Union[CourseRanking, _Mapping]]] = ...) -> None: ...

class UploadCohortResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: MatchJob
    def __init__(self, job: _Optional[_Union[MatchJob, _Mapping]] = ...) -> None: ...

class MatchJob(_message.Message):
    __slots__ = ("job_id", "status", "phase", "progress_done", "progress_total", "clients", "courses", "settings", "summary", "course_fills", "error", "create_time", "update_time", "attempts", "operation_name")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_DONE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    COURSE_FILLS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    OPERATION_NAME_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: MatchJobStatus
    phase: MatchJobPhase
    progress_done: int
    progress_total: int
    clients: int
    courses: int
    settings: MatchSettings
    summary: MatchSummary
    course_fills: _containers.RepeatedCompositeFieldContainer[CourseFill]
    error: _status_pb2.Status
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    attempts: int
    operation_name: str
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[_Union[MatchJobStatus, str]] = ..., phase: _Optional[_Union[MatchJobPhase, str]] = ..., progress_done: _Optional[int] = ..., progress_total: _Optional[int] = ..., clients: _Optional[int] = ..., courses: _Optional[int] = ..., settings: _Optional[_Union[MatchSettings, _Mapping]] = ..., summary: _Optional[_Union[MatchSummary, _Mapping]] = ..., course_fills: _Optional[_Iterable[_Union[CourseFill, _Mapping]]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., operation_name: _Optional[str] = ...) -> None: ...

class GetMatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetMatchJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: MatchJob
    def __init__(self, job: _Optional[_Union[MatchJob, _Mapping]] = ...) -> None: ...

class StreamPlacementsRequest(_message.Message):
    __slots__ = ("job_id", "offset")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    offset: int
    def __init__(self, job_id: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class StreamPlacementsResponse(_message.Message):
    __slots__ = ("placements",)
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    placements: _containers.RepeatedCompositeFieldContainer[ClientPlacement]
    def __init__(self, placements: _Optional[_Iterable[_Union[ClientPlacement, _Mapping]]] = ...) -> None: ...
