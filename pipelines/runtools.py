"""What a batch command needs around a Beam run: option checks, staged outputs, a heartbeat.

* :func:`unknown_beam_options`: Beam only warns about an option it does not
  know and runs on, so ``--ouput out2`` would write to ``out/``; the launcher
  refuses such options before anything runs.
* :class:`StagedOutput`: outputs are written into a hidden folder inside the
  output directory and moved into place only when the run succeeded, so a
  failed run leaves the previous outputs untouched and no temporary shards
  or spill files behind.
* :class:`Heartbeat`: progress lines while the stages after reading work.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Self

__all__ = [
    "STAGING_PREFIX",
    "Heartbeat",
    "StagedOutput",
    "beam_option_names",
    "describe_run",
    "unknown_beam_options",
]

STAGING_PREFIX = ".newswatch-staging-"
# Runner option classes live in modules Beam imports only when the runner
# runs; import them so that their options count as known.
_RUNNER_OPTION_MODULES = (
    "apache_beam.runners.portability.flink_runner",
    "apache_beam.runners.portability.spark_runner",
)
_log = logging.getLogger("pipelines.progress")


def _beam_parser() -> argparse.ArgumentParser:
    from apache_beam.options import pipeline_options

    for module in _RUNNER_OPTION_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:  # a runner not installed here: its options stay unknown
            pass
    parser_class = getattr(pipeline_options, "_BeamArgumentParser", argparse.ArgumentParser)
    parser = parser_class(allow_abbrev=False, add_help=False)
    seen: dict[str, type] = {}
    stack = list(pipeline_options.PipelineOptions.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        seen.setdefault(f"{cls.__module__}.{cls.__qualname__}", cls)
    for cls in seen.values():
        try:
            cls._add_argparse_args(parser)
        except argparse.ArgumentError:  # an option two classes both declare
            continue
    return parser


def beam_option_names() -> list[str]:
    """Every ``--option`` some Beam ``PipelineOptions`` class declares."""
    parser = _beam_parser()
    return sorted(s for a in parser._actions for s in a.option_strings if s.startswith("--"))


def unknown_beam_options(args: Sequence[str]) -> list[str]:
    """The arguments in ``args`` that no Beam ``PipelineOptions`` class knows."""
    _, unknown = _beam_parser().parse_known_args(list(args))
    return [a for a in unknown if a.startswith("-") or not a.strip()] or list(unknown)


class StagedOutput:
    """A staging folder inside ``output`` whose files move into ``output`` on success.

    Use as a context manager: ``with StagedOutput(out, names) as staging:``
    write into ``staging.path``, then call :meth:`commit`. Leaving the block
    without a commit (an exception, an interrupt) removes the staging folder
    and everything Beam left in it. Remote outputs (``gs://``) cannot be
    moved atomically; there the staging path is the output itself, and a
    failed run's shards (:mod:`connectors.sinks`) are deleted from it.

    Args:
        output: the output directory (it exists).
        names: the files a successful run writes.
    """

    def __init__(self, output: str, names: Sequence[str]) -> None:
        self.output = output
        self.names = tuple(names)
        self.remote = "://" in output
        self.path = output
        self._committed = False

    def __enter__(self) -> Self:
        if not self.remote:
            self.path = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.output)
        return self

    def commit(self) -> None:
        """Move every output into place.

        Raises:
            FileNotFoundError: the run did not write one of the outputs.
        """
        if self.remote:
            self._committed = True
            return
        missing = [n for n in self.names if not os.path.isfile(os.path.join(self.path, n))]
        if missing:
            raise FileNotFoundError(f"the run did not write {', '.join(missing)}")
        # Each os.replace is atomic; all four follow one another in microseconds.
        for name in self.names:
            os.replace(os.path.join(self.path, name), os.path.join(self.output, name))
        self._committed = True

    def __exit__(self, *exc: object) -> None:
        if not self.remote:
            shutil.rmtree(self.path, ignore_errors=True)
        elif not self._committed:
            _delete_shards(self.output)


def _delete_shards(output: str) -> None:
    """Delete the sinks' shards a failed run left in a remote output (best effort)."""
    from apache_beam.io.filesystems import FileSystems

    from connectors.shards import join_path
    from connectors.sinks import SHARDS_PREFIX

    try:
        # Shards lie one level down, in the sinks' folders.
        (matched,) = FileSystems.match([join_path(output, f"{SHARDS_PREFIX}*/*")])
        paths = [m.path for m in matched.metadata_list]
        if paths:
            FileSystems.delete(paths)
    except Exception as exc:  # noqa: BLE001 - the run has failed already; say so and go on
        _log.warning("could not delete the temporary shards in %s: %s", output, exc)


class Heartbeat:
    """A daemon thread that logs a line every ``seconds`` while a run lasts.

    Args:
        describe: returns the line to log (called from the thread).
        first: seconds before the first line.
        seconds: interval between the following lines.
    """

    def __init__(
        self, describe: Callable[[], str], first: float = 1.0, seconds: float = 5.0
    ) -> None:
        self._describe = describe
        self._first = first
        self._seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="newswatch-heartbeat", daemon=True)

    def _loop(self) -> None:
        wait = self._first
        while not self._stop.wait(wait):
            wait = self._seconds
            try:
                _log.info("%s", self._describe())
            except Exception as exc:  # noqa: BLE001 - progress must never end a run
                _log.debug("heartbeat failed: %s", exc)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def _writing(staging: str) -> bool:
    # The sinks' shard folder appears with the first record written.
    from connectors.sinks import SHARDS_PREFIX

    try:
        return any(name.startswith(SHARDS_PREFIX) for name in os.listdir(staging))
    except OSError:
        return False


def describe_run(
    started: float, staging: str, total_files: int | None, in_process: bool = True
) -> Callable[[], str]:
    """The heartbeat line for a replay: which part of the run is working.

    Args:
        started: ``time.monotonic()`` at the start of the run.
        staging: the folder the outputs are written to.
        total_files: the number of input files, when known.
        in_process: the runner reads in this process; with worker
            processes only the elapsed time and the writing are visible.
    """
    from connectors.files import READ_PROGRESS

    def describe() -> str:
        elapsed = time.monotonic() - started
        files = READ_PROGRESS["files"]
        writing = _writing(staging)
        if writing:
            stage = "writing outputs"
        elif total_files is not None and files >= total_files:
            stage = (
                f"all {files} files read ({READ_PROGRESS['entries']} entries); normalising,"
                " identifying languages, flagging and deduplicating"
            )
        elif files:
            stage = f"{files} files read, last {READ_PROGRESS['last']}"
        elif not in_process:
            stage = "running in worker processes (their reading is not visible here)"
        else:
            stage = "starting the pipeline"
        return f"progress: {elapsed:.0f} s: {stage}"

    return describe
