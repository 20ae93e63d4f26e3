"""Language identification behind one small interface, with backends.

Backends (all return ISO 639-1 codes, ``und`` when undecided; each considers
every language its model knows):

* ``cascade`` (default) — see :class:`CascadeDetector`: a script that only
  one language writes decides alone; else CLD2 where it says it is reliable on
  at least :data:`CASCADE_MIN_CHARS` characters; else lingua, answering
  ``und`` when lingua's own confidence is below
  :data:`ACCURATE_MIN_CONFIDENCE`;
* ``cld2`` — CLD2 via pycld2: tens of thousands of texts/s, names Armenian
  and Azerbaijani, reliable on paragraphs, weak on a few words;
* ``lingua`` — lingua over its 75 languages: the most accurate on short
  text, about 1k sentences/s, 1.3 GB of models shared per process;
* ``langid`` — py3langid over all its languages;
* ``langdetect`` — kept for comparison: no Armenian, Azerbaijani, Georgian,
  Kazakh or Belarusian model, about 100 texts/s.

Measured figures and how to reproduce them: ``newswatch eval`` (accuracy per
language) and ``python -m benchmarks.langid_bench`` (texts/s, fallback rate).

Source metadata (an RSS ``language``) is only a hint: the item records both,
and the text decides. The item carries the detector's answer as it is (the
cascade itself answers ``und`` where it is unsure), so the figures of
``newswatch eval`` describe what the pipeline does; on ``und`` flagging falls
back on the hint.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.item import DEAD_LETTER_TAG, Item, failure_reason, item_dead_letter
from transforms.langid_backends import (
    UNDETERMINED,
    Cld2Detector,
    Detector,
    LangdetectDetector,
    LangidDetector,
    LinguaDetector,
    iso639_1,
    letter_count,
    unique_script_language,
)

__all__ = [
    "BACKENDS",
    "DEAD_LETTER_TAG",
    "UNDETERMINED",
    "CascadeDetector",
    "DetectLanguage",
    "Detector",
    "detection_text",
    "identify",
    "iso639_1",
    "make_detector",
]


# The first 1,000 characters of title and text decide (CLD2's time grows with
# the text). Measured against 2,000 on the 8,359 real feed items: one answer
# changed (a post in English with a PGP block, Esperanto at 2,000, English at
# 1,000), 79 confidences changed (CLD2's share of the text in its language, by
# 0.01 to 0.45, median 0.06), accuracy on the 2,421 labelled real items stayed
# 0.9992, the langid corpus (texts of at most 255 characters) is untouched,
# and the cascade ran 25% faster.
DETECT_CHARS = 1000
# Tuned on the langid corpus (see language_eval): CLD2's "reliable" (without
# best effort) is right 99.5% of the time on the target languages from 40
# characters up, and no better than lingua below that.
CASCADE_MIN_CHARS = 40
# CLD2's reliable answers that lingua gets right more often (langid corpus
# sentences: CLD2's "sr" was right on 471 of 632, lingua on 599; Russian,
# Ukrainian and Belarusian sentences were among them). Rare in our traffic.
CLD2_DOUBTFUL = frozenset({"sr", "hr", "bs"})
# Below this many letters no detector is better than a guess.
MIN_LETTERS = 3
# Over all 75 languages, lingua's answers on word pairs below this confidence
# are wrong more often than right: say ``und`` instead.
ACCURATE_MIN_CONFIDENCE = 0.2
# lingua's mode for the cascade's fallback. Measured on the langid corpus
# (cascade, mean accuracy over the 18 target languages, sentences / word
# pairs): all 75 languages in high accuracy 0.991 / 0.925; in low accuracy
# 0.986 / 0.851 (140 MB instead of 1.3 GB); restricted to the 18 targets
# 0.996 / 0.972 but 0.826 / 0.123 on the other 57 languages. So: all
# languages, high accuracy, built lazily (see CascadeDetector), with each
# language's models loaded only when a text first could be in it.
ACCURATE_LOW_ACCURACY = False
# The fallback's answers for this many recent texts are kept: a title that
# several feeds carry alike (60 of the 254 real items that reach lingua) costs
# one lingua call (about half a millisecond), not one per copy.
FALLBACK_CACHE = 4096


def detection_text(item: Item) -> str:
    return (item.title + "\n" + item.text)[:DETECT_CHARS]


class CascadeDetector:
    """Fast where that is reliable, accurate where it is not.

    1. most of at least :data:`MIN_LETTERS` letters in a script that only
       one language writes (Armenian → ``hy``, Georgian → ``ka``, ...) → that
       language, with the script's share of the letters as confidence;
    2. CLD2 when the text has :data:`CASCADE_MIN_CHARS` characters or more
       and CLD2 calls its answer reliable (unless in :data:`CLD2_DOUBTFUL`);
    3. otherwise a *fallback*: fewer than :data:`MIN_LETTERS` letters →
       ``und`` at confidence 0; else lingua's answer and confidence, or
       ``und`` with that low confidence below :data:`ACCURATE_MIN_CONFIDENCE`.

    ``calls``, ``shortcuts`` and ``fallbacks`` count the routes taken;
    ``cached`` counts the fallbacks answered from the answers kept for the
    last :data:`FALLBACK_CACHE` texts (the same text always gets the same answer).
    """

    name = "cascade"

    def __init__(
        self, low_accuracy: bool = ACCURATE_LOW_ACCURACY, languages: tuple[str, ...] | None = None
    ) -> None:
        self._fast = Cld2Detector()
        # Built on the first fallback, not here: most runs never need it (see
        # ACCURATE_LOW_ACCURACY for what it costs when they do).
        self._accurate = LinguaDetector(low_accuracy=low_accuracy, languages=languages, lazy=True)
        self._recent: dict[str, tuple[str, float]] = {}
        self.calls = 0
        self.shortcuts = 0
        self.fallbacks = 0
        self.cached = 0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.calls if self.calls else 0.0

    def detect(self, text: str) -> tuple[str, float]:
        self.calls += 1
        script = unique_script_language(text, min_letters=MIN_LETTERS)
        if script is not None:
            self.shortcuts += 1
            return script
        if len(text) >= CASCADE_MIN_CHARS:
            code, share, reliable = self._fast.detect_full(text)
            if reliable and code != UNDETERMINED and code not in CLD2_DOUBTFUL:
                return code, share
        self.fallbacks += 1
        if len(text) < CASCADE_MIN_CHARS and letter_count(text) < MIN_LETTERS:
            return UNDETERMINED, 0.0
        answer = self._recent.get(text)
        if answer is not None:
            self.cached += 1
            return answer
        code, confidence = self._accurate.detect(text)
        answer = (UNDETERMINED if confidence < ACCURATE_MIN_CONFIDENCE else code), confidence
        if len(self._recent) >= FALLBACK_CACHE:
            del self._recent[next(iter(self._recent))]  # the oldest
        self._recent[text] = answer
        return answer

    def clear_cache(self) -> None:
        """Forget the fallback answers kept (benchmarks start each pass cold)."""
        self._recent.clear()


BACKENDS = {
    "cascade": CascadeDetector,
    "cld2": Cld2Detector,
    "lingua": LinguaDetector,
    "langid": LangidDetector,
    "langdetect": LangdetectDetector,
}


def make_detector(name: str) -> Detector:
    """Build a detector by backend name.

    Raises:
        ValueError: unknown backend name.
    """
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ValueError(
            f"language backend must be one of {sorted(BACKENDS)} (got {name!r})"
        ) from None


def identify(detector: Detector, item: Item) -> Item:
    """The item with the detector's language and confidence for its title and text."""
    code, confidence = detector.detect(detection_text(item))
    return item.replace(language=code, language_confidence=round(confidence, 4))


