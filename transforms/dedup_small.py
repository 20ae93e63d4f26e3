"""Batch dedup of a small input in one group: the passes' decisions in two steps.

:class:`~transforms.dedup.Dedup` decides on small member records in four
passes and joins the decisions back to items spilled to files: about forty
steps, each of which Beam sets up (several milliseconds each) whatever the
input size, so a replay of one file would spend more time setting up dedup
than deduplicating. An input of at most :data:`ONE_GROUP_BYTES` of feeds (about
1,400 real entries) is decided here instead:

1. every item goes under one key, so the grouping holds the input once,
   bounded by that size (:func:`one_group_fits` decides; a larger input, or
   one of unknown size, takes :class:`~transforms.dedup.Dedup`);
2. the items are sorted by ``(rank, handle)``, the order in which
   :class:`~transforms.dedup.Dedup` picks its representatives, and fed to
   the streaming dedup's state machine
   (:class:`~transforms.dedup_state.DedupState`, nothing expiring), which
   makes the four passes' decisions in that order; each copy's report is
   credited to its representative's ``also_reported_by``.

The outputs are the same as :class:`~transforms.dedup.Dedup`'s, line for line
(``tests/test_dedup_small.py`` compares both on the real corpus). An item
that cannot be decided (its keys cannot be computed) becomes a dead letter of
stage ``dedup``.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.dedup import DUPLICATES_TAG
from transforms.dedup_member import handle, rank
from transforms.dedup_state import DedupState, dedup_keys
from transforms.item import DEAD_LETTER_TAG, Item, Report, failure_reason, item_dead_letter
from transforms.neardup import NearConfig

__all__ = ["ONE_GROUP_BYTES", "DedupInOneGroup", "decide_in_order", "one_group_fits"]

# Feed bytes up to which one group decides: about 1,400 entries at the real
# feeds' 5.8 KB of feed per entry, a grouping of some tens of megabytes, and
# about half a second of dedup keys on one core.
ONE_GROUP_BYTES = 8 * 1024 * 1024
# Nothing expires within one batch.
_FOREVER = 10**12
UNIQUE = "unique"


def one_group_fits(input_bytes: int | None) -> bool:
    """Whether an input of this many feed bytes is deduplicated in one group."""
    return input_bytes is not None and input_bytes <= ONE_GROUP_BYTES


def decide_in_order(items: list[Item], near: NearConfig = NearConfig()):
    """Every item decided, earliest first: yields items and ``(item, exception)`` for failures.

    A copy is marked ``duplicate``; a representative lists its copies in
    ``also_reported_by`` (an ``id`` copy, the same entry again, adds only
    the reports it carried itself).
    """
    state = DedupState(near, ttl_seconds=_FOREVER)
    decided: list[Item] = []
    reports: dict[str, list[Report]] = {}
    ordered = []
    for item in items:
        try:
            ordered.append(((rank(item), handle(item)), item))
        except Exception as exc:  # noqa: BLE001 - one item must not end the run
            yield item, exc
    ordered.sort(key=lambda pair: pair[0])
    for _, item in ordered:
        try:
            verdict, _ = state.observe(dedup_keys(item), 0)
        except Exception as exc:  # noqa: BLE001 - one item must not end the run
            yield item, exc
            continue
        if verdict.duplicate is None:
            reports.setdefault(item.id, []).extend(item.also_reported_by)
            decided.append(item)
            continue
        credit = verdict.credit or verdict.duplicate.of
        moved = reports.setdefault(credit, [])
        if verdict.duplicate.kind != "id":
            moved.append(Report(id=item.id, source=item.source, url=item.url))
        moved.extend(item.also_reported_by)
        decided.append(item.replace(duplicate=verdict.duplicate, also_reported_by=()))
    for item in decided:
        if item.duplicate is None:
            item = item.replace(also_reported_by=tuple(reports.get(item.id, ())))
        yield item


class _DecideFn(beam.DoFn):
    def __init__(self, near: NearConfig) -> None:
        self._near = near
        self._copies = Metrics.counter("newswatch", "dedup_duplicates")
        self._failed = Metrics.counter("newswatch", "dedup_dead_letters")

    def process(self, keyed):
        _, items = keyed
        for out in decide_in_order(list(items), self._near):
            if isinstance(out, tuple):
                item, exc = out
                self._failed.inc()
                letter = item_dead_letter("dedup", item, failure_reason(exc))
                yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
                continue
            yield out
            if out.duplicate is None:
                yield beam.pvalue.TaggedOutput(UNIQUE, out)
            else:
                self._copies.inc()
                yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, out)


class DedupInOneGroup(beam.PTransform):
    """Items → ``{"items", "unique", "duplicates", "dead_letter"}``, as ``Dedup`` gives them.

    For bounded inputs of at most :data:`ONE_GROUP_BYTES` (see
    :func:`one_group_fits`): the whole input is one group.
    """

    def __init__(self, near: NearConfig = NearConfig()) -> None:
        super().__init__()
        self._near = near

    def expand(self, items):
        decided = (
            items
            | "OneKey" >> beam.Map(lambda item: ("", item)).with_output_types(tuple[str, Item])
            | "Group" >> beam.GroupByKey()
            | "Decide"
            >> beam.ParDo(_DecideFn(self._near))
            .with_output_types(Item)
            .with_outputs(UNIQUE, DUPLICATES_TAG, DEAD_LETTER_TAG, main="items")
        )
        return {
            "items": decided["items"],
            "unique": decided[UNIQUE],
            "duplicates": decided[DUPLICATES_TAG],
            DEAD_LETTER_TAG: decided[DEAD_LETTER_TAG],
        }
