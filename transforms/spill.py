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

Small records wait in frame files (:class:`FrameWriter`, :func:`read_frames`:
each record as its length and its bytes) when a later step reads them again
after a wait, and records that must be grouped by key are written to one
frame file per part of the keys and bundle (:class:`PartWriters`,
:func:`part_of`): the caller groups the files' ids by part (a few ids) and
reads, groups and decides one part at a time, holding about 1/parts of the
records. A runner that holds a grouping in memory holds the records whole,
and, while it reads one back, two to three times its encoded size besides.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from transforms.item import DEAD_LETTER_TAG, Item, failure_reason, item_dead_letter, to_json

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
# Small records per frame file (about 130 MB of packed dedup records).
ROLL_FRAMES = 200_000
SPILL_FILES_TAG = "spill_files"
_SUFFIX = ".spill"
FRAMES_SUFFIX = ".frames"
_log = logging.getLogger(__name__)


def spill_path(spill_dir: str, file_id: str, suffix: str = _SUFFIX) -> str:
    """The path of one spill file (``suffix``: :data:`FRAMES_SUFFIX` for a frame file)."""
    return FileSystems.join(spill_dir, file_id + suffix)


def default_spill_dir(temp_location: str | None) -> str:
    """A fresh folder for one pipeline's spill files: under ``temp_location`` if set.

    Without a ``temp_location`` the folder is under the local temporary
    directory, which only a runner on this machine reaches.
    """
    base = temp_location or tempfile.gettempdir()
    return FileSystems.join(base, f"newswatch-spill-{uuid.uuid4().hex}")


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


def read_frames(spill_dir: str, file_id: str) -> Iterator[bytes]:
    """Each record of one frame file (:class:`FrameSpillFn`), in the order written.

    Raises:
        ValueError: the file ends inside a frame (it was cut short).
    """
    with FileSystems.open(
        spill_path(spill_dir, file_id, FRAMES_SUFFIX),
        compression_type=CompressionTypes.UNCOMPRESSED,
    ) as handle:
        while head := handle.read(4):
            size = struct.unpack("<I", head)[0] if len(head) == 4 else -1
            data = handle.read(size) if size >= 0 else b""
            if size < 0 or len(data) != size:
                raise ValueError(f"frame file {file_id} ends inside a frame of {size} bytes")
            yield data


class FrameWriter:
    """One new frame file: records written as their length (4 bytes) and their bytes.

    Args:
        spill_dir: where the file goes (any ``FileSystems`` path).
        file_id: the file's id; default: a new one.
    """

    def __init__(self, spill_dir: str, file_id: str | None = None) -> None:
        self.file_id = file_id or uuid.uuid4().hex[:20]
        self.count = 0
        self._out = FileSystems.create(
            spill_path(spill_dir, self.file_id, FRAMES_SUFFIX),
            mime_type="application/octet-stream",
            compression_type=CompressionTypes.UNCOMPRESSED,
        )

    def write(self, record: bytes) -> None:
        """Appends one record."""
        self._out.write(struct.pack("<I", len(record)) + record)
        self.count += 1

    def close(self) -> None:
        """Closes the file (again: nothing)."""
        out, self._out = self._out, None
        if out is not None:
            out.close()


def part_of(key: bytes, parts: int) -> int:
    """The part (0 to ``parts - 1``) that a key's frames go to: its CRC-32 modulo ``parts``."""
    return zlib.crc32(key) % parts


class PartWriters:
    """Frame files of one bundle, one per part, opened when a part gets its first frame.

    Args:
        spill_dir: where the files go (any ``FileSystems`` path).
    """

    def __init__(self, spill_dir: str) -> None:
        self._dir = spill_dir
        self._files: dict[int, FrameWriter] = {}

    def write(self, part: int, frame: bytes) -> None:
        """Appends one frame to the part's file."""
        writer = self._files.get(part)
        if writer is None:
            writer = self._files[part] = FrameWriter(self._dir)
        writer.write(frame)

    def close(self) -> list[tuple[int, str]]:
        """Closes every file: ``(part, file id)`` of each, by part."""
        files, self._files = self._files, {}
        for writer in files.values():
            writer.close()
        return sorted((part, writer.file_id) for part, writer in files.items())


class FrameSpillFn(beam.DoFn):
    """Byte records → the ids of the frame files they were written to (at the end of each bundle).

    For small records that a later step reads again after a wait (a side
    input being computed): a runner such as FnApiRunner holds a collection
    that waits in memory; a frame file costs none. Each record is written as
    its length (4 bytes) and its bytes, to a file of its own bundle attempt,
    rolled after ``roll`` records; read back with :func:`read_frames`, deleted
    with ``DeleteSpill(spill_dir, FRAMES_SUFFIX)``.

    Args:
        spill_dir: where the files go (any ``FileSystems`` path).
        roll: records per file.
    """

    def __init__(self, spill_dir: str, roll: int = ROLL_FRAMES) -> None:
        if roll <= 0:
            raise ValueError(f"roll must be positive (got {roll!r})")
        self._dir = spill_dir
        self._roll = roll

    def setup(self) -> None:
        self._out: FrameWriter | None = None
        self._written: list[str] = []

    def start_bundle(self) -> None:
        # A file left open by a failed bundle attempt is abandoned, never read.
        self._close()
        self._written = []

    def process(self, record: bytes):
        if self._out is None or self._out.count >= self._roll:
            self._close()
            self._out = FrameWriter(self._dir)
            self._written.append(self._out.file_id)
        self._out.write(record)
        return ()

    def finish_bundle(self):
        self._close()
        for file_id in self._written:
            yield GlobalWindows.windowed_value(file_id)
        self._written = []

    def teardown(self) -> None:
        self._close()

    def _close(self) -> None:
        out, self._out = getattr(self, "_out", None), None
        if out is not None:
            out.close()


def _delete(spill_dir: str, file_id: str, suffix: str) -> None:
    path = spill_path(spill_dir, file_id, suffix)
    try:
        FileSystems.delete([path])
    except Exception as exc:  # noqa: BLE001 - a file left behind is the caller's folder to remove
        _log.warning("could not delete spill file %s: %s", path, exc)
    if "://" not in spill_dir:
        # The last file's deletion removes the local folder (rmdir refuses a
        # folder that still holds files); object stores have no folders.
        try:
            os.rmdir(spill_dir)
        except OSError:
            pass


class DeleteSpill(beam.PTransform):
    """Ids of spill files that have been read back → nothing; the files are deleted.

    The reshuffle puts the deletion in a stage of its own, after the read
    that produced the ids has been committed.

    Args:
        spill_dir: the folder the files are in.
        suffix: the files' suffix (:data:`FRAMES_SUFFIX` for frame files).
    """

    def __init__(self, spill_dir: str, suffix: str = _SUFFIX) -> None:
        super().__init__()
        self._dir = spill_dir
        self._suffix = suffix

    def expand(self, file_ids):
        spill_dir, suffix = self._dir, self._suffix
        return (
            file_ids
            | "AfterRead" >> beam.Reshuffle()
            | "Delete" >> beam.Map(lambda file_id: _delete(spill_dir, file_id, suffix))
        )
