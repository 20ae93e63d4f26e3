"""``newswatch poll --sources FILE``: fetch the configured sources, once or continuously.

Each round prints one line (sources polled, 304s, new items, dead letters,
errors, next wake-up). Ctrl-C or SIGTERM stops after the round in flight; a
second one stops at once (undelivered items come again next time, as their
cursors were not stored). The sources file is read again before a round
when it has changed; a file with a mistake is reported and the previous
sources kept.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Sequence

from pipelines.commands.common import CliError

__all__ = [
    "HELP",
    "NAME",
    "add_arguments",
    "add_source_options",
    "http_config",
    "parse_duration",
    "run",
]

NAME = "poll"
HELP = "fetch the configured feeds and channels: one round (--once) or continuously"

log = logging.getLogger("connectors.poller")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: str, *, zero: bool = False) -> float:
    """Seconds from ``300``, ``300s``, ``5m``, ``6h``, ``1.5d`` or ``250ms``.

    Args:
        value: the text.
        zero: accept a zero duration.

    Raises:
        ValueError: not a positive (or zero, if allowed) duration; the message shows the value.
    """
    match = _DURATION.match(str(value))
    if not match or (float(match.group(1)) <= 0 and not zero):
        kind = "positive or zero" if zero else "positive"
        raise ValueError(
            f"a duration must be a {kind} number with an optional unit ms, s, m, h or d"
            f" (got {value!r})"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Poll the sources of a sources file (YAML or OPML) politely: conditional GETs, an adaptive "
        "interval per source, backoff on failures; write raw items to files and/or Pub/Sub."
    )
    add_source_options(parser)
    parser.add_argument("--once", action="store_true", help="run one round, then exit")
    parser.add_argument(
        "--force", action="store_true", help="poll every source in the first round, due or not"
    )
    parser.add_argument("--output", metavar="DIR", help="write raw items as JSONL day files here")
    parser.add_argument(
        "--archive", metavar="DIR", help="write every HTTP exchange to WARC files here"
    )
    parser.add_argument(
        "--publish",
        metavar="TOPIC",
        help="publish raw items to projects/<p>/topics/<t> (honours PUBSUB_EMULATOR_HOST)",
    )
    parser.add_argument(
        "--fetch_articles",
        action="store_true",
        help="fetch, archive and extract the article page of each new item",
    )
    parser.add_argument(
        "--min_interval", default="5m", metavar="DURATION", help="shortest interval (default 5m)"
    )
    parser.add_argument(
        "--max_interval", default="6h", metavar="DURATION", help="longest interval (default 6h)"
    )
    parser.add_argument(
        "--concurrency", default="100", metavar="N", help="sources polled at once (default 100)"
    )
    parser.add_argument("--quiet", action="store_true", help="print round lines and failures only")


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """``--sources``, ``--state`` and the HTTP options, shared with ``sources check``."""
    parser.add_argument(
        "--sources", required=True, metavar="FILE", help="sources file (YAML or OPML)"
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="state file (SQLite; default: poll.sqlite under the user's state directory)",
    )
    parser.add_argument("--contact", metavar="URL", help="contact URL sent in the User-Agent")
    parser.add_argument(
        "--allow_private_addresses",
        action="store_true",
        help="follow redirects and article links to private, loopback and link-local addresses",
    )
    parser.add_argument(
        "--per_host_concurrency",
        default="2",
        metavar="N",
        help="requests in flight to one host at once (default 2)",
    )
    parser.add_argument(
        "--per_host_delay",
        default="1s",
        metavar="DURATION",
        help="least time between the starts of two requests to one host (default 1s; 0 for none)",
    )


def http_config(args: argparse.Namespace):
    """The HTTP layer's settings from ``add_source_options``' options.

    Raises:
        ValueError: a bad value; the message shows it.
    """
    from connectors.http import HttpConfig

    per_host = _positive_int("--per_host_concurrency", args.per_host_concurrency)
    delay = parse_duration(args.per_host_delay, zero=True)
    return HttpConfig(
        contact=args.contact,
        allow_private_addresses=args.allow_private_addresses,
        per_host_concurrency=per_host,
        per_host_delay=delay,
    )


def _positive_int(option: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{option} must be a positive whole number (got {value!r})")
    return number


def _options(args: argparse.Namespace):
    from connectors.poller import PollerConfig

    low = parse_duration(args.min_interval)
    high = parse_duration(args.max_interval)
    if low > high:
        raise ValueError(
            f"--min_interval must not exceed --max_interval (got {args.min_interval!r} > "
            f"{args.max_interval!r})"
        )
    concurrency = _positive_int("--concurrency", args.concurrency)
    return PollerConfig(bounds=(low, high), concurrency=concurrency, backoff_base=min(60.0, high))


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from connectors.rawsinks import JsonlOutput, RawOutputs
    from connectors.sources import SourcesError, load_sources
    from connectors.state import State, default_state_path

    if extra:
        raise CliError(f"unrecognised arguments: {' '.join(extra)}")
    if args.quiet:
        logging.getLogger("connectors").setLevel(logging.WARNING)
    try:
        config = _options(args)
        http = http_config(args)
        sources = load_sources(args.sources)
        publisher = None
        if args.publish:
            from connectors.pubsub_publisher import RawItemPublisher

            publisher = RawItemPublisher(args.publish)
    except (SourcesError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if not (args.output or args.publish or args.archive):
        # Cursors advance as items are delivered: with nowhere to deliver, they would be lost.
        raise CliError("give --output DIR, --publish TOPIC or --archive DIR: where new items go")
    state_path = args.state or default_state_path()
    try:
        state = State(state_path)
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise CliError(f"cannot use state file {state_path}: {exc}") from None
    try:
        files = JsonlOutput(args.output) if args.output else None
        archive = None
        if args.archive:
            from connectors.warc import WarcArchive

            archive = WarcArchive(args.archive)
    except OSError as exc:
        state.close()
        raise CliError(f"cannot write outputs: {exc}") from None
    outputs = RawOutputs(files, publisher)
    print(
        f"newswatch: polling {len(sources)} sources from {args.sources}; state {state.path};"
        f" outputs: {outputs.describe()}" + (f"; archive {args.archive}" if archive else ""),
        file=sys.stderr,
        flush=True,
    )
    try:
        return asyncio.run(_main(args, sources, state, http, archive, outputs, config))
    except (OSError, sqlite3.Error) as exc:
        # The state or an output cannot be written: nothing more can be recorded.
        print(f"newswatch: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        outputs.close()
        if archive is not None:
            archive.close()
        state.close()


async def _main(args, sources, state, http, archive, outputs, config) -> int:
    from connectors.http import Fetcher
    from connectors.poller import Poller
    from connectors.sources import SourcesError, load_sources

    stop = asyncio.Event()
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            main_task.cancel()  # a second signal: stop now
            return
        stop.set()
        print(
            f"newswatch: {signal.Signals(signum).name}: stopping after the round in flight",
            file=sys.stderr,
            flush=True,
        )

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)

    mtime = _mtime(args.sources)

    async with Fetcher(http, archive=archive) as fetcher:
        poller = Poller(
            sources, state, fetcher, outputs, config, fetch_articles=args.fetch_articles
        )

        def reload() -> bool:
            nonlocal mtime
            now = _mtime(args.sources)
            if now == mtime:
                return False
            mtime = now
            try:
                poller.set_sources(load_sources(args.sources))
            except SourcesError as exc:
                log.error("sources file not reloaded, keeping the previous sources: %s", exc)
                return False
            log.info("sources file changed: %d sources", len(poller.sources))
            return True

        try:
            await poller.run(stop, once=args.once, force=args.force, reload=reload)
        except asyncio.CancelledError:
            print("newswatch: stopped during a round", file=sys.stderr, flush=True)
            return 130
    return 0


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None
