"""The dedup benchmark's hard negatives: pairs of *different* stories from one feed.

One outlet, so one topic and one house style: the pairs with the highest
exact shingle overlap first, then the pairs with the most words in common
(:func:`hard_negatives`). Pairs under the same headline are left out as
ambiguous and listed on their own (:func:`same_headline_pairs`).
"""

from __future__ import annotations

import heapq
from collections import defaultdict

import numpy as np

from benchmarks.dedup_variants import _words
from transforms.dedup import content_key
from transforms.item import Item
from transforms.neardup import MAX_TOKENS, shingle_hashes, tokens
from transforms.normalise import url_key

__all__ = ["MIN_PAIR_WORDS", "hard_negatives", "same_headline_pairs"]

# Items in negative pairs need this many: every item the near pass can match
# (``NearConfig.min_shingles`` of 10 three-word shingles is 12 words).
MIN_PAIR_WORDS = 10


def _same_story(a: Item, b: Item) -> bool:
    """Pairs left out of the negatives: the same entry, page or text, or the same headline.

    Exact copies are the exact passes' business. Two entries of one feed
    under the same headline are often one story re-posted, so they are left
    out as ambiguous (and reported on their own); the same text under other
    headlines stays in, because that is what templated posts look like
    ("Magazine solutions" / "Magazine printables", one boilerplate body).
    """
    if a.id == b.id:
        return True
    if a.canonical_url and url_key(a.canonical_url) == url_key(b.canonical_url):
        return True
    if content_key(a) is not None and content_key(a) == content_key(b):
        return True
    return tokens(a.title) == tokens(b.title)


def _overlaps(sets: list[set]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Jaccard of every pair of ``sets``: (i, j, jaccard) arrays for i < j."""
    df: dict = defaultdict(int)
    for members in sets:
        for x in members:
            df[x] += 1
    shared = {x: col for col, x in enumerate(x for x, n in df.items() if n > 1)}
    matrix = np.zeros((len(sets), max(1, len(shared))), dtype=np.float32)
    for row, members in enumerate(sets):
        cols = [shared[x] for x in members if x in shared]
        matrix[row, cols] = 1.0
    inter = matrix @ matrix.T
    sizes = np.array([len(m) for m in sets], dtype=np.float32)
    i, j = np.triu_indices(len(sets), k=1)
    common = inter[i, j]
    union = sizes[i] + sizes[j] - common
    jac = np.divide(common, union, out=np.zeros_like(common), where=union > 0)
    keep = jac > 0
    return i[keep], j[keep], jac[keep]


def hard_negatives(
    items: list[Item], by_shingles: int = 2000, by_words: int = 1000, per_feed: int = 200
) -> list[tuple[str, Item, Item, float]]:
    """The most similar pairs of different stories within each feed.

    Returns ``(how, a, b, overlap)`` tuples: the ``by_shingles`` pairs with the
    highest exact Jaccard overlap of shingles, then the ``by_words`` pairs with
    the highest overlap of distinct words ("same topic") among the rest; at
    most ``per_feed`` of each from one feed, so that one templated feed cannot
    fill the set. Both items need :data:`MIN_PAIR_WORDS` words (fewer than the
    near pass needs); see :func:`_same_story` for the pairs left out.
    """
    by_feed: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if _words(item) >= MIN_PAIR_WORDS:
            by_feed[item.origin or item.source.url].append(item)
    candidates: dict[str, list[tuple[float, str, str, Item, Item]]] = {"shingles": [], "words": []}
    for feed in sorted(by_feed):
        group = by_feed[feed]
        if len(group) < 2:
            continue
        bodies = {i.id: tokens(i.text) for i in group}
        title_words = [tokens(i.title) for i in group]
        for how, sets in (
            (
                "shingles",
                [
                    set(shingle_hashes(t + bodies[i.id][:MAX_TOKENS]))
                    for t, i in zip(title_words, group)
                ],
            ),
            ("words", [set(t + bodies[i.id]) for t, i in zip(title_words, group)]),
        ):
            rows, cols, jac = _overlaps(sets)
            taken = 0
            for k in np.argsort(-jac, kind="stable"):
                a, b = group[rows[k]], group[cols[k]]
                if _same_story(a, b):
                    continue
                candidates[how].append((float(jac[k]), a.id, b.id, a, b))
                taken += 1
                if taken == per_feed:
                    break
    top = heapq.nlargest(by_shingles, candidates["shingles"], key=lambda t: t[:3])
    chosen = {frozenset(t[1:3]) for t in top}
    rest = heapq.nlargest(
        by_words,
        (t for t in candidates["words"] if frozenset(t[1:3]) not in chosen),
        key=lambda t: t[:3],
    )
    return [("shingles", a, b, j) for j, _, _, a, b in top] + [
        ("words", a, b, j) for j, _, _, a, b in rest
    ]


def same_headline_pairs(items: list[Item]) -> list[tuple[Item, Item]]:
    """Pairs of one feed under the same headline but with other URLs and texts.

    Left out of the hard negatives as ambiguous (a re-post, or a recurring
    column such as a daily briefing); the evaluation reports how many merge.
    """
    groups: dict[tuple, list[Item]] = defaultdict(list)
    for item in items:
        if _words(item) >= MIN_PAIR_WORDS and tokens(item.title):
            groups[(item.origin or item.source.url, tuple(tokens(item.title)))].append(item)
    pairs = []
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a.id == b.id or (
                    a.canonical_url and url_key(a.canonical_url) == url_key(b.canonical_url)
                ):
                    continue
                if content_key(a) is not None and content_key(a) == content_key(b):
                    continue
                pairs.append((a, b))
    return pairs