class _DetectFn(beam.DoFn):
    def __init__(self, backend: str, isolate: bool = False) -> None:
        self._backend = backend
        self._isolate = isolate
        self._detector: Detector | None = None
        self._undetermined = Metrics.counter("newswatch", "language_undetermined")
        self._fallbacks = Metrics.counter("newswatch", "language_fallback")
        self._failed = Metrics.counter("newswatch", "language_dead_letters")

    def setup(self) -> None:
        # lingua's models load here, once per process, never at import.
        self._detector = make_detector(self._backend)

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


class DetectLanguage(beam.PTransform):
    """Items → items with ``language`` and ``language_confidence``.

    Args:
        backend: one of :data:`BACKENDS`.
        dead_letters: isolate each item: an item whose identification raises
            becomes a dead letter (stage ``language``) and the output is
            ``{"items", "dead_letter"}``; otherwise the error ends the run.
    """

    def __init__(self, backend: str = "cascade", *, dead_letters: bool = False) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(
                f"language backend must be one of {sorted(BACKENDS)} (got {backend!r})"
            )
        self._backend = backend
        self._isolate = dead_letters

    def expand(self, items):
        detect = beam.ParDo(_DetectFn(self._backend, self._isolate)).with_output_types(Item)
        if not self._isolate:
            return items | "DetectLanguage" >> detect
        out = items | "DetectLanguage" >> detect.with_outputs(DEAD_LETTER_TAG, main="items")
        return {"items": out["items"], DEAD_LETTER_TAG: out[DEAD_LETTER_TAG]}
