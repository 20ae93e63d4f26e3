"""The Beam normalise stage: :func:`transforms.normalise.normalise_or_reason` per item.

Items that cannot be normalised go to the ``dead_letter`` output with the
reason and the raw record.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

import transforms.coders  # noqa: F401 - items cross the runner with their JSON coder
from transforms.item import DEAD_LETTER_TAG, Item, item_dead_letter
from transforms.normalise import normalise_or_reason

__all__ = ["DEAD_LETTER_TAG", "Normalise"]



class _NormaliseFn(beam.DoFn):
    def __init__(self) -> None:
        self.normalised = Metrics.counter("newswatch", "items_normalised")
        self.failed = Metrics.counter("newswatch", "normalise_dead_letters")

    def process(self, item: Item):
        out = normalise_or_reason(item)
        if isinstance(out, str):
            self.failed.inc()
            letter = item_dead_letter("normalise", item, out)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
            return
        self.normalised.inc()
        yield out


class Normalise(beam.PTransform):
    """Items → normalised items, with a ``dead_letter`` tagged output."""

    def expand(self, items):
        return items | "Normalise" >> beam.ParDo(_NormaliseFn()).with_output_types(
            Item
        ).with_outputs(DEAD_LETTER_TAG, main="items")
