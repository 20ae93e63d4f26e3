"""The language stage: items → items with ``language`` and ``language_confidence``.

With a shared high-accuracy model (:mod:`transforms.language_shared`) the
stage asks the machine's model server for the texts the cascade sends to
that model, and waits for each answer, so that its output keeps the input's
order and a replay's files are the same from run to run. (Holding the items
behind a waiting one, to go on while the server loads, kept the order but
cost more than it saved: see the README.)
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.item import DEAD_LETTER_TAG, Item, failure_reason, item_dead_letter
from transforms.language import BACKENDS, UNDETERMINED, Detector, identify, make_detector

__all__ = ["DetectLanguage"]


class _DetectFn(beam.DoFn):
    def __init__(self, backend: str, isolate: bool = False, shared: str | None = None) -> None:
        self._backend = backend
        self._isolate = isolate
        self._shared = shared
        self._detector: Detector | None = None
        self._undetermined = Metrics.counter("newswatch", "language_undetermined")
        self._fallbacks = Metrics.counter("newswatch", "language_fallback")
        self._failed = Metrics.counter("newswatch", "language_dead_letters")
        # Copies of the shared high-accuracy model made (one per machine when shared).
        self._copies = Metrics.counter("newswatch", "language_accurate_copies")

    def setup(self) -> None:
        # lingua's models load when a text first needs them, never here.
        self._detector = make_detector(self._backend, self._shared)

    def process(self, item: Item):
        before = getattr(self._detector, "fallbacks", 0)
        try:
            out = identify(self._detector, item)
        except Exception as exc:  # any one item's failure must not end the run
            if not self._isolate:
                raise
            self._failed.inc()
            letter = item_dead_letter("language", item, failure_reason(exc))
            yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
            return
        if getattr(self._detector, "fallbacks", 0) != before:
            self._fallbacks.inc()
        if out.language == UNDETERMINED:
            self._undetermined.inc()
        yield out

    def finish_bundle(self) -> None:
        if self._shared is not None:
            from transforms.language_shared import take_copies

            made = take_copies()
            if made:
                self._copies.inc(made)


class DetectLanguage(beam.PTransform):
    """Items → items with ``language`` and ``language_confidence``.

    Args:
        backend: one of :data:`~transforms.language.BACKENDS`.
        dead_letters: isolate each item: an item whose identification raises
            becomes a dead letter (stage ``language``) and the output is
            ``{"items", "dead_letter"}``; otherwise the error ends the run.
        shared: a tag (:func:`transforms.language_shared.process_tag`): the
            processes on one machine ask one model server for lingua's
            high-accuracy answers; None: each process loads its own copy.
    """

    def __init__(
        self, backend: str = "cascade", *, dead_letters: bool = False, shared: str | None = None
    ) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(
                f"language backend must be one of {sorted(BACKENDS)} (got {backend!r})"
            )
        self._backend = backend
        self._isolate = dead_letters
        self._shared = shared

    def expand(self, items):
        detect = beam.ParDo(_DetectFn(self._backend, self._isolate, self._shared))
        detect = detect.with_output_types(Item)
        if not self._isolate:
            return items | "DetectLanguage" >> detect
        out = items | "DetectLanguage" >> detect.with_outputs(DEAD_LETTER_TAG, main="items")
        return {"items": out["items"], DEAD_LETTER_TAG: out[DEAD_LETTER_TAG]}
