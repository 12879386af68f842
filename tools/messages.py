"""Update the Indonesian message catalogue from the code: ``make messages``.

Every message a rule author, an operator or a caller can read is written in English in the code,
marked with ``_()`` (or ``N_()`` for tables), and translated in
``server/bekal/i18n/locale/id/LC_MESSAGES/bekal.po`` (gettext, through Babel; see ``bekal.i18n``).
This extracts the marked messages, adds the new ones to the catalogue untranslated, drops the ones
the code no longer has, and keeps every translation made. ``--check`` changes nothing and exits 1
when the catalogue is not up to date (new messages, or messages without a translation); the test
suite checks the same (tests/test_messages.py).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "server" / "bekal"
CATALOGUE = SOURCES / "i18n" / "locale" / "id" / "LC_MESSAGES" / "bekal.po"
KEYWORDS = {"_": None, "N_": None}


def template() -> Catalog:
    """Every message marked in the server's code."""
    out = Catalog(domain="bekal", project="bekal", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(SOURCES), method_map=[("**.py", "python")], keywords=KEYWORDS):
        out.add(message, None, [(f"server/bekal/{filename}", lineno)], auto_comments=comments, context=context,
                flags=("python-brace-format",) if "{" in str(message) else ())
    return out


def updated() -> Catalog:
    with open(CATALOGUE, "rb") as fh:
        catalogue = read_po(fh, locale="id", domain="bekal")
    created = catalogue.creation_date  # kept: a catalogue that did not change is the same file
    catalogue.update(template(), no_fuzzy_matching=True)
    catalogue.creation_date = created
    catalogue.obsolete.clear()
    return catalogue


def text(catalogue: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalogue, width=0, include_lineno=False, sort_output=True, ignore_obsolete=True)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the catalogue is not up to date")
    args = parser.parse_args()
    catalogue = updated()
    untranslated = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    if args.check:
        stale = text(catalogue) != CATALOGUE.read_bytes()
        for message in untranslated:
            print(f"untranslated: {message!r}", file=sys.stderr)
        if stale:
            print(f"{CATALOGUE.relative_to(ROOT)} is not up to date: run `make messages`", file=sys.stderr)
        return 1 if stale or untranslated else 0
    CATALOGUE.write_bytes(text(catalogue))
    print(f"{CATALOGUE.relative_to(ROOT)}: {len(catalogue) - 1} messages, {len(untranslated)} to translate")
    for message in untranslated:
        print(f"  {message!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
