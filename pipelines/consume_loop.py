"""The ``newswatch consume`` loop: pull a batch, write it to the review store, commit, acknowledge.

:mod:`pipelines.commands.consume` checks the command's options and runs
:func:`_consume`. Each pulled batch is written in one transaction
(:func:`_write_batch`), committed, and only then acknowledged; what was
written is printed as text lines (:func:`format_item_line`) or JSON lines.
Updates that wait for an item longer than the dedup TTL are expired every
ten minutes. Heavy imports (Pub/Sub, the store) happen inside the functions,
so that ``newswatch --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines.commands.common import CliError

__all__ = ["PAUSE_ENV", "PENDING_TTL_SECONDS", "format_item_line"]

# Test hook: ``pulled:FILE`` or ``committed:FILE`` makes the process write FILE
# and stop itself (SIGSTOP) at that point of its first batch, so a test can
# kill it there for certain. Unset in production.
PAUSE_ENV = "NEWSWATCH_CONSUME_PAUSE"
# Updates waiting for an item are dropped (and counted) after the dedup TTL:
# by then their item cannot still arrive, most likely because it was not flagged.
PENDING_TTL_SECONDS = 7 * 24 * 3600
_EXPIRE_EVERY_SECONDS = 600.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class _Metrics:
    """``newswatch_consume_count{name}`` (the summary's counts), ``newswatch_consume_up``
    and ``newswatch_consume_last_message_seconds`` on 127.0.0.1:PORT, any path."""

    def __init__(self, port: int) -> None:
        from prometheus_client import CollectorRegistry, Gauge, start_http_server

        registry = CollectorRegistry()
        self._counts = Gauge(
            "newswatch_consume_count", "messages by outcome", ["name"], registry=registry
        )
        self._up = Gauge("newswatch_consume_up", "1 while consume runs", registry=registry)
        self._last = Gauge(
            "newswatch_consume_last_message_seconds",
            "Unix time of the last message pulled",
            registry=registry,
        )
        try:
            self._server, _ = start_http_server(port, addr="127.0.0.1", registry=registry)
        except OSError as exc:
            raise CliError(f"--metrics_port {port}: {exc.strerror or exc}") from None
        self._up.set(1)

    def update(self, counts: Counter) -> None:
        for name, value in counts.items():
            self._counts.labels(name=name).set(value)
        self._last.set(time.time())

    def close(self) -> None:
        self._up.set(0)
        self._server.shutdown()
        self._server.server_close()


def _clean(text: str | None, limit: int = 120) -> str:
    # Item text comes from hostile sources: no terminal escape sequences.
    text = _CONTROL.sub(" ", text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_item_line(stored: Any) -> str:
    """One line for a stored item: time, language, categories, title, source."""
    item = stored.item
    categories = ",".join(sorted(f.category for f in item.flags)) or "-"
    source = _clean(item.source.name or item.source.url, 60)
    return (
        f"{stored.sort_time}  {item.language or 'und':<3}  {categories}  "
        f"{_clean(item.title) or '(no title)'}  [{source}]"
    )


def _pause_at(point: str) -> None:
    setting = os.environ.get(PAUSE_ENV, "")
    where, _, marker = setting.partition(":")
    if where == point and marker:
        os.environ.pop(PAUSE_ENV)  # only the first batch
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGSTOP)


class _Stop:
    """Set by SIGINT/SIGTERM: the loop finishes its batch (commit, ack) and exits."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: object) -> None:
        self.requested = True


def _connect(subscription: str) -> Any:
    from google.api_core import exceptions as gexc
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    where = os.environ.get("PUBSUB_EMULATOR_HOST") or "pubsub.googleapis.com"
    try:
        subscriber.get_subscription(subscription=subscription, timeout=15, retry=None)
    except gexc.NotFound:
        subscriber.close()
        raise CliError(f"subscription {subscription} does not exist (at {where})") from None
    except gexc.GoogleAPICallError as exc:
        subscriber.close()
        first = str(exc).splitlines()[0]
        raise CliError(f"cannot reach Pub/Sub at {where}: {first}") from None
    return subscriber


def _write_batch(store: Any, received: Sequence[Any], counts: Counter) -> list[dict[str, Any]]:
    """Writes one pulled batch in one transaction; returns what to print."""
    from connectors.pubsub import decode_flagged
    from transforms.item import Item

    events = []
    with store.transaction():
        for message in received:
            data, attributes = message.message.data, dict(message.message.attributes)
            try:
                record = decode_flagged(data, attributes)
            except ValueError as exc:
                store.add_dead_letter(
                    str(exc), data, attributes, message_id=message.message.message_id
                )
                counts["dead_letter"] += 1
                events.append({"kind": "dead_letter", "reason": str(exc)})
                continue
            if isinstance(record, Item):
                truncated = None
                if attributes.get("truncated") == "1":
                    truncated = json.loads(data).get("text_truncated")
                status = store.upsert_item(record, text_truncated=truncated)
                counts[f"item_{status}"] += 1
                events.append({"kind": "item", "status": status, "item_id": record.id})
            else:
                status = store.apply_update(record)
                counts[f"update_{status}"] += 1
                events.append(
                    {
                        "kind": "update",
                        "status": status,
                        "item_id": record.representative_id,
                        "report_id": record.report.id,
                        "source": record.report.source.name or record.report.source.url,
                    }
                )
    return events


def _print_events(store: Any, events: list[dict[str, Any]], as_json: bool) -> None:
    for event in events:
        stored = store.item(event["item_id"]) if event["kind"] == "item" else None
        if as_json:
            if stored is not None:
                item = stored.item
                event |= {
                    "time": stored.sort_time,
                    "language": item.language,
                    "categories": sorted(f.category for f in item.flags),
                    "title": item.title,
                    "source": item.source.name or item.source.url,
                    "url": item.url,
                }
            print(json.dumps(event, ensure_ascii=False), flush=True)
        elif event["kind"] == "dead_letter":
            print(f"dead letter: {_clean(event['reason'], 200)}", file=sys.stderr, flush=True)
        elif stored is not None and event["status"] != "unchanged":
            print(format_item_line(stored), flush=True)
        elif event["kind"] == "update" and event["status"] == "applied":
            print(f"  also reported by {_clean(event['source'], 60)} -> {event['item_id']}")


def _expire_pending(store: Any) -> int:
    from datetime import UTC, datetime, timedelta

    from connectors.pubsub import rfc3339

    return store.expire_pending(rfc3339(datetime.now(UTC) - timedelta(seconds=PENDING_TTL_SECONDS)))


def _consume(
    args: argparse.Namespace,
    subscription: str,
    store_path: Path,
    idle: float | None,
    stop: _Stop,
    port: int | None,
) -> int:
    """The pull, write, commit, acknowledge loop, until idle or asked to stop."""
    import sqlite3

    from google.api_core import exceptions as gexc

    from connectors.store import ReviewStore

    try:
        store = ReviewStore(store_path)
    except sqlite3.Error as exc:
        raise CliError(f"--store {store_path}: {exc}") from None
    try:
        subscriber = _connect(subscription)
    except CliError:
        store.close()
        raise
    try:
        metrics = _Metrics(port) if port is not None else None
    except CliError:
        subscriber.close()
        store.close()
        raise
    counts: Counter = Counter()
    last_message = time.monotonic()
    next_expiry = time.monotonic()
    try:
        while not stop.requested:
            if time.monotonic() >= next_expiry:
                expired = _expire_pending(store)
                if expired:
                    counts["pending_expired"] += expired
                next_expiry = time.monotonic() + _EXPIRE_EVERY_SECONDS
            if idle is not None and time.monotonic() - last_message >= idle:
                break
            try:
                # Short pulls, so a stop request or the idle limit is seen within seconds.
                response = subscriber.pull(
                    subscription=subscription,
                    max_messages=args.batch_size,
                    timeout=5,
                    retry=None,
                )
            except gexc.DeadlineExceeded:
                continue  # the real service answers an empty wait this way
            except gexc.NotFound:
                raise CliError(f"subscription {subscription} no longer exists") from None
            except gexc.GoogleAPICallError as exc:
                raise CliError(f"pulling from {subscription}: {str(exc).splitlines()[0]}") from None
            received = list(response.received_messages)
            if not received:
                continue
            last_message = time.monotonic()
            _pause_at("pulled")
            try:
                events = _write_batch(store, received, counts)
            except sqlite3.Error as exc:
                # Rolled back and not acknowledged: the batch comes back after the deadline.
                raise CliError(f"review store {store_path}: {exc}") from None
            _pause_at("committed")
            try:
                subscriber.acknowledge(
                    subscription=subscription, ack_ids=[m.ack_id for m in received]
                )
                counts["acked"] += len(received)
            except gexc.GoogleAPICallError as exc:
                # Committed already: the redelivery that follows is an upsert that changes nothing.
                counts["ack_failed"] += len(received)
                print(
                    f"consume: acknowledge failed ({exc}); messages will be redelivered",
                    file=sys.stderr,
                )
            _print_events(store, events, args.json)
            if metrics is not None:
                metrics.update(counts)
    finally:
        if metrics is not None:
            metrics.close()
        subscriber.close()
        store.close()
    why = "on request" if stop.requested else "when idle"
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no messages"
    print(f"consume: stopped {why}; {summary}", file=sys.stderr)
    return 0
