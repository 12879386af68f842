"""YAML with positions: every value keeps the line and column it was written at.

PyYAML's composer gives nodes with marks; we turn them into plain Python values
wrapped in ``Node`` so the parser can point at the exact spot of any problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from bekal.i18n import _
from bekal.lang.diagnostics import Diagnostic, Location, RuleError

MAX_BYTES = 1_000_000  # a rule file is hand-written prose and conditions; 1 MB is far beyond any real one
MAX_DEPTH = 32  # nesting of mappings and lists; the default rule files use 5
MAX_VALUES = 100_000  # values after expanding aliases (`*ready`); a 342-byte alias bomb expands to billions


def _too_large(text: str) -> bool:
    """The one size check for rule file text (the CLI, the server and ValidateRules all come here)."""
    return len(text.encode("utf-8", "replace")) > MAX_BYTES


def too_large_diagnostic(file: str) -> Diagnostic:
    return Diagnostic(Location(file, 1, 1), _("file is larger than {n} MB", n=MAX_BYTES // 1_000_000),
                      _("split it into several rule files"))


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value and where it starts. Mappings hold ``dict[str, Node]``, sequences ``list[Node]``."""

    value: Any
    loc: Location
    style: str | None = None  # scalar style: None (plain), "'", '"', "|", ">"
    raw: str | None = None  # a scalar's text exactly as written in the file (quotes, newlines and all)

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if isinstance(self.value, dict) else None

    @property
    def plain(self) -> Any:
        """The value without positions."""
        if isinstance(self.value, dict):
            return {k: v.plain for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain for v in self.value]
        return self.value


class _Constructor(yaml.SafeLoader):
    pass


class _TextDates(_Constructor):
    """Dates stay text (a facts file: bekal.facts checks them and names the field of an impossible one)."""


_TextDates.add_constructor("tag:yaml.org,2002:timestamp",
                           lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]


def _loc(file: str, mark: Any) -> Location:  # a yaml Mark (PyYAML's or libyaml's), or None
    if mark is None:
        return Location(file, 1, 1)
    return Location(file, mark.line + 1, mark.column + 1)


def _construct(file: str, node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # PyYAML raises a bare ValueError for an impossible date such as 2019-02-30
        where = _loc(file, node.start_mark)
        if node.tag.endswith(":timestamp"):
            raise RuleError([Diagnostic(where, _("not a real date: {date}", date=node.value),
                                        _("write a date YYYY-MM-DD"))]) from None
        raise RuleError([Diagnostic(where, _("cannot read {value!r}: {error}", value=node.value, error=exc))]) from None


def _prescan(file: str, text: str) -> None:
    """Refuse deep nesting and alias bombs before anything recursive or copying reads the file.

    PyYAML's parser is a state machine, so reading its events is safe at any depth; its
    composer and our conversion recurse (1,000 nested lists end in a RecursionError), and
    expanding aliases and ``<<:`` merges copies values (a 342-byte file can expand to
    billions). The expanded size of every anchor is counted here as the events go by."""
    sizes: dict[str, int] = {}
    frames: list[list[Any]] = []  # [anchor, values so far]
    total = 0

    def add(n: int, event: yaml.Event) -> None:
        nonlocal total
        if frames:
            frames[-1][1] += n
        else:
            total += n
        if (frames[-1][1] if frames else total) > MAX_VALUES:
            raise RuleError([Diagnostic(_loc(file, event.start_mark),
                                        _("the file expands to more than {n} values (through aliases such as "
                                          "*name)", n=format(MAX_VALUES, ",")),
                                        _("use fewer aliases, or merge with <<: *name only once"))])

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(frames) >= MAX_DEPTH:
                raise RuleError([Diagnostic(_loc(file, event.start_mark),
                                            _("nested more than {n} levels deep", n=MAX_DEPTH),
                                            _("rule files need only a few levels: check the indentation"))])
            frames.append([event.anchor, 1])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size = frames.pop()
            if anchor:
                sizes[anchor] = size
            add(size, event)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                sizes[event.anchor] = 1
            add(1, event)
        elif isinstance(event, yaml.AliasEvent):
            add(sizes.get(event.anchor or "", 1), event)


def _duplicate_hint(key: str, before: list[tuple[yaml.Node, yaml.Node]]) -> str:
    """Why a key may appear twice: the lines meant to go under an empty key (``reason:``) were not indented."""
    for key_node, value_node in reversed(before):
        if isinstance(value_node, yaml.ScalarNode) and value_node.value == "" and value_node.style is None:
            parent = key_node.value
            return _("{parent!r} has no value: if {key!r} and the lines after it belong under {parent!r}, indent "
                     "them further than {parent!r} (with spaces)", parent=parent, key=key)
    return _("each key may appear once in a mapping; remove or rename one of them")


def _convert(file: str, node: yaml.Node, loader: yaml.SafeLoader, text: str) -> Node:
    loc = _loc(file, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for k, _v in node.value if k.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)  # resolve `<<: *anchor` merges: merged pairs first, own keys override
        n_merged = len(node.value) - own
        out: dict[str, Node] = {}
        own_keys: set[str] = set()
        for position, (key_node, value_node) in enumerate(node.value):
            key = _construct(file, key_node, loader)
            if isinstance(key, date):  # a date as a key (a parameter's values by date): kept as written
                key = key_node.value
            if not isinstance(key, str):
                raise RuleError([Diagnostic(_loc(file, key_node.start_mark), _("a key must be text, got {key!r}",
                                                                                 key=key))])
            if position >= n_merged:
                if key in own_keys:
                    raise RuleError([Diagnostic(_loc(file, key_node.start_mark), _("duplicate key {key!r}", key=key),
                                                _duplicate_hint(key, node.value[n_merged:position]))])
                own_keys.add(key)
            out[key] = _convert(file, value_node, loader, text)
        return Node(out, loc)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(file, item, loader, text) for item in node.value], loc)
    value = _construct(file, node, loader)
    style = node.style if isinstance(node, yaml.ScalarNode) else None
    return Node(value, loc, style, text[node.start_mark.index : node.end_mark.index])


def load_yaml(file: str, text: str, dates_as_text: bool = False) -> Node | None:
    """Parse one YAML document; ``None`` for an empty file. Raises RuleError with the position.

    ``dates_as_text``: a date is the text written (for input facts, checked as facts)."""
    if _too_large(text):
        raise RuleError([too_large_diagnostic(file)])
    loader = (_TextDates if dates_as_text else _Constructor)(text)
    try:
        _prescan(file, text)
        node = loader.get_single_node()
        return None if node is None else _convert(file, node, loader, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(file, mark) if mark else Location(file, 1, 1)
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "not valid YAML"
        if "'\\t'" in problem:  # PyYAML: found character '\t' that cannot start any token
            raise RuleError([Diagnostic(where, _("a tab character: YAML files are indented with spaces only"),
                                        _("replace the tab with spaces (set your editor to insert spaces for Tab)"))
                             ]) from None
        raise RuleError([Diagnostic(where, _("not valid YAML: {problem}", problem=problem),
                                    _("check indentation, colons and closing quotes"))]) from None
    except yaml.YAMLError as exc:
        raise RuleError([Diagnostic(Location(file, 1, 1), _("not valid YAML: {problem}", problem=exc))]) from None
    finally:
        loader.dispose()
