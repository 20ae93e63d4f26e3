"""The one pipeline graph: source → normalise → language → flag → dedup → sinks.

``build`` takes its source as a ``PTransform`` so that a replay of saved
files, a test's in-memory items and a streaming subscription all run through
the same stages. What differs between a bounded and an unbounded run is
passed in too: the dedup form (batch :class:`~transforms.dedup.Dedup`
groups the whole collection; :class:`~transforms.streaming_dedup.StreamingDedup`
is keyed state with a time-to-live) and the summary form (a
``summary.json`` line in batch; Beam counters in a stream, where there is no
end to summarise). ``write_files`` attaches the batch file sinks. Nothing here
runs anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import apache_beam as beam

import transforms.coders  # noqa: F401 - registers the deterministic record coders
from connectors.files import DEAD_LETTERS, FILES, ITEMS, WriteJsonl
from pipelines.summary import Summarise
from transforms.dedup import Dedup
from transforms.flagging import Flagging
from transforms.language import DetectLanguage
from transforms.normalise_stage import DEAD_LETTER_TAG, Normalise

__all__ = ["OUTPUT_FILES", "StageConfig", "build", "write_files"]

OUTPUT_FILES = ("items.jsonl", "flagged.jsonl", "dead_letter.jsonl", "summary.json")


@dataclass(frozen=True)
class StageConfig:
    language_backend: str = "cascade"
    packs_dir: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)


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
        dedup: items → ``{"unique", "duplicates"[, "updates"]}``; batch
            :class:`~transforms.dedup.Dedup` when None.
        summary: ``{"items", "dead_letters", "files", "read"}`` → anything;
            batch :class:`~pipelines.summary.Summarise` (one JSON line) when None.

    Returns:
        ``{"read", "items", "unique", "flagged", "dead_letters", "updates",
        "summary"}``: the items as the source read them, every item
        (duplicates marked), the unique ones, the flagged unique ones, every
        dead letter, the dedup's
        :class:`~transforms.item.ReportUpdate` records (None when the dedup
        form makes none, as batch dedup fills ``also_reported_by`` itself),
        and what the summary form returned.
    """
    read = p | "Read" >> source
    normalised = read[ITEMS] | "Normalise" >> Normalise()
    # Each stage isolates each item: one that breaks a stage becomes that
    # stage's dead letter, and the run goes on.
    identified = normalised["items"] | "Language" >> DetectLanguage(
        config.language_backend, dead_letters=True
    )
    flagged_all = identified["items"] | "Flagging" >> Flagging(
        config.packs_dir, config.thresholds, dead_letters=True
    )
    deduped = flagged_all["items"] | "Dedup" >> (dedup if dedup is not None else Dedup())
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
    summarised = counted | "Summary" >> (summary if summary is not None else Summarise())
    return {
        "read": read[ITEMS],
        "items": items,
        "unique": deduped["unique"],
        "flagged": flagged,
        "dead_letters": dead,
        "updates": deduped.get("updates"),
        "summary": summarised,
    }


def write_files(outputs: dict, output_dir: str) -> None:
    """Attach the JSONL sinks and ``summary.json`` under ``output_dir``."""
    join = os.path.join if "://" not in output_dir else (lambda a, b: a.rstrip("/") + "/" + b)
    outputs["items"] | "WriteItems" >> WriteJsonl(join(output_dir, "items.jsonl"))
    outputs["flagged"] | "WriteFlagged" >> WriteJsonl(join(output_dir, "flagged.jsonl"))
    outputs["dead_letters"] | "WriteDeadLetters" >> WriteJsonl(
        join(output_dir, "dead_letter.jsonl")
    )
    outputs["summary"] | "WriteSummary" >> beam.io.WriteToText(
        join(output_dir, "summary.json"), shard_name_template="", num_shards=1
    )
