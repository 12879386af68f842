"""Validate durable_rules' string-pattern dialect (used by ``matches``) before the engine sees it.

The dialect (docs/json/reference.md, "Pattern Matching") is not Python's ``re``:
``%d %a %l %u %s %w %p %c %x`` are classes, ``%`` escapes a special character,
``. [] () | + * ? {n} {n,m}`` work as usual. A bad pattern must be reported at its
``file:line:col`` by ``bekal rules check``, not as a crash when the ruleset loads.
"""

from __future__ import annotations

from bekal.i18n import _

CLASSES = set("acdlpsuwx")
SPECIAL = set(".[](){}|+*?%")

# The safe subset (rule text is untrusted input: ValidateRules takes it from any caller).
# durable_rules turns a pattern into a state machine when the ruleset is registered, holding
# the GIL; measured on 2.0.28: a repeated group that can match nothing, twice -- ``(a*)*(a*)*``,
# ``(.*)*(.*)*``, ``(a?)*(a?)*``, ``(a|)*(b|)*``, ``((a*)*)*`` -- never finishes, and counted
# repeats multiply the states (eight ``[a-z]{0,20}`` take 2.5 s; ``{n,m}`` above 100 is refused).
# So: no quantifier on a group that holds a quantifier or an empty alternative, no empty
# alternatives, at most MAX_COUNTED counted repeats of at most MAX_COUNT, groups nested at most
# MAX_GROUP_DEPTH deep, at most MAX_LENGTH characters. tests/rules/test_rules_patterns.py compiles
# random patterns of this subset in durable_rules and times them.
MAX_LENGTH = 64
MAX_COUNT = 10
MAX_COUNTED = 2
MAX_GROUP_DEPTH = 3


def pattern_error(pattern: str) -> tuple[int, str] | None:
    """``(offset, message)`` of the first problem in ``pattern``, or None when it is valid and safe."""
    depth: list[int] = []  # offsets of open '('
    # per open group (and the whole pattern): does it hold a quantifier or an empty alternative?
    risky: list[bool] = [False]
    last_group_risky = False  # the item just closed was a group holding a quantifier
    can_repeat = False  # is there an item a quantifier could apply to?
    counted = 0
    i, n = 0, len(pattern)
    if n == 0:
        return 0, _("empty pattern")
    if n > MAX_LENGTH:
        return MAX_LENGTH, _("pattern longer than {n} characters", n=MAX_LENGTH)
    empty_here = True  # nothing since the start of the current alternative
    while i < n:
        ch = pattern[i]
        quantifier = ch in "+*?{"
        if not quantifier:
            last_group_risky = False
        if ch not in "|)":
            empty_here = False if not quantifier else empty_here
        if ch == "%":
            if i + 1 >= n:
                return i, _("pattern ends with '%'; write %% for a percent sign")
            nxt = pattern[i + 1]
            if nxt.isalnum() and nxt not in CLASSES:
                return i, _("unknown class '%{c}'; classes are %a %c %d %l %p %s %u %w %x", c=nxt)
            i, can_repeat = i + 2, True
        elif ch == "[":
            end = i + 1
            if end < n and pattern[end] == "^":
                end += 1
            start_body = end
            while end < n and pattern[end] != "]":
                end += 2 if pattern[end] == "%" else 1
            if end >= n:
                return i, _("'[' is never closed with ']'")
            if end == start_body:
                return i, _("empty character range '[]'")
            i, can_repeat = end + 1, True
        elif ch == "]":
            return i, _("']' without '['")
        elif ch == "(":
            depth.append(i)
            if len(depth) > MAX_GROUP_DEPTH:
                return i, _("groups nested more than {n} deep", n=MAX_GROUP_DEPTH)
            risky.append(False)
            i, can_repeat, empty_here = i + 1, False, True
        elif ch == ")":
            if not depth:
                return i, _("')' without '('")
            if empty_here:
                return i, _("empty alternative: nothing before ')'")
            depth.pop()
            last_group_risky = risky.pop()
            risky[-1] = risky[-1] or last_group_risky
            i, can_repeat, empty_here = i + 1, True, False
        elif ch == "|":
            if empty_here:
                return i, _("empty alternative: nothing before '|'")
            i, can_repeat, empty_here = i + 1, False, True
        elif ch in "+*?":
            if not can_repeat:
                return i, _("'{ch}' has nothing to repeat", ch=ch)
            if last_group_risky:
                return i, _("'{ch}' repeats a group that already repeats something (nested repeats can hang the "
                            "engine)", ch=ch)
            risky[-1] = True
            i, can_repeat = i + 1, False
        elif ch == "{":
            end = pattern.find("}", i)
            body = pattern[i + 1 : end] if end > 0 else ""
            parts = body.split(",")
            if end < 0 or not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
                return i, _("a repeat is written {{n}} or {{n,m}} with whole numbers")
            if not can_repeat:
                return i, _("'{{' has nothing to repeat")
            if last_group_risky:
                return i, _("'{{' repeats a group that already repeats something (nested repeats can hang the engine)")
            low, high = int(parts[0]), int(parts[-1])
            if low > high:
                return i, _("{{{body}}}: the first number is larger than the second", body=body)
            if high > MAX_COUNT:
                return i, _("{{{body}}}: at most {n} repeats", body=body, n=MAX_COUNT)
            counted += 1
            if counted > MAX_COUNTED:
                return i, _("at most {n} counted repeats {{n,m}} in one pattern", n=MAX_COUNTED)
            risky[-1] = True
            i, can_repeat = end + 1, False
        elif ch == "}":
            return i, _("'}}' without '{{'")
        else:
            i, can_repeat = i + 1, True
    if depth:
        return depth[-1], _("'(' is never closed with ')'")
    if empty_here:
        return n - 1, _("empty alternative: nothing after '|'")
    return None


def literal_pattern(text: str) -> str:
    """A pattern matching ``text`` literally (for ``contains``)."""
    return "".join("%" + ch if ch in SPECIAL else ch for ch in text)
