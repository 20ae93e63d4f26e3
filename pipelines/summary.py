"""The run summary: counts gathered inside the pipeline, rendered after it.

Counts are computed as a PCollection and written to ``summary.json`` rather
than read from runner metrics, so they are exact on every runner and a
replay's summary is as deterministic as its outputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import apache_beam as beam

from transforms.item import COLLISION_MARK, DeadLetter, Item

READ_STAGES = frozenset({"read", "parse"})

__all__ = [
    "CountKeys",
    "Summarise",
    "check_identities",
    "dead_letter_keys",
    "file_key",
    "item_keys",
    "read_key",
    "render",
]


def item_keys(item: Item) -> list[str]:
    """Summary counters one output item contributes to."""
    # An id re-derived because another entry had it with different content.
    collision = ["warning.collision_id"] if COLLISION_MARK in item.id else []
    if item.duplicate is not None:
        return ["entries.duplicate", f"duplicates.{item.duplicate.kind}", *collision]
    keys = ["entries.unique", f"language.{item.language or 'und'}", *collision]
    keys.extend(f"flagged.{f.category}" for f in item.flags)
    if item.flags:
        keys.append("flagged.any")
    return keys


def file_key(status: str) -> str:
    """The counter of one entry of the reader's ``files`` output.

    ``parsed``, ``empty`` and ``dead_letter`` are file outcomes (one per
    file); ``warning.<kind>`` strings (decoding, entities, collision) are
    warnings about a file that was still read, and are not outcomes.
    """
    return status if status.startswith("warning.") else f"files.{status}"


def read_key(_item: Item) -> str:
    """The counter of one item as the source read it."""
    return "entries.read"


def dead_letter_keys(letter: DeadLetter) -> list[str]:
    if letter.kind == "file":
        return [f"dead_letter_files.{letter.stage}"]
    keys = ["entries.dead_letter", f"dead_letter_entries.{letter.stage}"]
    if letter.stage in READ_STAGES:
        # Rejected by the reader itself: read, but never an item.
        keys.append("entries.read")
    return keys


class CountKeys(beam.CombineFn):
    """Keys → ``{key: count}``; the accumulator is one small dict, whatever the input size."""

    def create_accumulator(self) -> dict[str, int]:
        return {}

    def add_input(self, accumulator: dict[str, int], key: str) -> dict[str, int]:
        accumulator[key] = accumulator.get(key, 0) + 1
        return accumulator

    def merge_accumulators(self, accumulators) -> dict[str, int]:
        merged: dict[str, int] = {}
        for counts in accumulators:
            for key, n in counts.items():
                merged[key] = merged.get(key, 0) + n
        return merged

    def extract_output(self, accumulator: dict[str, int]) -> dict[str, int]:
        return accumulator


class Summarise(beam.PTransform):
    """``{"items", "dead_letters", "files", "read"}`` → one JSON summary line.

    One global combine of small dicts (the keys are counted in each bundle
    before they are combined). A replay's ``summary.json`` is counted by the
    file sinks instead, from what they wrote
    (:func:`pipelines.pipeline.write_files`); this form is for a run without files.
    """

    def expand(self, pcolls):
        keys = (
            pcolls["items"] | "ItemKeys" >> beam.FlatMap(item_keys),
            pcolls["dead_letters"] | "DeadKeys" >> beam.FlatMap(dead_letter_keys),
            pcolls["files"] | "FileKeys" >> beam.Map(file_key),
            pcolls["read"] | "ReadKeys" >> beam.Map(read_key),
        )
        return (
            keys
            | "AllKeys" >> beam.Flatten()
            | "Count" >> beam.CombineGlobally(CountKeys())
            | "Json" >> beam.Map(lambda d: json.dumps(d, sort_keys=True))
        )


def _sum(counts: Mapping[str, int], prefix: str) -> int:
    return sum(v for k, v in counts.items() if k.startswith(prefix))


def check_identities(counts: Mapping[str, int]) -> list[str]:
    """The two identities of a run; returns what does not add up (empty if all is well)."""
    problems = []
    files = counts.get("files.parsed", 0) + counts.get("files.empty", 0)
    files_read = files + counts.get("files.dead_letter", 0)
    dead_files = _sum(counts, "dead_letter_files.")
    if counts.get("files.dead_letter", 0) != dead_files:
        problems.append(
            f"dead-lettered files {counts.get('files.dead_letter', 0)} != dead-letter records {dead_files}"
        )
    read = counts.get("entries.read", 0)
    accounted = (
        counts.get("entries.unique", 0)
        + counts.get("entries.duplicate", 0)
        + counts.get("entries.dead_letter", 0)
    )
    if read != accounted:
        problems.append(f"entries read {read} != unique + duplicates + dead-lettered {accounted}")
    if files_read and files_read != _sum(counts, "files."):
        problems.append("unknown file outcome in counts")
    return problems


def render(counts: Mapping[str, int]) -> str:
    """The summary for people."""
    c = lambda k: counts.get(k, 0)
    files_read = c("files.parsed") + c("files.empty") + c("files.dead_letter")
    lines = [
        (
            f"files read    {files_read:>8} = parsed {c('files.parsed')} + empty"
            f" {c('files.empty')} + dead-lettered {c('files.dead_letter')}"
        ),
        (
            f"entries read  {c('entries.read'):>8} = unique {c('entries.unique')} + duplicates"
            f" {c('entries.duplicate')} + dead-lettered {c('entries.dead_letter')}"
        ),
    ]
    dups = ", ".join(
        f"{k.split('.', 1)[1]} {v}"
        for k, v in sorted(counts.items())
        if k.startswith("duplicates.")
    )
    lines.append(f"duplicates    {dups or 'none'}")
    langs = sorted(
        ((v, k.split(".", 1)[1]) for k, v in counts.items() if k.startswith("language.")),
        reverse=True,
    )
    lines.append("languages     " + (", ".join(f"{lang} {n}" for n, lang in langs) or "none"))
    flagged = ", ".join(
        f"{k.split('.', 1)[1]} {v}"
        for k, v in sorted(counts.items())
        if k.startswith("flagged.") and k != "flagged.any"
    )
    lines.append(f"flagged       {c('flagged.any')} items ({flagged or 'none'})")
    dead = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k.startswith("dead_letter_"))
    lines.append(f"dead letters  {dead or 'none'}")
    warnings = ", ".join(
        f"{k.split('.', 1)[1]} {v}" for k, v in sorted(counts.items()) if k.startswith("warning.")
    )
    if warnings:
        lines.append(f"warnings      {warnings}")
    problems = check_identities(counts)
    lines.append("identities    " + ("hold" if not problems else "BROKEN: " + "; ".join(problems)))
    return "\n".join(lines)
