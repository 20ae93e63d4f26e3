"""The exact passes of batch dedup (``id``, ``url``, ``content``), in parts read from files.

Each pass groups the records of :class:`transforms.dedup.Dedup` (a packed
:class:`~transforms.dedup_member.Member` and its duplicate, once it has one)
by the pass's key, and in each group the earliest by rank represents the
others (:func:`resolve_members`). A copy goes on through the later passes
alone, so that each pass reads one collection and writes one.

The records are not grouped by the runner: each pass writes them to one
frame file per part (by the CRC-32 of their key in that pass) and bundle
(:class:`~transforms.spill.PartWriters`); the files' ids are grouped by part
(a few ids), and each part is read, grouped by key in memory and resolved in
one step, holding about 1/parts of the records. A runner such as FnApiRunner
holds a grouping whole, and copies it while reading it back, pass after pass:
measured at 100,000 items, the three passes grew the replay's memory by about
90 MB as groupings and by about 2 MB in parts.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Iterable

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.dedup_member import (
    Member,
    as_member,
    pack_member,
    pack_record,
    peek_member,
    unpack_record,
)
from transforms.item import Duplicate
from transforms.spill import (
    FRAMES_SUFFIX,
    DeleteSpill,
    PartWriters,
    part_of,
    read_frames,
)

__all__ = ["PASSES", "ExactPasses", "Record", "resolve_members"]


def resolve_members(kind: str, members: Iterable[Member]) -> tuple[Member, list[Member]]:
    """The representative of one group (with the copies' reports and twins) and the copies.

    The representative is the earliest by rank; a copy's own reports move to
    it, after the copy's report (except in the ``id`` pass: the same entry
    twice is not another outlet reporting it). In the ``id`` pass, repeats
    with the representative's handle are its twins when they wait in its
    spill file, and copies without reports of their own otherwise.
    """
    ordered = sorted(members, key=lambda m: (m.rank, m.handle, m.file))
    rep, reports, twins, copies = ordered[0], list(ordered[0].reports), ordered[0].twins, []
    for copy in ordered[1:]:
        if kind == "id" and copy.handle == rep.handle:
            if copy.file == rep.file:
                twins += 1 + copy.twins
            else:
                copies.append(copy)
            continue
        if kind != "id":
            reports.append(copy.report)
        reports.extend(copy.reports)
        copies.append(copy)
    return rep._replace(reports=tuple(reports), twins=twins), copies


# A member on its way through the passes: packed, and its duplicate once a
# pass has found it a copy (a copy goes on through the later passes alone, so
# that every pass reads one collection and writes one: a runner such as
# FnApiRunner holds a flatten of several steps' outputs in memory, and kept
# part of it until the end of the run when measured).
Record = tuple[bytes, Duplicate | None]
# Starts the key of a record that meets nothing in a pass.
_ALONE = "\x00"


class _ResolveFn(beam.DoFn):
    """One group of records → the representative, then the copies with their duplicate."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def process(self, keyed):
        key, group = keyed
        if key.startswith(_ALONE):
            yield from map(unpack_record, group)
            return
        records = list(map(unpack_record, group))
        if len(records) == 1:
            # Alone under its key (most records): its own representative,
            # unchanged; pack_member(unpack_member(b)) == b.
            yield records[0]
            return
        rep, copies = resolve_members(self._kind, (as_member(packed) for packed, _ in records))
        yield pack_member(rep), None
        for copy in copies:
            yield pack_member(copy), Duplicate(of=rep.id, kind=self._kind)


def _pass_key(record: Record, field: str) -> tuple[str, bytes]:
    # The record is grouped as one bytes object (pack_record): a grouping
    # holds each value as an object of its own. Only the fields the key
    # needs are read from the packed member.
    packed, duplicate = record
    key, file, handle = peek_member(packed, field, "file", "handle")
    if key is None or duplicate is not None:
        # Unique after the id pass: twins were folded into one record there.
        return f"{_ALONE}{file}\x1f{handle}", pack_record(record)
    return "=" + key, pack_record(record)


# The exact passes in their order, each with the member field it groups by.
PASSES: tuple[tuple[str, str], ...] = (("id", "id"), ("url", "url"), ("content", "content"))


