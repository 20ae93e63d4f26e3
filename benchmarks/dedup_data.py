"""The dedup benchmark's data: real items, their generated copies, hard negatives.

Shared by ``benchmarks.dedup_eval`` (quality) and ``benchmarks.dedup_bench``
(state size and memory). Everything is deterministic: one seed per item.

* **Base items**: every entry of the real feeds under ``corpora/feeds/real``,
  parsed with :func:`connectors.feeds.parse_feed` and normalised with
  :func:`transforms.normalise.normalise_item`, exactly as a replay reads them.
* **Positives**: copies of a base item as another outlet would carry them
  (:data:`VARIANT_KINDS`), each from its own source with its own guid, one
  hour later.
* **Hard negatives**: pairs of *different* stories from one feed (one outlet,
  so one topic and one house style), the pairs with the highest shingle
  overlap first, then the pairs with the most words in common.

The positives are made in :mod:`benchmarks.dedup_variants`, the hard
negatives in :mod:`benchmarks.dedup_negatives`; every name below is
importable from here.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.dedup_negatives import MIN_PAIR_WORDS, hard_negatives, same_headline_pairs
from benchmarks.dedup_variants import (
    MIN_BASE_WORDS,
    TEXT_KINDS,
    URL_KINDS,
    VARIANT_KINDS,
    Variant,
    _copy,  # noqa: F401 - benchmarks.dedup_eval imports it from here
    make_variants,
)
from connectors.feeds import parse_feed
from transforms.item import Item
from transforms.normalise import normalise_item

__all__ = [
    "MIN_BASE_WORDS",
    "MIN_PAIR_WORDS",
    "TEXT_KINDS",
    "URL_KINDS",
    "VARIANT_KINDS",
    "Variant",
    "hard_negatives",
    "load_items",
    "make_variants",
    "same_headline_pairs",
]


def load_items(real_dir: Path) -> list[Item]:
    """Every entry of every feed file under ``real_dir``, normalised."""
    items = []
    for path in sorted(p for p in real_dir.rglob("*") if p.is_file()):
        if path.suffix in (".tsv", ".md"):
            continue
        outcome = parse_feed(str(path.relative_to(real_dir)), path.read_bytes())
        for item in outcome.items:
            try:
                items.append(normalise_item(item))
            except ValueError:
                continue
    return items
