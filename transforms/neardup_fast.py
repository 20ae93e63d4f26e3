"""An item's near-duplicate fingerprint and content key in one pass: the fast path.

:func:`transforms.neardup.fingerprint` and
:func:`transforms.dedup_member.content_key` each fold the title and text,
split it into words and work word by word in Python. :func:`fast_keys`
gives both from one fold of ``title + " " + text``, encoded once to UTF-8
and split as bytes: each token's hash reads its bytes directly (no string
and no encoding per token), the content key is the words joined with
single spaces, and the numbers among the words are found by a regular
expression over the bytes instead of a test of every word.

That is only equal to the general path when

* the token fold and the content fold agree on every character (they differ
  on format characters, digits of other scripts and Hangul syllables);
* no character folds into a script written without spaces (those words
  become character bigrams);
* every digit of the folded text is an ASCII digit (a few digits, such as
  Ethiopic ones, have no decimal value and stay as they are).

A per-code-point table (:data:`_GENERAL`, filled lazily like the folds)
marks the characters that break one of these; a text with one of them
returns None and takes the general path. Every ASCII text qualifies, and
most others do. ``tests/test_neardup_fast.py`` checks the fast path
against the general one.
"""

from __future__ import annotations

import hashlib
import itertools
import re

import numpy as np

from transforms.folding import CodeTable, fold_char
from transforms.neardup_hashes import (
    _MURMUR,
    _TOKEN_SEED,
    _shingles_of,
    _smallest16,
    _token_hashes,
    figures,
    signature,
)
from transforms.neardup_record import FIGURES, MAX_TOKENS, TITLE_WORDS, Fingerprint
from transforms.neardup_tokens import _DENSE, _TOKEN_FOLD, _token_fold

__all__ = ["fast_keys"]

# A code point at or above this in CodeTable.codes() output is a deleted character.
_ABOVE_UNICODE = 0x110000
# A number's word: from its first digit to the end of the word (the letters
# before the digit are found with rfind). The pattern starts with a digit so
# that the search skips to the next digit at C speed.
_NUMBER_TAIL = re.compile(rb"[0-9][^ ]*")


def _general_only(ch: str) -> str:
    """``"x"`` for a character the fast path cannot take (see the module docstring), else ``""``."""
    token = _token_fold(ch)
    if token != fold_char(ch):
        return "x"
    if token and (_DENSE.match(token) or (token.isdigit() and not token.isascii())):
        return "x"
    return ""


_GENERAL = CodeTable(_general_only)


def _fast_path_takes(text: str) -> bool:
    if text.isascii():
        return True
    _, marks = _GENERAL.codes(text)
    return bool(marks.min() >= _ABOVE_UNICODE)


def _number_words(data: bytes, start: int) -> set[bytes]:
    # The words of data[start:] with a digit, leading zeros stripped (as
    # figures() keeps them). Each match runs to its word's end, so the next
    # match lies in a later word.
    numbers = set()
    for match in _NUMBER_TAIL.finditer(data, start):
        begin = data.rfind(b" ", 0, match.start()) + 1
        numbers.add(data[begin : match.end()].lstrip(b"0") or b"0")
    return numbers


def fast_keys(title: str, text: str, min_content_chars: int) -> tuple[Fingerprint, str | None] | None:
    """The fingerprint and the content key of a title and text, or None if the fast path cannot.

    Args:
        title: the item's title.
        text: the item's text.
        min_content_chars: a content shorter than this (in characters) has no key.

    Returns:
        ``(fingerprint(title, text), content key)``, each equal to what the
        general path gives; None when the text needs the general path.
    """
    full = title + " " + text
    if not _fast_path_takes(full):
        return None
    folded_title = _TOKEN_FOLD.translate(title)
    title_words = folded_title.split()
    data = _TOKEN_FOLD.translate(full).encode("utf-8")
    words = data.split()
    k = len(title_words)
    # Each token is hashed once; the title's words are the first hashes.
    digests = b"".join(map(_MURMUR, words[: k + MAX_TOKENS], itertools.repeat(_TOKEN_SEED)))
    hashes = np.frombuffer(digests, dtype="<u8")[::2]
    shingles = _shingles_of(hashes)
    numbers = _number_words(data, len(folded_title.encode("utf-8")))
    fp = Fingerprint(
        signature=signature(shingles),
        size=min(len(shingles), 0xFFFF),
        title=_smallest16(hashes[:k], TITLE_WORDS),
        figures=figures(title_words),
        text_figures=_smallest16(_token_hashes(numbers), FIGURES) if numbers else (),
    )
    content = b" ".join(words)
    # Characters, not bytes, count: a UTF-8 character takes at most 4 bytes.
    if len(content) < min_content_chars or (
        len(content) < 4 * min_content_chars
        and len(content.decode("utf-8")) < min_content_chars
    ):
        return fp, None
    return fp, hashlib.sha256(content).hexdigest()[:32]
