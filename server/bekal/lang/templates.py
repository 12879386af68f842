"""Reason templates: ``{client.age}`` placeholders in a rule's reason texts.

One definition of what a placeholder is, used by the checker (every placeholder names a
known fact, every brace belongs to one) and by the compiler (which facts a reason shows,
and filling them in).
"""

from __future__ import annotations

import re

from bekal.i18n import _

TEMPLATE_RE = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")
_BRACED = re.compile(r"\{[^{}]*\}")


def placeholders(text: str) -> list[str]:
    """The fact names a template mentions, in order (with repeats)."""
    return TEMPLATE_RE.findall(text)


def brace_problems(text: str) -> list[tuple[int, str]]:
    """``(offset, problem)`` for every brace that is not part of a ``{kind.fact}`` placeholder."""
    out = []
    for m in _BRACED.finditer(text):
        if not TEMPLATE_RE.fullmatch(m.group(0)):
            out.append((m.start(), _("{text} is not a fact placeholder such as {{client.age}}", text=m.group(0)[:40])))
    rest = _BRACED.sub(lambda m: " " * len(m.group(0)), text)
    for i, ch in enumerate(rest):
        if ch in "{}":
            out.append((i, _("unbalanced '{ch}'", ch=ch)))
    return sorted(out)
