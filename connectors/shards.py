"""The end of the JSONL sinks: shard records gathered, shards joined into the output files.

The sinks (:mod:`connectors.sinks`) write each bundle's records to a shard of
its own and emit one small :class:`Shard` record per bundle. Here
:class:`GatherShards` combines those records (and any count keys) of the
whole run into one ``(counts, shards)`` pair, and :func:`join_shards` copies
each output's shards, in a stable order, into the one file by streaming copy,
then deletes the temporary folder. :class:`JoinShards` is both, as the one
final step of a run: only shard records and counts are combined globally.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.io.filesystem import BeamIOError, CompressionTypes
from apache_beam.io.filesystems import FileSystems

__all__ = ["GatherShards", "JoinShards", "Shard", "join_path", "join_shards"]

_COPY_BUFFER = 1 << 20
_UNCOMPRESSED = CompressionTypes.UNCOMPRESSED
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Shard:
    """One bundle's part of one output file.

    Attributes:
        output: the output's file name (``items.jsonl``).
        path: the shard file.
        lines: how many records it holds.
        first: digest of its first line, so that shards join in an order
            that does not depend on their random names.
        counts: ``(key, n)`` counts of the records written, sorted by key.
    """

    output: str
    path: str
    lines: int
    first: str
    counts: tuple[tuple[str, int], ...] = ()


def join_path(directory: str, name: str) -> str:
    """``directory/name`` for a local folder or a Beam filesystem URL."""
    if "://" in directory:
        return directory.rstrip("/") + "/" + name
    return FileSystems.join(directory, name)


class GatherShards(beam.CombineFn):
    """Shards and count keys → ``(counts, shards)``: the whole run in a few small records.

    An input is a :class:`Shard` (its counts are summed), a key (counted once)
    or a ``{key: n}`` mapping. The accumulator holds one dict of counts and
    the list of shard records, never a record written.
    """

    def create_accumulator(self) -> tuple[dict[str, int], list[Shard]]:
        return {}, []

    def add_input(self, accumulator, element):
        counts, shards = accumulator
        if isinstance(element, Shard):
            shards.append(element)
            pairs: Iterable[tuple[str, int]] = element.counts
        elif isinstance(element, str):
            pairs = ((element, 1),)
        else:
            pairs = element.items()
        for key, n in pairs:
            counts[key] = counts.get(key, 0) + n
        return accumulator

    def merge_accumulators(self, accumulators):
        counts: dict[str, int] = {}
        shards: list[Shard] = []
        for part_counts, part_shards in accumulators:
            for key, n in part_counts.items():
                counts[key] = counts.get(key, 0) + n
            shards.extend(part_shards)
        return counts, shards

    def extract_output(self, accumulator):
        return accumulator


def join_shards(
    folder: str,
    directory: str,
    outputs: Sequence[str],
    shards: Iterable[Shard],
    extra: Mapping[str, str] | None = None,
) -> None:
    """Write each output in ``directory`` from its shards, then delete ``folder``.

    Every name in ``outputs`` is written, empty when no shard has lines for
    it. Shards join in the order of their first line's digest (then path),
    so the same bundles give the same file whatever the shards are called.

    Args:
        folder: the temporary folder holding the shards.
        directory: where the outputs go.
        outputs: output file names.
        shards: the shard records of the run.
        extra: more files to write, ``{name: text}`` (e.g. a summary).

    Raises:
        OSError, BeamIOError: a shard cannot be read or an output cannot be
            written (the run fails; the shards stay for the launcher to remove).
    """
    by_output: dict[str, list[Shard]] = {name: [] for name in outputs}
    for shard in shards:
        by_output.setdefault(shard.output, []).append(shard)
    if _done_before(by_output, directory):
        return
    for name, parts in by_output.items():
        parts.sort(key=lambda s: (s.first, s.path))
        with FileSystems.create(join_path(directory, name), compression_type=_UNCOMPRESSED) as out:
            for part in parts:
                with FileSystems.open(part.path, compression_type=_UNCOMPRESSED) as handle:
                    shutil.copyfileobj(handle, out, _COPY_BUFFER)
    for name, text in (extra or {}).items():
        with FileSystems.create(join_path(directory, name), compression_type=_UNCOMPRESSED) as out:
            out.write(text.encode("utf-8"))
    _delete_folder(folder)


def _done_before(by_output: Mapping[str, list[Shard]], directory: str) -> bool:
    # A retried final step (its first attempt wrote everything, deleted the
    # shards, then failed to report): the outputs stand, there is nothing to join.
    parts = [part for parts in by_output.values() for part in parts]
    if not parts or FileSystems.exists(parts[0].path):
        return False
    done = all(FileSystems.exists(join_path(directory, name)) for name in by_output)
    if done:
        _log.info("shards already joined into %s; not joined again", directory)
    return done


def _delete_folder(folder: str) -> None:
    # The whole folder, so the shards of a failed bundle attempt go too. An
    # object store has no folders: a trailing "/" deletes the prefix there.
    remote = "://" in folder
    try:
        if remote:
            FileSystems.delete([folder.rstrip("/") + "/"])
        elif FileSystems.exists(folder):
            FileSystems.delete([folder])
    except (OSError, BeamIOError) as exc:  # the outputs are complete: say so, go on
        _log.warning("could not delete the temporary shards in %s: %s", folder, exc)


class _JoinFn(beam.DoFn):
    def __init__(
        self,
        folder: str,
        directory: str,
        outputs: Sequence[str],
        extra: Callable[[dict[str, int]], Mapping[str, str]] | None,
    ) -> None:
        self._folder = folder
        self._directory = directory
        self._outputs = tuple(outputs)
        self._extra = extra

    def process(self, gathered):
        counts, shards = gathered
        extra = self._extra(counts) if self._extra is not None else None
        join_shards(self._folder, self._directory, self._outputs, shards, extra)
        yield counts


class JoinShards(beam.PTransform):
    """Shards and count keys (one PCollection or several) → the output files, in one final step.

    The output is the run's counts (one dict), once every file is written.

    Args:
        folder: the temporary folder the shards were written to.
        directory: where the outputs go.
        outputs: the output file names (each is written, empty if need be).
        extra: ``counts → {name: text}``: more files made from the counts
            (a module-level function: it is pickled).
    """

    def __init__(
        self,
        folder: str,
        directory: str,
        outputs: Sequence[str],
        extra: Callable[[dict[str, int]], Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self._fn = _JoinFn(folder, directory, outputs, extra)

    def expand(self, pcolls):
        parts = list(pcolls) if isinstance(pcolls, (tuple, list)) else [pcolls]
        # One seed, so that a run with nothing to write still writes its files.
        # (A bare impulse would be one step, not three, but the Flink and Spark
        # job servers refuse it in this flatten: "consumed but never produced".)
        seed = parts[0].pipeline | "Seed" >> beam.Create([{}])
        return (
            (*parts, seed)
            | "All" >> beam.Flatten()
            | "Gather" >> beam.CombineGlobally(GatherShards()).without_defaults()
            | "Join" >> beam.ParDo(self._fn)
        )
