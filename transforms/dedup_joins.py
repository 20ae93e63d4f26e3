"""The near pass's candidate pairs verified in parts read from files, not in two joins.

Verifying a candidate pair needs both items' packed entries (rank, id and
fingerprint, about 370 bytes). Two joins by ref would bring them together,
but a runner such as FnApiRunner holds each grouping whole in memory, and the
pairs per item grow with the copies per story up to the window
(:data:`~transforms.dedup_pairs.WINDOW`): at a million generated items the
joins held more than the rest of the replay. So entries and pairs wait in
frame files, one per part (:func:`~transforms.spill_frames.part_of` of a ref)
and bundle, and only file ids are grouped:

1. :class:`EntryPartsFn` (``EntryParts``): each packed entry, after its 8-byte
   ref, to the part of its ref;
2. :class:`PairPartsFn` (``PairParts``): each candidate pair ``(earlier ref,
   later ref)`` to the part of the earlier ref;
3. :class:`HalvesFn` (``Halves``), per part: the part's entries in memory, its
   distinct pairs read; each earlier entry, after the later item's ref, to the
   part of the later ref (a *half*);
4. :func:`verify_part` (``Verify``), per part: the part's entries in memory,
   its halves read, each pair verified
   (:func:`~transforms.dedup_pairs.verify_pair`).

A step holds one part's entries (about 1/parts of them) at a time. Each pair
is verified once: every pair with the same earlier item lies in that item's
part, where repeats (a pair found under several keys) are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.dedup_pairs import ref, unpack_entry, verify_pair
from transforms.neardup import NearConfig
from transforms.spill_files import DeleteSpill
from transforms.spill_frames import FRAMES_SUFFIX, PartWriters, part_of, read_frames

__all__ = [
    "EntryPartsFn",
    "HalvesFn",
    "PairPartsFn",
    "VerifyInParts",
    "read_entries",
    "verify_part",
]

# Bytes of an item's ref in entries, pairs and halves (transforms.dedup_pairs.ref).
_REF = 8


class _PartFilesFn(beam.DoFn):
    """Frames to part files of this bundle; ``(part, file id)`` of each at the bundle's end."""

    def __init__(self, spill_dir: str, parts: int) -> None:
        if parts <= 0:
            raise ValueError(f"parts must be positive (got {parts!r})")
        self._dir = spill_dir
        self._parts = parts

    def setup(self) -> None:
        self._files = PartWriters(self._dir)

    def start_bundle(self) -> None:
        # Files left open by a failed bundle attempt are abandoned, never read.
        self._files.close()

    def finish_bundle(self):
        for file_ref in self._files.close():
            yield GlobalWindows.windowed_value(file_ref)

    def teardown(self) -> None:
        self._files.close()


class EntryPartsFn(_PartFilesFn):
    """Packed entries → frame files by the part of the item's ref (frame: ref, entry)."""

    def process(self, packed_entry: bytes):
        item_ref = ref(unpack_entry(packed_entry)[1])
        self._files.write(part_of(item_ref, self._parts), item_ref + packed_entry)
        return ()


class PairPartsFn(_PartFilesFn):
    """Candidate pairs ``(earlier ref, later ref)`` → frame files by the earlier ref's part."""

    def process(self, pair: tuple[bytes, bytes]):
        earlier, later = pair
        self._files.write(part_of(earlier, self._parts), earlier + later)
        return ()


def read_entries(spill_dir: str, file_ids: Iterable[str]) -> dict[bytes, list[bytes]]:
    """The packed entries of one part's files, by ref (two items may share a ref's entry list)."""
    entries: dict[bytes, list[bytes]] = defaultdict(list)
    for file_id in sorted(set(file_ids)):
        for frame in read_frames(spill_dir, file_id):
            entries[frame[:_REF]].append(frame[_REF:])
    return entries


class HalvesFn(_PartFilesFn):
    """One part's entry and pair files → each earlier entry sent to its later partner's part.

    Input: ``(part, {"entry": file ids, "pair": file ids})``. A half's frame is
    the later item's ref, then the earlier item's packed entry. Tagged
    ``done``: the pair files read (the entry files are read again by
    :func:`verify_part`, which deletes them).
    """

    def process(self, joined):
        _, grouped = joined
        pair_files = sorted(set(grouped["pair"]))
        entries = read_entries(self._dir, grouped["entry"]) if pair_files else {}
        sent: set[bytes] = set()
        for file_id in pair_files:
            for frame in read_frames(self._dir, file_id):
                if frame in sent:
                    continue
                sent.add(frame)
                earlier, later = frame[:_REF], frame[_REF:]
                for entry in entries.get(earlier, ()):
                    self._files.write(part_of(later, self._parts), later + entry)
        for file_id in pair_files:
            yield beam.pvalue.TaggedOutput("done", file_id)


def verify_part(joined, spill_dir: str, config: NearConfig):
    """One part's entry and half files → the verified pairs whose later item is in the part.

    Input: ``(part, {"entry": file ids, "half": file ids})``. Then each file
    read, tagged ``done``.
    """
    _, grouped = joined
    entry_files, half_files = sorted(set(grouped["entry"])), sorted(set(grouped["half"]))
    if half_files:
        entries = read_entries(spill_dir, entry_files)
        for file_id in half_files:
            for frame in read_frames(spill_dir, file_id):
                for entry in entries.get(frame[:_REF], ()):
                    edge = verify_pair(frame[_REF:], entry, config)
                    if edge is not None:
                        yield edge
    for file_id in (*entry_files, *half_files):
        yield beam.pvalue.TaggedOutput("done", file_id)


class VerifyInParts(beam.PTransform):
    """``(packed entries, candidate pairs)`` → the verified pairs, each distinct pair once.

    The four steps above, with every entry, pair and half file deleted once read.

    Args:
        spill_dir: where the part files wait (any ``FileSystems`` path reached by every worker).
        config: the decision's settings.
        parts: how many parts the entries, pairs and halves are written in.
    """

    def __init__(self, spill_dir: str, config: NearConfig, parts: int) -> None:
        super().__init__()
        self._dir = spill_dir
        self._config = config
        self._parts = parts

    def expand(self, inputs):
        entries, pairs = inputs
        spill_dir, parts = self._dir, self._parts
        entry_parts = entries | "EntryParts" >> beam.ParDo(EntryPartsFn(spill_dir, parts))
        pair_parts = pairs | "PairParts" >> beam.ParDo(PairPartsFn(spill_dir, parts))
        sent = (
            {"entry": entry_parts, "pair": pair_parts}
            | "JoinEarlier" >> beam.CoGroupByKey()
            | "Halves"
            >> beam.ParDo(HalvesFn(spill_dir, parts)).with_outputs("done", main="halves")
        )
        sent.done | "DeletePairs" >> DeleteSpill(spill_dir, FRAMES_SUFFIX)
        checked = (
            {"entry": entry_parts, "half": sent.halves}
            | "JoinLater" >> beam.CoGroupByKey()
            | "Verify"
            >> beam.FlatMap(verify_part, spill_dir, self._config).with_outputs(
                "done", main="edges"
            )
        )
        checked.done | "DeleteVerified" >> DeleteSpill(spill_dir, FRAMES_SUFFIX)
        return checked.edges
