"""Near-duplicate detection: MinHash over word shingles, LSH banding, one decision.

Pure functions, no Beam: the batch pass (:mod:`transforms.dedup`), the
streaming state machine (:mod:`transforms.streaming_dedup`) and the benchmark
(``benchmarks/dedup_eval.py``) all call the same :func:`fingerprint`,
:func:`band_keys` and :func:`near_similarity`, so what the benchmark measures
is what the pipeline decides.

* **Tokens** are Unicode words of the folded text (case, diacritics and
  Arabic/Persian letter variants folded, invisible format characters such as
  soft hyphens and zero-width spaces removed, digits of any script read as
  ASCII). Scripts written without spaces (Han, kana, Thai, Lao, Khmer,
  Myanmar) become overlapping character bigrams.
* **Shingles** are runs of :data:`SHINGLE` tokens over the title and the
  first :data:`MAX_TOKENS` tokens of the text. Each token is hashed once
  (MurmurHash3, 64 bits) and a shingle's 32-bit hash is a fixed
  multiply-add of its tokens' hashes, computed with numpy.
* **Signature**: :data:`NUM_PERM` MinHash values from fixed-seed 32-bit
  multiply-add hashes, of which 8 bits are kept ("b-bit MinHash"): 128
  bytes per item, the same on every worker and every run.
* **Versions**: every hash and constant derives from ``_SEED``, whose name
  changes whenever the bits do. Fingerprints of two versions cannot be
  compared: their signatures agree only by chance, so a near copy is missed
  (never falsely merged) across a change, e.g. against streaming state
  written before it.
* **Candidates** (:func:`candidate_keys`): LSH bands of the signature, plus
  the set of title words, so that cost per item stays flat as history grows.
* **Decision** (:func:`near_similarity`): two items are one story when their
  estimated Jaccard similarity is very high; or, under the same headline,
  when it is high enough or the shorter one is contained in the longer one
  (a truncated copy); or, under a lightly edited headline, when it is
  higher. Both must have enough text, and items with different figures
  ("kills 3" / "kills 5") are never merged.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import filterfalse

import mmh3
import numpy as np

from transforms.folding import CodeTable, fold_char

__all__ = [
    "FIGURES",
    "MAX_TOKENS",
    "NUM_PERM",
    "SHINGLE",
    "TITLE_WORDS",
    "Fingerprint",
    "NearConfig",
    "candidate_keys",
    "containment",
    "figures",
    "figures_differ",
    "fingerprint",
    "jaccard",
    "near_similarity",
    "shingle_hashes",
    "signature",
    "title_key",
    "title_similarity",
    "tokens",
]

NUM_PERM = 128
SHINGLE = 3
MAX_TOKENS = 1000
TITLE_WORDS = 16
FIGURES = 12
_SEED = "newswatch-minhash-2"
# Chance that two unrelated b-bit values agree: corrects the similarity estimate.
_COLLIDE = 1.0 / 256.0


@dataclass(frozen=True, slots=True)
class NearConfig:
    """Thresholds of the near-duplicate decision (defaults chosen by ``benchmarks.dedup_eval``).

    Attributes:
        threshold: estimated Jaccard similarity at which two items under the
            same headline are one story.
        containment: share of the shorter item's shingles found in the longer
            one at which a truncated copy under the same headline is one story.
        edited_threshold: similarity at which two items under an edited
            headline (see ``title_agree``) are one story.
        title_agree: Jaccard similarity of the title words at which a headline
            counts as edited rather than another.
        strong: similarity at which two items are one story whatever their
            headlines (a syndicated copy under its own headline).
        min_shingles: items with fewer shingles are never near-duplicates: a
            headline alone is too little text to tell copies from stories.
        bands: LSH bands; ``bands * rows`` must not exceed :data:`NUM_PERM`.
        rows: signature bytes per band.
    """

    threshold: float = 0.4
    containment: float = 0.8
    edited_threshold: float = 0.6
    title_agree: float = 0.7
    strong: float = 0.8
    min_shingles: int = 10
    bands: int = 32
    rows: int = 4

    def __post_init__(self) -> None:
        for name in ("threshold", "containment", "edited_threshold", "title_agree", "strong"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"NearConfig.{name} must be in (0, 1] (got {value!r})")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > NUM_PERM:
            raise ValueError(
                f"NearConfig bands*rows must be between 1 and {NUM_PERM} (got {self.bands}*{self.rows})"
            )
        if self.min_shingles < 1:
            raise ValueError(f"NearConfig.min_shingles must be >= 1 (got {self.min_shingles!r})")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the near-duplicate decision knows about an item (about 160 bytes packed).

    Attributes:
        signature: :data:`NUM_PERM` one-byte MinHash values.
        size: number of distinct shingles (capped at 65535).
        title: the smallest :data:`TITLE_WORDS` of the 16-bit hashes of the
            title's distinct words, sorted.
        figures: the smallest :data:`FIGURES` 16-bit hashes of the numbers in
            the title, sorted.
        text_figures: the same for the numbers anywhere in the text.
    """

    signature: bytes
    size: int
    title: tuple[int, ...]
    figures: tuple[int, ...] = ()
    text_figures: tuple[int, ...] = ()

    def pack(self) -> bytes:
        """A compact binary form (see :meth:`unpack`)."""
        parts = (self.title[:TITLE_WORDS], self.figures[:FIGURES], self.text_figures[:FIGURES])
        head = struct.pack("<HBBB", min(self.size, 0xFFFF), *(len(p) for p in parts))
        return head + b"".join(struct.pack(f"<{len(p)}H", *p) for p in parts) + self.signature

    @classmethod
    def unpack(cls, data: bytes) -> Fingerprint:
        size, *counts = struct.unpack_from("<HBBB", data)
        at, parts = 5, []
        for n in counts:
            parts.append(struct.unpack_from(f"<{n}H", data, at))
            at += 2 * n
        return cls(
            signature=bytes(data[at:]),
            size=size,
            title=parts[0],
            figures=parts[1],
            text_figures=parts[2],
        )


