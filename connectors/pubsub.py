"""Pub/Sub messages of newswatch, and a publisher for raw items. Free of Beam.

Three topics carry newswatch's records; this module defines their messages
once, for the poller, the streaming pipeline and the consumer alike:

- **raw items** (``newswatch poll --publish`` → ``newswatch stream``):
  :func:`raw_item_message` / :func:`item_from_message`;
- **flagged items and dedup updates** (``newswatch stream`` → other teams and
  ``newswatch consume``): :func:`flagged_message`, :func:`update_message`,
  read back by :func:`decode_flagged`;
- **dead letters**: :func:`dead_letter_message`.

Publishing is in :mod:`connectors.pubsub_publisher` (``Publisher``,
``RawItemPublisher``; both also importable from here).

Every body is JSON; attributes carry what subscribers filter on (Pub/Sub
subscription filters see attributes only, e.g. ``attributes:flag_investigation``).
Attribute values are strings, as Pub/Sub requires.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.pubsub_format import (
    MAX_ATTRIBUTE_BYTES,
    attribute,
    decode_object,
    json_bytes,
    parse_subscription,
    parse_topic,
    rfc3339,
)
from transforms.item import (
    SCHEMA_VERSION,
    DeadLetter,
    Item,
    Report,
    ReportUpdate,
    Source,
    from_dict,
    to_dict,
)

__all__ = [
    "MAX_ATTRIBUTE_BYTES",
    "MAX_BODY_BYTES",
    "TRUNCATION_MARKER",
    "dead_letter_message",
    "decode_flagged",
    "flagged_message",
    "item_from_message",
    "parse_subscription",
    "parse_topic",
    "raw_item_message",
    "rfc3339",
    "update_from_dict",
    "update_message",
]

# Pub/Sub refuses messages over 10 MB (and requests over 10 MB in all); a
# flagged item is read by people and by subscribers' small workers, so its
# body is kept far below that. The full text stays in the archive and files.
MAX_BODY_BYTES = 512 * 1024

# Appended to a truncated ``text``; ``{kept}``/``{total}`` are characters.
TRUNCATION_MARKER = "\n[… text truncated by newswatch: {kept} of {total} characters kept]"

Message = tuple[bytes, dict[str, str]]

def _raw_item_id(item: Item) -> str | None:
    if item.id:
        return item.id
    # A raw item gets its id in normalisation; computing it here (pure, no
    # Beam) lets subscribers and Dataflow's id_label see the final id.
    from transforms.normalise import normalise_or_reason

    out = normalise_or_reason(item)
    return out.id if isinstance(out, Item) else None


def raw_item_message(item: Item, *, now: datetime | None = None) -> Message:
    """The message ``newswatch poll --publish`` sends for a raw item.

    The body is the item's JSON, unchanged. ``fetched`` is the event time the
    streaming job uses; an item without one (not read from an archive) gets
    the publish time (``now``) in the attribute only, and its body keeps
    ``fetched`` null, so a reader can tell the two apart. ``item_id`` is the id
    normalisation will give it; it is left out when the item cannot be
    normalised (the pipeline dead-letters such an item with the reason).

    Raises:
        ValueError: ``item.fetched`` is not an ISO 8601 time.
    """
    if item.fetched:
        fetched = rfc3339(item.fetched)
    else:
        fetched = rfc3339(now or datetime.now(UTC))
    attributes = {
        "source_kind": attribute(item.source.kind),
        "source_name": attribute(item.source.name),
        "schema_version": str(item.schema_version),
        "fetched": fetched,
    }
    identity = _raw_item_id(item)
    if identity:
        attributes["item_id"] = identity
    return json_bytes(to_dict(item)), attributes


def item_from_message(data: bytes, attributes: Mapping[str, str] | None = None) -> Item:
    """The item a raw-item or flagged-item message carries.

    Raises:
        ValueError: the message is not an item (with the reason, for a dead letter).
    """
    kind = (attributes or {}).get("kind", "item")
    if kind != "item":
        raise ValueError(f"message kind must be 'item' (got {kind!r})")
    try:
        return from_dict(decode_object(data, "item"))
    except KeyError as exc:
        raise ValueError(f"item message lacks the field {exc}") from None
    except (TypeError, AttributeError) as exc:  # a field of the wrong JSON type
        raise ValueError(f"item message has a malformed field: {exc}") from None


def _truncated(item: Item, cut: int) -> tuple[dict[str, Any], int]:
    """The item's dict with ``text`` cut to ``cut`` characters plus the marker,
    and how many evidence terms were dropped."""
    total = len(item.text)
    flags = []
    dropped = 0
    for flag in item.flags:
        # A span stays valid when it ends before the cut: the marker is
        # appended after it. Spans reaching past the cut are dropped.
        terms = tuple(t for t in flag.terms if t.field != "text" or t.end <= cut)
        dropped += len(flag.terms) - len(terms)
        flags.append(dataclasses.replace(flag, terms=terms))
    text = item.text[:cut] + TRUNCATION_MARKER.format(kept=f"{cut:,}", total=f"{total:,}")
    out = to_dict(item.replace(text=text, flags=tuple(flags)))
    out["text_truncated"] = {"kept_chars": cut, "total_chars": total, "terms_dropped": dropped}
    return out, dropped


def flagged_message(item: Item, max_bytes: int = MAX_BODY_BYTES) -> Message:
    """The message for a flagged item on the flagged topic.

    A body over ``max_bytes`` has its ``text`` cut to the longest prefix that
    fits, followed by :data:`TRUNCATION_MARKER`; the body then has a
    ``text_truncated`` object (``kept_chars``, ``total_chars``,
    ``terms_dropped``) and the attribute ``truncated=1``. Evidence terms in
    ``text`` that end past the cut are dropped, so every remaining span still
    satisfies ``item[field][start:end] == text``; scores, rules and snippets
    are those computed on the full text.

    Raises:
        ValueError: the item does not fit even with an empty ``text``.
    """
    body = json_bytes(to_dict(item))
    truncated = False
    if len(body) > max_bytes:
        # The body grows with the cut, so the longest fitting cut is found by bisection.
        low, high, best = 0, len(item.text), None
        while low <= high:
            middle = (low + high) // 2
            candidate = json_bytes(_truncated(item, middle)[0])
            if len(candidate) <= max_bytes:
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        if best is None:
            raise ValueError(
                f"item {item.id} does not fit in {max_bytes} bytes even without its text"
            )
        body, truncated = best, True
    scores = [flag.score for flag in item.flags]
    attributes = {
        "kind": "item",
        "item_id": item.id,
        "schema_version": str(item.schema_version),
        "language": attribute(item.language or "und"),
        "source_kind": attribute(item.source.kind),
        "score": f"{max(scores, default=0.0):.3f}",
    }
    for flag in item.flags:
        attributes[f"flag_{flag.category}"] = "1"
    if truncated:
        attributes["truncated"] = "1"
    return body, attributes


def update_message(update: ReportUpdate) -> Message:
    """The message for a dedup update: another outlet reported the representative's story."""
    attributes = {
        "kind": "update",
        "item_id": update.representative_id,
        "schema_version": str(SCHEMA_VERSION),
    }
    return json_bytes(dataclasses.asdict(update)), attributes


