"""Deduplication in batch: decisions on small key records, joined back to the items.

Four passes, each on what the previous one kept:

1. ``id`` — the same entry seen twice (same source and guid, or same URL);
2. ``url`` — the same page across sources (:func:`transforms.normalise.url_key`:
   scheme, ``www.``, AMP variants and tracking parameters ignored);
3. ``content`` — the same normalised title and text across sources;
4. ``near`` — the same story edited, truncated or syndicated
   (:mod:`transforms.neardup`, decided in :mod:`transforms.dedup_near`).

A batch collection has no order, so "first seen" is defined: the
representative of a group is the item with the smallest
``(published, fetched, id)``; items without a date sort last. Copies are
kept, marked with ``duplicate``, and the representative lists them in
``also_reported_by``. Grouping, not Beam's ``Deduplicate``: the latter
declares a processing-time timer and drags a batch replay onto the slow
runner. :mod:`transforms.streaming_dedup` makes the same decisions in a
stream, as keyed state with a time-to-live.

**Whole items never pass through a grouping** (a runner such as
FnApiRunner holds each grouping in memory). Each item becomes a
:class:`Member`: its rank, a handle, its report and its keys, a few hundred
bytes. The passes group members; each copy ends as a :data:`Decision` keyed
by its handle, and the decisions reach the items as a side input. The one
exception is byte-identical repeats of one entry in one file ("twins", which
share a handle): only they are grouped whole, so that exactly one of them
stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.dedup_near import NearDedup, assign_leaders
from transforms.folding import fold
from transforms.item import Duplicate, Item, Report, sha256_hex
from transforms.neardup import NearConfig, candidate_keys, fingerprint
from transforms.normalise import url_key

__all__ = [
    "DUPLICATES_TAG",
    "MIN_CONTENT_CHARS",
    "Decision",
    "Dedup",
    "ExactDedup",
    "Member",
    "NearDedup",
    "assign_leaders",
    "content_key",
    "handle",
    "member",
    "rank",
    "resolve_group",
    "resolve_members",
    "url_dedup_key",
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


def url_dedup_key(item: Item) -> str | None:
    """The key of the ``url`` pass (None without a canonical URL)."""
    return url_key(item.canonical_url)


def handle(item: Item) -> str:
    """What tells one read entry from another: equal only for byte-identical repeats in one file."""
    parts = (item.id, item.raw_sha256, item.origin or "", item.source.url)
    return sha256_hex("\x1f".join((*parts, item.published or "", item.fetched or "")))[:24]


class Member(NamedTuple):
    """What the passes know of one item (the item itself stays out of every grouping).

    Attributes:
        rank: :func:`rank` of the item.
        handle: :func:`handle` of the item.
        id: the item's id.
        report: how the item is listed in a representative's ``also_reported_by``.
        reports: the reports it carries (its own ``also_reported_by``, then
            those of the copies it represents).
        url: its ``url`` pass key, or None.
        content: its ``content`` pass key, or None.
        near: its packed fingerprint, or empty when it has too little text
            for the ``near`` pass.
        twins: byte-identical repeats of it that the ``id`` pass folded in.
    """

    rank: tuple
    handle: str
    id: str
    report: Report
    reports: tuple[Report, ...]
    url: str | None
    content: str | None
    near: bytes
    twins: int = 0


# handle → (duplicate or None, also_reported_by for a representative, twins).
Decision = tuple[Duplicate | None, tuple[Report, ...], int]


def member(item: Item, near: NearConfig | None = NearConfig()) -> Member:
    """The :class:`Member` of an item (its fingerprint only when ``near`` is set)."""
    packed = b""
    if near is not None:
        fp = fingerprint(item.title, item.text)
        packed = fp.pack() if candidate_keys(fp, near) else b""
    return Member(
        rank=rank(item),
        handle=handle(item),
        id=item.id,
        report=Report(id=item.id, source=item.source, url=item.url),
        reports=tuple(item.also_reported_by),
        url=url_dedup_key(item),
        content=content_key(item),
        near=packed,
    )


def resolve_members(kind: str, members: Iterable[Member]) -> tuple[Member, list[Member]]:
    """The representative of one group (with the copies' reports and twins) and the copies.

    The representative is the earliest by rank; a copy's own reports move to
    it, after the copy's report (except in the ``id`` pass: the same entry
    twice is not another outlet reporting it). In the ``id`` pass, repeats
    with the representative's handle are its twins, not copies.
    """
    ordered = sorted(members, key=lambda m: (m.rank, m.handle))
    rep, reports, twins, copies = ordered[0], list(ordered[0].reports), ordered[0].twins, []
    for copy in ordered[1:]:
        if kind == "id" and copy.handle == rep.handle:
            twins += 1 + copy.twins
            continue
        if kind != "id":
            reports.append(copy.report)
        reports.extend(copy.reports)
        copies.append(copy)
    return rep._replace(reports=tuple(reports), twins=twins), copies


def resolve_group(kind: str, items: Iterable[Item]) -> list[Item]:
    """Mark all but the representative of one group of items as duplicates of it.

    The item-level form of :func:`resolve_members`, for callers holding items.
    Returns the representative first, then the copies, in rank order.
    """
    ordered = sorted(items, key=rank)
    rep, copies = ordered[0], ordered[1:]
    if not copies:
        return [rep]
    reports = list(rep.also_reported_by)
    for copy in copies:
        if kind != "id":
            reports.append(Report(id=copy.id, source=copy.source, url=copy.url))
        reports.extend(copy.also_reported_by)
    marked = [
        c.replace(duplicate=Duplicate(of=rep.id, kind=kind), also_reported_by=()) for c in copies
    ]
    return [rep.replace(also_reported_by=tuple(reports)), *marked]


# ---------------------------------------------------------------- Beam


class _ResolveFn(beam.DoFn):
    """One group of members → the representative; copies tagged ``(member, duplicate)``."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def process(self, keyed):
        _, group = keyed
        rep, copies = resolve_members(self._kind, group)
        yield rep
        for copy in copies:
            duplicate = Duplicate(of=rep.id, kind=self._kind)
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, (copy, duplicate))


