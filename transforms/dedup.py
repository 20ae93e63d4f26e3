"""Deduplication in batch, by keyed grouping: exact passes, then near-duplicates.

Four passes, each on what the previous one kept:

1. ``id`` — the same entry seen twice (same source and guid, or same URL);
2. ``url`` — the same page across sources (:func:`transforms.normalise.url_key`:
   scheme, ``www.``, AMP variants and tracking parameters ignored);
3. ``content`` — the same normalised title and text across sources;
4. ``near`` — the same story edited, truncated or syndicated
   (:mod:`transforms.neardup`): items meet their candidate copies by LSH band
   and title keys, each candidate pair is verified, and in ``rank`` order each
   item joins the most similar earlier representative it was verified
   against, or becomes a representative itself. A copy therefore always
   points at a representative, never at another copy.

A batch collection has no order, so "first seen" is defined: the
representative of a group is the item with the smallest
``(published, fetched, id)``; items without a date sort last. Copies are
kept, marked with ``duplicate``, and the representative lists them in
``also_reported_by``. Grouping, not Beam's ``Deduplicate``: the latter
declares a processing-time timer and drags a batch replay onto the slow
runner. :mod:`transforms.streaming_dedup` makes the same decisions in a
stream, as keyed state with a time-to-live.

``ExactDedup`` is passes 1-3; ``Dedup`` is all four.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.folding import fold
from transforms.item import Duplicate, Item, Report, sha256_hex
from transforms.neardup import Fingerprint, NearConfig, candidate_keys, fingerprint, near_similarity
from transforms.normalise import url_key

__all__ = [
    "DUPLICATES_TAG",
    "MIN_CONTENT_CHARS",
    "Dedup",
    "ExactDedup",
    "NearDedup",
    "assign_leaders",
    "content_key",
    "rank",
    "resolve_group",
    "url_dedup_key",
    "verify_bucket",
]

DUPLICATES_TAG = "duplicates"
# Shorter texts ("Test", "Read more") are the same by accident, not by copying.
MIN_CONTENT_CHARS = 40
_SPACES = re.compile(r"\s+")
_LAST = "\uffff"


def rank(item: Item) -> tuple[str, str, str, str, str]:
    """Total order that picks a group's representative: earliest first."""
    return (
        item.published or _LAST,
        item.fetched or _LAST,
        item.id,
        item.raw_sha256,
        item.source.url,
    )


def content_key(item: Item) -> str | None:
    """Hash of the folded title and text, or None when there is too little text."""
    content = _SPACES.sub(" ", fold(item.title + " " + item.text)).strip()
    if len(content) < MIN_CONTENT_CHARS:
        return None
    return sha256_hex(content)[:32]


def resolve_group(kind: str, items: Iterable[Item]) -> list[Item]:
    """Mark all but the representative of one group as duplicates of it.

    Returns the representative first, then the copies, in rank order.
    """
    ordered = sorted(items, key=rank)
    rep, copies = ordered[0], ordered[1:]
    if not copies:
        return [rep]
    # A copy's own earlier reports move to the representative with it.
    reports = list(rep.also_reported_by)
    for copy in copies:
        if kind != "id":  # the same entry twice is not another outlet reporting it
            reports.append(Report(id=copy.id, source=copy.source, url=copy.url))
        reports.extend(copy.also_reported_by)
    marked = [
        c.replace(duplicate=Duplicate(of=rep.id, kind=kind), also_reported_by=()) for c in copies
    ]
    return [rep.replace(also_reported_by=tuple(reports)), *marked]


class _ResolveFn(beam.DoFn):
    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._dups = Metrics.counter("newswatch", f"duplicates_{kind}")

    def process(self, keyed):
        _, group = keyed
        rep, *copies = resolve_group(self._kind, group)
        yield rep
        for copy in copies:
            self._dups.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, copy)


