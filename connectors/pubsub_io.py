"""Pub/Sub as a Beam source and sinks, over the Beam-free messages of :mod:`connectors.pubsub`.

- :class:`ReadRawItems`: a subscription of raw items (as ``newswatch poll
  --publish`` writes them) → ``{"items", "dead_letters", "files"}``, the
  source contract of :func:`pipelines.pipeline.build`. Event time is the
  item's fetch time (attribute ``fetched``); its ``published`` time stays a
  field, since feeds backdate and replays are old. A message that is not an
  item becomes a dead letter with the reason and the raw body.
- :class:`PublishFlagged`: flagged items and dedup updates → one topic
  (``kind=item`` / ``kind=update``). An item that cannot be made into a
  message comes back as a dead letter.
- :class:`PublishDeadLetters`: dead letters → their topic, with the reason.

Event time. On Dataflow, pass ``timestamp_attribute="fetched"``: the service
then reads event time from the attribute and tracks the watermark by it (and
``id_label="item_id"`` makes reads exactly once). The DirectRunner's reader
fails the whole job on one malformed timestamp attribute and sets its
watermark to the wall clock regardless, so without ``timestamp_attribute``
the event time is set by a step after the read instead, where a missing or
malformed ``fetched`` keeps the publish time and is counted
(``event_time_from_publish_time``) rather than stopping the job.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io.gcp.pubsub import PubsubMessage, ReadFromPubSub, WriteToPubSub
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

import transforms.coders  # noqa: F401 - records cross the runner with their JSON coder
from connectors.files import DEAD_LETTERS, FILES, ITEMS
from connectors.pubsub import (
    dead_letter_message,
    flagged_message,
    item_from_message,
    parse_subscription,
    parse_topic,
    update_message,
)
from transforms.item import DeadLetter, Item, ReportUpdate

__all__ = [
    "EVENT_TIME_ATTRIBUTE",
    "PublishDeadLetters",
    "PublishFlagged",
    "ReadRawItems",
    "decode_raw",
    "event_time",
]

EVENT_TIME_ATTRIBUTE = "fetched"
_RAW_CHARS = 2000


def event_time(attributes: dict[str, str] | None) -> Timestamp | None:
    """The event time a raw-item message carries (its ``fetched`` attribute), or None."""
    value = (attributes or {}).get(EVENT_TIME_ATTRIBUTE)
    if not value:
        return None
    try:
        return Timestamp.from_rfc3339(value)
    except ValueError:
        return None


def decode_raw(data: bytes, attributes: dict[str, str] | None, path: str) -> Item | DeadLetter:
    """The item a raw-item message carries, or a dead letter saying why it is none."""
    try:
        return item_from_message(data, attributes)
    except (ValueError, KeyError, TypeError) as exc:
        reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
        raw = data.decode("utf-8", "replace")[:_RAW_CHARS]
        return DeadLetter(stage="read", reason=f"not a raw item: {reason}", path=path, raw=raw)


class _DecodeFn(beam.DoFn):
    def __init__(self, path: str, retimestamp: bool) -> None:
        self._path = path
        self._retimestamp = retimestamp
        self._received = Metrics.counter("newswatch", "messages_received")
        self._bad = Metrics.counter("newswatch", "messages_not_items")
        self._publish_time = Metrics.counter("newswatch", "event_time_from_publish_time")

    def process(self, message: PubsubMessage):
        self._received.inc()
        out = decode_raw(message.data, message.attributes, self._path)
        if isinstance(out, DeadLetter):
            self._bad.inc()
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, out)
            return
        if not self._retimestamp:
            yield out
            return
        moment = event_time(message.attributes)
        if moment is None:
            # The element keeps the reader's timestamp: the publish time.
            self._publish_time.inc()
            yield out
            return
        yield TimestampedValue(out, moment)


class ReadRawItems(beam.PTransform):
    """A subscription of raw items → ``{"items", "dead_letters", "files"}``.

    Args:
        subscription: ``projects/<p>/subscriptions/<s>``.
        timestamp_attribute: let the runner read event time from this
            attribute (Dataflow); None sets it in a step after the read.
        id_label: attribute the runner deduplicates reads by (Dataflow only).

    Raises:
        ValueError: ``subscription`` is not a subscription path.
    """

    def __init__(
        self,
        subscription: str,
        timestamp_attribute: str | None = None,
        id_label: str | None = None,
    ) -> None:
        super().__init__()
        self._subscription = parse_subscription(subscription)
        self._timestamp_attribute = timestamp_attribute or None
        self._id_label = id_label or None

    def expand(self, pbegin):
        decoded = (
            pbegin
            | "Pull"
            >> ReadFromPubSub(
                subscription=self._subscription,
                with_attributes=True,
                timestamp_attribute=self._timestamp_attribute,
                id_label=self._id_label,
            )
            | "Decode"
            >> beam.ParDo(_DecodeFn(f"pubsub:{self._subscription}", not self._timestamp_attribute))
            .with_output_types(Item)
            .with_outputs(DEAD_LETTERS, main=ITEMS)
        )
        # A subscription has no files; the summary contract still names the output.
        files = pbegin | "NoFiles" >> beam.Create([]).with_output_types(str)
        return {ITEMS: decoded[ITEMS], DEAD_LETTERS: decoded[DEAD_LETTERS], FILES: files}


class _FlaggedMessageFn(beam.DoFn):
    def __init__(self) -> None:
        self._items = Metrics.counter("newswatch", "published_flagged")
        self._truncated = Metrics.counter("newswatch", "published_truncated")
        self._failed = Metrics.counter("newswatch", "publish_dead_letters")

    def process(self, item: Item):
        try:
            data, attributes = flagged_message(item)
        except ValueError as exc:
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTERS,
                DeadLetter(stage="publish", reason=str(exc), path=item.origin or item.source.url),
            )
            return
        self._items.inc()
        if attributes.get("truncated"):
            self._truncated.inc()
        yield PubsubMessage(data, attributes)


def _update_to_message(update: ReportUpdate) -> PubsubMessage:
    Metrics.counter("newswatch", "published_updates").inc()
    return PubsubMessage(*update_message(update))


class PublishFlagged(beam.PTransform):
    """``{"flagged": items, "updates": ReportUpdates | None}`` → the flagged topic.

    Returns the dead letters of items that could not be published.

    Args:
        topic: ``projects/<p>/topics/<t>``.

    Raises:
        ValueError: ``topic`` is not a topic path.
    """

    def __init__(self, topic: str) -> None:
        super().__init__()
        self._topic = parse_topic(topic)

    def expand(self, pcolls):
        items = pcolls["flagged"] | "ItemMessages" >> beam.ParDo(_FlaggedMessageFn()).with_outputs(
            DEAD_LETTERS, main="messages"
        )
        messages = [items.messages]
        if pcolls.get("updates") is not None:
            messages.append(pcolls["updates"] | "UpdateMessages" >> beam.Map(_update_to_message))
        (
            messages
            | "AllMessages" >> beam.Flatten()
            | "Publish" >> WriteToPubSub(self._topic, with_attributes=True)
        )
        return items[DEAD_LETTERS]


def _dead_letter_to_message(letter: DeadLetter) -> PubsubMessage:
    Metrics.counter("newswatch", "published_dead_letters").inc()
    return PubsubMessage(*dead_letter_message(letter))


class PublishDeadLetters(beam.PTransform):
    """Dead letters → their topic, each with its stage and reason.

    Args:
        topic: ``projects/<p>/topics/<t>``.

    Raises:
        ValueError: ``topic`` is not a topic path.
    """

    def __init__(self, topic: str) -> None:
        super().__init__()
        self._topic = parse_topic(topic)

    def expand(self, letters):
        return (
            letters
            | "Messages" >> beam.Map(_dead_letter_to_message)
            | "Publish" >> WriteToPubSub(self._topic, with_attributes=True)
        )
