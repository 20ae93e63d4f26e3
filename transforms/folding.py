"""Case and diacritic folding that keeps character offsets.

Matching happens on a folded copy of the text; evidence must point into the
original. The fold maps each character to at most one character, so the
folded text is as long as the original unless some characters were deleted
(stand-alone combining marks such as Arabic harakat). In that rare case an
offset map is built; otherwise offsets are shared.

Characters that are not letters or digits fold to a space, so words are
exactly the runs of non-space characters of the folded text.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "fold_char", "Folded"]

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


class Folded:
    """A folded text and the way back to original offsets.

    Attributes:
        text: the folded text, padded with one space on each side.
    """

    __slots__ = ("text", "_origin")

    def __init__(self, original: str) -> None:
        folded = original.translate(_TABLE)
        self._origin: list[int] | None = None
        if len(folded) != len(original):
            origin = []
            for i, ch in enumerate(original):
                if _TABLE[ord(ch)]:
                    origin.append(i)
            origin.append(len(original))
            self._origin = origin
        self.text = " " + folded + " "

    def original(self, padded_offset: int) -> int:
        """Original offset of a position in the padded folded text."""
        i = padded_offset - 1
        return i if self._origin is None else self._origin[i]


def fold(text: str) -> str:
    """Fold a string (no padding); used for patterns and tests."""
    return text.translate(_TABLE)
