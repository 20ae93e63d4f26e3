"""``newswatch sources check|status``: validate and try a sources file; show the poller's health.

``check --sources FILE`` validates the file (a mistake names the line and the
field, exit 2), fetches every source once, without touching any state, and
prints a health table; exit 1 when a source failed. ``status --state FILE``
prints each source's health as the poller recorded it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence

from pipelines.commands.common import CliError

__all__ = ["HELP", "NAME", "add_arguments", "format_table", "run"]

NAME = "sources"
HELP = "check a sources file (fetch each source once) or show the poller's per-source health"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pipelines.commands.poll import add_source_options

    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate the file, fetch each source once, print health")
    add_source_options(check)
    check.add_argument(
        "--concurrency", default=20, type=int, metavar="N", help="sources fetched at once"
    )
    status = sub.add_parser("status", help="print per-source health from a state file")
    status.add_argument(
        "--state",
        metavar="FILE",
        help="state file (default: poll.sqlite under the user's state directory)",
    )


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    if extra:
        raise CliError(f"unrecognised arguments: {' '.join(extra)}")
    if args.action == "check":
        return _check(args)
    return _status(args)


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        padded = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)] + [row[-1]]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> int:
    from connectors.sources import load_sources
    from pipelines.commands.poll import http_config

    try:
        sources = load_sources(args.sources)
        http = http_config(args)
    except ValueError as exc:  # SourcesError is one
        raise CliError(str(exc)) from None
    if args.concurrency < 1:
        raise CliError(f"--concurrency must be >= 1 (got {args.concurrency!r})")
    print(f"{args.sources}: {len(sources)} sources, valid; fetching each once", file=sys.stderr)
    results = asyncio.run(_fetch_all(sources, http, args.concurrency))
    rows = []
    failed = 0
    for config, (status, items, letters, seconds, detail) in zip(sources, results, strict=True):
        failed += status == "error"
        rows.append((config.name, config.kind, status, items, letters, f"{seconds:.2f}", detail))
    print(format_table(("source", "kind", "status", "items", "dead", "seconds", "detail"), rows))
    print(f"{len(sources) - failed} ok, {failed} failed")
    return 1 if failed else 0


async def _fetch_all(sources, http, concurrency: int) -> list[tuple]:
    from connectors.base import connector_class
    from connectors.errors import ConnectorError
    from connectors.http import Fetcher

    gate = asyncio.Semaphore(concurrency)

    async def one(config) -> tuple:
        async with gate:
            started = time.monotonic()
            try:
                result = await connector_class(config.kind)(config, fetcher).poll(None)
            except ConnectorError as exc:
                kind = type(exc).__name__.replace("Error", "").lower()
                return ("error", 0, 0, time.monotonic() - started, f"{kind}: {exc}")
            except Exception as exc:  # noqa: BLE001 - a connector's bug is that source's failure
                detail = f"connector failed: {type(exc).__name__}: {exc}"
                return ("error", 0, 0, time.monotonic() - started, detail)
            seconds = time.monotonic() - started
            detail = f"{result.fetches} request(s)"
            if result.retry_after:
                detail += f", fresh for {result.retry_after:.0f} s"
            return ("ok", len(result.items), len(result.dead_letters), seconds, detail)

    async with Fetcher(http) as fetcher:
        return await asyncio.gather(*(one(config) for config in sources))


def _ago(then: float | None, now: float) -> str:
    if then is None:
        return "never"
    return _span(now - then) + " ago" if now >= then else "in " + _span(then - now)


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _status(args: argparse.Namespace) -> int:
    from connectors.state import State, default_state_path

    path = args.state or str(default_state_path())
    if not os.path.isfile(path):
        raise CliError(f"no state file at {path} (run newswatch poll --state {path} first)")
    try:
        with State(path) as state:
            rows = state.all()
            rounds = state.counter("rounds")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    now = time.time()
    table = [
        (
            r.name,
            r.kind,
            r.last_status or "never polled",
            _ago(r.last_success, now),
            r.consecutive_failures,
            _ago(r.next_poll, now) if r.next_poll else "due",
            _span(r.interval) if r.interval else "-",
            r.polls,
            r.not_modified,
            r.items,
            r.dead_letters,
            r.errors,
            r.last_error or "",
        )
        for r in rows
    ]
    header = (
        "source", "kind", "status", "last success", "failures", "next poll", "interval",
        "polls", "304s", "items", "dead", "errors", "last error",
    )  # fmt: skip
    print(format_table(header, table))
    failing = sum(1 for r in rows if r.consecutive_failures)
    print(f"{len(rows)} sources, {failing} failing, {rounds} rounds; state {path}")
    return 0
