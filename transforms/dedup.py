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

**Whole items never wait in memory** (a runner such as FnApiRunner holds
each grouping, and whatever waits for a side input, in memory). Each item is
written to a spill file (:mod:`transforms.spill`) and becomes a
:class:`Member`: its rank, a handle, its report, its keys and its spill
file's id, a few hundred bytes. The passes group members; each copy and each
representative with reports ends as a :data:`Decision` keyed by its spill
file and handle; each spill file is then read back once, with only its own
decisions in memory (:mod:`transforms.dedup_apply`). The members themselves
wait in frame files too: each pass writes them to one file per part (by
their key in that pass) and bundle, and reads, groups and resolves one part
at a time (:class:`_ExactPasses`), so that no grouping of a record per item
is held by a runner that keeps groupings in memory. Byte-identical repeats
of one entry ("twins", which share a handle) in one spill file share one
decision: the first takes it, the others are ``id`` copies; in two spill
files they are ``id`` copies of each other like any repeat.

An item whose member cannot be made, or whose decision cannot be applied,
becomes a dead letter of stage ``dedup``; the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import apache_beam as beam

from transforms.dedup_apply import ApplyFileFn, copy_decision, exact_decision, kept_decision
from transforms.dedup_exact import ExactPasses, resolve_members
from transforms.dedup_member import (
    MIN_CONTENT_CHARS,
    Decision,
    Member,
    content_key,
    handle,
    member,
    pack_member,
    rank,
    unpack_member,
    url_dedup_key,
)
from transforms.dedup_near import NEAR_PARTS, NearDedup, assign_leaders, near_frame
from transforms.item import DEAD_LETTER_TAG, Duplicate, Item, Report
from transforms.neardup import NearConfig
from transforms.spill import SPILL_FILES_TAG, DeleteSpill, SpillFn, default_spill_dir

__all__ = [
    "DUPLICATES_TAG",
    "MIN_CONTENT_CHARS",
    "Decision",
    "Dedup",
    "ExactDedup",
    "ExactPasses",
    "Member",
    "NearDedup",
    "assign_leaders",
    "content_key",
    "handle",
    "member",
    "near_parts_for",
    "pack_member",
    "rank",
    "resolve_group",
    "resolve_members",
    "unpack_member",
    "url_dedup_key",
]

DUPLICATES_TAG = "duplicates"
# Feed bytes per part of the near pass's buckets (about 6,000 generated items).
_BYTES_PER_NEAR_PART = 32 * 1024 * 1024


