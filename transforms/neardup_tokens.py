"""The tokens near-duplicate fingerprints are built from.

Words of the folded text (case, diacritics and Arabic/Persian letter
variants folded, invisible format characters removed, digits of any script
read as ASCII); scripts written without spaces become overlapping character
bigrams. Kept apart from the hashing (:mod:`transforms.neardup_hashes`):
tokens are text a reader can check by eye, hashes are only numbers.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from transforms.folding import CodeTable, fold_char

__all__ = ["tokens"]

# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer,
# CJK radicals/ideographs, kana, bopomofo, CJK compatibility, and the
# supplementary ideograph planes.
_NO_SPACE = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f"
    "\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
)
_RUNS = re.compile(f"([{_NO_SPACE}]+)|([^{_NO_SPACE}]+)")


_DENSE = re.compile(f"[{_NO_SPACE}]")


def _token_fold(ch: str) -> str:
    """The fold of one character for comparison.

    :func:`transforms.folding.fold_char`, except that format characters (Cf:
    soft hyphen, zero-width space) vanish instead of splitting a word, digits
    of every script become ASCII, and Hangul syllables are kept whole (their
    decomposition would leave only the initial consonant).
    """
    if unicodedata.category(ch) == "Cf":
        return ""
    if ch.isdigit() and unicodedata.decimal(ch, None) is not None:
        return str(unicodedata.decimal(ch))
    if 0xAC00 <= ord(ch) <= 0xD7A3:
        return ch
    return fold_char(ch)


_TOKEN_FOLD = CodeTable(_token_fold)


def tokens(text: str) -> list[str]:
    """Words of ``text`` for comparison; character bigrams in scripts without spaces."""
    folded = _TOKEN_FOLD.translate(text)
    if folded.isascii():
        return folded.split()
    # Every script written without spaces lies at or above U+0E00, and so does
    # any UTF-16 code unit of a character beyond the BMP: one C-speed maximum
    # clears most non-ASCII texts (Cyrillic, Arabic, kept Latin letters)
    # without the regular expression's slower scan of every character.
    units = np.frombuffer(folded.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    if units.max() < 0x0E00 or _DENSE.search(folded) is None:
        # No word needs cutting into bigrams.
        return folded.split()
    out: list[str] = []
    for word in folded.split():
        if word.isascii():
            out.append(word)
            continue
        for dense, spaced in _RUNS.findall(word):
            if spaced:
                out.append(spaced)
            elif len(dense) == 1:
                out.append(dense)
            else:
                out.extend(dense[i : i + 2] for i in range(len(dense) - 1))
    return out