class _DedupPass(beam.PTransform):
    """One pass: group by ``key_fn``; items without a key pass through."""

    def __init__(self, kind: str, key_fn: Callable[[Item], str | None]) -> None:
        super().__init__()
        self._kind = kind
        self._key_fn = key_fn

    def expand(self, items):
        key_fn = self._key_fn

        def split(item: Item):
            key = key_fn(item)
            if key is None:
                yield beam.pvalue.TaggedOutput("unkeyed", item)
            else:
                yield (key, item)

        parts = items | "Key" >> beam.FlatMap(split).with_outputs("unkeyed", main="keyed")
        resolved = (
            parts.keyed
            | "Group" >> beam.GroupByKey()
            | "Resolve"
            >> beam.ParDo(_ResolveFn(self._kind)).with_outputs(DUPLICATES_TAG, main="kept")
        )
        kept = (resolved.kept, parts.unkeyed) | "Kept" >> beam.Flatten()
        return kept, resolved[DUPLICATES_TAG]


def _by_id(item: Item) -> str:
    return item.id


def url_dedup_key(item: Item) -> str | None:
    """The key of the ``url`` pass (None without a canonical URL)."""
    return url_key(item.canonical_url)


class ExactDedup(beam.PTransform):
    """Items → ``{"unique": ..., "duplicates": ...}`` PCollections."""

    def expand(self, items):
        duplicates = []
        for kind, key_fn in (("id", _by_id), ("url", url_dedup_key), ("content", content_key)):
            items, dups = items | f"Dedup-{kind}" >> _DedupPass(kind, key_fn)
            duplicates.append(dups)
        return {"unique": items, "duplicates": tuple(duplicates) | "Duplicates" >> beam.Flatten()}


# ---------------------------------------------------------------- near pass

# A verified pair: (rank a, id a, rank b, id b, similarity), a before b.
Edge = tuple[tuple, str, tuple, str, float]
_ANCHOR_KINDS = ("url", "content")


def verify_bucket(
    members: Iterable[tuple[tuple, str, bytes, bool]], config: NearConfig
) -> list[Edge]:
    """Verified pairs among the items that share one candidate key.

    Args:
        members: ``(rank, id, packed fingerprint, is exact copy)`` of each item
            in the bucket. An exact copy only stands in for its representative,
            so pairs whose later item is one are not needed.
        config: the decision's settings.
    """
    ordered = sorted(members, key=lambda m: m[0])
    prints = [Fingerprint.unpack(m[2]) for m in ordered]
    edges = []
    for j in range(1, len(ordered)):
        rank_b, id_b, _, copy_b = ordered[j]
        if copy_b:
            continue
        for i in range(j):
            similarity = near_similarity(prints[i], prints[j], config)
            if similarity is not None:
                edges.append((ordered[i][0], ordered[i][1], rank_b, id_b, similarity))
    return edges


def assign_leaders(
    edges: Iterable[Edge], links: Iterable[tuple[str, str]] = ()
) -> dict[str, tuple[str, float]]:
    """Near copy id → (representative id, similarity), from verified pairs.

    Args:
        edges: verified pairs (:func:`verify_bucket`).
        links: ``(copy id, representative id)`` of the exact copies (url and
            content), which stand in for their story's representative.

    Items that are not exact copies are taken in rank order. An item with a
    verified earlier match (a representative, or an exact copy of one) is a
    copy of that story's representative, the most similar match winning, the
    earliest on a tie; otherwise it is a representative. Near copies are not
    matched against, so a copy never points at another copy. This is what a
    stream fed in rank order decides (:class:`transforms.dedup_state.DedupState`).
    """
    exact_of = dict(links)
    ranks: dict[str, tuple] = {}
    earlier: dict[str, dict[str, float]] = defaultdict(dict)
    for rank_a, id_a, rank_b, id_b, similarity in edges:
        ranks[id_a], ranks[id_b] = rank_a, rank_b
        earlier[id_b][id_a] = similarity
    near_of: dict[str, tuple[str, float]] = {}

    def story(item_id: str) -> str:
        # The representative an earlier item (a representative or an exact copy) stands for.
        while item_id in exact_of:
            item_id = exact_of[item_id]
        return near_of[item_id][0] if item_id in near_of else item_id

    for node in sorted((n for n in ranks if n not in exact_of), key=ranks.__getitem__):
        best = None
        for other, similarity in earlier[node].items():
            if other in near_of:
                continue
            candidate = (-similarity, ranks[other], story(other))
            best = candidate if best is None or candidate < best else best
        if best is not None:
            near_of[node] = (best[2], round(-best[0], 4))
    return near_of


