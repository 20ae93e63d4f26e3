"""Publishing to Pub/Sub: a batching publisher, and the raw-item publisher of ``newswatch poll``.

Free of Beam. The messages themselves are defined in :mod:`connectors.pubsub`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Self

from connectors.pubsub import Message, parse_topic, raw_item_message
from transforms.item import Item

__all__ = ["Publisher", "RawItemPublisher"]


class Publisher:
    """Publishes messages to one topic with client-side batching.

    Uses google-cloud-pubsub's ``PublisherClient``, which talks to the emulator
    when ``PUBSUB_EMULATOR_HOST`` is set. The client is created on first use,
    never at import.

    Args:
        topic: ``projects/<p>/topics/<t>``.
        timeout: seconds to wait for the server to acknowledge a batch.

    Raises:
        ValueError: ``topic`` is not a topic path.
    """

    def __init__(self, topic: str, *, timeout: float = 60.0) -> None:
        self.topic = parse_topic(topic)
        self.timeout = timeout
        self._client: Any = None

    def _publisher(self) -> Any:
        if self._client is None:
            from google.cloud import pubsub_v1

            batching = pubsub_v1.types.BatchSettings(
                max_messages=500, max_bytes=4 * 1024 * 1024, max_latency=0.05
            )
            self._client = pubsub_v1.PublisherClient(batch_settings=batching)
        return self._client

    def publish_messages(self, messages: Iterable[Message]) -> list[str]:
        """Publishes every message and returns their server ids once all are acknowledged.

        Raises:
            connectors.errors.PermanentError: the topic does not exist.
            connectors.errors.TransientError: the server did not acknowledge in time
                (unreachable endpoint, overload); some messages may have been published.
        """
        from concurrent.futures import TimeoutError as FutureTimeout

        from google.api_core import exceptions as gexc

        from connectors.errors import PermanentError, TransientError

        client = self._publisher()
        futures = [client.publish(self.topic, data, **attrs) for data, attrs in messages]
        try:
            return [future.result(timeout=self.timeout) for future in futures]
        except gexc.NotFound:
            raise PermanentError(f"Pub/Sub topic {self.topic} does not exist") from None
        except (FutureTimeout, gexc.GoogleAPICallError) as exc:
            raise TransientError(f"publishing to {self.topic} failed: {exc}") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.stop()  # flushes what is still batched
            self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawItemPublisher(Publisher):
    """Publishes raw items (:func:`raw_item_message`) for ``newswatch stream`` to read."""

    def publish_many(self, items: Iterable[Item]) -> list[str]:
        """Publishes the items and returns when the server acknowledged all of them.

        Raises:
            connectors.errors.PermanentError: the topic does not exist.
            connectors.errors.TransientError: the server did not acknowledge in time.
            ValueError: an item's ``fetched`` is not an ISO 8601 time.
        """
        now = datetime.now(UTC)
        # Every message is built before the first is sent, so a bad item
        # publishes nothing rather than half a batch.
        messages = [raw_item_message(item, now=now) for item in items]
        return self.publish_messages(messages)
