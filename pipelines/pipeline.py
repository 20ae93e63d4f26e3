"""The one pipeline graph: source → normalise → language → flag → dedup → sinks.

``build`` takes its source as a ``PTransform`` so that a replay of saved
files, a test's in-memory items and a streaming subscription all run through
the same stages. What differs between a bounded and an unbounded run is
passed in too: the dedup form (batch :class:`~transforms.dedup.Dedup`
groups keys of the whole collection; :class:`~transforms.streaming_dedup.StreamingDedup`
is keyed state with a time-to-live) and, for a stream, the summary form
(Beam counters, as a stream has no end to summarise). ``write_files``
attaches the batch file sinks, which count what they write into
``summary.json``. Nothing here runs anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import apache_beam as beam

import transforms.coders  # noqa: F401 - registers the deterministic record coders
from connectors.files import DEAD_LETTERS, FILES, ITEMS
from connectors.shards import JoinShards
from connectors.sinks import WriteShards, shard_folder
from pipelines.summary import dead_letter_keys, file_key, item_keys, read_key
from transforms.dedup import Dedup
from transforms.flagging import Flagging
from transforms.language_stage import DetectLanguage
from transforms.normalise_stage import DEAD_LETTER_TAG, Normalise

__all__ = ["OUTPUT_FILES", "StageConfig", "build", "summary_file", "write_files"]

OUTPUT_FILES = ("items.jsonl", "flagged.jsonl", "dead_letter.jsonl", "summary.json")


@dataclass(frozen=True)
class StageConfig:
    language_backend: str = "cascade"
    packs_dir: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    # A tag: the processes on one machine ask one server for lingua's
    # high-accuracy answers (transforms.language_shared) and go on while it
    # answers; None: each process loads its own copy and waits.
    shared_models: str | None = None


def build(
    p: beam.Pipeline,
    source: beam.PTransform,
    config: StageConfig = StageConfig(),
    *,
    dedup: beam.PTransform | None = None,
    summary: beam.PTransform | None = None,
) -> dict:
    """Apply the whole graph to ``p``.

    Args:
        p: the pipeline.
        source: a PTransform from the pipeline root to
            ``{"items", "dead_letters", "files"}`` (``files``: one outcome
            string per input file; may be empty for sources without files).
        config: stage settings.
        dedup: items → ``{"unique", "duplicates"[, "items"][, "updates"][,
            "dead_letter"]}``; batch :class:`~transforms.dedup.Dedup` when None.
        summary: ``{"items", "dead_letters", "files", "read"}`` → anything,
            e.g. a stream's counters; None applies none (the batch summary
            is counted by :func:`write_files` from what it writes;
            :class:`~pipelines.summary.Summarise` gives it without files).

    Returns:
        ``{"read", "items", "unique", "flagged", "dead_letters", "files",
        "updates", "summary"}``: the items as the source read them, every item
        (duplicates marked), the unique ones, the flagged unique ones, every
        dead letter, the source's file outcomes, the dedup's
        :class:`~transforms.item.ReportUpdate` records (None when the dedup
        form makes none, as batch dedup fills ``also_reported_by`` itself),
        and what the summary form returned (None without one).
    """
    read = p | "Read" >> source
    normalised = read[ITEMS] | "Normalise" >> Normalise()
    # Each stage isolates each item: one that breaks a stage becomes that
    # stage's dead letter, and the run goes on.
    identified = normalised["items"] | "Language" >> DetectLanguage(
        config.language_backend, dead_letters=True, shared=config.shared_models
    )
    flagged_all = identified["items"] | "Flagging" >> Flagging(
        config.packs_dir, config.thresholds, dead_letters=True
    )
    deduped = flagged_all["items"] | "Dedup" >> (dedup if dedup is not None else Dedup())
    if "items" in deduped:
        # All items from the one step that made them: a flatten of unique and
        # duplicates would be a collection that FnApiRunner holds in memory.
        items = deduped["items"]
    else:
        items = (deduped["unique"], deduped["duplicates"]) | "AllItems" >> beam.Flatten()
    dead = (
        read[DEAD_LETTERS],
        normalised[DEAD_LETTER_TAG],
        identified[DEAD_LETTER_TAG],
        flagged_all[DEAD_LETTER_TAG],
        *([deduped[DEAD_LETTER_TAG]] if DEAD_LETTER_TAG in deduped else []),
    ) | "AllDeadLetters" >> beam.Flatten()
    flagged = deduped["unique"] | "OnlyFlagged" >> beam.Filter(lambda item: bool(item.flags))
    counted = {"items": items, "dead_letters": dead, "files": read[FILES], "read": read[ITEMS]}
    summarised = counted | "Summary" >> summary if summary is not None else None
    return {
        "read": read[ITEMS],
        "items": items,
        "unique": deduped["unique"],
        "flagged": flagged,
        "dead_letters": dead,
        "files": read[FILES],
        "updates": deduped.get("updates"),
        "summary": summarised,
    }


def summary_file(counts: dict[str, int]) -> dict[str, str]:
    """``summary.json`` from the counts of a run: one JSON line, keys sorted."""
    return {"summary.json": json.dumps(counts, sort_keys=True) + "\n"}


def write_files(outputs: dict, output_dir: str) -> beam.PCollection:
    """Attach the batch sinks: ``OUTPUT_FILES`` under ``output_dir``, written at the end.

    Each sink writes its records in the bundles that produce them (no
    grouping, :mod:`connectors.sinks`); one final step joins the shards and
    writes ``summary.json``, counted from what was written: an item that
    cannot be serialised is a dead letter of stage ``write``, not a unique
    item, so the summary's identities hold over the files themselves.

    Args:
        outputs: what :func:`build` returned (without a summary form).
        output_dir: the folder (local or a Beam filesystem URL).

    Returns:
        The run's counts (one dict), once the files are written.
    """
    folder = shard_folder(output_dir)
    items = outputs["items"] | "WriteItems" >> WriteShards(
        folder, "items.jsonl", keys=item_keys, dead_letters=True
    )
    # Flagged items are items too: one that cannot be serialised is
    # dead-lettered once, by the items sink.
    flagged = outputs["flagged"] | "WriteFlagged" >> WriteShards(folder, "flagged.jsonl")
    dead = outputs["dead_letters"] | "WriteDeadLetters" >> WriteShards(
        folder, "dead_letter.jsonl", keys=dead_letter_keys
    )
    # The write stage's own dead letters go to the same file, from the
    # items' stage (no flatten with the others: one stage fewer).
    unwritable = items[DEAD_LETTER_TAG] | "WriteUnwritable" >> WriteShards(
        folder, "dead_letter.jsonl", keys=dead_letter_keys
    )
    files = outputs["files"] | "FileKeys" >> beam.Map(file_key)
    read = outputs["read"] | "ReadKeys" >> beam.Map(read_key)
    shards = (items["shards"], flagged, dead, unwritable, files, read)
    return shards | "Outputs" >> JoinShards(
        folder, output_dir, OUTPUT_FILES[:3], extra=summary_file
    )
