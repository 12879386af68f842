"""Parse a rule's `when:` condition with lark, keeping line and column of every node."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from bekal.i18n import N_, _
from bekal.lang import ast
from bekal.lang.diagnostics import Diagnostic, Location, RuleError

MAX_DEPTH = 24  # nesting of a condition (not, and/or, parentheses, arithmetic); real rules use 3 or 4

# Friendly names for the grammar's terminals, for "expected ..." messages (shown through _()).
_TERMINALS = {
    "NAME": N_("a fact such as client.age"), "SIGNED_NUMBER": N_("a number"), "STRING": N_('a "text"'),
    "DATE": N_("a date YYYY-MM-DD"), "COMP_OP": N_("a comparison (< <= > >= == !=)"), "ADD_OP": "+ or -",
    "MUL_OP": "* or /", "_OR": "or", "_AND": "and", "_NOT": "not", "_IN": "in", "_EXISTS": "exists",
    "_MATCHES": "matches", "_CONTAINS": "contains", "_TRUE": "true", "_FALSE": "false",
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "COMMA": ",", "DOT": ".", "$END": N_("end of condition"),
}
KEYWORDS = ("or", "and", "not", "in", "exists", "matches", "contains", "true", "false")
# Words authors write for the language's English keywords (Indonesian, or another case)
SLIPS = {"dan": "and", "atau": "or", "tidak": "not", "bukan": "not", "tak": "not", "ada": "exists",
         "benar": "true", "salah": "false", "ya": "true", "dalam": "in", "berisi": "contains"}
_STRINGS = re.compile(r'"[^"\n]*"|\'[^\'\n]*\'|#[^\n]*')
_BARE_WORD = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)(?![\w.])")


@functools.cache
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


class _Build(Transformer[Token, Any]):
    """Tree -> ast, translating positions inside the condition text to positions in the file."""

    def __init__(self, where: Callable[[int, int], Location]):
        super().__init__()
        self.where = where

    def _loc(self, meta_or_token: Any) -> Location:
        return self.where(meta_or_token.line, meta_or_token.column)

    @v_args(meta=True)
    def fact(self, meta: Any, names: Sequence[Any]) -> ast.FactRef | ast.ParamRef:
        name = ".".join(str(n) for n in names)
        if str(names[0]) == "param":
            return ast.ParamRef(name, self._loc(meta))
        return ast.FactRef(name, self._loc(meta))

    @v_args(meta=True)
    def number(self, meta: Any, children: Sequence[Any]) -> Any:
        text = str(children[0])
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return ast.Literal(value, self._loc(meta))

    @v_args(meta=True)
    def string(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.Literal(str(children[0])[1:-1], self._loc(meta))

    @v_args(meta=True)
    def date(self, meta: Any, children: Sequence[Any]) -> Any:
        try:
            value = date.fromisoformat(str(children[0]))
        except ValueError:
            raise RuleError([Diagnostic(self._loc(meta), _("not a real date: {date}", date=children[0]),
                                        _("check the month (01-12) and the day of the month"))]) from None
        return ast.Literal(value, self._loc(meta))

    @v_args(meta=True)
    def true(self, meta: Any, _: Sequence[Any]) -> Any:
        return ast.Literal(True, self._loc(meta))

    @v_args(meta=True)
    def false(self, meta: Any, _: Sequence[Any]) -> Any:
        return ast.Literal(False, self._loc(meta))

    @v_args(meta=True)
    def arith(self, meta: Any, children: Sequence[Any]) -> Any:
        left, op, right = children
        return ast.Arith(str(op), left, right, self._loc(meta))

    @v_args(meta=True)
    def compare(self, meta: Any, children: Sequence[Any]) -> Any:
        left, op, right = children
        return ast.Compare(str(op), left, right, self._loc(meta))

    def list(self, children: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(children)

    @v_args(meta=True)
    def in_(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.In(children[0], children[1] if len(children) > 1 else (), False, self._loc(meta))

    @v_args(meta=True)
    def not_in(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.In(children[0], children[1] if len(children) > 1 else (), True, self._loc(meta))

    @v_args(meta=True)
    def exists(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.Exists(children[0], False, self._loc(meta))

    @v_args(meta=True)
    def not_exists(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.Exists(children[0], True, self._loc(meta))

    def _match(self, meta: Any, children: Sequence[Any], op: str) -> ast.Match:
        value, pattern = children
        return ast.Match(value, op, str(pattern)[1:-1], self._loc(meta), self._loc(pattern))

    @v_args(meta=True)
    def matches(self, meta: Any, children: Sequence[Any]) -> Any:
        return self._match(meta, children, "matches")

    @v_args(meta=True)
    def contains(self, meta: Any, children: Sequence[Any]) -> Any:
        return self._match(meta, children, "contains")

    @v_args(meta=True)
    def and_expr(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.And(tuple(children), self._loc(meta))

    @v_args(meta=True)
    def or_expr(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.Or(tuple(children), self._loc(meta))

    @v_args(meta=True)
    def not_(self, meta: Any, children: Sequence[Any]) -> Any:
        return ast.Not(children[0], self._loc(meta))


class _Where:
    """Maps (line, col) inside the condition text to a file Location."""

    def __init__(self, start: Location, absolute_cols: bool):
        self.start = start
        self.absolute_cols = absolute_cols

    def __call__(self, line: int, col: int) -> Location:
        if line == 1 and not self.absolute_cols:
            return Location(self.start.file, self.start.line, self.start.col + col - 1)
        return Location(self.start.file, self.start.line + line - 1, col)


def _describe(expected: set[str]) -> str:
    names = sorted({_(_TERMINALS[e]) if e in _TERMINALS else e for e in expected if not e.startswith("__")})
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


def _bare_words(text: str, where: Callable[[int, int], Location]) -> list[Diagnostic]:
    """Every word of ``text`` that is neither a keyword nor part of a fact (``client.x``): never valid,
    so each says what went wrong better than the parser can (``dan`` for ``and``, ``bnn`` for ``"bnn"``)."""
    out = []
    blanked = _STRINGS.sub(lambda m: " " * len(m.group(0)), text)
    for m in _BARE_WORD.finditer(blanked):
        word = m.group(1)
        if word in KEYWORDS or (word == "param" and blanked[m.end():m.end() + 1] == "."):
            continue
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        loc = where(line, col)
        good = SLIPS.get(word.lower()) or (word.lower() if word.lower() in KEYWORDS else None)
        if good is not None and word.lower() in SLIPS:
            hint = _("conditions use the English words and, or, not, in, exists, true, false: write {good!r} "
                     "instead of {bad!r}", good=good, bad=word)
        elif good is not None:
            hint = _("write {good!r} in lower case", good=good)
        else:
            hint = _("a text value is written in quotes: \"{word}\"; a fact is written client.NAME or "
                     "course.NAME", word=word)
        out.append(Diagnostic(loc, _("unexpected {word!r}", word=word), hint))
    return out


def _syntax_errors(exc: UnexpectedInput, text: str, where: Callable[[int, int], Location]) -> list[Diagnostic]:
    """What went wrong: the slips an author makes (``dan``, a value without quotes) if there are any,
    each where it is written; otherwise the parser's own finding."""
    if not isinstance(exc, UnexpectedCharacters):
        bare = _bare_words(text, where)
        if bare:
            return bare
    return [_syntax_error(exc, text, where)]


