"""The formats under newswatch's Pub/Sub messages: resource names, times, attributes, JSON bodies.

:mod:`connectors.pubsub` builds and reads the messages from these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAX_ATTRIBUTE_BYTES",
    "attribute",
    "decode_object",
    "json_bytes",
    "parse_subscription",
    "parse_topic",
    "rfc3339",
]

_PROJECT = r"[a-z][-a-z0-9:.]{4,61}[a-z0-9]"
_NAME = r"(?!goog)[A-Za-z][-A-Za-z0-9._~%+]{2,254}"
_TOPIC_RE = re.compile(rf"projects/{_PROJECT}/topics/{_NAME}")
_SUBSCRIPTION_RE = re.compile(rf"projects/{_PROJECT}/subscriptions/{_NAME}")


def parse_topic(value: str) -> str:
    """The topic path, validated.

    Raises:
        ValueError: ``value`` is not ``projects/<project>/topics/<topic>``.
    """
    if not isinstance(value, str) or not _TOPIC_RE.fullmatch(value):
        raise ValueError(f"topic must look like projects/<p>/topics/<t> (got {value!r})")
    return value


def parse_subscription(value: str) -> str:
    """The subscription path, validated.

    Raises:
        ValueError: ``value`` is not ``projects/<project>/subscriptions/<subscription>``.
    """
    if not isinstance(value, str) or not _SUBSCRIPTION_RE.fullmatch(value):
        raise ValueError(
            f"subscription must look like projects/<p>/subscriptions/<s> (got {value!r})"
        )
    return value


def rfc3339(value: str | datetime) -> str:
    """A time as RFC 3339 in UTC with a ``Z`` (``2026-03-10T09:00:00Z``), as Beam's
    ``timestamp_attribute`` reads it; milliseconds are kept when there are any.

    Raises:
        ValueError: ``value`` is not an ISO 8601 time.
    """
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:  # the item record's times are UTC by definition
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    millis = moment.microsecond // 1000
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


# Pub/Sub refuses a message with an attribute value over 1024 bytes (the
# emulator does not check); names come from feeds, so they are cut to fit.
MAX_ATTRIBUTE_BYTES = 1024


def attribute(value: str) -> str:
    """``value`` cut to :data:`MAX_ATTRIBUTE_BYTES` of UTF-8, never inside a character."""
    data = value.encode("utf-8", "replace")
    if len(data) <= MAX_ATTRIBUTE_BYTES:
        return value
    return data[:MAX_ATTRIBUTE_BYTES].decode("utf-8", "ignore")  # never half a character


def json_bytes(value: Mapping[str, Any]) -> bytes:
    """A message body: compact JSON, keys sorted, UTF-8 (lone surrogates escaped)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate from a broken feed: escape it, so the body stays valid UTF-8 JSON.
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def decode_object(data: bytes, what: str) -> dict[str, Any]:
    """A message body read as a JSON object.

    Raises:
        ValueError: the body is not JSON or not an object (``what`` names the message).
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} message body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        # ValueError like every other refusal here: the caller dead-letters on it.
        got = type(value).__name__
        raise ValueError(f"{what} message body must be a JSON object (got {got})")  # noqa: TRY004
    return value