def _pass_frame(record: Record, field: str, parts: int) -> tuple[int, bytes]:
    """A record as a frame of a pass's file: its key's size (4 bytes), the key, the record."""
    key, packed = _pass_key(record, field)
    raw = key.encode("utf-8", "surrogatepass")
    return part_of(raw, parts), struct.pack("<I", len(raw)) + raw + packed


class _PartWriteFn(beam.DoFn):
    """Records → frame files by the part of their key in a pass; ``(part, file id)`` per file.

    The ids come at the end of the bundle, in the global window (a batch step).
    """

    def __init__(self, spill_dir: str, parts: int, field: str):
        self._dir = spill_dir
        self._parts = parts
        self._field = field

    def setup(self) -> None:
        self._files = PartWriters(self._dir)

    def start_bundle(self) -> None:
        # Files left open by a failed bundle attempt are abandoned, never read.
        self._files.close()

    def process(self, record: Record):
        self._files.write(*_pass_frame(record, self._field, self._parts))
        return ()

    def finish_bundle(self):
        for ref in self._files.close():
            yield GlobalWindows.windowed_value(ref)

    def teardown(self) -> None:
        self._files.close()


class _PassPartFn(_PartWriteFn):
    """One part of an exact pass: ``(part, file ids)`` → its records, resolved.

    The part's frames are read, grouped by key in memory (about 1/parts of
    the records) and resolved (:class:`_ResolveFn`); the records go to the
    next pass's files (``next_field``; ``(part, file id)`` at the end of the
    bundle) or, after the last pass, downstream. Tagged ``done``: the id of
    each file read.
    """

    def __init__(
        self, kind: str, spill_dir: str, parts: int,
        next_field: str | None,
    ) -> None:
        super().__init__(spill_dir, parts, next_field)
        self._resolve = _ResolveFn(kind)

    def process(self, part_files):
        _, file_ids = part_files
        files = sorted(set(file_ids))
        groups: dict[str, list[bytes]] = defaultdict(list)
        for file_id in files:
            for frame in read_frames(self._dir, file_id):
                (size,) = struct.unpack_from("<I", frame)
                key = frame[4 : 4 + size].decode("utf-8", "surrogatepass")
                groups[key].append(frame[4 + size :])
        while groups:
            for record in self._resolve.process(groups.popitem()):
                if self._field is None:
                    yield record
                else:
                    self._files.write(*_pass_frame(record, self._field, self._parts))
        for file_id in files:
            yield beam.pvalue.TaggedOutput("done", file_id)


class ExactPasses(beam.PTransform):
    """Packed members → records ``(packed member, duplicate or None)`` after the exact passes.

    Each pass's records wait in frame files, one per part (of their key in
    that pass) and bundle; the files are grouped by part (a few ids) and each
    part is read, grouped by key and resolved in one step, holding about
    1/parts of the records: no grouping of the records themselves, which a
    runner such as FnApiRunner would hold whole (and copy while reading it
    back), pass after pass.
    """

    def __init__(self, spill_dir: str, parts: int) -> None:
        super().__init__()
        self._dir = spill_dir
        self._parts = parts

    def expand(self, members):
        spill_dir, parts = self._dir, self._parts
        refs = (
            members
            | "Records" >> beam.Map(lambda packed: (packed, None))
            | "ByKey" >> beam.ParDo(_PartWriteFn(spill_dir, parts, PASSES[0][1]))
        )
        read = []
        for n, (kind, _) in enumerate(PASSES):
            next_field = PASSES[n + 1][1] if n + 1 < len(PASSES) else None
            out = (
                refs
                | f"Parts-{kind}" >> beam.GroupByKey()
                | f"Dedup-{kind}"
                >> beam.ParDo(_PassPartFn(kind, spill_dir, parts, next_field)).with_outputs(
                    "done", main="out"
                )
            )
            read.append(out.done)
            refs = out.out
        read | "PassFilesRead" >> beam.Flatten() | "DeletePassFiles" >> DeleteSpill(
            spill_dir, FRAMES_SUFFIX
        )
        return refs
