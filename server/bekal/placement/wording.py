"""Why-not explanations in words: one line for a case worker or the client, in English or Indonesian.

The functions read placement results through the protocols of :mod:`bekal.views`,
so they word the results of :func:`bekal.placement.place` and those a server
returns to :mod:`bekal.client` alike.
"""

from __future__ import annotations

from bekal.placement.results import Because
from bekal.views import NotPlacedView, StandingView


def standing_text(s: StandingView | None, lang: str) -> str:
    if s is None:
        return "-"
    if s.rank is not None:
        return f"peringkat panitia {s.rank + 1}" if lang == "id" else f"panel rank {s.rank + 1}"
    if lang == "id":
        return f"prioritas {s.priority}, nomor undian {s.lottery}"
    return f"priority {s.priority}, lottery number {s.lottery}"


def describe(item: NotPlacedView, lang: str = "en") -> str:
    """One line explaining ``item`` to a case worker or the client, in English (``en``) or Indonesian (``id``)."""
    because = Because(item.because.value)
    if because is Because.FULL:
        return _full(item, lang != "id")
    if because is Because.NOT_RANKED:
        return (f"{item.course}: eligible, but not in the selection panel's ranking for this course" if lang != "id"
                else f"{item.course}: memenuhi syarat, tetapi tidak masuk peringkat panitia seleksi kejuruan ini")
    if because is Because.WITHHELD:
        return (f"{item.course}: not placed; the reasons are not available to a training centre" if lang != "id"
                else f"{item.course}: tidak ditempatkan; alasannya tidak tersedia untuk BLK")
    return _refused(item, because, lang != "id")


def _full(item: NotPlacedView, en: bool) -> str:
    if item.cutoff is None:
        return (f"{item.course}: no seat was open to you (the remaining seats are reserved for BNN referrals)"
                if en else f"{item.course}: tidak ada kursi terbuka untuk Anda (sisa kursi khusus rujukan BNN)")
    ranked = item.cutoff.rank is not None
    if en:
        rule = ("the selection panel's ranking decides" if ranked
                else "higher priority first; equal priority: lower lottery number first")
        return (f"{item.course}: full; the last seat you competed for went to "
                f"{standing_text(item.cutoff, 'en')}; you had {standing_text(item.standing, 'en')} ({rule})")
    rule = ("urutan ditentukan peringkat panitia seleksi" if ranked
            else "prioritas lebih tinggi didahulukan; prioritas sama: nomor undian lebih kecil didahulukan")
    return (f"{item.course}: penuh; kursi terakhir yang Anda perebutkan diisi peserta dengan "
            f"{standing_text(item.cutoff, 'id')}; Anda {standing_text(item.standing, 'id')} ({rule})")


def _refused(item: NotPlacedView, because: Because, en: bool) -> str:
    # a reason that only says what is missing is summed up by the list of missing facts
    messages = "; ".join((r.english if en else r.indonesian).rstrip(". ") for r in item.reasons if not r.missing)
    if because is Because.INELIGIBLE:
        head = "not eligible" if en else "tidak memenuhi syarat"
    else:
        head = "not decided yet" if en else "belum dapat diputuskan"
        if item.missing:
            head += (f", missing {', '.join(item.missing)}" if en
                     else f", data belum ada: {', '.join(item.missing)}")
    return f"{item.course}: {head}" + (f": {messages}" if messages else "")
