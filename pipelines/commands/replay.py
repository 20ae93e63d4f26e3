"""``newswatch replay PATH...``: saved feeds through the pipeline, deterministically."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence

from pipelines.commands.common import CliError, add_stage_options, check_backend

__all__ = ["DEFAULT_RUNNER", "HELP", "NAME", "add_arguments", "run"]

NAME = "replay"
HELP = "replay saved feeds (files or directories) through the pipeline"
DEFAULT_RUNNER = "FnApiRunner"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Replay saved RSS/Atom/JSON feeds through the pipeline, deterministically."
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="feed files or directories (read recursively)"
    )
    parser.add_argument(
        "--output",
        default="out",
        metavar="DIR",
        help="directory for items.jsonl, flagged.jsonl, dead_letter.jsonl, summary.json (default: out)",
    )
    add_stage_options(parser)
    parser.add_argument(
        "--max_bytes",
        default="20971520",
        metavar="N",
        help="dead-letter files larger than N bytes without parsing (default 20 MB)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--store",
        default=None,
        metavar="FILE",
        help="also write the flagged items into this review store (SQLite; see `newswatch review`)",
    )


def run(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    # Imported here so that `newswatch --help` and argument errors are instant.
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from connectors.files import ReadFeedFiles, expand_inputs
    from pipelines.options import check_output_dir, parse_thresholds, positive_int
    from pipelines.pipeline import StageConfig, build, write_files
    from pipelines.summary import check_identities, render
    from transforms.rules import PackError, RuleEngine

    try:
        inputs = expand_inputs(args.paths)
        output = check_output_dir(args.output)
        thresholds = parse_thresholds(args.thresholds)
        max_bytes = positive_int(args.max_bytes)
        check_backend(args.language_backend)
        if args.packs_dir:
            RuleEngine.load(args.packs_dir, thresholds)
        store = _open_store(args.store) if args.store else None
    except (FileNotFoundError, ValueError, PackError) as exc:
        raise CliError(str(exc)) from None

    total = _count_local_files(inputs)
    if not any(a.startswith("--runner") for a in beam_args):
        beam_args = [f"--runner={DEFAULT_RUNNER}", *beam_args]
    options = PipelineOptions(list(beam_args))
    config = StageConfig(args.language_backend, args.packs_dir, thresholds)
    started = time.monotonic()
    print(f"newswatch: replaying {total} file(s) into {output}", file=sys.stderr)
    pipeline = beam.Pipeline(options=options)
    source = ReadFeedFiles(inputs, max_bytes=max_bytes, total_files=total)
    write_files(build(pipeline, source, config), output)
    pipeline.run().wait_until_finish()
    elapsed = time.monotonic() - started

    with open(os.path.join(output, "summary.json"), encoding="utf-8") as handle:
        counts = json.load(handle)
    print(render(counts))
    print(f"took          {elapsed:.1f} s")
    names = ("flagged.jsonl", "items.jsonl", "dead_letter.jsonl", "summary.json")
    print(f"outputs       {', '.join(os.path.join(output, n) for n in names)}")
    if store is not None:
        _fill_store(store, os.path.join(output, "flagged.jsonl"))
    return 1 if check_identities(counts) else 0


def _count_local_files(inputs: Sequence[tuple[str, str]]) -> int | None:
    total = 0
    for pattern, root in inputs:
        if "://" in pattern:
            return None
        if pattern.endswith("**"):
            total += sum(len(files) for _, _, files in os.walk(root))
        else:
            total += 1
    return total

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
