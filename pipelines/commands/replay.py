"""``newswatch replay PATH...``: saved feeds through the pipeline, deterministically.

Exit statuses: 0 the run finished and its identities hold; 1 the run failed
(or there was nothing to read: no input files, or no entries in them);
2 a usage error (bad or unknown option, missing path), before anything ran;
3 the run finished but the summary's identities do not hold.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence

from pipelines.commands.common import CliError, add_stage_options, check_backend

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
# The in-process runner by its full name: Beam 2.62 (pinned, pyproject.toml)
# knows no short name for it. ``--runner=FnApiRunner`` is accepted as an alias.
DEFAULT_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_IDENTITIES = 0, 1, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Replay saved RSS/Atom/JSON feeds and WARC archives of live polls through the pipeline, deterministically."
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="feed files, WARC files (.warc, .warc.gz) or directories (read recursively)"
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
    from connectors.files import expand_inputs
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


def _run_pipeline(args, beam_args, inputs, output, paths, settings, state):
    """Runs the replay into a staging folder; returns (exit status, counts or None).

    ``paths``: the local files the inputs match, None when an input is remote.
    """
    max_bytes, parse_seconds, thresholds = settings
    total = size = None
    if paths is not None:
        total, size = len(paths), sum(map(_size, paths))
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from connectors.files import ReadFeedFiles
    from pipelines.pipeline import OUTPUT_FILES, StageConfig, build, write_files
    from pipelines.runtools import StagedOutput, describe_run
    from pipelines.summary import check_identities, render
    from transforms.dedup import Dedup, near_parts_for
    from transforms.dedup_small import DedupInOneGroup, one_group_fits

    beam_args = runner_args(beam_args)
    options = PipelineOptions(list(beam_args))
    in_process = not any("multi_processing" in a for a in beam_args)
    config = StageConfig(args.language_backend, args.packs_dir, thresholds)
    started = state["started"]
    print(f"newswatch: replaying {total or 'the matched'} file(s) into {output}", file=sys.stderr)
    try:
        if parse_seconds and in_process and _runner(options) == DEFAULT_RUNNER:
            # The parse worker's child starts while the graph is built, not at the first file.
            from connectors.parse_worker import prestart

            prestart()
        with StagedOutput(output, OUTPUT_FILES) as staging, _spill_folder(staging.path) as spill:
            pipeline = beam.Pipeline(options=options)
            source = ReadFeedFiles(
                inputs, max_bytes=max_bytes, total_files=total, cpu_seconds=parse_seconds
            )
            if args.dedup == "one-group" or (
                args.dedup == "auto" and one_group_fits(size) and not _expands(paths)
            ):
                # A small input: the same decisions in two steps instead of about forty.
                dedup = DedupInOneGroup()
            else:
                dedup = Dedup(spill_dir=spill, near_parts=near_parts_for(size))
            write_files(build(pipeline, source, config, dedup=dedup), staging.path)
            state["line"] = describe_run(started, staging.path, total, in_process)
            try:
                pipeline.run().wait_until_finish()
                with open(os.path.join(staging.path, "summary.json"), encoding="utf-8") as handle:
                    counts = json.load(handle)
                staging.commit()
            except Exception as exc:  # noqa: BLE001 - the run failed: say so, keep the old outputs
                message = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
                print(
                    f"newswatch: error: the run failed, outputs unchanged: {message}",
                    file=sys.stderr,
                )
                return EXIT_FAILED, None
    finally:
        from connectors.parse_worker import discard_spares

        discard_spares()  # a child prestarted that no parse step took
    elapsed = time.monotonic() - started
    print(render(counts))
    print(f"took          {elapsed:.1f} s")
    print(f"outputs       {', '.join(os.path.join(output, n) for n in OUTPUT_FILES)}")
    if check_identities(counts):
        print("newswatch: error: the summary's identities do not hold", file=sys.stderr)
        return EXIT_IDENTITIES, counts
    if not counts.get("entries.read"):
        print("newswatch: warning: no entries were read from the input", file=sys.stderr)
        return EXIT_FAILED, counts
    return EXIT_OK, counts


def _runner(options) -> str:
    from apache_beam.options.pipeline_options import StandardOptions

    return options.view_as(StandardOptions).runner or DEFAULT_RUNNER


@contextlib.contextmanager
def _spill_folder(staging: str) -> Iterator[str]:
    """Where dedup's items wait for their decisions: inside the staging area, removed after.

    A local staging folder is removed with everything in it when the run
    ends; a remote output is its own staging area, so the spill folder in it
    is deleted here, whether the run succeeded or failed.
    """
    if "://" not in staging:
        yield os.path.join(staging, "spill")
        return
    import uuid

    from apache_beam.io.filesystems import FileSystems

    spill = FileSystems.join(staging, f".spill-{uuid.uuid4().hex}")
    try:
        yield spill
    finally:
        try:
            FileSystems.delete([spill])
        except Exception as exc:  # noqa: BLE001 - nothing was spilled, or it is gone already
            logging.getLogger(__name__).debug("spill folder %s not deleted: %s", spill, exc)


def runner_args(beam_args: Sequence[str]) -> list[str]:
    """``beam_args`` with the default runner added, and ``FnApiRunner`` spelled in full."""
    args = [
        f"--runner={DEFAULT_RUNNER}" if a.lower() == "--runner=fnapirunner" else a
        for a in beam_args
    ]
    for i, arg in enumerate(args[:-1]):
        if arg == "--runner" and args[i + 1].lower() == "fnapirunner":
            args[i + 1] = DEFAULT_RUNNER
    if not any(a.startswith("--runner") for a in args):
        args.insert(0, f"--runner={DEFAULT_RUNNER}")
    return args


def _local_paths(inputs: Sequence[tuple[str, str]]) -> list[str] | None:
    """Every file the inputs match, walked once: None when an input is remote."""
    paths: list[str] = []
    for pattern, _ in inputs:
        if "://" in pattern:
            return None
        if pattern.endswith("**"):
            # The pattern's own folder: with several inputs, root is their
            # common parent, which holds other folders' files too.
            for folder, _, files in os.walk(os.path.dirname(pattern)):
                paths.extend(os.path.join(folder, name) for name in files)
        else:
            paths.append(pattern)
    return paths


def _expands(paths: Sequence[str]) -> bool:
    """Whether any file may hold more than its size says: gzip bytes or a WARC archive.

    Called for small local inputs only (it opens each file for two bytes).
    """
    from connectors.files import not_regular
    from connectors.warc import is_warc_path

    for path in paths:
        if is_warc_path(path):
            return True
        if not_regular(path):  # a FIFO would block: the reader dead-letters it
            continue
        try:
            with open(path, "rb") as handle:
                if handle.read(2) == b"\x1f\x8b":
                    return True
        except OSError:  # unreadable: the reader dead-letters it
            continue
    return False


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:  # gone, or unreadable: the reader dead-letters it
        return 0


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
