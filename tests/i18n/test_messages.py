"""Messages in the rule authors' language: the Indonesian catalogue is complete and keeps every placeholder,
the language comes from --lang, BEKAL_LANG or the locale, and each slip the issue lists gets a message in
Indonesian that says where (file:line:col) and how to fix it."""

from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

import pytest

from bekal.i18n import _, catalogue, default_language, language, using
from tests.rules.rulefiles import ruleset_text
from tests.support.cli import bekal
from tests.support.paths import ROOT, RULES

sys.path.insert(0, str(ROOT / "tools"))
import messages  # noqa: E402  (tools/messages.py: what `make messages` runs)


def fields(text: str) -> list[tuple[str, str | None]]:
    """The {placeholders} of a message, with their conversions (!r), in order."""
    return sorted((name, conversion) for _lit, name, _spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def test_every_message_of_the_code_has_an_indonesian_translation():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "messages.py"), "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr  # new or untranslated messages: run `make messages`, translate
    translated = [m for m in messages.updated() if m.id]
    assert len(translated) > 400
    for m in translated:
        assert m.string and not m.fuzzy, m.id
        assert fields(m.string) == fields(m.id), m.id  # same placeholders, so formatting never fails


def test_a_missing_translation_is_found(tmp_path: Path, monkeypatch):
    """The check can fail: a message the code has and the catalogue lacks is reported."""
    po = tmp_path / "bekal.po"
    text = messages.CATALOGUE.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "kondisi berakhir terlalu cepat"', 'msgstr ""'), encoding="utf-8")
    monkeypatch.setattr(messages, "CATALOGUE", po)
    assert [m.id for m in messages.updated() if m.id and not m.string] == ["condition ends too early"]


def test_messages_are_made_in_the_current_language():
    assert _("condition ends too early") == "condition ends too early"
    with using("id"):
        assert language() == "id"
        assert _("unknown fact {name!r}", name="client.agee") == "fakta 'client.agee' tidak dikenal"
        assert _("a message the catalogue does not have") == "a message the catalogue does not have"
    assert language() == "en" and catalogue("en") is None


@pytest.mark.parametrize("env, lang", [
    ({}, "en"), ({"LANG": "id_ID.UTF-8"}, "id"), ({"LANG": "en_US.UTF-8"}, "en"), ({"LC_ALL": "id_ID"}, "id"),
    ({"LC_ALL": "C", "LANG": "id_ID.UTF-8"}, "en"), ({"LANG": "in_ID"}, "id"),
    ({"BEKAL_LANG": "id", "LANG": "en_US.UTF-8"}, "id"), ({"BEKAL_LANG": "en", "LC_ALL": "id_ID"}, "en"),
])
def test_the_default_language_comes_from_bekal_lang_or_the_locale(env, lang):
    assert default_language(env) == lang


SLIPS = [
    ("client.age > 18 dan client.consent_to_share", "8:23", "'dan' tidak diharapkan di sini",
     "kondisi memakai kata bahasa Inggris and, or, not, in, exists, true, false: tulis 'and', bukan 'dan'"),
    ("client.age > 18 atau client.consent_to_share", "8:23", "'atau' tidak diharapkan di sini",
     "kondisi memakai kata bahasa Inggris and, or, not, in, exists, true, false: tulis 'or', bukan 'atau'"),
    ("client.age > 18 AND client.consent_to_share", "8:23", "'AND' tidak diharapkan di sini",
     "tulis 'and' dengan huruf kecil"),
    ("tidak client.consent_to_share", "8:7", "'tidak' tidak diharapkan di sini",
     "kondisi memakai kata bahasa Inggris and, or, not, in, exists, true, false: tulis 'not', bukan 'tidak'"),
    ('client.referrer == bnn', "8:26", "'bnn' tidak diharapkan di sini",
     'nilai teks ditulis di antara tanda kutip: "bnn"; fakta ditulis client.NAMA atau course.NAMA'),
    ("client.birth_date < 01-01-2019", "8:7", "tidak dapat membandingkan tanggal dengan angka",
     "tanggal ditulis YYYY-MM-DD, tahun lebih dulu: tulis 2019-01-01"),
    ("client.dependants > 0", "8:7", "fakta 'client.dependants' tidak dikenal",
     "fakta baru dideklarasikan di berkas fakta dalam folder aturan (facts.yaml), mis. client.dependants: "
     "{type: integer, range: [0, 20], description: {id: ..., en: ...}}"),
]


