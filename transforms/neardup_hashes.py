"""Hashes near-duplicate fingerprints are made of: tokens, shingles, title and figure samples.

Every hash and constant derives from ``_SEED`` (see :mod:`transforms.neardup`
on versions). Each token is hashed once (MurmurHash3, 64 bits); a shingle's
32-bit hash is a multiply-add of its tokens' hashes; titles and figures are
kept as bottom-k samples of their tokens' low 16 bits, next to the
comparisons that read them. The MinHash signature over the shingles is built
here too, so that :mod:`transforms.neardup_fast` builds the same one.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from itertools import filterfalse

import mmh3
import numpy as np

from transforms.neardup_record import FIGURES, NUM_PERM, SHINGLE, TITLE_WORDS

__all__ = [
    "figures",
    "figures_differ",
    "shingle_hashes",
    "signature",
    "title_similarity",
]

_SEED = "newswatch-minhash-2"


def _constants(name: str, count: int = NUM_PERM) -> np.ndarray:
    # From a hash, not a random generator: the same on every worker, run and numpy version.
    return np.array(
        [
            int.from_bytes(
                hashlib.blake2b(f"{_SEED}:{name}:{i}".encode(), digest_size=8).digest(), "little"
            )
            for i in range(count)
        ],
        dtype=np.uint64,
    )


# MurmurHash3 x64-128 of a token's UTF-8 (the digest function needs mmh3 >= 5;
# mmh3 gives the same bytes on every platform, big-endian ones included, since
# 4.0); its first 8 bytes, little-endian, are the token's 64-bit hash. Hashing
# tokens rather than shingle strings builds no string per shingle, and a
# shingle's hash is then numpy arithmetic.
_MURMUR = mmh3.mmh3_x64_128_digest
_TOKEN_SEED = int(_constants("token", 1)[0]) & 0xFFFFFFFF
# A shingle's hash is the high 32 bits of sum(M_j * h_j) mod 2**64 over its
# tokens' 64-bit hashes h_j: a multiplier per position keeps "a b c" apart from
# "c b a", and the high bits of the sum depend on every bit of every h_j.
_POSITION = _constants("position", SHINGLE) | np.uint64(1)
_HIGH = np.uint64(32)


def _token_hashes(words: Iterable[bytes]) -> np.ndarray:
    """The 64-bit hash of each UTF-8 token, in order (``map`` keeps the loop in C)."""
    digests = b"".join(map(_MURMUR, words, itertools.repeat(_TOKEN_SEED)))
    return np.frombuffer(digests, dtype="<u8")[::2]


def _shingles_of(hashes: np.ndarray, k: int = SHINGLE) -> np.ndarray:
    # Distinct 32-bit shingle hashes, sorted, from the token hashes.
    n = len(hashes)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    if k > len(_POSITION):
        raise ValueError(f"shingles of at most {len(_POSITION)} tokens (got {k})")
    rows = max(n - k + 1, 1)
    total = hashes[:rows] * _POSITION[0]
    term = np.empty(rows, dtype=np.uint64)
    for j in range(1, min(k, n)):
        total += np.multiply(hashes[j : rows + j], _POSITION[j], out=term)
    total >>= _HIGH
    return _distinct(total.astype(np.uint32))


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a fresh 1-d array (sorted in place), without its per-call cost."""
    values.sort()
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _shingle_array(words: Sequence[str], k: int = SHINGLE) -> np.ndarray:
    return _shingles_of(_token_hashes(map(str.encode, words)), k)


def shingle_hashes(words: Sequence[str], k: int = SHINGLE) -> list[int]:
    """Distinct 32-bit hashes of the ``k``-token shingles (one shingle if fewer tokens), sorted.

    Raises:
        ValueError: if ``k`` is more than :data:`SHINGLE`.
    """
    return _shingle_array(words, k).tolist()


# ---------------------------------------------------------------- MinHash

