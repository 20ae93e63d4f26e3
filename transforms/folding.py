"""Case and diacritic folding that keeps character offsets.

Matching happens on a folded copy of the text; evidence must point into the
original. The fold maps each character to at most one character; runs of whitespace
become one space and stand-alone combining marks (Arabic harakat) are
deleted, and :class:`Folded` maps offsets back to the original.

Characters that are not letters or digits fold to a space, so words are
exactly the runs of non-space characters of the folded text.

A :class:`CodeTable` applies such a per-character fold to a whole string.
``str.translate`` is fast only on ASCII text: one character outside ASCII (a
curly quote in an English article) makes it look every character up in a
Python dict, about 50 ns each. Long texts that are not ASCII go through a
numpy array indexed by code point instead, about ten times faster, with the
same result.
"""

from __future__ import annotations

import bisect
import codecs
import re
import unicodedata
from collections.abc import Callable

import numpy as np

__all__ = ["CodeTable", "Folded", "fold", "fold_char"]

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


# A deleted character's mark in the numpy table, above every code point. An
# entry not yet computed is 0, which no fold gives (NUL folds to a space):
# the table is allocated zeroed, so its untouched pages take no memory.
_DELETED = np.uint32(0xFFFFFFFE)
# Below this length str.translate's per-call cost is lower than numpy's.
_ARRAY_FROM = 128
_WARM = 0x250  # the Latin range, computed up front so the common case never misses


class _Lazy(dict):
    """A ``str.translate`` table that computes and caches entries on demand."""

    def __init__(self, compute: Callable[[str], str]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, codepoint: int) -> str:
        value = self._compute(chr(codepoint))
        self[codepoint] = value
        return value


def _decode(codes: np.ndarray) -> str:
    # The array's own buffer, decoded without a bytes copy first.
    return codecs.utf_32_le_decode(codes, "strict", True)[0]


