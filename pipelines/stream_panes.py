"""Event-time windowed panes of a stream: lateness counted, flagged items in window files.

:class:`WindowedPanes` windows items by event time and never drops late
data; :class:`LateCandidateFn` passes on only items whose window has ended by
the clock, and :class:`WritePaneFn` counts what arrived behind the
watermark and writes a pane's items to ``<kind>/<window>/pane-*.jsonl``.
See :mod:`pipelines.streaming` for how the job uses them.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
import zlib

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import trigger, window
from apache_beam.utils.timestamp import Duration
from apache_beam.utils.windowed_value import PaneInfoTiming

from pipelines.stream_tally import count
from transforms.item import Item, to_json

__all__ = ["LateCandidateFn", "WindowedPanes", "WritePaneFn", "late_record"]

# Windows stay open to late data for this long (about 68 years): nothing is dropped.
_UNBOUNDED_LATENESS = Duration(seconds=2**31)
_log = logging.getLogger("pipelines.streaming")


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


class LateCandidateFn(beam.DoFn):
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


class WritePaneFn(beam.DoFn):
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
