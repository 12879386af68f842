"""The documents rules cite, kept in the repository, and checking quotes against them.

A source document is a Markdown file (``docs/sources/<id>.md``) with a YAML header and the
passages the repository holds **verbatim**, each under a ``### LABEL`` heading as a block quote::

    ---
    id: mou-2019-05-16
    document: Berita penandatanganan MoU BNNK Banjarbaru - BLK Provinsi Kalsel
    date: 2019-05-16
    ---
    ### K1 (selection and priority)

    > Meski begitu, sebelum diterima di BLKProvinsi Kalsel, ...

Anything else in the file (a summary in other words, notes) is prose for people and is never
taken for the document's words. A rule's ``source: {quote: ..., of: ID, at: LABEL}`` must be found
word for word (spacing and line breaks aside) in the excerpt ``LABEL`` of document ``ID`` (in any
excerpt without ``at``); ``bekal rules check`` says where it differs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bekal.i18n import _
from bekal.lang import ast
from bekal.lang.diagnostics import Diagnostic, Location, RuleError

DEFAULT_FOLDER = Path("docs") / "sources"  # where `bekal rules check` looks, from the current folder
_HEADING = re.compile(r"^###\s+(\S+)")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


@dataclass(frozen=True)
class Document:
    id: str
    path: str
    title: str
    date: str
    excerpts: Mapping[str, str] = field(default_factory=dict)  # label -> the passage, verbatim


def normalise(text: str) -> str:
    """Spacing, line breaks and typographic quotes do not make a quote differ."""
    return " ".join(text.translate(_QUOTES).split())


def read_document(path: Path) -> Document:
    """One source document; RuleError at the line of anything it cannot use."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError([Diagnostic(Location(name, 1, 1), _("cannot read: {error}", error=exc))]) from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in [line.strip() for line in lines[1:]]:
        raise RuleError([Diagnostic(Location(name, 1, 1), _("a source document starts with a header between "
                                                            "'---' lines"),
                                    _("give at least its id: ---, id: mou-2019-05-16, ---"))])
    end = 1 + [line.strip() for line in lines[1:]].index("---")
    try:
        header = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError:
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("id"), str):
        raise RuleError([Diagnostic(Location(name, 2, 1), _("the header of a source document needs 'id: ...'"))])
    excerpts: dict[str, str] = {}
    label: str | None = None
    quoted: list[str] = []

    def close() -> None:
        if label is not None and quoted:
            excerpts[label] = " ".join(quoted)

    for line in lines[end + 1:]:
        heading = _HEADING.match(line)
        if heading or line.startswith("#"):
            close()
            label, quoted = (heading.group(1) if heading else None), []
        elif label is not None and line.startswith(">"):
            quoted.append(line[1:].strip())
    close()
    return Document(header["id"], name, str(header.get("document", "")), str(header.get("date", "")), excerpts)


def read_documents(folder: Path) -> dict[str, Document]:
    """Every ``*.md`` source document in ``folder``, by id."""
    out: dict[str, Document] = {}
    problems: list[Diagnostic] = []
    for path in sorted(folder.glob("*.md")):
        try:
            doc = read_document(path)
        except RuleError as exc:
            problems.extend(exc.diagnostics)
            continue
        if doc.id in out:
            problems.append(Diagnostic(Location(str(path), 2, 1), _("document id {id!r} is also used by {other}",
                                                                     id=doc.id, other=out[doc.id].path)))
        out[doc.id] = doc
    if problems:
        raise RuleError(problems)
    return out


def check_quotes(citations: Iterable[ast.Citation], documents: Mapping[str, Document]) -> list[Diagnostic]:
    """Every quote found word for word in the document it names; every ``at`` an excerpt there."""
    out = []
    for cited in citations:
        doc = documents.get(cited.of)
        if doc is None:
            if cited.kind == ast.QUOTE:
                close = difflib.get_close_matches(cited.of, sorted(documents), n=1)
                out.append(Diagnostic(cited.loc, _("quote of {doc!r}, a document the repository does not hold",
                                                   doc=cited.of),
                                      _("did you mean {name!r}?", name=close[0]) if close else
                                      _("a quote can only be checked against a document in the sources folder "
                                        "(docs/sources/<id>.md); say it is an interpretation otherwise")))
            continue
        if cited.at is not None and cited.at not in doc.excerpts:
            out.append(Diagnostic(cited.loc, _("{doc} has no excerpt {at!r}", doc=doc.path, at=cited.at),
                                  _("its excerpts are: {labels}", labels=", ".join(doc.excerpts) or "-")))
            continue
        if cited.kind != ast.QUOTE:
            continue
        places = [doc.excerpts[cited.at]] if cited.at is not None else list(doc.excerpts.values())
        quote = normalise(cited.text)
        if any(quote in normalise(p) for p in places):
            continue
        nearest = max(places, key=lambda p: _overlap(quote, normalise(p)), default="")
        out.append(Diagnostic(cited.text_loc, _("this quote is not word for word in {doc}", doc=doc.path),
                              _("the nearest passage it holds: \"{passage}\"; quote it exactly, or write "
                                "'interpretation:' instead of 'quote:'", passage=_nearest(quote, normalise(nearest)))))
    return out


def _overlap(a: str, b: str) -> int:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _nearest(quote: str, passage: str) -> str:
    """The sentences of ``passage`` most like ``quote`` (as many as the quote has)."""
    sentences = _SENTENCE_END.split(passage)
    k = min(len(sentences), max(1, len(_SENTENCE_END.split(quote))))
    windows = [" ".join(sentences[i:i + k]) for i in range(len(sentences) - k + 1)]
    return max(windows, key=lambda w: difflib.SequenceMatcher(None, quote, w, autojunk=False).ratio())