class _MemberPass(beam.PTransform):
    """One exact pass over members: group by ``key_fn``; members without a key pass through."""

    def __init__(self, kind: str, key_fn: Callable[[Member], str | None]) -> None:
        super().__init__()
        self._kind = kind
        self._key_fn = key_fn

    def expand(self, members):
        key_fn = self._key_fn

        def split(m: Member):
            key = key_fn(m)
            if key is None:
                yield beam.pvalue.TaggedOutput("unkeyed", m)
            else:
                yield (key, m)

        parts = members | "Key" >> beam.FlatMap(split).with_outputs("unkeyed", main="keyed")
        resolved = (
            parts.keyed
            | "Group" >> beam.GroupByKey()
            | "Resolve"
            >> beam.ParDo(_ResolveFn(self._kind)).with_outputs(DUPLICATES_TAG, main="kept")
        )
        kept = (resolved.kept, parts.unkeyed) | "Kept" >> beam.Flatten()
        return kept, resolved[DUPLICATES_TAG]


_PASSES: tuple[tuple[str, Callable[[Member], str | None]], ...] = (
    ("id", lambda m: m.id),
    ("url", lambda m: m.url),
    ("content", lambda m: m.content),
)


def _copy_decision(copied: tuple[Member, Duplicate]) -> tuple[str, Decision]:
    copy, duplicate = copied
    return copy.handle, (duplicate, (), copy.twins)


def _kept_decision(m: Member) -> Iterable[tuple[str, Decision]]:
    if m.reports or m.twins:
        yield m.handle, (None, m.reports, m.twins)


class _ApplyFn(beam.DoFn):
    """Items + decisions (side input) → unique items; copies and twins tagged."""

    def __init__(self) -> None:
        self._dups = {
            kind: Metrics.counter("newswatch", f"duplicates_{kind}")
            for kind in ("id", "url", "content", "near")
        }

    def process(self, item: Item, decisions):
        key = handle(item)
        decision = decisions.get(key)
        if decision is None:
            yield item
        elif decision[2]:
            yield beam.pvalue.TaggedOutput("twins", (key, item))
        else:
            yield from self.decide(item, decision)

    def decide(self, item: Item, decision: Decision):
        duplicate, reports, _ = decision
        if duplicate is None:
            yield item.replace(also_reported_by=reports)
        else:
            self._dups[duplicate.kind].inc()
            marked = item.replace(duplicate=duplicate, also_reported_by=())
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, marked)


class _TwinsFn(_ApplyFn):
    """Byte-identical repeats of one entry: the first takes the decision, the rest ``id`` copies."""

    def process(self, keyed, decisions):
        key, twins = keyed
        first, *rest = sorted(twins, key=rank)
        yield from self.decide(first, decisions[key])
        for twin in rest:
            self._dups["id"].inc()
            yield beam.pvalue.TaggedOutput(
                DUPLICATES_TAG,
                twin.replace(duplicate=Duplicate(of=twin.id, kind="id"), also_reported_by=()),
            )


class Dedup(beam.PTransform):
    """Items → ``{"unique": ..., "duplicates": ...}``: the exact passes, then ``near``.

    Args:
        near: the near-duplicate decision's settings; None for the exact passes only.
    """

    def __init__(self, near: NearConfig | None = NearConfig()) -> None:
        super().__init__()
        self._near = near

    def expand(self, items):
        near = self._near
        members = items | "Members" >> beam.Map(member, near)
        copies = []
        for kind, key_fn in _PASSES:
            members, copied = members | f"Dedup-{kind}" >> _MemberPass(kind, key_fn)
            copies.append(copied)
        copied = tuple(copies) | "ExactCopies" >> beam.Flatten()
        if near is None:
            kept = members | "KeptDecisions" >> beam.FlatMap(_kept_decision)
        else:
            kept, near_copies = (members, copied) | "Dedup-near" >> NearDedup(near)
            copied = (copied, near_copies) | "AllCopies" >> beam.Flatten()
        decisions = (
            copied | "CopyDecisions" >> beam.Map(_copy_decision),
            kept,
        ) | "Decisions" >> beam.Flatten()
        side = beam.pvalue.AsDict(decisions)
        applied = items | "Apply" >> beam.ParDo(_ApplyFn(), side).with_outputs(
            "twins", DUPLICATES_TAG, main="unique"
        )
        twins = (
            applied.twins
            | "TwinsTyped" >> beam.Map(lambda kv: kv).with_output_types(tuple[str, Item])
            | "GroupTwins" >> beam.GroupByKey()
            | "Twins" >> beam.ParDo(_TwinsFn(), side).with_outputs(DUPLICATES_TAG, main="unique")
        )
        return {
            "unique": (applied.unique, twins.unique)
            | "Unique" >> beam.Flatten().with_output_types(Item),
            "duplicates": (applied[DUPLICATES_TAG], twins[DUPLICATES_TAG])
            | "Duplicates" >> beam.Flatten().with_output_types(Item),
        }


class ExactDedup(Dedup):
    """Items → ``{"unique": ..., "duplicates": ...}`` by the exact passes alone."""

    def __init__(self) -> None:
        super().__init__(near=None)
