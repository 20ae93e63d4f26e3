"""Saved feed files as a Beam source (the JSONL sinks are in :mod:`connectors.sinks`).

``ReadFeedFiles`` matches file patterns inside the pipeline (so it runs the
same on local disk and on GCS), reads each file once (a file that two
patterns match included), and emits three PCollections: items, dead
letters, and one outcome per file for the run summary. WARC files
(``.warc``, ``.warc.gz``, as the poller's ``--archive`` writes them) are
read record by record by :mod:`connectors.warcreplay` instead of as feeds;
they may be larger than ``max_bytes``, which then bounds each archived
response.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import MIN_TIMESTAMP

from connectors.feeds import DEFAULT_MAX_BYTES, parse_feed
from connectors.input_paths import expand_inputs, not_regular, relative_name
from connectors.parse_worker import DEFAULT_CPU_SECONDS, ParseWorker
from connectors.warc import is_warc_path
from transforms.item import DeadLetter, Item

__all__ = [
    "DEAD_LETTERS",
    "FILES",
    "ITEMS",
    "READ_PROGRESS",
    "ReadFeedFiles",
    "expand_inputs",
    "not_regular",
    "relative_name",
]

ITEMS = "items"
DEAD_LETTERS = "dead_letters"
FILES = "files"
PROGRESS_SECONDS = 2.0
# What this process has read so far, for the launcher's heartbeat (in-process
# runners only; worker processes keep their own copy).
READ_PROGRESS: dict[str, int | str] = {"files": 0, "entries": 0, "last": ""}
_log = logging.getLogger(__name__)


class _ReadAndParseFn(beam.DoFn):
    def __init__(
        self,
        roots: Sequence[str],
        max_bytes: int,
        total_files: int | None,
        cpu_seconds: float | None = DEFAULT_CPU_SECONDS,
    ) -> None:
        self._roots = list(roots)
        self._max_bytes = max_bytes
        self._total = total_files
        self._cpu_seconds = cpu_seconds
        self._files = Metrics.counter("newswatch", "files_read")
        self._entries = Metrics.counter("newswatch", "entries_read")
        # WARC archives are read here too, so that one step emits every
        # item: a flatten of two readers' outputs is a collection that a
        # runner such as FnApiRunner materialises, every raw item in memory.
        self._warc = _ReadWarcFn(roots, max_bytes)

    def setup(self) -> None:
        # Progress is per worker: each reports what it has read itself.
        self._done = 0
        self._entries_done = 0
        self._started = time.monotonic()
        self._last = self._started - PROGRESS_SECONDS  # the first file shows at once
        # One child process per DoFn instance parses with a CPU deadline.
        self._worker = ParseWorker(self._cpu_seconds) if self._cpu_seconds else None

    def teardown(self) -> None:
        if getattr(self, "_worker", None) is not None:
            self._worker.close()

    def process(self, matched):
        """``(path, sizes)``: one matched file (the sizes of each match of it: one read)."""
        path, sizes = matched
        # A grouping stamps its output with the end of the window; what the
        # file gives keeps the start's timestamp instead, as a reshuffle would
        # (a runner waits on side inputs up to an element's timestamp).
        for out in self.read(FileMetadata(path, next(iter(sizes), None))):
            if isinstance(out, TaggedOutput):
                yield TaggedOutput(out.tag, TimestampedValue(out.value, MIN_TIMESTAMP))
            else:
                yield TimestampedValue(out, MIN_TIMESTAMP)

    def read(self, metadata: FileMetadata):
        if is_warc_path(metadata.path):
            yield from self._warc.process(metadata)
            return
        name = relative_name(metadata.path, self._roots)
        self._announce(name)
        READ_PROGRESS["last"] = name
        refused = not_regular(metadata.path)
        if refused:
            letter = DeadLetter(stage="read", reason=refused, path=name, kind="file")
            yield from self._emit_dead_file(letter)
            return
        size = metadata.size_in_bytes
        if size is not None and size > self._max_bytes:
            reason = f"file is {size} bytes, over the limit of {self._max_bytes}"
            outcome = DeadLetter(stage="read", reason=reason, path=name, kind="file")
            yield from self._emit_dead_file(outcome)
            return
        try:
            with FileSystems.open(metadata.path, compression_type="uncompressed") as handle:
                data = handle.read(self._max_bytes + 1)
        except OSError as exc:
            outcome = DeadLetter(stage="read", reason=f"cannot read: {exc}", path=name, kind="file")
            yield from self._emit_dead_file(outcome)
            return
        if self._worker is not None:
            result = self._worker.parse(name, data, max_bytes=self._max_bytes)
        else:
            result = parse_feed(name, data, max_bytes=self._max_bytes)
        self._files.inc()
        self._entries.inc(len(result.items) + sum(d.kind == "entry" for d in result.dead_letters))
        yield beam.pvalue.TaggedOutput(FILES, result.status)
        for warning in result.warnings:
            # Counted in the summary as warning.<kind>, beside the file outcomes.
            kind, _, detail = warning.partition(": ")
            _log.warning("%s: %s", name, warning)
            yield beam.pvalue.TaggedOutput(FILES, f"warning.{kind}")
        for letter in result.dead_letters:
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, letter)
        yield from result.items
        self._progress(len(result.items))

    def _emit_dead_file(self, letter: DeadLetter):
        self._files.inc()
        yield beam.pvalue.TaggedOutput(FILES, "dead_letter")
        yield beam.pvalue.TaggedOutput(DEAD_LETTERS, letter)
        self._progress(0)

    def _announce(self, name: str) -> None:
        # Names the file in work from the first one on, then every few seconds.
        now = time.monotonic()
        if now - self._last >= PROGRESS_SECONDS:
            self._last = now
            of = f"/{self._total}" if self._total else ""
            _log.info(
                "progress: reading %s (%d%s files, %d entries read so far)",
                name,
                self._done,
                of,
                self._entries_done,
            )

    def _progress(self, entries: int) -> None:
        self._done += 1
        self._entries_done += entries
        READ_PROGRESS["files"] = int(READ_PROGRESS["files"]) + 1
        READ_PROGRESS["entries"] = int(READ_PROGRESS["entries"]) + entries
        now = time.monotonic()
        if now - self._last >= PROGRESS_SECONDS:
            self._last = now
            rate = self._done / max(now - self._started, 1e-9)
            of = f"/{self._total}" if self._total else ""
            _log.info(
                "progress: %d%s files, %d entries read (%.0f files/s)",
                self._done,
                of,
                self._entries_done,
                rate,
            )


class _MatchFn(beam.DoFn):
    """The pipeline's start → ``(path, size in bytes)`` of every file the patterns match.

    A pattern that matches nothing is no error: the run reports an empty input.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = list(patterns)

    def process(self, _start):
        for pattern in self._patterns:
            for result in FileSystems.match([pattern]):
                for metadata in result.metadata_list:
                    yield metadata.path, metadata.size_in_bytes