def _syntax_error(exc: UnexpectedInput, text: str, where: Callable[[int, int], Location]) -> Diagnostic:
    loc = where(exc.line, exc.column) if exc.line > 0 else where(1, 1)
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char
        if char in "\"'":
            return Diagnostic(loc, _("unterminated string"), _("close the text with {char} on the same line",
                                                                char=char))
        if char == "=":
            after = text.splitlines()[exc.line - 1][exc.column:] if exc.line > 0 else ""
            if after.startswith((">", "<")):  # => or =<
                return Diagnostic(loc, _("unexpected '='"), _("write {op} (the '=' comes second)",
                                                              op=after[0] + "="))
            return Diagnostic(loc, _("unexpected '='"), _("compare with == (equal) or != (not equal)"))
        if char == "&" or char == "|":
            return Diagnostic(loc, _("unexpected {char!r}", char=char), _("write 'and' / 'or' in words"))
        if char == "\t":
            return Diagnostic(loc, _("a tab in the condition"), _("use spaces, not tabs"))
        return Diagnostic(loc, _("unexpected character {char!r}", char=char),
                          _("expected {what}", what=_describe(set(exc.allowed or ()))))
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        end = where(*_end_of(text))
        return Diagnostic(end, _("condition ends too early"), _("expected {what}", what=_describe(set(exc.expected))))
    assert isinstance(exc, UnexpectedToken)
    return Diagnostic(loc, _("unexpected {token}", token=str(exc.token)[:40]),
                      _("expected {what}", what=_describe(set(exc.expected))))


def _end_of(text: str) -> tuple[int, int]:
    stripped = text.rstrip()
    lines = stripped.split("\n")
    return len(lines), len(lines[-1]) + 1


def _check_depth(tree: Tree[Token], where: Callable[[int, int], Location], start: Location) -> None:
    """Refuse a condition nested deeper than MAX_DEPTH before anything recursive walks it.

    lark's LALR parser is iterative, so 1,000 nested ``not`` or a 1,000-term sum parse fine;
    building the syntax tree, checking and compiling it recurse and would hit Python's limit."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            loc = where(meta.line, meta.column) if not meta.empty else start
            raise RuleError([Diagnostic(loc, _("condition nested more than {n} levels deep", n=MAX_DEPTH),
                                        _("split it into several rules or simpler parts"))])
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def parse_condition(text: str, start: Location, absolute_cols: bool = False,
                    where: Callable[[int, int], Location] | None = None) -> ast.Expr:
    """Parse condition ``text`` that begins at ``start`` in its file.

    ``absolute_cols``: columns on every line of ``text`` are file columns (the text
    was cut from the file with its indentation); otherwise only lines after the first are.
    ``where``: maps (line, col) in ``text`` to its file Location, when neither rule fits.
    Raises RuleError with the exact position of a syntax error.
    """
    where = where or _Where(start, absolute_cols)
    if not text.strip():
        raise RuleError([Diagnostic(start, _("empty condition"), _("write a condition such as: client.age <= 18"))])
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise RuleError(_syntax_errors(exc, text, where)) from None
    _check_depth(tree, where, start)
    try:
        result = _Build(where).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RuleError):
            raise exc.orig_exc from None
        raise
    if isinstance(result, (Tree, Token)):  # pragma: no cover - grammar always builds ast nodes
        raise RuleError([Diagnostic(start, _("could not understand the condition"))])
    expr: ast.Expr = result
    return expr
