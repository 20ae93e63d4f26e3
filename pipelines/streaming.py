"""The streaming forms of the one graph, and the streaming job assembled from them.

:func:`pipelines.pipeline.build` is the graph; a stream differs only in what
is passed in and attached:

- the dedup form: :class:`~transforms.streaming_dedup.StreamingDedup` (keyed
  state with a time-to-live; its ``ReportUpdate`` records go out on the
  flagged topic as ``kind=update``);
- the summary form: :class:`StageCounters`, Beam counters named as the keys
  of ``summary.json`` (``entries.read``, ``language.en``,
  ``flagged.investigation``, ``duplicates.url``, ``dead_letter_entries.read``
  ...), since a stream has no end at which to write a summary;
- lateness: nothing is dropped as late. Items are windowed by event time
  only in side branches (:class:`WindowedPanes`) whose allowed lateness is
  effectively unbounded. The lateness branch fires an EARLY pane for every
  item that arrives before the watermark passes its window, so the items of
  its ON_TIME and LATE panes are those that arrived behind the watermark:
  they are counted (``late``) and, with ``--output``, their identity and
  times (:func:`late_record`) are written to ``late/`` files. Only items
  whose window has ended by the wall clock enter that branch (the watermark
  never runs ahead of the clock), which keeps its cost off the common path.
  The publishing path has no window at all: late items are flagged and
  published like any other.
- with ``--output``, flagged items also go to event-time windowed JSONL
  files, one file per fired pane and shard:
  ``flagged/<window start>--<window end>/pane-<n>-<shard>-<uuid>.jsonl``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger, window
from apache_beam.utils.timestamp import Duration
from apache_beam.utils.windowed_value import PaneInfoTiming

from connectors.pubsub_io import PublishDeadLetters, PublishFlagged, ReadRawItems
from pipelines.pipeline import StageConfig, build
from pipelines.summary import dead_letter_keys, item_keys
from transforms.dedup_state import DEFAULT_TTL_SECONDS
from transforms.item import DeadLetter, Item, to_json
from transforms.streaming_dedup import StreamingDedup

__all__ = [
    "LOCAL_TALLY",
    "StageCounters",
    "count",
    "late_record",
    "local_tally",
    "StreamConfig",
    "WindowedPanes",
    "build_stream",
]

NAMESPACE = "newswatch"
# Windows stay open to late data for this long (about 68 years): nothing is dropped.
_UNBOUNDED_LATENESS = Duration(seconds=2**31)
_log = logging.getLogger(__name__)

# The same counts, kept in this process. The local streaming runner loses
# counter updates: its state sampler keeps the metrics container of the first
# bundle each worker thread ran for a step, so later bundles' updates never
# reach the job's metrics. Its DoFns run in the launcher's process, which
# reads these instead; on Dataflow the Beam counters are the source.
LOCAL_TALLY: Counter[str] = Counter()
_TALLY_LOCK = threading.Lock()


def count(name: str, n: int = 1, counters: dict | None = None) -> None:
    """Adds ``n`` to the Beam counter ``newswatch/<name>`` and to :data:`LOCAL_TALLY`."""
    cache = counters if counters is not None else {}
    counter = cache.get(name)
    if counter is None:
        counter = cache[name] = Metrics.counter(NAMESPACE, name)
    counter.inc(n)
    with _TALLY_LOCK:
        LOCAL_TALLY[name] += n


def local_tally() -> dict[str, int]:
    """A snapshot of :data:`LOCAL_TALLY`."""
    with _TALLY_LOCK:
        return dict(LOCAL_TALLY)


class _CountFn(beam.DoFn):
    """Increments one counter per summary key of each record."""

    def __init__(self, keys_of) -> None:
        self._keys_of = keys_of
        self._counters: dict[str, object] = {}

    def process(self, record):
        for key in self._keys_of(record):
            count(key, 1, self._counters)


def _read_keys(_item) -> list[str]:
    return ["entries.read"]


class StageCounters(beam.PTransform):
    """The streaming summary form: ``{"items", "dead_letters", "files", "read"}`` → counters.

    Counter names are the keys of the batch ``summary.json``, so
    :func:`pipelines.summary.check_identities` holds over them too once the
    stream is idle.
    """

    def expand(self, pcolls):
        pcolls["items"] | "CountItems" >> beam.ParDo(_CountFn(item_keys))
        pcolls["dead_letters"] | "CountDeadLetters" >> beam.ParDo(_CountFn(dead_letter_keys))
        pcolls["read"] | "CountRead" >> beam.ParDo(_CountFn(_read_keys))
        return pcolls["read"].pipeline | "NoSummary" >> beam.Create([]).with_output_types(str)


def _shard(record: Item | str, shards: int) -> str:
    # String keys: tuple keys are not deterministic for every coder.
    if isinstance(record, Item):
        return str(int(record.id[:8] or "0", 16) % shards) if record.id else "0"
    return str(zlib.crc32(record.encode("utf-8")) % shards)


def late_record(item: Item) -> str:
    """What the lateness branch carries and ``late/`` files hold: the item's identity and times.

    Small on purpose: every item read passes through the branch's grouping,
    and the full item goes on through the stages like any other.
    """
    return json.dumps(
        {
            "id": item.id,
            "source": item.source.url,
            "guid": item.guid,
            "url": item.url,
            "fetched": item.fetched,
            "published": item.published,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


class WindowedPanes(beam.PTransform):
    """Items → ``(window, pane, shard, items)`` for each fired pane, per event-time window.

    A window fires when the watermark passes its end, early every
    ``early_count`` items, and again for each item that arrives after that;
    it accepts late data for ~68 years, so no item is ever dropped. With
    ``early_count=1`` every item before the watermark goes out in an EARLY
    pane, so an ON_TIME or LATE pane holds exactly the items that arrived
    behind the watermark. (Processing-time triggers are not used: the local
    streaming runner never fires them.)
    """

    def __init__(self, window_seconds: int, early_count: int = 100, shards: int = 4) -> None:
        super().__init__()
        self._window = window_seconds
        self._early = early_count
        self._shards = shards

    def expand(self, items):
        shards = self._shards
        return (
            items
            | "Window"
            >> beam.WindowInto(
                window.FixedWindows(self._window),
                trigger=trigger.AfterWatermark(
                    early=trigger.AfterCount(self._early), late=trigger.AfterCount(1)
                ),
                accumulation_mode=trigger.AccumulationMode.DISCARDING,
                allowed_lateness=_UNBOUNDED_LATENESS,
            )
            | "Shard" >> beam.Map(lambda item: (_shard(item, shards), item))
            | "Group" >> beam.GroupByKey()
            | "Pane" >> beam.ParDo(_PaneFn())
        )


class _LateCandidateFn(beam.DoFn):
    """Passes on (as :func:`late_record`) only items whose window has already ended by the clock.

    The watermark of a Pub/Sub read never runs ahead of the wall clock, so an
    item whose window is still open by the clock cannot be behind it; only
    the others need the grouping that tells (most items skip it: a pane per
    item is what the exact check costs).
    """

    def __init__(self, window_seconds: int) -> None:
        self._window = window_seconds

    def process(self, item: Item, timestamp=beam.DoFn.TimestampParam):
        seconds = float(timestamp)
        window_end = (seconds // self._window + 1) * self._window
        if window_end <= time.time():
            yield late_record(item)


class _PaneFn(beam.DoFn):
    def process(self, keyed, win=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        shard, items = keyed
        yield win, pane, shard, list(items)


def _window_name(win) -> str:
    start = win.start.to_utc_datetime().strftime("%Y%m%dT%H%M%SZ")
    end = win.end.to_utc_datetime().strftime("%Y%m%dT%H%M%SZ")
    return f"{start}--{end}"


def _join(directory: str, *parts: str) -> str:
    return FileSystems.join(directory, *parts)


class _WritePaneFn(beam.DoFn):
    """Writes one pane's matching items to a new file; counts LATE panes' items."""

    def __init__(self, kind: str, directory: str | None, late_only: bool) -> None:
        self._kind = kind
        self._directory = directory
        self._late_only = late_only
        self._counters: dict[str, object] = {}

    def process(self, element):
        win, pane, shard, items = element
        late = pane.timing in (PaneInfoTiming.ON_TIME, PaneInfoTiming.LATE)
        if self._late_only:
            if not late:
                return
            count("late", len(items), self._counters)
            _log.info("%d item(s) arrived behind the watermark in %s", len(items), win)
        if not self._directory or not items:
            return
        name = f"pane-{pane.index}-{shard}-{uuid.uuid4().hex[:8]}.jsonl"
        path = _join(self._directory, self._kind, _window_name(win), name)
        with FileSystems.create(path) as handle:
            for record in items:
                line = record if isinstance(record, str) else to_json(record)
                handle.write(line.encode("utf-8") + b"\n")
        count(f"{self._kind}_file_items", len(items), self._counters)
        yield path


@dataclass(frozen=True)
class StreamConfig:
    """What a streaming job reads, where it publishes, and how it windows.

    Attributes:
        subscription: raw items, ``projects/<p>/subscriptions/<s>``.
        flagged_topic: flagged items and updates, ``projects/<p>/topics/<t>``.
        dead_letter_topic: dead letters (None: logged and counted only).
        output: directory for windowed JSONL files (None: no files).
        window_seconds: event-time window of the files and of lateness.
        ttl_seconds: how long dedup remembers an item.
        timestamp_attribute: event time read by the runner (Dataflow).
        id_label: read dedup attribute (Dataflow only).
        stages: the stage settings shared with replay.
    """

    subscription: str
    flagged_topic: str
    dead_letter_topic: str | None = None
    output: str | None = None
    window_seconds: int = 300
    ttl_seconds: float = DEFAULT_TTL_SECONDS
    timestamp_attribute: str | None = None
    id_label: str | None = None
    stages: StageConfig = field(default_factory=StageConfig)


def _log_dead_letter(letter: DeadLetter) -> None:
    _log.warning("dead letter (%s): %s [%s]", letter.stage, letter.reason, letter.path)


def build_stream(p: beam.Pipeline, config: StreamConfig) -> dict:
    """The streaming job on ``p``: :func:`~pipelines.pipeline.build`, the stream's forms, its sinks.

    Returns:
        The outputs of :func:`~pipelines.pipeline.build`.
    """
    source = ReadRawItems(config.subscription, config.timestamp_attribute, config.id_label)
    outputs = build(
        p,
        source,
        config.stages,
        dedup=StreamingDedup(ttl_seconds=config.ttl_seconds),
        summary=StageCounters(),
    )
    unpublished = {"flagged": outputs["flagged"], "updates": outputs["updates"]} | (
        "PublishFlagged" >> PublishFlagged(config.flagged_topic)
    )
    dead = (outputs["dead_letters"], unpublished) | "DeadLettersOut" >> beam.Flatten()
    if config.dead_letter_topic:
        dead | "PublishDeadLetters" >> PublishDeadLetters(config.dead_letter_topic)
    else:
        dead | "LogDeadLetters" >> beam.Map(_log_dead_letter)
    # Lateness is judged on the items as read, before any stateful stage holds the watermark.
    (
        outputs["read"]
        | "LateCandidates"
        >> beam.ParDo(_LateCandidateFn(config.window_seconds)).with_output_types(str)
        | "LatePanes" >> WindowedPanes(config.window_seconds, early_count=1)
        | "Late" >> beam.ParDo(_WritePaneFn("late", config.output, late_only=True))
    )
    if config.output:
        (
            outputs["flagged"]
            | "FlaggedPanes" >> WindowedPanes(config.window_seconds)
            | "FlaggedFiles" >> beam.ParDo(_WritePaneFn("flagged", config.output, late_only=False))
        )
    return outputs
