"""Shared by the rule language's readers, checker and compiler: the size limit of a rule file, and
the template of a fact in a reason.

Today ``lang/source.py``, ``rulebook.py`` (twice), ``lang/checker.py`` and
``compiler.py`` each carry their own copy; they are meant to use these.
"""

from __future__ import annotations

import re

from bekal.lang.diagnostics import Diagnostic, Location

MAX_FILE_BYTES = 1_000_000  # a rule file is hand-written prose and conditions; 1 MB is far beyond any real one

TEMPLATE_RE = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")  # a fact in a reason's text, e.g. {client.age}


def text_size(text: str) -> int:
    """The size of a rule file's text in bytes, as it would be on disk (UTF-8)."""
    return len(text.encode("utf-8", "replace"))


def too_large(name: str, size: int) -> Diagnostic | None:
    """The problem with the rule file ``name`` of ``size`` bytes, or None when it is within the limit."""
    if size <= MAX_FILE_BYTES:
        return None
    return Diagnostic(Location(name, 1, 1),
                      f"file is {size / 1e6:.1f} MB; a rule file may be at most {MAX_FILE_BYTES // 1_000_000} MB",
                      "split it into several files")
