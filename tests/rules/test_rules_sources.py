"""Citations that hold up in an audit: a rule's ``source`` quotes its document word for word (checked
against the excerpts the repository holds, docs/sources) or says it is an interpretation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bekal.lang.diagnostics import RuleError
from bekal.rulebook import load_rulebook, load_rulebook_from_texts
from bekal.sources import read_document, read_documents
from tests.rules.rulefiles import ruleset_text
from tests.support.cli import bekal
from tests.support.paths import ROOT, RULES

SOURCES = ROOT / "docs" / "sources"
K1 = ("Meski begitu, sebelum diterima di BLKProvinsi Kalsel, mereka tetap mengikuti tahapan seleksi baik itu "
      "tertulis dan wawancara. Namun mereka lebih diprioritaskan asalkan minimal umur sudah mencukupi yakni "
      "diatas 18 tahun.")


def with_source(source: str) -> dict[str, str]:
    text = ruleset_text(("r", "client.age <= 18")).replace("    source: {interpretation: s, of: t}\n", source)
    return {"e.rules.yaml": text}


def problems(files: dict[str, str], documents=None) -> list[str]:
    with pytest.raises(RuleError) as err:
        load_rulebook_from_texts(files, documents)
    return [f"{d.location}: {d.message}" + (f" | {d.hint}" if d.hint else "") for d in err.value.diagnostics]


def test_the_mou_document_holds_exactly_the_two_excerpts_we_have():
    doc = read_document(SOURCES / "mou-2019-05-16.md")
    assert doc.id == "mou-2019-05-16" and doc.date == "2019-05-16"
    assert dict(doc.excerpts) == {"K1": K1, "K2": "Khususnya kehadiran dan sikap mereka selama mengikuti pelatihan"}


def test_every_rule_of_the_programme_quotes_verbatim_or_says_it_interprets():
    book = load_rulebook(RULES, read_documents(SOURCES))
    kinds = {r.id: r.citation.kind for rs in book.rulesets for r in rs.rules}
    assert kinds["bnn-referral-priority"] == "quote" and kinds["age-above-18"] == "interpretation"
    priority = next(r for r in book.compiled.rules if r.id == "bnn-referral-priority")
    assert priority.source == ("\u201cNamun mereka lebih diprioritaskan asalkan minimal umur sudah mencukupi yakni "
                               "diatas 18 tahun.\u201d (mou-2019-05-16, K1)")


@pytest.mark.parametrize("source, expected", [
    ("    source: \"Klien BNN diprioritaskan dengan syarat minimal umur diatas 18 tahun.\"\n",
     "e.rules.yaml:11:13: a source must say whether it quotes its document or interprets it | write source: "
     "{quote: \"the sentence, word for word\", of: mou-2019-05-16, at: K1} or source: {interpretation: "
     "\"what the rule makes of it\", of: mou-2019-05-16}"),
    ("    source: {of: mou-2019-05-16}\n", "e.rules.yaml:11:13: a source needs 'quote' or 'interpretation'"),
    ("    source: {quote: a, interpretation: b, of: x}\n",
     "e.rules.yaml:11:13: a source is either a quote or an interpretation, not both"),
    ("    source: {interpretation: s}\n", "e.rules.yaml:11:13: missing 'of'"),
    ("    source: {interpretation: '\"Klien BNN diprioritaskan.\"', of: mou-2019-05-16}\n",
     "e.rules.yaml:11:30: an interpretation is written in quotation marks, as if it were a quote"),
    ("    source: {interpretation: s, of: t, page: 3}\n", "e.rules.yaml:11:46: unknown key 'page' in source"),
    ("", "e.rules.yaml:5:5: missing 'source'"),
])
def test_a_source_says_what_it_is(source, expected):
    assert any(p.startswith(expected) for p in problems(with_source(source))), problems(with_source(source))


def test_quotes_are_checked_word_for_word_against_the_documents():
    docs = read_documents(SOURCES)
    exact = "    source: {quote: \"Namun mereka lebih diprioritaskan\", of: mou-2019-05-16, at: K1}\n"
    load_rulebook_from_texts(with_source(exact), docs)
    spread = ("    source:\n      quote: >-\n        Khususnya kehadiran dan sikap\n        mereka\n"
              "      of: mou-2019-05-16\n")
    load_rulebook_from_texts(with_source(spread), docs)  # line breaks and spacing are not words
    # the paraphrase the shipped rules used to put in quotation marks
    paraphrase = ("    source: {quote: \"Klien BNN diprioritaskan dengan syarat minimal umur diatas 18 tahun.\", "
                  "of: mou-2019-05-16}\n")
    [found] = problems(with_source(paraphrase), docs)
    assert found.startswith("e.rules.yaml:11:21: this quote is not word for word in ")
    assert ("the nearest passage it holds: \"Namun mereka lebih diprioritaskan asalkan minimal umur sudah mencukupi "
            "yakni diatas 18 tahun.\"; quote it exactly, or write 'interpretation:' instead of 'quote:'") in found
    [elsewhere] = problems(with_source(exact.replace("at: K1", "at: K2")), docs)
    assert elsewhere.startswith("e.rules.yaml:11:21: this quote is not word for word")
    [no_label] = problems(with_source(exact.replace("at: K1", "at: paragraf 3")), docs)
    assert no_label.endswith("has no excerpt 'paragraf 3' | its excerpts are: K1, K2")
    [unknown] = problems(with_source(exact.replace("of: mou-2019-05-16", "of: mou-2019-05-17")), docs)
    assert unknown == ("e.rules.yaml:11:13: quote of 'mou-2019-05-17', a document the repository does not hold "
                       "| did you mean 'mou-2019-05-16'?")
    # an interpretation may cite any document in words; without documents quotes are taken as written
    load_rulebook_from_texts(with_source("    source: {interpretation: s, of: UU No. 27 Tahun 2022}\n"), docs)
    load_rulebook_from_texts(with_source(paraphrase))


def test_rules_check_verifies_quotes_against_docs_sources(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (RULES / "priority.rules.yaml").read_text()
    (rules / "priority.rules.yaml").write_text(text)
    (rules / "e.rules.yaml").write_text(ruleset_text(("r", "client.age <= 18")))
    assert bekal("rules", "check", str(rules)).code == 0  # run in the repository: docs/sources is there
    (rules / "priority.rules.yaml").write_text(text.replace("lebih diprioritaskan", "diprioritaskan"))
    result = bekal("rules", "check", str(rules))
    assert result.code == 1 and "this quote is not word for word in docs/sources/mou-2019-05-16.md" in result.err
    elsewhere = bekal("rules", "check", str(rules), cwd=tmp_path)  # no docs/sources here: said, not checked
    assert elsewhere.code == 0 and "note: quotes not checked: no folder docs/sources here" in elsewhere.err
    given = bekal("rules", "check", str(rules), "--sources", str(SOURCES), cwd=tmp_path)
    assert given.code == 1 and f"this quote is not word for word in {SOURCES / 'mou-2019-05-16.md'}" in given.err
