"""The language stage: items → items with ``language`` and ``language_confidence``.

With a shared high-accuracy model (:mod:`transforms.language_shared`) the
stage sends the texts the cascade refers to that model to the machine's
model server and goes on with the next items while the server answers. The
first such text makes the server load its models (5–10 CPU s) in a process
of its own, so the load runs beside the stage's work instead of in front of
it. The items it answers go on at the end of the bundle, in their input
order, or all at once when :data:`MAX_WAITING` of them wait. So each
bundle's output is its items answered at once, in input order, then the
items the model answered, in input order: the same for the same bundle
whenever the answers come, and a replay's files are the same from run to
run. Without a shared model, the stage waits for each answer.
"""

from __future__ import annotations

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

# Items one worker holds for the model's answers; when this many wait, it
# waits for all their answers and lets them go on (about 1.2% of real items
# go to the model, so a bundle of some 80,000 items fills it). The count,
# never the timing of the answers, decides, so the output order holds.
MAX_WAITING = 1024


class _DetectFn(beam.DoFn):
    def __init__(self, backend: str, isolate: bool = False, shared: str | None = None) -> None:
        self._backend = backend
        self._isolate = isolate
        self._shared = shared
        self._detector: Detector | None = None
        self._accurate: Any = None
        # Items sent to the model, oldest first, with their timestamps and windows.
        self._waiting: deque[tuple[Item, str, Any, Any]] = deque()
        # The distinct texts sent since the last release: copies wait for one answer.
        self._sent: set[str] = set()
        self._undetermined = Metrics.counter("newswatch", "language_undetermined")
        self._fallbacks = Metrics.counter("newswatch", "language_fallback")
        self._failed = Metrics.counter("newswatch", "language_dead_letters")
        # Copies of the shared high-accuracy model made (one per machine when shared).
        self._copies = Metrics.counter("newswatch", "language_accurate_copies")

    def setup(self) -> None:
        # lingua's models load when a text first needs them, never here.
        self._detector = make_detector(self._backend, self._shared)
        accurate = getattr(self._detector, "accurate", None)
        # Only the shared model answers later; a process's own copy is waited for.
        self._accurate = accurate if hasattr(accurate, "submit") else None

    def start_bundle(self) -> None:
        # A bundle that failed may have left texts sent: their answers belong to
        # none of this bundle's items, so they are taken and dropped first.
        self._waiting.clear()
        self._sent.clear()
        while self._accurate is not None and self._accurate.waiting:
            try:
                self._accurate.take()
            except Exception:  # noqa: BLE001 - the server's error on a dropped text
                pass

    def process(
        self, item: Item, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam
    ):
        before = getattr(self._detector, "fallbacks", 0)
        try:
            if self._accurate is None:
                out = identify(self._detector, item)
            else:
                text = detection_text(item)
                answer = self._detector.route(text)
                if answer is None:
                    self._hold(item, text, timestamp, window)
                    self._fallbacks.inc()
                    out = None
                else:
                    out = with_language(item, answer)
        except Exception as exc:  # any one item's failure must not end the run
            if not self._isolate:
                raise
            yield self._dead(item, exc)
            return
        if out is None:  # waiting for the model
            if len(self._waiting) >= MAX_WAITING:
                yield from self._release()
            return
        if getattr(self._detector, "fallbacks", 0) != before:
            self._fallbacks.inc()
        if out.language == UNDETERMINED:
            self._undetermined.inc()
        yield out

    def _hold(self, item: Item, text: str, timestamp, window) -> None:
        if text not in self._sent:
            self._accurate.submit(text)
            self._sent.add(text)
        self._waiting.append((item, text, timestamp, window))

    def _dead(self, item: Item, exc: Exception) -> beam.pvalue.TaggedOutput:
        self._failed.inc()
        letter = item_dead_letter("language", item, failure_reason(exc))
        return beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)

    def _release(self):
        """Every waiting item with its answer (waited for), in input order and its window."""
        # Every answer is taken first, so that nothing stays sent when one fails.
        # They come in the order the texts were sent: that of their first items.
        answers: dict[str, tuple[str, float] | Exception] = {}
        for _, text, _, _ in self._waiting:
            if text not in answers:
                try:
                    answers[text] = self._detector.settle(text, self._accurate.take())
                except Exception as exc:  # noqa: BLE001 - as in process, for its items only
                    answers[text] = exc
        waiting, self._waiting, self._sent = self._waiting, deque(), set()
        for item, text, timestamp, window in waiting:
            answer = answers[text]
            try:
                if isinstance(answer, Exception):
                    raise answer
                out = with_language(item, answer)
            except Exception as exc:  # noqa: BLE001 - as in process, for this item only
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
        yield from self._release()
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
            high-accuracy answers, and the items it answers go on at the end
            of the bundle; None: each process loads its own copy and waits.
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