class _ReadWarcFn(beam.DoFn):
    """One WARC file → its items, its dead letters and its outcome, streamed from storage."""

    def __init__(self, roots: Sequence[str], max_bytes: int) -> None:
        self._roots = list(roots)
        self._max_bytes = max_bytes
        self._files = Metrics.counter("newswatch", "warc_files_read")
        self._entries = Metrics.counter("newswatch", "warc_items_read")
        self._skipped = Metrics.counter("newswatch", "warc_records_skipped")

    def process(self, metadata):
        from connectors.warcreplay import replay_warc

        # Items name their file as the poller did, by its name in the archive
        # directory, wherever that directory is replayed from.
        name = posixpath.basename(metadata.path)
        refused = not_regular(metadata.path)
        try:
            if refused:
                raise OSError(refused)
            with FileSystems.open(metadata.path, compression_type="uncompressed") as handle:
                result = replay_warc(handle, name, self._max_bytes)
        except OSError as exc:
            reason = refused or f"cannot read: {exc}"
            letter = DeadLetter(stage="read", reason=reason, path=name, kind="file")
            yield beam.pvalue.TaggedOutput(FILES, "dead_letter")
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, letter)
            return
        self._files.inc()
        self._entries.inc(len(result.items))
        self._skipped.inc(sum((result.skipped or {}).values()))
        yield beam.pvalue.TaggedOutput(FILES, result.status)
        for letter in result.dead_letters:
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, letter)
        yield from result.items


class ReadFeedFiles(beam.PTransform):
    """File patterns → ``{"items", "dead_letters", "files"}``.

    Args:
        inputs: (pattern, root) pairs, as from :func:`expand_inputs`.
        max_bytes: larger files are dead-lettered without being parsed.
        total_files: known number of files, for the progress line.
        cpu_seconds: CPU time one feed file may take to parse, in a child
            process (:class:`connectors.parse_worker.ParseWorker`); ``None``
            parses in the worker's own process, unbounded.
    """

    def __init__(
        self,
        inputs: Sequence[tuple[str, str]],
        max_bytes: int = DEFAULT_MAX_BYTES,
        total_files: int | None = None,
        cpu_seconds: float | None = DEFAULT_CPU_SECONDS,
    ) -> None:
        super().__init__()
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive (got {max_bytes!r})")
        self._patterns = sorted({p for p, _ in inputs})
        self._roots = sorted({r for _, r in inputs})
        self._max_bytes = max_bytes
        self._total = total_files
        self._cpu_seconds = cpu_seconds

    def expand(self, pbegin):
        # Matched inside the pipeline, then grouped by path: the grouping
        # spreads the files over the workers (as a reshuffle would) and reads
        # a file that two patterns match once. Three steps, not the eleven of
        # Create, MatchAll and Reshuffle: each step costs Beam several
        # milliseconds to set up, whatever the input size.
        matched = (
            pbegin
            | "Start" >> beam.Impulse()
            | "Match" >> beam.ParDo(_MatchFn(self._patterns))
            | "ByPath" >> beam.GroupByKey()
        )
        parsed = matched | "Parse" >> beam.ParDo(
            _ReadAndParseFn(self._roots, self._max_bytes, self._total, self._cpu_seconds)
        ).with_output_types(Item).with_outputs(FILES, DEAD_LETTERS, main=ITEMS)
        return {tag: parsed[tag] for tag in (ITEMS, DEAD_LETTERS, FILES)}
