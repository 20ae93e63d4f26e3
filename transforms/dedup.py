"""Exact deduplication in batch, by keyed grouping.

Three passes, each on what the previous one kept:

1. ``id`` — the same entry seen twice (same source and guid, or same URL);
2. ``url`` — the same canonical URL across sources (scheme and ``www.``
   ignored, tracking parameters already removed by normalisation);
3. ``content`` — the same normalised title and text across sources.

A batch collection has no order, so "first seen" is defined: the
representative of a group is the item with the smallest
``(published, fetched, id)``; items without a date sort last. Copies are
kept, marked with ``duplicate``, and the representative lists them in
``also_reported_by``. Grouping, not Beam's ``Deduplicate``: the latter
declares a processing-time timer and drags a batch replay onto the slow
runner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.folding import fold
from transforms.item import Duplicate, Item, Report, sha256_hex
from transforms.normalise import url_key

__all__ = [
    "DUPLICATES_TAG",
    "rank",
    "content_key",
    "resolve_group",
    "ExactDedup",
    "MIN_CONTENT_CHARS",
]

DUPLICATES_TAG = "duplicates"
# Shorter texts ("Test", "Read more") are the same by accident, not by copying.
MIN_CONTENT_CHARS = 40
_SPACES = re.compile(r"\s+")
_LAST = "\uffff"


def rank(item: Item) -> tuple[str, str, str, str, str]:
    """Total order that picks a group's representative: earliest first."""
    return (item.published or _LAST, item.fetched or _LAST, item.id, item.raw_sha256, item.source.url)


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
    marked = [c.replace(duplicate=Duplicate(of=rep.id, kind=kind), also_reported_by=()) for c in copies]
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
            | "Resolve" >> beam.ParDo(_ResolveFn(self._kind)).with_outputs(DUPLICATES_TAG, main="kept")
        )
        kept = (resolved.kept, parts.unkeyed) | "Kept" >> beam.Flatten()
        return kept, resolved[DUPLICATES_TAG]


def _by_id(item: Item) -> str:
    return item.id


def _by_url(item: Item) -> str | None:
    return url_key(item.canonical_url)


class ExactDedup(beam.PTransform):
    """Items → ``{"unique": ..., "duplicates": ...}`` PCollections."""

    def expand(self, items):
        duplicates = []
        for kind, key_fn in (("id", _by_id), ("url", _by_url), ("content", content_key)):
            items, dups = items | f"Dedup-{kind}" >> _DedupPass(kind, key_fn)
            duplicates.append(dups)
        return {"unique": items, "duplicates": tuple(duplicates) | "Duplicates" >> beam.Flatten()}
