"""The near pass's candidate pairs in Beam: bucket entries in part files, then pairs.

The steps :class:`transforms.dedup_near.NearDedup` wires between the
survivors' packed entries and the verified pairs, on the pure functions of
:mod:`transforms.dedup_pairs`:

* :class:`CandidateFilesFn` (``CandidateKeys``): each item's candidate
  entries (:func:`~transforms.dedup_pairs.candidate_entries`), joined per
  coarse key within a bundle (:class:`CandidatesFn`), go to frame files, one
  per part (the coarse key's CRC-32 modulo the parts) and bundle;
* :func:`part_pairs` (``Pairs``): one part's files read and grouped by coarse
  key in memory, about 1/parts of all entries, each key's bucket paired
  (:func:`~transforms.dedup_pairs.bucket_pairs`);

and the pairs are verified in parts by :mod:`transforms.dedup_joins`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.dedup_pairs import (
    bucket_pairs,
    candidate_entries,
    join_entries,
    split_entries,
    unpack_entry,
)
from transforms.neardup import NearConfig
from transforms.spill import PartWriters, part_of, read_frames

__all__ = [
    "FLUSH_BYTES",
    "CandidateFilesFn",
    "CandidatesFn",
    "part_pairs",
]

# Bytes of candidate entries a bundle buffers before it writes them joined
# (about 2.5 times as much as Python objects); the part files take them in
# any number of pieces.
FLUSH_BYTES = 4 << 20


class CandidatesFn(beam.DoFn):
    """Members → ``(coarse key, joined entries)``, joined per coarse key within a bundle.

    Buffers at most ``flush_bytes`` of entries before it emits them (and the
    rest at the end of its bundle, in the global window: a batch step).
    """

    def __init__(self, config: NearConfig, flush_bytes: int = FLUSH_BYTES) -> None:
        self._config = config
        self._flush = flush_bytes

    def start_bundle(self) -> None:
        self._buffer: dict[str, list[bytes]] = defaultdict(list)
        self._size = 0

    def process(self, packed_entry: bytes):
        rank, item_id, fp, is_copy = unpack_entry(packed_entry)
        for coarse, entry in candidate_entries(rank, item_id, fp, is_copy, self._config):
            self._buffer[coarse].append(entry)
            self._size += len(entry) + 1
        if self._size >= self._flush:
            yield from self._drain()

    def finish_bundle(self):
        for joined in self._drain():
            yield GlobalWindows.windowed_value(joined)

    def _drain(self):
        buffer, self._buffer, self._size = self._buffer, defaultdict(list), 0
        while buffer:
            coarse, entries = buffer.popitem()
            yield coarse, join_entries(entries)


class CandidateFilesFn(CandidatesFn):
    """Members' packed entries → their candidate entries in frame files, one per part and bundle.

    The entries of a coarse key, joined as :class:`CandidatesFn` joins
    them, go to the file of the key's part (its CRC-32 modulo ``parts``), as
    one frame: the key's size (1 byte), the key, the joined entries. Output,
    at the end of the bundle: ``(part, file id)`` for each file written.
    """

    def __init__(
        self, config: NearConfig, spill_dir: str, parts: int, flush_bytes: int = FLUSH_BYTES
    ) -> None:
        super().__init__(config, flush_bytes)
        self._dir = spill_dir
        self._parts = parts

    def setup(self) -> None:
        self._files = PartWriters(self._dir)

    def start_bundle(self) -> None:
        super().start_bundle()
        # Files left open by a failed bundle attempt are abandoned, never read.
        self._files.close()

    def process(self, packed_entry: bytes):
        for coarse, joined in super().process(packed_entry):
            self._write(coarse, joined)
        return ()

    def finish_bundle(self):
        for coarse, joined in self._drain():
            self._write(coarse, joined)
        for file_ref in self._files.close():
            yield GlobalWindows.windowed_value(file_ref)

    def teardown(self) -> None:
        self._files.close()

    def _write(self, coarse: str, joined: bytes) -> None:
        key = coarse.encode("utf-8", "surrogatepass")
        self._files.write(part_of(key, self._parts), bytes((len(key),)) + key + joined)


def part_pairs(part_files: tuple[int, Iterable[str]], spill_dir: str):
    """One part's candidate files → the candidate pairs of its coarse keys (:func:`bucket_pairs`).

    The part's entries are read into memory, grouped by coarse key, and
    dropped once paired: a part holds about 1/``parts`` of all entries. Then
    the id of each file read, tagged ``done``.
    """
    _, file_ids = part_files
    files = sorted(set(file_ids))
    groups: dict[bytes, list[bytes]] = defaultdict(list)
    for file_id in files:
        for frame in read_frames(spill_dir, file_id):
            size = frame[0]
            groups[frame[1 : 1 + size]].append(frame[1 + size :])
    while groups:
        _, joined = groups.popitem()
        yield from bucket_pairs(entry for data in joined for entry in split_entries(data))
    for file_id in files:
        yield beam.pvalue.TaggedOutput("done", file_id)
