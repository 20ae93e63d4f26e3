"""Running one ``newswatch replay``: the Beam run, its folders and its inputs.

:func:`_run_pipeline` builds the graph for the inputs (the dedup form chosen
by their size and kind: one group for small plain files, passes otherwise),
runs it into a staging folder with dedup's spill folder inside it, and prints
the summary; :func:`runner_args` puts the default runner in Beam's options.
:mod:`pipelines.commands.replay` checks the command's options and calls it.
Beam is imported inside the functions, so that ``newswatch --help`` and
argument errors answer at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence

__all__ = [
    "DEFAULT_RUNNER",
    "EXIT_FAILED",
    "EXIT_IDENTITIES",
    "EXIT_OK",
    "EXIT_USAGE",
    "runner_args",
]

# The in-process runner by its full name: Beam 2.62 (pinned, pyproject.toml)
# knows no short name for it. ``--runner=FnApiRunner`` is accepted as an alias.
DEFAULT_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_IDENTITIES = 0, 1, 2, 3


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
    from transforms.language_shared import process_tag

    beam_args = runner_args(beam_args)
    options = PipelineOptions(list(beam_args))
    in_process = not any("multi_processing" in a for a in beam_args)
    # lingua's high-accuracy models load in a server process, one per machine
    # for this process's runs; it ends with the process that started it.
    config = StageConfig(args.language_backend, args.packs_dir, thresholds, process_tag())
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
    from connectors.input_paths import not_regular
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
