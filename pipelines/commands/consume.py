"""``newswatch consume``: flagged items and dedup updates from a subscription into the review store.

Each pulled batch is written to the store in one transaction, committed, and
only then acknowledged. A crash before the commit leaves the batch
unacknowledged, so Pub/Sub redelivers it after the ack deadline; a crash
after the commit and before the ack redelivers what is already stored, and
the upsert by id makes that a no-op. Either way nothing is lost and nothing
is stored twice.

A message that is neither an item nor an update is kept in the store's
``dead_letters`` table with the reason (once per message id) and
acknowledged, so it is not redelivered forever.

The pull, write, commit, acknowledge loop is in :mod:`pipelines.consume_loop`.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Sequence
from pathlib import Path

from pipelines.commands.common import CliError
from pipelines.consume_loop import (
    PAUSE_ENV,
    PENDING_TTL_SECONDS,
    _consume,
    _Stop,
    format_item_line,
)

__all__ = [
    "HELP",
    "NAME",
    "PAUSE_ENV",
    "PENDING_TTL_SECONDS",
    "add_arguments",
    "format_item_line",
    "parse_idle",
    "parse_port",
    "run",
]

NAME = "consume"
HELP = "pull flagged items and updates from a subscription into the review store"


def parse_idle(value: str) -> float:
    """``--exit_when_idle`` seconds, validated.

    Raises:
        ValueError: not a positive number.
    """
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"--exit_when_idle must be a positive number of seconds (got {value!r})")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Pull flagged items and dedup updates from a Pub/Sub subscription (of the flagged "
        "topic written by `newswatch stream`) into the review store. Messages are acknowledged "
        "only after the store has committed them."
    )
    parser.add_argument(
        "--subscription", required=True, help="projects/<p>/subscriptions/<s> of the flagged topic"
    )
    parser.add_argument("--store", required=True, metavar="FILE", help="review store (SQLite)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    parser.add_argument(
        "--exit_when_idle",
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds without messages (default: run until stopped)",
    )
    parser.add_argument(
        "--batch_size", type=int, default=100, help="messages per pull (default 100)"
    )
    parser.add_argument(
        "--metrics_port",
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics (and a health check) on 127.0.0.1:PORT",
    )


def parse_port(value: str) -> int:
    """``--metrics_port``, validated.

    Raises:
        ValueError: not a TCP port number.
    """
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"--metrics_port must be a port number 1-65535 (got {value!r})")
    return int(value)


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from connectors.pubsub import parse_subscription

    if extra:
        raise CliError(f"unknown arguments: {' '.join(extra)}")
    try:
        subscription = parse_subscription(args.subscription)
        idle = parse_idle(args.exit_when_idle) if args.exit_when_idle is not None else None
        if args.batch_size < 1:
            raise ValueError(f"--batch_size must be at least 1 (got {args.batch_size})")
        port = parse_port(args.metrics_port) if args.metrics_port is not None else None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    store_path = Path(args.store)
    if not store_path.parent.is_dir():
        raise CliError(f"--store: directory {store_path.parent} does not exist")
    stop = _Stop()
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _consume(args, subscription, store_path, idle, stop, port)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
