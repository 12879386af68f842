"""Messages in the rule authors' language: Indonesian or English, through gettext catalogues (Babel).

The source language is English: every diagnostic, hint and CLI message is written in English in the
code, marked with :func:`_`, and translated from ``locale/<lang>/LC_MESSAGES/bekal.po`` (compiled
from the ``.po`` file with Babel the first time a language is used, so an installed tree never has
a stale ``.mo``). ``make messages`` extracts the marked messages and updates the catalogue; the test
suite checks that every message has a translation with the same ``{placeholders}``.

The language is a context variable: the CLI sets it from ``--lang``, ``BEKAL_LANG`` or the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``); the server leaves it English. Messages are translated when
they are made, so a diagnostic is made in the language of the command that finds it.

    _("unknown fact {name!r}", name="client.agee")   # "fakta 'client.agee' tidak dikenal" in Indonesian
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

LANGUAGES = ("id", "en")  # what --lang takes
SOURCE = "en"  # the language the messages are written in
DOMAIN = "bekal"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_language: ContextVar[str] = ContextVar("bekal_language", default=SOURCE)


def language() -> str:
    """The language messages are made in now: "id" or "en"."""
    return _language.get()


def set_language(lang: str) -> None:
    """Make messages in ``lang`` ("id" or "en") from now on, in this context."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
    _language.set(lang)


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Make messages in ``lang`` inside the ``with`` block."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
    token = _language.set(lang)
    try:
        yield
    finally:
        _language.reset(token)


def default_language(env: Mapping[str, str] | None = None) -> str:
    """``BEKAL_LANG``, else the locale (``LC_ALL`` > ``LC_MESSAGES`` > ``LANG``): Indonesian for
    ``id``/``id_ID.UTF-8`` (and the old code ``in``), English otherwise."""
    env = os.environ if env is None else env
    explicit = env.get("BEKAL_LANG", "").strip().lower()
    if explicit in LANGUAGES:
        return explicit
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip()
        if value:
            code = value.split(".", 1)[0].split("_", 1)[0].lower()
            return "id" if code in ("id", "in") else SOURCE
    return SOURCE


@functools.cache
def catalogue(lang: str) -> Any:
    """The compiled catalogue of ``lang`` (a ``babel.support.Translations``); None for the source language."""
    if lang == SOURCE:
        return None
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with open(path, "rb") as fh:
        po = read_po(fh, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, po)  # fuzzy entries are left out: an unchecked translation is no translation
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _(message: str, /, **values: Any) -> str:
    """``message`` (English, with ``{name}`` placeholders) in the current language, filled in with ``values``.

    Always formatted (``str.format``), so a brace meant literally is written twice: ``{{client.age}}``."""
    lang = _language.get()
    if lang != SOURCE:
        translations = catalogue(lang)
        if translations is not None:
            message = translations.gettext(message)
    return message.format(**values)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (module-level tables): pass it
    through :func:`_` where it is shown."""
    return message


def window(start: Any, until: Any) -> str:
    """Dates something is in force, in words: "from 2016-01-01 until 2019-12-31", "from 2020-01-01"."""
    if start and until:
        return _("from {start} until {until}", start=start, until=until)
    if start:
        return _("from {start}", start=start)
    if until:
        return _("until {until}", until=until)
    return _("on every date")
