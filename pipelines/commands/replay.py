"""``newswatch replay PATH...``: saved feeds through the pipeline, deterministically.

Exit statuses: 0 the run finished and its identities hold; 1 the run failed
(or there was nothing to read: no input files, or no entries in them);
2 a usage error (bad or unknown option, missing path), before anything ran;
3 the run finished but the summary's identities do not hold.

The Beam run, its folders and the inputs' inspection are in
:mod:`pipelines.replay_run`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from pipelines.commands.common import CliError, add_stage_options, check_backend
from pipelines.replay_run import (
    DEFAULT_RUNNER,
    EXIT_FAILED,
    EXIT_IDENTITIES,
    EXIT_OK,
    EXIT_USAGE,
    _local_paths,
    _run_pipeline,
    runner_args,
)

__all__ = [
    "DEFAULT_RUNNER",
    "EXIT_FAILED",
    "EXIT_IDENTITIES",
    "EXIT_OK",
    "EXIT_USAGE",
    "HELP",
    "NAME",
    "add_arguments",
    "run",
    "runner_args",
]

NAME = "replay"
HELP = "replay saved feeds (files or directories) through the pipeline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Replay saved RSS/Atom/JSON feeds and WARC archives of live polls through the pipeline,"
        " deterministically."
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="feed files, WARC files (.warc, .warc.gz) or directories (read recursively)",
    )
    parser.add_argument(
        "--output",
        default="out",
        metavar="DIR",
        help="directory for items.jsonl, flagged.jsonl, dead_letter.jsonl, summary.json"
        " (default: out)",
    )
    add_stage_options(parser)
    parser.add_argument(
        "--max_bytes",
        default="20MB",
        metavar="SIZE",
        help="dead-letter files larger than SIZE, compressed or decompressed, without"
        " parsing; units B, KB, MB, GB, binary (default 20MB)",
    )
    parser.add_argument(
        "--parse_seconds",
        default="30",
        metavar="S",
        help="CPU seconds one feed file may take to parse before it is dead-lettered (default 30)",
    )
    parser.add_argument(
        "--dedup",
        choices=("auto", "passes", "one-group"),
        default="auto",
        help="how duplicates are decided (the same decisions either way): in four passes over"
        " small key records, which scale to any input, or in one group, which starts faster;"
        " auto takes one group for local inputs up to 8 MiB without gzip or WARC files"
        " (default auto)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--store",
        default=None,
        metavar="FILE",
        help="also write the flagged items into this review store (SQLite; see `newswatch review`)",
    )
    # Last, for the unknown-option message: the options this command knows.
    parser.set_defaults(own_options=tuple(s for a in parser._actions for s in a.option_strings))


def run(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from pipelines.runtools import Heartbeat

    # What can be checked without Beam is checked first, so that those usage
    # errors come at once, alone on their line.
    for path in args.paths:
        if "://" not in path and not os.path.exists(path):
            raise CliError(f"input path does not exist: {path}")

    # Progress from the first second: loading Beam and checking the inputs
    # take seconds before the pipeline exists.
    started = time.monotonic()
    state = {
        "started": started,
        "line": lambda: (
            f"progress: {time.monotonic() - started:.0f} s: starting"
            " (loading Apache Beam, checking the inputs)"
        ),
    }
    if args.quiet:
        return _run(args, beam_args, started, state)
    logging.getLogger("pipelines.progress").setLevel(logging.INFO)
    with Heartbeat(lambda: state["line"](), first=1.0, seconds=5.0):
        return _run(args, beam_args, started, state)


def _run(args: argparse.Namespace, beam_args: Sequence[str], started: float, state: dict) -> int:
    # Imported here so that `newswatch --help` and argument errors are instant.
    from connectors.input_paths import expand_inputs
    from pipelines.options import (
        check_output_dir,
        parse_size,
        parse_thresholds,
        positive_seconds,
        suggest_option,
    )
    from pipelines.runtools import beam_option_names, unknown_beam_options
    from transforms.flagging import shared_engine
    from transforms.rules import PackError

    unknown = unknown_beam_options(beam_args)
    if unknown:
        ours = getattr(args, "own_options", ())
        raise CliError(suggest_option(unknown[0], [*ours, *beam_option_names()]))
    try:
        inputs = expand_inputs(args.paths)
        thresholds = parse_thresholds(args.thresholds)
        max_bytes = _option("--max_bytes", parse_size, args.max_bytes)
        parse_seconds = _option("--parse_seconds", positive_seconds, args.parse_seconds)
        check_backend(args.language_backend)
        if args.packs_dir:
            # The same cache Flagging uses, so the packs compile once per run.
            shared_engine(args.packs_dir, thresholds)
        output = check_output_dir(args.output)
        store = _open_store(args.store) if getattr(args, "store", None) else None
    except (FileNotFoundError, ValueError, PackError) as exc:
        raise CliError(str(exc)) from None

    paths = _local_paths(inputs)
    if paths is not None and not paths:
        print(
            f"newswatch: warning: no input files in {' '.join(args.paths)}; nothing replayed",
            file=sys.stderr,
        )
        return EXIT_FAILED
    code, counts = _run_pipeline(
        args,
        beam_args,
        inputs,
        output,
        paths,
        (max_bytes, parse_seconds, thresholds),
        state,
    )
    if counts is None:
        return code
    if store is not None:
        state["line"] = lambda: f"progress: {time.monotonic() - started:.0f} s: filling the store"
        _fill_store(store, os.path.join(output, "flagged.jsonl"))
    return code


def _option(name: str, parse, value: str):
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{name} {exc}") from None


def _open_store(path: str):
    """The review store, opened before the run so a bad path fails at once."""
    import sqlite3

    from connectors.store import ReviewStore

    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return ReviewStore(path)
    except (OSError, sqlite3.Error) as exc:
        raise ValueError(f"--store {path!r} cannot be opened as a review store: {exc}") from None


def _fill_store(store, flagged_path: str) -> None:
    from connectors.store import load_flagged_jsonl

    with store:
        counts = load_flagged_jsonl(store, flagged_path)
    print(
        f"store         {store.path}: {counts['new']} new, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged, {counts['dead_letters']} dead letters"
    )
