"""The Beam normalise stage: :func:`transforms.normalise.normalise_or_reason` per item.

Items that cannot be normalised go to the ``dead_letter`` output with the
reason and the raw record.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

import transforms.coders  # noqa: F401 - items cross the runner with their JSON coder
from transforms.batching import DEFAULT_BATCH, BatchedDoFn
from transforms.item import DEAD_LETTER_TAG, Item, item_dead_letter
from transforms.normalise import normalise_or_reason

__all__ = ["DEAD_LETTER_TAG", "Normalise"]


class _NormaliseFn(BatchedDoFn):
    def __init__(self, batch: int = 1) -> None:
        super().__init__(batch)
        self.normalised = Metrics.counter("newswatch", "items_normalised")
        self.failed = Metrics.counter("newswatch", "normalise_dead_letters")

    def one(self, item: Item):
        out = normalise_or_reason(item)
        if isinstance(out, str):
            self.failed.inc()
            letter = item_dead_letter("normalise", item, out)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
            return
        self.normalised.inc()
        yield out


class Normalise(beam.PTransform):
    """Items → normalised items, with a ``dead_letter`` tagged output.

    Args:
        batch: items normalised one after the other
            (:class:`~transforms.batching.BatchedDoFn`: the same outputs,
            with the stage's code warm); 1 for each at once.
    """

    def __init__(self, batch: int = DEFAULT_BATCH) -> None:
        super().__init__()
        self._batch = batch

    def expand(self, items):
        fn = _NormaliseFn(self._batch)
        return items | "Normalise" >> beam.ParDo(fn).with_output_types(
            Item
        ).with_outputs(DEAD_LETTER_TAG, main="items")