def near_parts_for(input_bytes: int | None) -> int:
    """How many parts the near pass should pair its candidates in, for this many bytes of feeds.

    One part per 32 MiB of input, at most :data:`~transforms.dedup_near.NEAR_PARTS`:
    a one-file replay then writes one candidate file per bundle, while a
    large one holds a small part of its candidate entries at a time. An
    unknown size (a remote input) takes the most.
    """
    if input_bytes is None:
        return NEAR_PARTS
    return max(1, min(NEAR_PARTS, -(-input_bytes // _BYTES_PER_NEAR_PART)))


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


def _spill_record(item: Item, file_id: str) -> tuple[str, bytes]:
    m = member(item, None, file_id)
    return m.handle, pack_member(m)


def _spill_near_record(
    near: NearConfig, item: Item, file_id: str
) -> tuple[str, tuple[bytes, bytes | None]]:
    # The fingerprint stays in the spill file's frames, read again by the
    # near pass: the exact passes group members without it.
    m = member(item, near, file_id)
    frame = near_frame(m.handle, m.rank, m.id, m.near)
    return m.handle, (pack_member(m._replace(near=b"")), frame)


def _temp_location(pipeline: beam.Pipeline) -> str | None:
    from apache_beam.options.pipeline_options import GoogleCloudOptions

    options = getattr(pipeline, "options", None)
    return options.view_as(GoogleCloudOptions).temp_location if options is not None else None


class Dedup(beam.PTransform):
    """Items → ``{"items", "unique", "duplicates", "dead_letter"}``: exact passes, then ``near``.

    A batch transform (it groups the whole collection). ``items`` is every
    item, copies marked ``duplicate``: one collection from one step, for
    sinks that take all items without a flatten; ``unique`` and
    ``duplicates`` are its two parts; ``dead_letter``
    (:data:`~transforms.item.DEAD_LETTER_TAG`) holds the items dedup could
    not process, as dead letters of stage ``dedup``.

    Args:
        near: the near-duplicate decision's settings; None for the exact passes only.
        spill_dir: where items wait for their decisions
            (:mod:`transforms.spill`; any ``FileSystems`` path, reached by
            every worker). The run deletes each file after reading it back;
            the caller removes the folder. Default: a fresh folder under the
            pipeline's ``--temp_location``, else under the local temporary
            directory (a runner on this machine only), left empty.
        near_parts: how many parts the exact passes' records and the near
            pass's candidate entries are split into (each part is read,
            grouped and decided in one step, holding about 1/parts of them;
            a bundle writes one file per part, which a small input need not
            pay for: :func:`near_parts_for`).
    """

    def __init__(
        self,
        near: NearConfig | None = NearConfig(),
        spill_dir: str | None = None,
        near_parts: int = NEAR_PARTS,
    ) -> None:
        super().__init__()
        self._near = near
        self._spill_dir = spill_dir
        self._near_parts = near_parts

    def expand(self, items):
        near = self._near
        spill_dir = self._spill_dir or default_spill_dir(_temp_location(items.pipeline))
        if near is None:
            spill = SpillFn(spill_dir, _spill_record, "dedup")
        else:
            spill = SpillFn(spill_dir, partial(_spill_near_record, near), "dedup", frames=True)
        spilled = items | "Spill" >> beam.ParDo(spill).with_outputs(
            SPILL_FILES_TAG, DEAD_LETTER_TAG, main="members"
        )
        records = spilled.members | "Exact" >> ExactPasses(spill_dir, self._near_parts)
        exact_copies = records | "CopyDecisions" >> beam.FlatMap(exact_decision)
        decided = [exact_copies]
        files = spilled[SPILL_FILES_TAG] | "SpillFiles" >> beam.Map(lambda f: (f, None))
        if near is None:
            decided.append(records | "KeptDecisions" >> beam.FlatMap(kept_decision))
        else:
            kept, near_copies = (records, files, exact_copies) | "Dedup-near" >> NearDedup(
                spill_dir, near, self._near_parts
            )
            decided += [kept, near_copies | "NearDecisions" >> beam.Map(copy_decision)]
        decisions = decided | "Decisions" >> beam.Flatten()
        applied = (
            {"file": files, "decision": decisions}
            | "ByFile" >> beam.CoGroupByKey()
            | "Apply"
            >> beam.ParDo(ApplyFileFn(spill_dir))
            .with_output_types(Item)
            .with_outputs("done", DEAD_LETTER_TAG, main="items")
        )
        applied.done | "DeleteSpill" >> DeleteSpill(spill_dir)
        every = applied["items"]
        return {
            "items": every,
            "unique": every
            | "Unique" >> beam.Filter(lambda i: i.duplicate is None).with_output_types(Item),
            "duplicates": every
            | "Duplicates"
            >> beam.Filter(lambda i: i.duplicate is not None).with_output_types(Item),
            DEAD_LETTER_TAG: (spilled[DEAD_LETTER_TAG], applied[DEAD_LETTER_TAG])
            | "DeadLetters" >> beam.Flatten(),
        }


class ExactDedup(Dedup):
    """Items → ``{"items", "unique", "duplicates", "dead_letter"}`` by the exact passes alone."""

    def __init__(self, spill_dir: str | None = None) -> None:
        super().__init__(near=None, spill_dir=spill_dir)
