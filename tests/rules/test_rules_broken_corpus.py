"""The bad-input corpus: every broken rule file in tests/rules/broken/ gives its precise
``file:line:col: message`` and exit code 1 from the real ``bekal rules check``, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bekal.lang.diagnostics import RuleError
from bekal.rulebook import load_rulebook_from_texts
from tests.rules.rulefiles import BROKEN, rule_text
from tests.support.cli import bekal
from tests.support.paths import RULES

# file -> (the diagnostic line, its hint line or None). Read this table to see what each case says.
CORPUS = {
    "syntax_error.rules.yaml": (
        "syntax_error.rules.yaml:8:25: unexpected <=",
        'expected (, a "text", a date YYYY-MM-DD, a fact such as client.age, a number'),
    "unterminated_string.rules.yaml": (
        "unterminated_string.rules.yaml:8:30: unterminated string",
        'close the text with " on the same line'),
    "unknown_fact.rules.yaml": (
        "unknown_fact.rules.yaml:8:49: unknown fact 'client.interview_scor'",
        "did you mean 'client.interview_score'?"),
    "wrong_type.rules.yaml": (
        "wrong_type.rules.yaml:8:11: cannot compare a number with a string",
        None),
    "duplicate_id.rules.yaml": (
        "duplicate_id.rules.yaml:12:9: duplicate rule id 'age-limit' (first at duplicate_id.rules.yaml:6:9)",
        "every rule id must be unique across the rules directory"),
    "bad_regex.rules.yaml": (
        "bad_regex.rules.yaml:8:49: bad pattern: '(' is never closed with ')'",
        "patterns use durable_rules' dialect: %d digit, %a letter, . any, * + ? repeats; "
        "see the safe subset in the rule authors' guide"),
    "unknown_effect.rules.yaml": (
        "unknown_effect.rules.yaml:9:13: unknown effect 'ineligable'",
        "did you mean 'ineligible'? use ineligible, pending or priority: +N"),
    "empty.rules.yaml": (
        "empty.rules.yaml:1:1: empty file",
        "a rule file starts with exactly one of 'ruleset:', 'courses:', 'tests:', 'parameters:' or 'facts:'"),
    "not_yaml.rules.yaml": (
        "not_yaml.rules.yaml:4:3: not valid YAML: while parsing a flow node expected the node content, "
        "but found '-'",
        "check indentation, colons and closing quotes"),
    "impossible_date.rules.yaml": (
        "impossible_date.rules.yaml:6:9: not a real date: 2019-02-30",
        "write a date YYYY-MM-DD"),
    "unknown_value.rules.yaml": (
        "unknown_value.rules.yaml:8:33: client.rehab_stage has no value 'post_rehab'",
        "did you mean 'post_rehabilitation'? values: assessment, inpatient, outpatient, post_rehabilitation, "
        "dropped_out"),
    "negated_match.rules.yaml": (
        "negated_match.rules.yaml:8:15: durable_rules cannot negate 'contains'",
        "write the rule the other way round, with a positive match"),
}


def assert_rejected(result, line: str, hint: str | None, path: str) -> None:
    assert result.code == 1, result
    assert "Traceback" not in result.text
    assert result.out == ""  # nothing claims the file is OK
    lines = result.err.splitlines()
    assert line in lines, result.err
    if hint is not None:
        assert lines[lines.index(line) + 1].startswith(f"    hint: {hint}")
    assert lines[-1] == f"1 problem(s) in {path}"


def test_the_table_covers_the_whole_corpus():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_broken_file(name):
    line, hint = CORPUS[name]
    assert_rejected(bekal("rules", "check", name, cwd=BROKEN), line, hint, name)


def test_ten_megabyte_file(tmp_path: Path):
    """Generated at test time (not committed): a plausible rule file of 10 MB."""
    head = "ruleset: huge\ntitle: T\nsource: S\nrules:\n"
    chunks, size, i = [head], len(head), 0
    while size < 10_000_000:
        chunk = rule_text(f"r{i}", "client.age <= 18")
        chunks.append(chunk)
        size += len(chunk)
        i += 1
    text = "".join(chunks)[:10_000_000]
    (tmp_path / "huge.rules.yaml").write_text(text)
    assert (tmp_path / "huge.rules.yaml").stat().st_size == 10_000_000
    result = bekal("rules", "check", "huge.rules.yaml", cwd=tmp_path)
    assert_rejected(result, "huge.rules.yaml:1:1: file is larger than 1 MB",
                    "split it into several rule files", "huge.rules.yaml")
    # the same text handed over in memory (ValidateRules) is refused the same way, before parsing
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts({"huge.rules.yaml": text})
    assert [str(d) for d in err.value.diagnostics] == [
        "huge.rules.yaml:1:1: file is larger than 1 MB\n    hint: split it into several rule files"]


def test_not_utf8(tmp_path: Path):
    (tmp_path / "latin1.rules.yaml").write_bytes("ruleset: t\ntitle: Pelatihan kerja \u00e9\n".encode("latin-1"))
    result = bekal("rules", "check", "latin1.rules.yaml", cwd=tmp_path)
    assert_rejected(result, "latin1.rules.yaml:1:1: not UTF-8 text (byte 34)", "save the file as UTF-8",
                    "latin1.rules.yaml")


def test_missing_path(tmp_path: Path):
    result = bekal("rules", "check", "nowhere", cwd=tmp_path)
    assert result.code == 1 and "Traceback" not in result.text
    assert "nowhere:1:1: no such file or directory" in result.err.splitlines()


def test_whole_corpus_at_once_reports_every_file():
    """A directory run reports every problem of every file in one go, in file order."""
    result = bekal("rules", "check", "broken", cwd=BROKEN.parent)
    assert result.code == 1 and "Traceback" not in result.text
    diagnostics = [line for line in result.err.splitlines() if line.startswith("broken/")]
    assert diagnostics == [CORPUS[name][0].replace(name, f"broken/{name}") for name in sorted(CORPUS)]
    assert result.err.splitlines()[-1] == f"{len(CORPUS)} problem(s) in broken"


def test_a_broken_file_among_good_ones_fails_the_whole_directory(tmp_path: Path):
    for f in RULES.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    assert bekal("rules", "check", str(tmp_path)).code == 0
    (tmp_path / "wrong_type.rules.yaml").write_text((BROKEN / "wrong_type.rules.yaml").read_text())
    result = bekal("rules", "check", ".", cwd=tmp_path)
    assert result.code == 1 and "Traceback" not in result.text and "OK" not in result.text
    assert "wrong_type.rules.yaml:8:11: cannot compare a number with a string" in result.err.splitlines()