class _MarkCopiesFn(beam.DoFn):
    def __init__(self) -> None:
        self._dups = Metrics.counter("newswatch", "duplicates_near")

    def process(self, joined):
        _, grouped = joined
        (item,) = grouped["item"]
        decision = list(grouped["decision"])
        if not decision:
            yield beam.pvalue.TaggedOutput("rest", (item.id, item))
            return
        leader, similarity = decision[0]
        self._dups.inc()
        reports = (Report(id=item.id, source=item.source, url=item.url), *item.also_reported_by)
        yield beam.pvalue.TaggedOutput("reports", (leader, (rank(item), reports)))
        yield item.replace(
            duplicate=Duplicate(of=leader, kind="near", similarity=similarity), also_reported_by=()
        )


def _credit(joined) -> Iterable[Item]:
    _, grouped = joined
    for item in grouped["item"]:
        reports = [r for _, batch in sorted(grouped["reports"], key=lambda x: x[0]) for r in batch]
        yield (
            item.replace(also_reported_by=item.also_reported_by + tuple(reports))
            if reports
            else item
        )


def _leaders(grouped) -> Iterable[tuple[str, tuple[str, float]]]:
    _, records = grouped
    edges, links = [], []
    for kind, *fields in records:
        (edges if kind == "edge" else links).append(tuple(fields))
    return assign_leaders(edges, links).items()


class NearDedup(beam.PTransform):
    """The ``near`` pass: ``{"unique", "duplicates"}`` of the exact passes → the same, near copies moved.

    Args:
        config: the decision's settings.
    """

    def __init__(self, config: NearConfig = NearConfig()) -> None:
        super().__init__()
        self._config = config

    def expand(self, exact):
        config = self._config
        unique, duplicates = exact["unique"], exact["duplicates"]
        anchors = duplicates | "ExactCopies" >> beam.Filter(
            lambda item: item.duplicate.kind in _ANCHOR_KINDS
        )

        def members(item: Item):
            fp = fingerprint(item.title, item.text)
            entry = (rank(item), item.id, fp.pack(), item.duplicate is not None)
            return [(key, entry) for key in candidate_keys(fp, config)]

        edges = (
            (unique, anchors)
            | "Members" >> beam.Flatten()
            | "CandidateKeys" >> beam.FlatMap(members)
            | "Buckets" >> beam.GroupByKey()
            | "Verify" >> beam.FlatMap(lambda bucket: verify_bucket(bucket[1], config))
            | "Edges" >> beam.Map(lambda edge: ("near", ("edge", *edge)))
        )
        links = anchors | "Links" >> beam.Map(
            lambda item: ("near", ("link", item.id, item.duplicate.of))
        )
        # Verified pairs and exact links are few: one group takes them in rank order.
        decisions = (
            (edges, links)
            | "PairsAndLinks" >> beam.Flatten()
            | "Gather" >> beam.GroupByKey()
            | "Leaders" >> beam.FlatMap(_leaders)
        )
        by_id = unique | "ById" >> beam.Map(lambda item: (item.id, item))
        marked = (
            {"item": by_id, "decision": decisions}
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Mark"
            >> beam.ParDo(_MarkCopiesFn())
            .with_output_types(Item)
            .with_outputs("rest", "reports", main="copies")
        )
        kept = (
            {"item": marked.rest, "reports": marked.reports}
            | "JoinReports" >> beam.CoGroupByKey()
            | "Credit" >> beam.FlatMap(_credit).with_output_types(Item)
        )
        return {
            "unique": kept,
            "duplicates": (duplicates, marked.copies) | "AllDuplicates" >> beam.Flatten(),
        }


class Dedup(beam.PTransform):
    """Items → ``{"unique": ..., "duplicates": ...}``: the exact passes, then ``near``.

    Args:
        near: the near-duplicate decision's settings; None for the exact passes only.
    """

    def __init__(self, near: NearConfig | None = NearConfig()) -> None:
        super().__init__()
        self._near = near

    def expand(self, items):
        exact = items | "Exact" >> ExactDedup()
        return exact if self._near is None else exact | "Dedup-near" >> NearDedup(self._near)
