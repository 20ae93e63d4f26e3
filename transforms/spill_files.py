"""Where spill files live, and deleting them once they have been read back.

Every file goes through ``apache_beam.io.filesystems.FileSystems``, so a
spill directory may be local or remote (``gs://...``): on a distributed runner
it must be somewhere every worker reaches. Items wait in spill files
(:mod:`transforms.spill`), small records in frame files
(:mod:`transforms.spill_frames`, whose suffix is ``FRAMES_SUFFIX``); both are
named here and deleted by :class:`DeleteSpill`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

__all__ = ["DeleteSpill", "default_spill_dir", "spill_path"]

_SUFFIX = ".spill"
# The name its warnings carried before the split, so log filters still match.
_log = logging.getLogger("transforms.spill")


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