class CodeTable:
    """A per-character fold (``''`` or one character per character) applied to whole strings.

    Args:
        compute: the fold of one character; its result must be ``''`` or a
            single character, and it is computed once per code point.
    """

    def __init__(self, compute: Callable[[str], str]) -> None:
        self.table = _Lazy(compute)
        for codepoint in range(_WARM):
            self.table[codepoint]
        self._array = np.zeros(0x110000, dtype=np.uint32)
        self._fill(np.arange(_WARM, dtype=np.uint32))

    def _fill(self, codepoints: np.ndarray) -> None:
        values = [self.table[cp] for cp in codepoints.tolist()]
        self._array[codepoints] = [ord(v) if v else _DELETED for v in values]

    def codes(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(code points of text, their folds)``; a deleted character's fold is above 0x10FFFF."""
        # take() skips fancy indexing's per-element checks; every code point
        # is an index of the table, so clipping never changes one.
        source = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        out = self._array.take(source, mode="clip")
        if not out.all():
            self._fill(np.unique(source[out == 0]))
            out = self._array.take(source, mode="clip")
        return source, out

    def translate(self, text: str) -> str:
        """The same as ``text.translate(self.table)``, faster on long non-ASCII text."""
        if len(text) < _ARRAY_FROM or text.isascii():
            return text.translate(self.table)
        _, out = self.codes(text)
        if out.max() >= _DELETED:
            out = out[out < _DELETED]
        return _decode(out)


_FOLD = CodeTable(fold_char)
_TABLE = _FOLD.table
_WHITESPACE_RUN = re.compile(r"\s{2,}")
# str.isspace (the same set as the regex \s) by code point; none lies above U+3000.
_SPACES = [cp for cp in range(0x3001) if chr(cp).isspace()]
_IS_SPACE = np.zeros(0x110000, dtype=bool)
_IS_SPACE[_SPACES] = True

# Folded's own table: the fold's code point, or a mark above every code point
# for whitespace (which folds to a space and collapses in runs), for a deleted
# character, and for a code point not yet computed. Their order matters: one
# maximum over a text's entries says which marks it holds. A code point fits
# in 21 bits, and _SPACE's low 21 bits are a space: one AND with _LOW turns
# every whitespace mark into the space it folds to and leaves the rest.
_SPACE = np.uint32(0x80000000 | 32)
_UNKNOWN = np.uint32(0xFFFFFFFF)
_LOW = np.uint32(0x1FFFFF)
_MARKED = np.full(0x110000, _UNKNOWN, dtype=np.uint32)


def _mark(codepoints: np.ndarray) -> None:
    """Compute the ``_MARKED`` entries of ``codepoints`` from the fold's table."""
    values = [_TABLE[cp] for cp in codepoints.tolist()]
    _MARKED[codepoints] = [ord(v) if v else _DELETED for v in values]
    # Every whitespace character folds to a space (tested): marking it keeps that fold.
    _MARKED[np.intersect1d(codepoints, _SPACES)] = _SPACE


_mark(np.union1d(np.arange(_WARM, dtype=np.uint32), _SPACES).astype(np.uint32))


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
        self._origin: list[int] | None = None
        self._run_at: list[int] = []
        self._run_shift: list[int] = []
        if len(original) >= _ARRAY_FROM and not original.isascii():
            self.text = " " + self._array_fold(original) + " "
            return
        folded = original.translate(_TABLE)
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

    def _array_fold(self, original: str) -> str:
        # What __init__ and _slow do, on arrays: drop deleted characters, then
        # every whitespace character that follows a kept whitespace character.
        # One lookup in _MARKED gives each character's fold with whitespace,
        # deletions and code points not yet computed marked, and one maximum
        # tells which of them the text holds.
        # Within the BMP a UTF-16 code unit is the code point, in half the
        # bytes of UTF-32 to write and to index with; beyond it (a surrogate
        # pair) the text takes UTF-32. A lone surrogate is one unit either way.
        units = original.encode("utf-16-le", "surrogatepass")
        if len(units) == 2 * len(original):
            source = np.frombuffer(units, dtype=np.uint16)
        else:
            source = np.frombuffer(original.encode("utf-32-le", "surrogatepass"), np.uint32)
        out = _MARKED.take(source, mode="clip")
        top = out.max()
        if top == _UNKNOWN:
            _mark(np.unique(source[out == _UNKNOWN]))
            out = _MARKED.take(source, mode="clip")
            top = out.max()
        if top < _SPACE:
            return _decode(out)  # not one whitespace character
        space = out == _SPACE
        if top >= _DELETED:
            out[space] = 32
            return self._array_delete(original, source, out)
        np.bitwise_and(out, _LOW, out=out)
        repeat = space[1:] & space[:-1]
        if not repeat.any():
            return _decode(out)
        # Nothing deleted (the common case): only whitespace runs shorten the
        # text, so the way back steps once after each run, by the characters
        # dropped so far; a run's drops are consecutive indexes of `repeat`.
        drop = np.flatnonzero(repeat)
        last = np.flatnonzero(drop[1:] - drop[:-1] != 1)
        # repeat[k] drops original offset k + 1. After the run whose last drop
        # is repeat[drop[j]], folded offsets from drop[j] + 1 - j on lie j + 1
        # characters further on in the original.
        self._run_at = (drop[last] + 1 - last).tolist()
        self._run_at.append(int(drop[-1]) + 2 - len(drop))
        self._run_shift = (last + 1).tolist()
        self._run_shift.append(len(drop))
        keep = np.empty(len(out), dtype=bool)
        keep[0] = True
        np.logical_not(repeat, out=keep[1:])
        return _decode(out[keep])

    def _array_delete(self, original: str, source: np.ndarray, out: np.ndarray) -> str:
        kept = np.flatnonzero(out < _DELETED)
        source = source[kept]
        space = _IS_SPACE.take(source, mode="clip")
        repeat = space[1:] & space[:-1]
        if repeat.any():
            keep = np.ones(len(source), dtype=bool)
            keep[1:] = ~repeat
            kept = kept[keep]
        # The way back as :meth:`original` reads it: from each folded offset
        # where the distance to the original grows, that distance.
        shift = np.append(kept, len(original)) - np.arange(len(kept) + 1)
        steps = np.flatnonzero(shift[1:] != shift[:-1]) + 1
        if shift[0]:
            steps = np.append(0, steps)
        self._run_at = steps.tolist()
        self._run_shift = shift[steps].tolist()
        return _decode(out[kept])

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
    """Fold a string (no padding); used for patterns, content keys and tests."""
    return _FOLD.translate(text)
