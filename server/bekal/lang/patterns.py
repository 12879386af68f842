"""Validate durable_rules' string-pattern dialect (used by ``matches``) before the engine sees it.

The dialect (docs/json/reference.md, "Pattern Matching") is not Python's ``re``:
``%d %a %l %u %s %w %p %c %x`` are classes, ``%`` escapes a special character,
``. [] () | + * ? {n} {n,m}`` work as usual. A bad pattern must be reported at its
``file:line:col`` by ``bekal rules check``, not as a crash when the ruleset loads.
"""

from __future__ import annotations

CLASSES = set("acdlpsuwx")
SPECIAL = set(".[](){}|+*?%")


def pattern_error(pattern: str) -> tuple[int, str] | None:
    """``(offset, message)`` of the first problem in ``pattern``, or None when it is valid."""
    depth: list[int] = []  # offsets of open '('
    can_repeat = False  # is there an item a quantifier could apply to?
    i, n = 0, len(pattern)
    if n == 0:
        return 0, "empty pattern"
    while i < n:
        ch = pattern[i]
        if ch == "%":
            if i + 1 >= n:
                return i, "pattern ends with '%'; write %% for a percent sign"
            nxt = pattern[i + 1]
            if nxt.isalnum() and nxt not in CLASSES:
                return i, f"unknown class '%{nxt}'; classes are %a %c %d %l %p %s %u %w %x"
            i, can_repeat = i + 2, True
        elif ch == "[":
            end = i + 1
            if end < n and pattern[end] == "^":
                end += 1
            start_body = end
            while end < n and pattern[end] != "]":
                end += 2 if pattern[end] == "%" else 1
            if end >= n:
                return i, "'[' is never closed with ']'"
            if end == start_body:
                return i, "empty character range '[]'"
            i, can_repeat = end + 1, True
        elif ch == "]":
            return i, "']' without '['"
        elif ch == "(":
            depth.append(i)
            i, can_repeat = i + 1, False
        elif ch == ")":
            if not depth:
                return i, "')' without '('"
            depth.pop()
            i, can_repeat = i + 1, True
        elif ch == "|":
            i, can_repeat = i + 1, False
        elif ch in "+*?":
            if not can_repeat:
                return i, f"'{ch}' has nothing to repeat"
            i, can_repeat = i + 1, False
        elif ch == "{":
            end = pattern.find("}", i)
            body = pattern[i + 1 : end] if end > 0 else ""
            parts = body.split(",")
            if end < 0 or not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
                return i, "a repeat is written {n} or {n,m} with whole numbers"
            if not can_repeat:
                return i, "'{' has nothing to repeat"
            i, can_repeat = end + 1, False
        elif ch == "}":
            return i, "'}' without '{'"
        else:
            i, can_repeat = i + 1, True
    if depth:
        return depth[-1], "'(' is never closed with ')'"
    return None


def literal_pattern(text: str) -> str:
    """A pattern matching ``text`` literally (for ``contains``)."""
    return "".join("%" + ch if ch in SPECIAL else ch for ch in text)