# Multiply-add hashing of the 32-bit shingle hashes in 32-bit arithmetic
# (numpy's uint32 wrap-around is the mod 2**32; odd multipliers make each a
# permutation). The inputs are already well-mixed hashes, so the minimum of
# each permutation is a uniformly drawn shingle, as MinHash needs. Bits 8-15
# of the minimum are kept: they depend on the low 16 bits of the minimal
# shingle and on the permutation, where the lowest 8 would depend on the
# shingle's low 8 bits alone, the same in every permutation.
_A = (_constants("a") & np.uint64(0xFFFFFFFF)).astype(np.uint32) | np.uint32(1)
_B = (_constants("b") & np.uint64(0xFFFFFFFF)).astype(np.uint32)
_KEEP = np.uint32(8)
_CHUNK = 512


def signature(hashes: Sequence[int] | np.ndarray) -> bytes:
    """The b-bit MinHash signature (:data:`NUM_PERM` bytes) of a set of 32-bit hashes."""
    if not len(hashes):
        return bytes(NUM_PERM)
    values = np.asarray(hashes, dtype=np.uint32)
    if len(values) <= _CHUNK:
        matrix = values[:, None] * _A
        matrix += _B
        mins = matrix.min(axis=0)
    else:
        # Chunks bound the temporary matrix for long texts.
        mins = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
        buffer = np.empty((_CHUNK, NUM_PERM), dtype=np.uint32)
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK, None]
            out = buffer[: len(chunk)]
            np.multiply(chunk, _A, out=out)
            np.add(out, _B, out=out)
            np.minimum(mins, out.min(axis=0), out=mins)
    return ((mins >> _KEEP) & np.uint32(0xFF)).astype(np.uint8).tobytes()


# ---------------------------------------------------------------- titles and figures

_LOW16 = np.uint64(0xFFFF)


def _smallest16(hashes: np.ndarray, k: int) -> tuple[int, ...]:
    # The smallest k distinct low 16 bits of 64-bit token hashes, sorted
    # (a Python set and sort: numpy's per-call cost is more on a few values).
    return tuple(sorted(set((hashes & _LOW16).tolist()))[:k])


def _title_hashes(words: Sequence[str]) -> tuple[int, ...]:
    # The smallest TITLE_WORDS 16-bit hashes of the distinct words, sorted:
    # the smallest, not the first words, so a long title's sample is the same
    # whatever the word order.
    return _smallest16(_token_hashes(map(str.encode, words)), TITLE_WORDS)


def title_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Jaccard similarity of two titles' word hashes (0 when either is empty)."""
    if not a or not b:
        return 0.0
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb)


def figures(words: Sequence[str]) -> tuple[int, ...]:
    """The smallest :data:`FIGURES` 16-bit hashes of the numbers among ``words``, sorted.

    Numbers are casualty figures, dates, counts: the words that tell two
    otherwise alike reports apart. Keeping the smallest hashes (a "bottom-k"
    sample) lets :func:`figures_differ` compare two long lists exactly below
    a common limit.
    """
    # A word of letters only (the common case, passed over in C) holds no digit.
    numbers = {
        w.lstrip("0") or "0" for w in filterfalse(str.isalpha, words) if any(map(str.isdigit, w))
    }
    if not numbers:
        return ()
    return _smallest16(_token_hashes(map(str.encode, numbers)), FIGURES)


def _below_limit(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[set[int], set[int]]:
    # A full sample stands for a longer list only up to its largest hash.
    limit = min(a[-1] if len(a) >= FIGURES else 0xFFFF, b[-1] if len(b) >= FIGURES else 0xFFFF)
    return {x for x in a if x <= limit}, {x for x in b if x <= limit}


def figures_differ(a: tuple[int, ...], b: tuple[int, ...], *, both_ways: bool) -> bool:
    """Whether two figure samples differ: either way, or ``both_ways``.

    ``both_ways``: each has numbers the other lacks.
    """
    sa, sb = _below_limit(a, b)
    if both_ways:
        return bool(sa - sb) and bool(sb - sa)
    return sa != sb
