"""Small records parked in frame files: each record as its length and its bytes.

Small records wait in frame files (:class:`FrameWriter`, :func:`read_frames`)
when a later step reads them again after a wait (:class:`FrameSpillFn`), and
records that must be grouped by key are written to one frame file per part of
the keys and bundle (:class:`PartWriters`, :func:`part_of`): the caller groups
the files' ids by part (a few ids) and reads, groups and decides one part at a
time, holding about 1/parts of the records. A runner that holds a grouping in
memory holds the records whole, and, while it reads one back, two to three
times its encoded size besides.

Frame files are named by :func:`transforms.spill_files.spill_path` with
:data:`FRAMES_SUFFIX` and deleted with ``DeleteSpill(spill_dir, FRAMES_SUFFIX)``.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

from transforms.spill_files import spill_path

__all__ = [
    "FRAMES_SUFFIX",
    "ROLL_FRAMES",
    "FrameSpillFn",
    "FrameWriter",
    "PartWriters",
    "part_of",
    "read_frames",
]

# Small records per frame file (about 130 MB of packed dedup records).
ROLL_FRAMES = 200_000
FRAMES_SUFFIX = ".frames"


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
