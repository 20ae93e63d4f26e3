"""Batch dedup's last step: each spill file read back once, its items given their decisions.

:class:`~transforms.dedup.Dedup` turns the passes' records into
:data:`~transforms.dedup_member.Decision` records keyed by spill file and
handle (``copy_decision``, ``exact_decision``, ``kept_decision``), groups
them by file, and :class:`ApplyFileFn` reads each file with only its own
decisions in memory.
"""

from __future__ import annotations

from collections.abc import Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.dedup_exact import Record
from transforms.dedup_member import Decision, as_member, peek_member
from transforms.item import (
    DEAD_LETTER_TAG,
    DeadLetter,
    Duplicate,
    Item,
    failure_reason,
    from_json,
    item_dead_letter,
)
from transforms.item_json import remember_json
from transforms.spill import read_spill, spill_path

__all__ = ["ApplyFileFn", "copy_decision", "exact_decision", "kept_decision"]


def copy_decision(copied: tuple[bytes, Duplicate]) -> tuple[str, tuple[str, Decision]]:
    """A copy's decision, keyed by its spill file: ``(file, (handle, decision))``."""
    copy, duplicate = as_member(copied[0]), copied[1]
    return copy.file, (copy.handle, (duplicate, (), copy.twins))


def exact_decision(record: Record) -> Iterable[tuple[str, tuple[str, Decision]]]:
    """The decision of an exact pass's record if it is a copy; nothing for one it kept."""
    if record[1] is not None:
        yield copy_decision(record)


def kept_decision(record: Record) -> Iterable[tuple[str, tuple[str, Decision]]]:
    """A kept record's decision when it has reports or twins to pass on; else nothing."""
    packed, duplicate = record
    if duplicate is not None or not any(peek_member(packed, "reports", "twins")):
        return
    m = as_member(packed)
    yield m.file, (m.handle, (None, m.reports, m.twins))


class ApplyFileFn(beam.DoFn):
    """One spill file and its decisions → its items, unique or marked; then the file's id.

    Main output: every item of the file (copies marked ``duplicate``); tagged
    ``done``: the file's id once it has been read; tagged dead letters: an
    item whose line cannot be read or whose decision cannot be applied.
    """

    def __init__(self, spill_dir: str) -> None:
        self._dir = spill_dir
        self._dups = {
            kind: Metrics.counter("newswatch", f"duplicates_{kind}")
            for kind in ("id", "url", "content", "near")
        }
        self._failed = Metrics.counter("newswatch", "dedup_dead_letters")

    def process(self, joined):
        file_id, grouped = joined
        decisions: dict[str, Decision] = dict(grouped["decision"])
        taken: set[str] = set()
        for key, data in read_spill(self._dir, file_id):
            try:
                item = from_json(data)
            except Exception as exc:  # one entry's failure must not end the run
                self._failed.inc()
                path = spill_path(self._dir, file_id)
                letter = DeadLetter("dedup", failure_reason(exc), path, raw=data[:2000])
                yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
                continue
            try:
                out = self.apply(item, key, decisions.get(key), taken)
            except Exception as exc:  # noqa: BLE001 - as above
                self._failed.inc()
                letter = item_dead_letter("dedup", item, failure_reason(exc))
                yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
                continue
            if out is item:
                # Unchanged (most items): the sinks fused after this step
                # write the line as read instead of encoding the item again.
                remember_json(item, data)
            yield out
        yield beam.pvalue.TaggedOutput("done", file_id)

    def apply(self, item: Item, key: str, decision: Decision | None, taken: set[str]) -> Item:
        """One item with its decision applied; ``taken``: handles whose twin took theirs."""
        if decision is None:
            return item
        duplicate, reports, twins = decision
        if twins:
            if key in taken:
                # A byte-identical repeat: the first of them took the decision.
                duplicate, reports = Duplicate(of=item.id, kind="id"), ()
            taken.add(key)
        if duplicate is None:
            return item.replace(also_reported_by=reports)
        self._dups[duplicate.kind].inc()
        return item.replace(duplicate=duplicate, also_reported_by=())
