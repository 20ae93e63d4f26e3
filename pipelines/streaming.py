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

import logging
from dataclasses import dataclass, field

import apache_beam as beam

from connectors.pubsub_io import PublishDeadLetters, PublishFlagged, ReadRawItems
from pipelines.pipeline import StageConfig, build
from pipelines.stream_panes import LateCandidateFn, WindowedPanes, WritePaneFn, late_record
from pipelines.stream_tally import LOCAL_TALLY, StageCounters, count, local_tally
from transforms.dedup_state import DEFAULT_TTL_SECONDS
from transforms.item import DeadLetter
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

_log = logging.getLogger(__name__)


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
        >> beam.ParDo(LateCandidateFn(config.window_seconds)).with_output_types(str)
        | "LatePanes" >> WindowedPanes(config.window_seconds, early_count=1)
        | "Late" >> beam.ParDo(WritePaneFn("late", config.output, late_only=True))
    )
    if config.output:
        (
            outputs["flagged"]
            | "FlaggedPanes" >> WindowedPanes(config.window_seconds)
            | "FlaggedFiles" >> beam.ParDo(WritePaneFn("flagged", config.output, late_only=False))
        )
    return outputs