@pytest.mark.parametrize("when, where, message, hint", SLIPS)
def test_each_slip_gets_a_message_in_indonesian_saying_where_and_how(tmp_path: Path, when, where, message, hint):
    path = tmp_path / "e.rules.yaml"
    path.write_text(ruleset_text(("r", when)))
    result = bekal("rules", "check", str(path), "--lang", "id")
    assert result.code == 1 and "Traceback" not in result.text
    lines = result.err.splitlines()
    assert f"{path}:{where}: {message}" in lines, result.err
    assert lines[lines.index(f"{path}:{where}: {message}") + 1] == f"    petunjuk: {hint}"
    assert lines[-1] == f"1 masalah di {path}"


def test_yaml_slips_a_tab_and_an_unindented_reason(tmp_path: Path):
    text = ruleset_text(("r", "client.age <= 18"))
    tab = tmp_path / "tab.rules.yaml"
    tab.write_text(text.replace("    description: d", "\tdescription: d"))
    result = bekal("rules", "check", str(tab), "--lang", "id")
    assert result.err.splitlines()[:2] == [
        f"{tab}:6:1: ada karakter tab: berkas YAML hanya boleh menjorok dengan spasi",
        "    petunjuk: ganti tab dengan spasi (atur editor agar tombol Tab menyisipkan spasi)"]
    unindented = tmp_path / "reason.rules.yaml"
    unindented.write_text(text.replace('    reason: {id: a, en: "b"}\n', "    reason:\n    id: Usia\n    en: Age\n"))
    result = bekal("rules", "check", str(unindented), "--lang", "id")
    assert result.err.splitlines()[:2] == [
        f"{unindented}:11:5: kunci 'id' ganda",
        "    petunjuk: 'reason' tidak punya nilai: jika 'id' dan baris-baris sesudahnya termasuk di bawah 'reason', "
        "jorokkan lebih dalam daripada 'reason' (dengan spasi)"]
    english = bekal("rules", "check", str(unindented))
    assert english.err.splitlines()[:2] == [
        f"{unindented}:11:5: duplicate key 'id'",
        "    hint: 'reason' has no value: if 'id' and the lines after it belong under 'reason', indent them further "
        "than 'reason' (with spaces)"]


def test_the_language_of_the_command_line(tmp_path: Path):
    ok = bekal("rules", "test", str(RULES), env={"BEKAL_LANG": "", "LC_ALL": "", "LC_MESSAGES": "",
                                                 "LANG": "id_ID.UTF-8"})
    assert ok.out.splitlines()[-1] == "uji aturan: 16 lulus, 0 gagal"
    assert bekal("rules", "test", str(RULES), "--lang", "en", env={"BEKAL_LANG": "id"}).out.splitlines()[-1] == (
        "rule tests: 16 passed, 0 failed")
    assert bekal("--lang", "id", "rules", "check", str(RULES)).out.startswith(f"{RULES}: OK: 2 kumpulan aturan")
    client = tmp_path / "c.yaml"
    client.write_text("birth_date: 2019-02-30\n")
    explained = bekal("rules", "explain", "--client", str(client), "--course", "JHT-01", "--as-of", "2019-05-16",
                      "--rules", str(RULES), "--lang", "id")
    assert explained.err == (f"{client}:1:13: client.birth_date: bukan tanggal yang benar dalam bentuk YYYY-MM-DD: "
                             "'2019-02-30'\n")
