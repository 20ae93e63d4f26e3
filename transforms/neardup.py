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

Where the parts live: the tokens in :mod:`transforms.neardup_tokens`; token
and shingle hashes, the MinHash signature and the title and figure samples
in :mod:`transforms.neardup_hashes`; :class:`Fingerprint` and
:class:`NearConfig` in :mod:`transforms.neardup_record`; the fast path that
builds a fingerprint (and the content key) from one fold of the text, for
the texts it can take, in :mod:`transforms.neardup_fast`. This module
builds the fingerprint and makes the decision; every name in its
``__all__`` is importable from here.
"""

from __future__ import annotations

import hashlib
import itertools
import struct

import numpy as np

from transforms.neardup_fast import fast_keys
from transforms.neardup_hashes import (
    _shingles_of,
    _smallest16,
    _token_hashes,
    figures,
    figures_differ,
    shingle_hashes,
    signature,
    title_similarity,
)
from transforms.neardup_record import (
    FIGURES,
    MAX_TOKENS,
    NUM_PERM,
    SHINGLE,
    TITLE_WORDS,
    Fingerprint,
    NearConfig,
)
from transforms.neardup_tokens import tokens

# Inner names the tests read here: the version, the token hash's seed, the
# title sample, and the token fold their references are built from.
from transforms.neardup_hashes import _SEED as _SEED
from transforms.neardup_hashes import _TOKEN_SEED as _TOKEN_SEED
from transforms.neardup_hashes import _title_hashes as _title_hashes
from transforms.neardup_tokens import _RUNS as _RUNS
from transforms.neardup_tokens import _token_fold as _token_fold

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

# Chance that two unrelated b-bit values agree: corrects the similarity estimate.
_COLLIDE = 1.0 / 256.0


# ---------------------------------------------------------------- MinHash

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


def fingerprint(title: str, text: str) -> Fingerprint:
    """The :class:`Fingerprint` of an item's title and text."""
    fast = fast_keys(title, text, None)
    return _general_fingerprint(title, text) if fast is None else fast[0]


def _general_fingerprint(title: str, text: str) -> Fingerprint:
    # What fast_keys gives when it takes the text, word by word; the
    # reference its tests compare with, and the path for the texts it refuses.
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
    digest = _title_digest(fp)
    return None if digest is None else "t" + digest.hex()


def _title_digest(fp: Fingerprint) -> bytes | None:
    # The 8 bytes of the title key (the streaming state keeps them as an int).
    if len(fp.title) < 2:
        return None
    return hashlib.blake2b(struct.pack(f"<{len(fp.title)}H", *fp.title), digest_size=8).digest()


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
