"""The language stage: items → items with ``language`` and ``language_confidence``.

With a shared high-accuracy model (:mod:`transforms.language_shared`), the
stage does not wait for the model's answers: an item whose text the cascade
sends to it waits in the stage while the next items go through, and goes on
when its answer comes, at the latest when the bundle ends. The first such
text makes the model server load its models (5–10 CPU s) in a process of its
own, beside the stage's work instead of in front of it. The answers are the
ones :meth:`~transforms.language.CascadeDetector.detect` gives; only the
order of the stage's output changes, which nothing downstream relies on.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue

from transforms.item import DEAD_LETTER_TAG, Item, failure_reason, item_dead_letter
from transforms.language import (
    BACKENDS,
    UNDETERMINED,
    Detector,
    detection_text,
    identify,
    make_detector,
    with_language,
)

__all__ = ["DetectLanguage", "MAX_WAITING"]

# Items one worker keeps waiting for the model's answers; past this many it
# waits for the oldest answer before it takes the next item (about 1.2% of
# real items wait, so a bundle of 80,000 items fills it).
MAX_WAITING = 1024


class _DetectFn(beam.DoFn):
    def __init__(self, backend: str, isolate: bool = False, shared: str | None = None) -> None:
        self._backend = backend
        self._isolate = isolate
        self._shared = shared
        self._detector: Detector | None = None
        self._accurate: Any = None
        self._waiting: deque[tuple[Item, str, Any, Any]] = deque()
        self._undetermined = Metrics.counter("newswatch", "language_undetermined")
        self._fallbacks = Metrics.counter("newswatch", "language_fallback")
        self._failed = Metrics.counter("newswatch", "language_dead_letters")
        # Copies of the shared high-accuracy model made (one per machine when shared).
        self._copies = Metrics.counter("newswatch", "language_accurate_copies")

    def setup(self) -> None:
        # lingua's models load when a text first needs them, never here.
        self._detector = make_detector(self._backend, self._shared)
        accurate = getattr(self._detector, "accurate", None)
        # Only a shared model answers later; the stage waits for its own.
        self._accurate = accurate if hasattr(accurate, "submit") else None
        self._waiting = deque()

    def start_bundle(self) -> None:
        # A bundle that failed left its items waiting: they are retried with
        # their bundle, so their answers are taken and dropped, never given
        # to the texts of this one.
        self._waiting.clear()
        if self._accurate is not None:
            while self._accurate.waiting:
                with contextlib.suppress(Exception):
                    self._accurate.take()

    def process(
        self, item: Item, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam
    ):
        if self._waiting:
            yield from self._release(keep=MAX_WAITING - 1)
        before = getattr(self._detector, "fallbacks", 0)
        try:
            if self._accurate is None:
                out = identify(self._detector, item)
            else:
                text = detection_text(item)
                answer = self._detector.route(text)
                if answer is None:
                    self._accurate.submit(text)
                    self._waiting.append((item, text, timestamp, window))
                    self._fallbacks.inc()
                    return
                out = with_language(item, answer)
        except Exception as exc:  # any one item's failure must not end the run
            if not self._isolate:
                raise
            yield self._dead(item, exc)
            return
        if getattr(self._detector, "fallbacks", 0) != before:
            self._fallbacks.inc()
        if out.language == UNDETERMINED:
            self._undetermined.inc()
        yield out

    def _dead(self, item: Item, exc: Exception) -> beam.pvalue.TaggedOutput:
        self._failed.inc()
        letter = item_dead_letter("language", item, failure_reason(exc))
        return beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)

    def _release(self, keep: int):
        """Items whose answers came (waiting for them past ``keep`` items), in their windows."""
        while self._waiting and (len(self._waiting) > keep or self._accurate.ready()):
            item, text, timestamp, window = self._waiting.popleft()
            try:
                out = with_language(item, self._detector.settle(text, self._accurate.take()))
            except Exception as exc:  # noqa: BLE001 - as in process
                if not self._isolate:
                    raise
                dead = self._dead(item, exc)
                yield beam.pvalue.TaggedOutput(
                    DEAD_LETTER_TAG, WindowedValue(dead.value, timestamp, (window,))
                )
                continue
            if out.language == UNDETERMINED:
                self._undetermined.inc()
            yield WindowedValue(out, timestamp, (window,))

    def finish_bundle(self):
        yield from self._release(keep=0)
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
            high-accuracy answers, without waiting for them; None: each
            process loads its own copy and waits.
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
