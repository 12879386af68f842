from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RulesetInfo(_message.Message):
    __slots__ = ("name", "title", "file", "effective_from_date", "effective_until_date", "rule_count", "rule_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_UNTIL_DATE_FIELD_NUMBER: _ClassVar[int]
    RULE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RULE_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    file: str
    effective_from_date: _date_pb2.Date
    effective_until_date: _date_pb2.Date
    rule_count: int
    rule_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., file: _Optional[str] = ..., effective_from_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., effective_until_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., rule_count: _Optional[int] = ..., rule_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListRulesetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRulesetsResponse(_message.Message):
    __slots__ = ("ruleset_version", "rulesets", "course_codes")
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    RULESETS_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODES_FIELD_NUMBER: _ClassVar[int]
    ruleset_version: str
    rulesets: _containers.RepeatedCompositeFieldContainer[RulesetInfo]
    course_codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ruleset_version: _Optional[str] = ..., rulesets: _Optional[_Iterable[_Union[RulesetInfo, _Mapping]]] = ..., course_codes: _Optional[_Iterable[str]] = ...) -> None: ...

class GetRulesetRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRulesetResponse(_message.Message):
    __slots__ = ("ruleset_version", "ruleset", "source")
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    RULESET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ruleset_version: str
    ruleset: RulesetInfo
    source: str
    def __init__(self, ruleset_version: _Optional[str] = ..., ruleset: _Optional[_Union[RulesetInfo, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class RuleFile(_message.Message):
    __slots__ = ("path", "content")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: str
    def __init__(self, path: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ValidateRulesRequest(_message.Message):
    __slots__ = ("files", "overlay_loaded")
    FILES_FIELD_NUMBER: _ClassVar[int]
    OVERLAY_LOADED_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[RuleFile]
    overlay_loaded: bool
    def __init__(self, files: _Optional[_Iterable[_Union[RuleFile, _Mapping]]] = ..., overlay_loaded: _Optional[bool] = ...) -> None: ...

class Diagnostic(_message.Message):
    __slots__ = ("file", "line", "column", "message", "hint", "text")
    FILE_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    file: str
    line: int
    column: int
    message: str
    hint: str
    text: str
    def __init__(self, file: _Optional[str] = ..., line: _Optional[int] = ..., column: _Optional[int] = ..., message: _Optional[str] = ..., hint: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class ValidateRulesResponse(_message.Message):
    __slots__ = ("valid", "ruleset_version", "diagnostics", "rulesets")
    VALID_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    RULESETS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    ruleset_version: str
    diagnostics: _containers.RepeatedCompositeFieldContainer[Diagnostic]
    rulesets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, valid: _Optional[bool] = ..., ruleset_version: _Optional[str] = ..., diagnostics: _Optional[_Iterable[_Union[Diagnostic, _Mapping]]] = ..., rulesets: _Optional[_Iterable[str]] = ...) -> None: ...

class ReloadRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReloadRulesResponse(_message.Message):
    __slots__ = ("ruleset_version", "previous_version", "changed")
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    ruleset_version: str
    previous_version: str
    changed: bool
    def __init__(self, ruleset_version: _Optional[str] = ..., previous_version: _Optional[str] = ..., changed: _Optional[bool] = ...) -> None: ...
