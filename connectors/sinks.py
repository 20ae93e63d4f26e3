"""JSONL file sinks that never group records: each bundle writes a shard of its own.

``WriteToText(num_shards=1)`` puts every line under one shard key, and a
runner such as FnApiRunner holds that grouping in memory: a million items
would be held as a million JSON lines. Here no record ever passes through a
grouping:

1. :class:`WriteShards` writes the records of each bundle to a shard file of
   its own, named anew for every bundle attempt, in a temporary folder, through
   ``FileSystems`` (local disk, ``gs://`` ...). At the end of the bundle it
   emits one small :class:`Shard` record: the shard's path, its line count, and
   the counts of whatever ``keys`` the caller asks about the records written.
2. :class:`~connectors.shards.JoinShards`, the one final step, combines the
   shard records (and any count keys) of the whole run, a few records per
   bundle, copies the shards of each output, in a stable order, into the one
   file, by streaming copy, and deletes the temporary folder.

A record that cannot be serialised (a lone surrogate in a string, a value JSON
cannot hold) does not end the run: an item becomes a dead letter of stage
``write`` with the reason; a dead letter is written in a sanitised form.
A bundle attempt that fails emits nothing, so its shard is never joined; it
goes with the temporary folder. Nothing here depends on the runner.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from connectors.shards import JoinShards, Shard, join_path
from transforms.item import DEAD_LETTER_TAG, DeadLetter, Item, to_json

__all__ = [
    "SHARDS_PREFIX",
    "WriteJsonl",
    "WriteShards",
    "serialise",
    "shard_folder",
]

SHARDS_PREFIX = ".newswatch-shards-"
_UNCOMPRESSED = CompressionTypes.UNCOMPRESSED


def shard_folder(directory: str) -> str:
    """A new temporary folder for shards inside ``directory`` (not created here)."""
    return join_path(directory, f"{SHARDS_PREFIX}{uuid.uuid4().hex}")


def _safe(text: object) -> str:
    # Lone surrogates and the like become visible escapes instead of an error.
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def serialise(record: Item | DeadLetter) -> bytes:
    """The record's JSON line, UTF-8 encoded with its newline.

    Raises:
        Exception: whatever :func:`~transforms.item.to_json` or the encoding
            raises (``UnicodeEncodeError`` for a lone surrogate, ``TypeError``
            for a value JSON cannot hold).
    """
    return (to_json(record) + "\n").encode("utf-8")


def _why(exc: Exception) -> str:
    return _safe(f"cannot write the record: {type(exc).__name__}: {exc}".splitlines()[0])[:500]


def _raw(record: object) -> str:
    try:
        text = to_json(record)
    except Exception:  # noqa: BLE001 - not JSON at all: keep what repr shows of it
        text = repr(record)
    return _safe(text)[:2000]


def _write_dead_letter(record: object, exc: Exception) -> DeadLetter:
    # The record is broken somewhere: read its path without trusting its shape.
    source = getattr(record, "source", None)
    path = getattr(record, "origin", None) or getattr(source, "url", None) or ""
    return DeadLetter(stage="write", reason=_why(exc), path=_safe(path), raw=_raw(record))


def _sanitised(letter: DeadLetter, exc: Exception) -> DeadLetter:
    # The same stage, kind and path (so the same summary keys), every text
    # field escaped, and what went wrong added to the reason.
    return DeadLetter(
        stage=_safe(letter.stage),
        reason=f"{_safe(letter.reason)} [{_why(exc)}]"[:1000],
        path=_safe(letter.path),
        kind=_safe(letter.kind),
        raw=_raw(letter),
    )


class _ShardFn(beam.DoFn):
    """Writes each bundle's records to its own shard; emits the :class:`Shard` at its end."""

    def __init__(
        self,
        folder: str,
        output: str,
        keys: Callable[[object], Iterable[str]] | None,
        dead_letters: bool,
    ) -> None:
        self._folder = folder
        self._output = output
        self._keys = keys
        self._dead_letters = dead_letters
        self._failed = Metrics.counter("newswatch", "write_failures")

    def start_bundle(self) -> None:
        self._handle = None
        self._path = ""
        self._lines = 0
        self._first = ""
        self._counts: Counter[str] = Counter()

    def process(self, record):
        try:
            line, keys = self._line_and_keys(record)
        except Exception as exc:  # noqa: BLE001 - one record must not end the run
            self._failed.inc()
            if isinstance(record, DeadLetter):
                # A dead letter is never dropped: it is written escaped.
                record = _sanitised(record, exc)
                line, keys = self._line_and_keys(record)
            else:
                if self._dead_letters:
                    yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, _write_dead_letter(record, exc))
                # Without dead letters here, another sink of the same record
                # (items.jsonl for flagged.jsonl) dead-letters it.
                return
        if self._handle is None:
            self._path = join_path(self._folder, f"{self._output}-{uuid.uuid4().hex}")
            self._handle = FileSystems.create(self._path, compression_type=_UNCOMPRESSED)
            self._first = hashlib.sha1(line).hexdigest()
        self._handle.write(line)
        self._lines += 1
        self._counts.update(keys)

    def _line_and_keys(self, record) -> tuple[bytes, list[str]]:
        # Both before anything is written: a record is written and counted, or neither.
        keys = list(self._keys(record)) if self._keys is not None else []
        return serialise(record), keys

    def finish_bundle(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._lines or self._counts:
            shard = Shard(
                self._output,
                self._path,
                self._lines,
                self._first,
                tuple(sorted(self._counts.items())),
            )
            yield GlobalWindows.windowed_value(shard)


class WriteShards(beam.PTransform):
    """Records → one :class:`Shard` per bundle that wrote any (globally windowed input).

    Args:
        folder: the temporary folder (:func:`shard_folder`).
        output: the name of the file the shards become.
        keys: the count keys of one written record (summed into
            :attr:`Shard.counts`); None counts nothing.
        dead_letters: an item that cannot be serialised becomes a dead letter
            (stage ``write``) on the ``dead_letter`` output, and the result is
            ``{"shards", "dead_letter"}``; otherwise it is only counted (in
            ``write_failures``), for sinks whose records another sink already
            dead-letters. A dead letter is always written, sanitised if need be.
    """

    def __init__(
        self,
        folder: str,
        output: str,
        *,
        keys: Callable[[object], Iterable[str]] | None = None,
        dead_letters: bool = False,
    ) -> None:
        super().__init__()
        self._fn = _ShardFn(folder, output, keys, dead_letters)

    def expand(self, records):
        write = beam.ParDo(self._fn).with_output_types(Shard)
        if not self._fn._dead_letters:
            return records | "Shards" >> write
        out = records | "Shards" >> write.with_outputs(DEAD_LETTER_TAG, main="shards")
        return {"shards": out["shards"], DEAD_LETTER_TAG: out[DEAD_LETTER_TAG]}


class WriteJsonl(beam.PTransform):
    """Records → one JSONL file at ``path`` (the one JSON form of each record), never grouped.

    Items that cannot be serialised are dead-lettered (stage ``write``) on
    the ``dead_letter`` output; ``counts`` is one ``{key: n}`` dict of
    ``keys`` over the records written. Several files of one run are better
    joined in one final step, as :func:`pipelines.pipeline.write_files` does.

    Args:
        path: the file to write (local or a Beam filesystem URL).
        keys: count keys of one written record, as for :class:`WriteShards`.
    """

    def __init__(self, path: str, keys: Callable[[object], Iterable[str]] | None = None) -> None:
        super().__init__()
        directory, _, name = path.rstrip("/").rpartition("/")
        self._directory = directory or "."
        self._name = name
        self._keys = keys

    def expand(self, records):
        folder = shard_folder(self._directory)
        written = records | "Write" >> WriteShards(
            folder, self._name, keys=self._keys, dead_letters=True
        )
        counts = written["shards"] | "Join" >> JoinShards(folder, self._directory, [self._name])
        return {"counts": counts, DEAD_LETTER_TAG: written[DEAD_LETTER_TAG]}
