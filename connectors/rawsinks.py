"""Where the poller delivers raw items: JSONL files and a Pub/Sub topic.

:class:`RawOutputs` takes one batch of raw (normalised, not yet classified)
items and dead letters and returns only when the batch is durable in every
configured output: appended to the day's JSONL file and ``fsync``-ed, and
accepted by Pub/Sub. Only then does the poller store the sources' cursors,
so delivery is at-least-once.

Files under ``--output DIR``, one pair per UTC day, appended round after round::

    items-2026-12-01.jsonl         one raw item per line (transforms.item.to_json)
    dead_letter-2026-12-01.jsonl   entries that could not become items, with the reason

A process killed in the middle of a write can leave a torn last line; it is
cut off when the file is next opened (its items were not yet acknowledged,
so they come again).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from transforms.item import DeadLetter, Item, to_json

__all__ = ["ItemPublisher", "JsonlOutput", "RawOutputs", "repair_tail"]


class ItemPublisher(Protocol):
    """What :class:`connectors.pubsub_publisher.RawItemPublisher` offers the poller."""

    def publish_many(self, items: Sequence[Item]) -> list[str]: ...

    def close(self) -> None: ...


def repair_tail(path: Path) -> int:
    """Cut a torn last line (no final newline) off a JSONL file; return the bytes cut."""
    try:
        handle = open(path, "rb+")
    except FileNotFoundError:
        return 0
    with handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        # Read backwards in blocks until the last newline.
        end = size
        block = 65536
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            chunk = handle.read(end - start)
            if end == size and chunk.endswith(b"\n"):
                return 0
            at = chunk.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                break
            end = start
        else:
            keep = 0
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
        return size - keep


class JsonlOutput:
    """Day files of raw items and dead letters under one directory (see the module docstring).

    Args:
        directory: created if missing.
        clock: Unix time, for the day of the file (tests pass their own).
    """

    def __init__(self, directory: str | os.PathLike[str], clock=time.time) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._day = ""
        self._files: dict[str, IO[bytes]] = {}

    def path(self, stem: str, day: str | None = None) -> Path:
        return self.directory / f"{stem}-{day or self._today()}.jsonl"

    def _today(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self._clock()))

    def _handle(self, stem: str) -> IO[bytes]:
        day = self._today()
        if day != self._day:
            self.close()
            self._day = day
        handle = self._files.get(stem)
        if handle is None:
            path = self.path(stem, day)
            repair_tail(path)
            handle = self._files[stem] = open(path, "ab")
        return handle

    def write(self, items: Sequence[Item], dead_letters: Sequence[DeadLetter]) -> None:
        """Append and fsync; returns when the lines are on disk."""
        for stem, records in (("items", items), ("dead_letter", dead_letters)):
            if not records:
                continue
            handle = self._handle(stem)
            # One write per batch: a kill leaves at most one torn line, at the end.
            handle.write("".join(to_json(r) + "\n" for r in records).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


class RawOutputs:
    """Every configured output of raw items, delivered together.

    Args:
        files: the JSONL output, if ``--output`` was given.
        publisher: the raw-item topic's publisher, if ``--publish`` was given.
    """

    def __init__(
        self, files: JsonlOutput | None = None, publisher: ItemPublisher | None = None
    ) -> None:
        self.files = files
        self.publisher = publisher

    def describe(self) -> str:
        parts = []
        if self.files is not None:
            parts.append(f"files in {self.files.directory}")
        if self.publisher is not None:
            parts.append(f"topic {getattr(self.publisher, 'topic', '?')}")
        return ", ".join(parts) or "none besides the archive"

    def deliver(self, items: Sequence[Item], dead_letters: Sequence[DeadLetter]) -> None:
        """Blocking: returns once the batch is durable everywhere.

        Raises:
            OSError: the files could not be written.
            Exception: whatever the Pub/Sub client raises when publishing fails.
        """
        if self.files is not None:
            self.files.write(items, dead_letters)
        if self.publisher is not None and items:
            self.publisher.publish_many(items)

    def close(self) -> None:
        if self.files is not None:
            self.files.close()
        if self.publisher is not None:
            self.publisher.close()
