"""The language stage: items → items with ``language`` and ``language_confidence``.

With a shared high-accuracy model (:mod:`transforms.language_shared`), the
stage does not wait for the model's answers: an item whose text the cascade
sends to it is held, and so is every item behind it, while the stage goes on
identifying the next items; the held items go on, in the order they came, as
the answers come, at the latest when the bundle ends. The first such text
makes the model server load its models (5–10 CPU s) in a process of its own,
beside the stage's work instead of in front of it. The answers are the ones
:meth:`~transforms.language.CascadeDetector.detect` gives, and the output
keeps the input's order, so a replay's files are the same from run to run.
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

__all__ = ["DetectLanguage", "MAX_WAITING", "MAX_WAITING_CHARS"]

# Items one worker holds while the model answers (those behind an item that
# waits are held too, to keep the order), and the characters of their titles
# and texts; past either bound it waits for answers until it holds half.
# While the model loads (5-10 s) a worker takes a few thousand items.
MAX_WAITING = 8192
MAX_WAITING_CHARS = 16_000_000


class _DetectFn(beam.DoFn):
    def __init__(self, backend: str, isolate: bool = False, shared: str | None = None) -> None:
        self._backend = backend
        self._isolate = isolate
        self._shared = shared
        self._detector: Detector | None = None
        self._accurate: Any = None
        # (item, detection text, timestamp, window, output or None while the model answers)
        self._held: deque[tuple[Item, str, Any, Any, Any]] = deque()
        self._held_chars = 0
        self._ending = False
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
        self._held = deque()
        self._held_chars = 0

    def start_bundle(self) -> None:
        # A bundle that failed left its items waiting: they are retried with
        # their bundle, so their answers are taken and dropped, never given
        # to the texts of this one.
        self._held.clear()
        self._held_chars = 0
        self._ending = False
        if self._accurate is not None:
            while self._accurate.waiting:
                with contextlib.suppress(Exception):
                    self._accurate.take()

    def process(
        self, item: Item, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam
    ):
        before = getattr(self._detector, "fallbacks", 0)
        try:
            if self._accurate is None:
                out: Any = identify(self._detector, item)
            else:
                text = detection_text(item)
                answer = self._detector.route(text)
                if answer is None:
                    self._accurate.submit(text)
                    out = None  # the model's to answer
                else:
                    out = with_language(item, answer)
        except Exception as exc:  # any one item's failure must not end the run
            if not self._isolate:
                raise
            out = self._dead(item, exc)
            text = ""
        if getattr(self._detector, "fallbacks", 0) != before:
            self._fallbacks.inc()
        if not self._held and out is not None:
            yield self._counted(out)
            return
        # Behind an item that waits for the model, every item waits too: the
        # stage gives its items in the order it took them, so the same input
        # always gives the same output.
        self._held.append((item, text, timestamp, window, out))
        self._held_chars += len(item.title) + len(item.text)
        full = len(self._held) >= MAX_WAITING or self._held_chars >= MAX_WAITING_CHARS
        yield from self._release(wait=full)

    def _counted(self, out: Any) -> Any:
        if isinstance(out, Item) and out.language == UNDETERMINED:
            self._undetermined.inc()
        return out

    def _dead(self, item: Item, exc: Exception) -> beam.pvalue.TaggedOutput:
        self._failed.inc()
        letter = item_dead_letter("language", item, failure_reason(exc))
        return beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)

    def _release(self, wait: bool):
        """The held items, in order, up to the first whose answer has not come.

        ``wait``: wait for answers until the held items are under half the
        bounds (at the end of a bundle, pass True with the bounds at 0).
        """
        while self._held:
            item, text, timestamp, window, out = self._held[0]
            if out is None:
                if not (wait or self._accurate.ready()):
                    return
                try:
                    out = with_language(item, self._detector.settle(text, self._accurate.take()))
                except Exception as exc:  # noqa: BLE001 - as in process
                    if not self._isolate:
                        raise
                    out = self._dead(item, exc)
            self._held.popleft()
            self._held_chars -= len(item.title) + len(item.text)
            if wait and len(self._held) < MAX_WAITING // 2 and (
                self._held_chars < MAX_WAITING_CHARS // 2
            ):
                wait = self._ending
            out = self._counted(out)
            if isinstance(out, beam.pvalue.TaggedOutput):
                yield beam.pvalue.TaggedOutput(
                    out.tag, WindowedValue(out.value, timestamp, (window,))
                )
            else:
                yield WindowedValue(out, timestamp, (window,))

    def finish_bundle(self):
        self._ending = True
        yield from self._release(wait=True)
        self._ending = False
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
