"""The near-duplicate fingerprint record, its sizes, and the decision's thresholds.

What every part of near-dup detection agrees on: :class:`Fingerprint` (with
its packed form, which outlives a run in streaming state and spill frames),
:class:`NearConfig`, and the constants that size both. No hashing here: the
hashes are in :mod:`transforms.neardup_hashes`, the decision in
:mod:`transforms.neardup`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "FIGURES",
    "MAX_TOKENS",
    "NUM_PERM",
    "SHINGLE",
    "TITLE_WORDS",
    "Fingerprint",
    "NearConfig",
]

NUM_PERM = 128
SHINGLE = 3
MAX_TOKENS = 1000
TITLE_WORDS = 16
FIGURES = 12


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
                f"NearConfig bands*rows must be between 1 and {NUM_PERM} "
                f"(got {self.bands}*{self.rows})"
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
        """A compact binary form (see :meth:`unpack`).

        The size and the three samples' lengths (``<HBBB``), the samples as
        little-endian 16-bit values, then the signature.
        """
        title, figures, text = (
            self.title[:TITLE_WORDS], self.figures[:FIGURES], self.text_figures[:FIGURES]
        )
        counts = len(title), len(figures), len(text)
        return (
            _HEAD.pack(min(self.size, 0xFFFF), *counts)
            + _SHORTS[sum(counts)].pack(*title, *figures, *text)
            + self.signature
        )

    @classmethod
    def unpack(cls, data: bytes) -> Fingerprint:
        size, a, b, c = _HEAD.unpack_from(data)
        values = _SHORTS[a + b + c].unpack_from(data, _HEAD.size)
        return cls(
            signature=bytes(data[_HEAD.size + 2 * (a + b + c) :]),
            size=size,
            title=values[:a],
            figures=values[a : a + b],
            text_figures=values[a + b :],
        )


# The packed head, and the packed samples by their number of values: made
# once, not parsed on every call (struct's own cache holds 100 formats).
_HEAD = struct.Struct("<HBBB")
_SHORTS = tuple(struct.Struct(f"<{n}H") for n in range(TITLE_WORDS + 2 * FIGURES + 1))
