"""Case and diacritic folding that keeps character offsets.

Matching happens on a folded copy of the text; evidence must point into the
original. The fold maps each character to at most one character; runs of whitespace
become one space and stand-alone combining marks (Arabic harakat) are
deleted, and :class:`Folded` maps offsets back to the original.

Characters that are not letters or digits fold to a space, so words are
exactly the runs of non-space characters of the folded text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

__all__ = ["Folded", "fold", "fold_char"]

# Variants that one language's press writes interchangeably.
_SPECIAL = {
    "\u064a": "\u06cc",  # Arabic yeh → Farsi yeh
    "\u0649": "\u06cc",  # alef maksura → Farsi yeh
    "\u0643": "\u06a9",  # Arabic kaf → keheh
    "\u0623": "\u0627",  # alef with hamza above → alef
    "\u0625": "\u0627",  # alef with hamza below → alef
    "\u0622": "\u0627",  # alef with madda → alef
    "\u0671": "\u0627",  # alef wasla → alef
    "\u0640": "",  # tatweel
    "\u0130": "i",  # Turkish capital dotted I
    # Dotless ı: "SOYKIRIM" casefolds to "soykirim", so "soykırım" must too.
    "\u0131": "i",
    # Apostrophes of every kind separate words, so that a pattern written with
    # one matches text written with another (Ukrainian в’язниця / вʼязниця).
    "\u02bc": " ",
    "\u2019": " ",
    "\u2018": " ",
    "'": " ",
}


def fold_char(ch: str) -> str:
    """The fold of one character: '' (deleted), ' ' (separator) or one character."""
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if unicodedata.category(ch).startswith("M"):
        return ""
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    folded = base.casefold() or ch.casefold()
    first = folded[:1] or ch
    first = _SPECIAL.get(first, first)
    return first if first.isalnum() else " "


class _Table(dict):
    """A ``str.translate`` table that computes and caches entries on demand."""

    def __missing__(self, codepoint: int) -> str:
        value = fold_char(chr(codepoint))
        self[codepoint] = value
        return value


_TABLE = _Table()
for _cp in range(0x250):
    _TABLE[_cp]  # warm the Latin range so the common case never misses


_WHITESPACE_RUN = re.compile(r"\s{2,}")


class Folded:
    """A folded text and the way back to original offsets.

    Runs of whitespace fold to a single space, so that phrase patterns match
    across a line break or a double space; deleted characters (stand-alone
    combining marks) vanish. Both are undone by :meth:`original`.

    Attributes:
        text: the folded text, padded with one space on each side.
    """

    __slots__ = ("_origin", "_run_at", "_run_shift", "text")

    def __init__(self, original: str) -> None:
        folded = original.translate(_TABLE)
        self._origin: list[int] | None = None
        self._run_at: list[int] = []
        self._run_shift: list[int] = []
        if len(folded) != len(original):
            folded = self._slow(original)
        else:
            runs = _WHITESPACE_RUN.finditer(original)
            pieces = []
            previous = removed = 0
            for run in runs:
                start, end = run.span()
                pieces.append(folded[previous : start + 1])
                removed += end - start - 1
                # From this folded position on, originals lie `removed` further.
                self._run_at.append(start + 1 - (removed - (end - start - 1)))
                self._run_shift.append(removed)
                previous = end
            if pieces:
                pieces.append(folded[previous:])
                folded = "".join(pieces)
        self.text = " " + folded + " "

    def _slow(self, original: str) -> str:
        # Deletions change lengths: map every kept character (rare: Arabic
        # harakat, decomposed text), collapsing whitespace runs on the way.
        origin: list[int] = []
        out: list[str] = []
        previous_space = False
        for i, ch in enumerate(original):
            value = _TABLE[ord(ch)]
            if not value:
                continue
            space = ch.isspace()
            if space and previous_space:
                continue
            previous_space = space
            origin.append(i)
            out.append(value)
        origin.append(len(original))
        self._origin = origin
        return "".join(out)

    def original(self, padded_offset: int) -> int:
        """Original offset of a position in the padded folded text."""
        i = padded_offset - 1
        if self._origin is not None:
            return self._origin[i]
        if not self._run_at:
            return i
        k = bisect.bisect_right(self._run_at, i)
        return i + (self._run_shift[k - 1] if k else 0)


def fold(text: str) -> str:
    """Fold a string (no padding); used for patterns and tests."""
    return text.translate(_TABLE)