# ---------------------------------------------------------------- tokens

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
    for j in range(1, min(k, n)):
        total += hashes[j : rows + j] * _POSITION[j]
    return np.unique((total >> _HIGH).astype(np.uint32))


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


def jaccard(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two shingle sets behind two signatures."""
    agree = (
        int(np.count_nonzero(np.frombuffer(a, np.uint8) == np.frombuffer(b, np.uint8))) / NUM_PERM
    )
    return max(0.0, (agree - _COLLIDE) / (1.0 - _COLLIDE))


def containment(similarity: float, size_a: int, size_b: int) -> float:
    """Estimated share of the smaller set found in the larger, from their Jaccard similarity."""
    small, large = sorted((size_a, size_b))
    if small == 0:
        return 0.0
    shared = similarity * (small + large) / (1.0 + similarity)
    return min(1.0, shared / small)


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
    """Whether two figure samples differ: either way, or ``both_ways`` (each has numbers the other lacks)."""
    sa, sb = _below_limit(a, b)
    if both_ways:
        return bool(sa - sb) and bool(sb - sa)
    return sa != sb


def fingerprint(title: str, text: str) -> Fingerprint:
    """The :class:`Fingerprint` of an item's title and text."""
    title_words = tokens(title)
    text_words = tokens(text)
    # Each token is hashed once; the title's words are the first hashes.
    hashes = _token_hashes(map(str.encode, itertools.chain(title_words, text_words[:MAX_TOKENS])))
    shingles = _shingles_of(hashes)
    return Fingerprint(
        signature=signature(shingles),
        size=min(len(shingles), 0xFFFF),
        title=_smallest16(hashes[: len(title_words)], TITLE_WORDS),
        figures=figures(title_words),
        text_figures=figures(text_words),
    )


def candidate_keys(fp: Fingerprint, config: NearConfig) -> list[str]:
    """Keys under which an item meets its candidate copies; empty if it has too little text.

    The LSH band keys of the signature (a band is the band number and that
    band's bytes), plus one key for the set of title words: a copy that
    keeps its headline is a candidate however much of its text changed
    (a truncated teaser, a rewritten lead). Keys are strings, so that Beam's
    grouping stays deterministic.
    """
    if fp.size < config.min_shingles:
        return []
    sig, rows = fp.signature, config.rows
    keys = [
        f"{band:02x}{sig[band * rows : (band + 1) * rows].hex()}" for band in range(config.bands)
    ]
    title = title_key(fp)
    if title is not None:
        keys.append(title)
    return keys


def title_key(fp: Fingerprint) -> str | None:
    """The candidate key of an item's title words (the last of :func:`candidate_keys`).

    None for a title of fewer than two words.
    """
    if len(fp.title) < 2:
        return None
    digest = hashlib.blake2b(struct.pack(f"<{len(fp.title)}H", *fp.title), digest_size=8)
    return "t" + digest.hexdigest()


def near_similarity(
    a: Fingerprint, b: Fingerprint, config: NearConfig = NearConfig()
) -> float | None:
    """The similarity of two items if they are one story, else None.

    Symmetric in ``a`` and ``b``. In order:

    1. both need ``min_shingles`` shingles;
    2. figures decide first: headlines with different numbers, or texts that
       each carry numbers the other lacks (two shelling reports with
       different casualty figures), are two stories however alike the rest;
    3. a similarity of ``strong`` or more is one story (a syndicated copy
       under its own headline);
    4. under the same headline (the same title words), a similarity of
       ``threshold``, or a containment of ``containment`` (a truncated copy,
       boilerplate appended), is one story;
    5. under an edited headline (title words ``title_agree`` alike), a
       similarity of ``edited_threshold`` is; a headline that changed more
       is another story unless rule 3 holds ("TMIL: forms in React" and
       "TMIL: styling in React" share one boilerplate text).

    The returned value is the estimated Jaccard similarity, or the estimated
    containment when only that matched.
    """
    if a.size < config.min_shingles or b.size < config.min_shingles:
        return None
    if figures_differ(a.figures, b.figures, both_ways=False):
        return None
    if figures_differ(a.text_figures, b.text_figures, both_ways=True):
        return None
    similarity = jaccard(a.signature, b.signature)
    if similarity >= config.strong:
        return similarity
    if a.title == b.title and a.title:
        if similarity >= config.threshold:
            return similarity
        contained = containment(similarity, a.size, b.size)
        return contained if contained >= config.containment else None
    if (
        similarity >= config.edited_threshold
        and title_similarity(a.title, b.title) >= config.title_agree
    ):
        return similarity
    return None