def update_from_dict(value: Mapping[str, Any]) -> ReportUpdate:
    """Inverse of the body of :func:`update_message`.

    Raises:
        ValueError: a field is missing or of the wrong type.
    """
    try:
        report = value["report"]
        source = report["source"]
        update = ReportUpdate(
            representative_id=value["representative_id"],
            report=Report(
                id=report["id"],
                source=Source(
                    kind=source["kind"],
                    name=source["name"],
                    url=source["url"],
                    country=source.get("country"),
                    affiliation=source.get("affiliation"),
                ),
                url=report.get("url"),
            ),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"update message lacks {exc}") from None
    if not isinstance(update.representative_id, str) or not update.representative_id:
        raise ValueError("update message has no representative_id")
    return update


def decode_flagged(data: bytes, attributes: Mapping[str, str]) -> Item | ReportUpdate:
    """What a message of the flagged topic carries: an item or an update.

    Raises:
        ValueError: the message is neither (the reason goes to a dead letter).
    """
    kind = attributes.get("kind")
    if kind == "item":
        item = item_from_message(data, attributes)
        if not item.id:
            raise ValueError("item message has no id")
        return item
    if kind == "update":
        return update_from_dict(decode_object(data, "update"))
    raise ValueError(f"message attribute kind must be 'item' or 'update' (got {kind!r})")


def dead_letter_message(dead_letter: DeadLetter, max_raw_chars: int = 64 * 1024) -> Message:
    """The message for a dead letter: its stage, reason, path and (capped) raw input."""
    body = dataclasses.asdict(dead_letter)
    if len(dead_letter.raw) > max_raw_chars:
        body["raw"] = dead_letter.raw[:max_raw_chars]
        body["raw_truncated"] = True
    return json_bytes(body), {"kind": "dead_letter", "stage": attribute(dead_letter.stage)}


def __getattr__(name: str) -> Any:
    # The publisher lives in its own module; it is also reachable here, where
    # the poller and tests have always imported it from.
    if name in ("Publisher", "RawItemPublisher"):
        from connectors import pubsub_publisher

        return getattr(pubsub_publisher, name)
    raise AttributeError(f"module 'connectors.pubsub' has no attribute {name!r}")
