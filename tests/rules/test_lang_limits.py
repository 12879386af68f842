"""The shared rule-file limits (bekal.lang.limits) agree with the copies still in use."""

from __future__ import annotations

from bekal import compiler
from bekal.lang import checker, source
from bekal.lang.limits import MAX_FILE_BYTES, TEMPLATE_RE, text_size, too_large
from bekal.rulebook import MAX_FILE_BYTES as RULEBOOK_MAX


def test_the_copies_agree():
    assert MAX_FILE_BYTES == source.MAX_BYTES == RULEBOOK_MAX
    assert TEMPLATE_RE.pattern == checker.TEMPLATE_RE.pattern == compiler.TEMPLATE_RE.pattern


def test_size_limit_and_template():
    assert too_large("a.rules.yaml", MAX_FILE_BYTES) is None
    problem = too_large("a.rules.yaml", text_size("é" * 600_000))
    assert problem is not None and str(problem.location) == "a.rules.yaml:1:1"
    assert "1.2 MB" in problem.message and problem.hint
    assert TEMPLATE_RE.findall("Usia {client.age} tahun, kursus {course.min_age}") == ["client.age", "course.min_age"]
