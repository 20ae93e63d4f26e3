"""An item's near-duplicate fingerprint and content key in one pass: the fast path.

:func:`transforms.neardup.fingerprint` and
:func:`transforms.dedup_member.content_key` each fold the title and text,
split it into words and work word by word in Python. :func:`fast_keys`
gives both from one fold of ``title + " " + text``, encoded once to UTF-8
and split as bytes: each token's hash reads its bytes directly (no string
and no encoding per token), the content key is the words joined with
single spaces, and the numbers among the words are found from the positions of
the digit bytes instead of a test of every word.

That is only equal to the general path when

* the token fold and the content fold agree on every character (they differ
  on format characters, digits of other scripts and Hangul syllables);
* no character folds into a script written without spaces (those words
  become character bigrams);
* every digit of the folded text is an ASCII digit (a few digits, such as
  Ethiopic ones, have no decimal value and stay as they are).

The fold the fast path uses (:data:`_FAST_FOLD`, filled lazily like the
others) marks the characters that break one of these instead of folding
them; a text with one of them returns None and takes the general path.
Every ASCII text qualifies, and most others do (all but 0.6% of the
generated replay items). ``tests/test_neardup_fast.py`` checks the fast
path against the general one.
"""

from __future__ import annotations

import hashlib
import itertools

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
from transforms.neardup_tokens import _DENSE, _token_fold

__all__ = ["fast_keys"]

# ASCII "0": bytes minus it below 10 are digits (uint8 wraps the others above).
_ZERO = np.uint8(ord("0"))
# No character folds to U+FFFF (a noncharacter folds to a space), so it can
# mark the characters the fast path refuses in the fold itself.
_REFUSED = "\uffff"


def _general_only(ch: str) -> str:
    """``"x"`` for a character the fast path cannot take (see the module docstring), else ``""``."""
    token = _token_fold(ch)
    if token != fold_char(ch):
        return "x"
    if token and (_DENSE.match(token) or (token.isdigit() and not token.isascii())):
        return "x"
    return ""


def _fast_fold(ch: str) -> str:
    # The token fold, or the mark of a refused character: one table lookup
    # per character both folds and checks.
    return _REFUSED if _general_only(ch) else _token_fold(ch)


_FAST_FOLD = CodeTable(_fast_fold)


def _number_words(data: bytes, start: int) -> set[bytes]:
    # The words of data[start:] with a digit, leading zeros stripped (as
    # figures() keeps them). numpy finds the digits (a regular expression's
    # scan of every byte costs more); each word is cut once, at its first.
    codes = np.frombuffer(data, dtype=np.uint8)[start:] - _ZERO
    numbers: set[bytes] = set()
    end = -1
    for at in (np.flatnonzero(codes < 10) + start).tolist():
        if at < end:
            continue
        begin = data.rfind(b" ", 0, at) + 1
        end = data.find(b" ", at)
        if end < 0:
            end = len(data)
        numbers.add(data[begin:end].lstrip(b"0") or b"0")
    return numbers


def fast_keys(
    title: str, text: str, min_content_chars: int | None
) -> tuple[Fingerprint, str | None] | None:
    """The fingerprint and the content key of a title and text, or None if the fast path cannot.

    Args:
        title: the item's title.
        text: the item's text.
        min_content_chars: a content shorter than this (in characters) has no
            key; None for the fingerprint alone (the key is then None).

    Returns:
        ``(fingerprint(title, text), content key)``, each equal to what the
        general path gives; None when the text needs the general path.
    """
    folded = _FAST_FOLD.translate(title + " " + text)
    if _REFUSED in folded:
        return None
    folded_title = _FAST_FOLD.translate(title)
    title_words = folded_title.split()
    data = folded.encode("utf-8")
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
    if min_content_chars is None:
        return fp, None
    content = b" ".join(words)
    # Characters, not bytes, count: a UTF-8 character takes at most 4 bytes.
    if len(content) < min_content_chars or (
        len(content) < 4 * min_content_chars
        and len(content.decode("utf-8")) < min_content_chars
    ):
        return fp, None
    return fp, hashlib.sha256(content).hexdigest()[:32]
