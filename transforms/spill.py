"""Items parked in files while a batch stage decides on small records about them.

Batch dedup (:class:`transforms.dedup.Dedup`) decides on a few hundred bytes
per item; the items themselves must wait for the decisions. A runner such as
FnApiRunner holds whatever waits between two stages in memory (joining the
decisions to the items as a side input holds every item until the decisions
exist), so the items wait in files instead:

1. :class:`SpillFn` writes each item as one line (its key, a tab, its JSON)
   to a spill file of its own bundle, named afresh for each bundle attempt (a
   retried bundle never appends to a file that another attempt wrote, and the
   ids a failed attempt emitted are discarded with it); a file rolls over
   after :data:`ROLL_ITEMS` items. Each item's small record goes downstream
   carrying the file's id; at the end of the bundle, the ids of its files do.
2. The caller groups its decisions by file id together with the file ids
   (so that a file without decisions is still read back) and streams each
   file back with :func:`read_spill`.
3. :class:`DeleteSpill` deletes each file once it has been read, after a
   reshuffle: a retried read never finds its file gone.

Every file goes through ``apache_beam.io.filesystems.FileSystems``, so a
spill directory may be local or remote (``gs://...``): on a distributed runner
it must be somewhere every worker reaches.

Paths and deletion are in :mod:`transforms.spill_files`, frame files for small
records (:class:`FrameWriter`, :class:`FrameSpillFn`, :class:`PartWriters`) in
:mod:`transforms.spill_frames`; every name below is importable from here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from transforms.item import DEAD_LETTER_TAG, Item, failure_reason, item_dead_letter, to_json
from transforms.spill_files import DeleteSpill, default_spill_dir, spill_path
from transforms.spill_frames import (
    FRAMES_SUFFIX,
    ROLL_FRAMES,
    FrameSpillFn,
    FrameWriter,
    PartWriters,
    part_of,
    read_frames,
)

__all__ = [
    "FRAMES_SUFFIX",
    "ROLL_FRAMES",
    "ROLL_ITEMS",
    "SPILL_FILES_TAG",
    "DeleteSpill",
    "FrameSpillFn",
    "FrameWriter",
    "PartWriters",
    "SpillFn",
    "default_spill_dir",
    "part_of",
    "read_frames",
    "read_spill",
    "spill_path",
]

# Items per spill file: bounds a file (about 100 MB of real items) and the
# decisions a read-back holds for it, and gives a remote runner files to
# read back in parallel even when one bundle spilled everything.
ROLL_ITEMS = 20_000
SPILL_FILES_TAG = "spill_files"


def read_spill(spill_dir: str, file_id: str) -> Iterator[tuple[str, str]]:
    """``(key, item JSON)`` for each line of one spill file, in the order written."""
    with FileSystems.open(
        spill_path(spill_dir, file_id), compression_type=CompressionTypes.UNCOMPRESSED
    ) as handle:
        for raw in handle:
            line = raw.decode("utf-8", "surrogatepass").rstrip("\n")
            if line:
                key, _, data = line.partition("\t")
                yield key, data


class SpillFn(beam.DoFn):
    """Items → their small records (main output); the items themselves go to spill files.

    Tagged outputs: :data:`SPILL_FILES_TAG`, the id of each file written (at
    the end of its bundle, in the global window: a batch stage), and
    :data:`~transforms.item.DEAD_LETTER_TAG`, the dead letter of an item whose
    record cannot be made (``stage``'s dead letter; the item is not spilled).

    Args:
        spill_dir: where the files go (any ``FileSystems`` path).
        describe: ``(item, file id) -> (key, record)``; the key is written
            beside the item and given back by :func:`read_spill`.
        stage: the stage named in dead letters.
        roll_items: items per file.
        frames: when set, ``describe`` gives ``(key, (record, frame))``: the
            record goes downstream and the frame (bytes, or None for none)
            to a frame file of the same id as the spill file
            (:func:`read_frames`), in the same order.
    """

    def __init__(
        self,
        spill_dir: str,
        describe: Callable[[Item, str], tuple[str, Any]],
        stage: str,
        roll_items: int = ROLL_ITEMS,
        frames: bool = False,
    ) -> None:
        if roll_items <= 0:
            raise ValueError(f"roll_items must be positive (got {roll_items!r})")
        self._dir = spill_dir
        self._describe = describe
        self._stage = stage
        self._roll = roll_items
        self._frames = frames
        self._spilled = Metrics.counter("newswatch", "items_spilled")
        self._failed = Metrics.counter("newswatch", f"{stage}_dead_letters")

    def setup(self) -> None:
        self._out = None
        self._frame_out: FrameWriter | None = None
        self._file_id = ""
        self._count = 0
        self._written: list[str] = []

    def start_bundle(self) -> None:
        # A file left open by a failed bundle attempt is abandoned, never read.
        self._close()
        self._written = []

    def process(self, item: Item):
        if self._out is None or self._count >= self._roll:
            self._open()
        try:
            key, record = self._describe(item, self._file_id)
            frame = None
            if self._frames:
                record, frame = record
            line = f"{key}\t{to_json(item)}\n".encode("utf-8", "surrogatepass")
        except Exception as exc:  # one item's failure must not end the run
            self._failed.inc()
            letter = item_dead_letter(self._stage, item, failure_reason(exc))
            yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
            return
        self._out.write(line)
        if frame is not None:
            self._frame_out.write(frame)
        self._count += 1
        self._spilled.inc()
        yield record

    def finish_bundle(self):
        self._close()
        for file_id in self._written:
            yield beam.pvalue.TaggedOutput(SPILL_FILES_TAG, GlobalWindows.windowed_value(file_id))
        self._written = []

    def teardown(self) -> None:
        self._close()

    def _open(self) -> None:
        self._close()
        self._file_id = uuid.uuid4().hex[:20]
        self._out = FileSystems.create(
            spill_path(self._dir, self._file_id),
            mime_type="application/octet-stream",
            compression_type=CompressionTypes.UNCOMPRESSED,
        )
        self._count = 0
        self._written.append(self._file_id)
        if self._frames:
            self._frame_out = FrameWriter(self._dir, self._file_id)

    def _close(self) -> None:
        out, self._out = getattr(self, "_out", None), None
        if out is not None:
            out.close()
        frames, self._frame_out = getattr(self, "_frame_out", None), None
        if frames is not None:
            frames.close()
