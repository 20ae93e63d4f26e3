"""Language identification behind one small interface, with backends.

Backends (all return ISO 639-1 codes, ``und`` when undecided):

* ``cld2`` — CLD2 via pycld2: tens of thousands of texts/s, names Armenian
  and Azerbaijani, reliable on paragraphs, weak on a few words;
* ``langid`` — py3langid over all its languages: slower, better on short text;
* ``langdetect`` — kept for comparison: no Armenian, Azerbaijani, Georgian,
  Kazakh or Belarusian model, about 100 texts/s;
* ``cascade`` (default) — CLD2 where it says it is reliable on enough text,
  py3langid otherwise.

Source metadata (an RSS ``language``) is only a hint: the item records both,
and the text decides.
"""

from __future__ import annotations

from typing import Protocol

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.item import Item

__all__ = [
    "UNDETERMINED",
    "BACKENDS",
    "Detector",
    "make_detector",
    "iso639_1",
    "detection_text",
    "identify",
    "DetectLanguage",
]

UNDETERMINED = "und"
# CLD2 and others still use retired or regional codes.
_CODE_FIXES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "un": UNDETERMINED,
               "zh-cn": "zh", "zh-tw": "zh", "zh-hant": "zh", "xxx": UNDETERMINED}
DETECT_CHARS = 2000
# Below this many letters CLD2's "reliable" is not to be trusted.
CASCADE_MIN_CHARS = 60
MIN_CONFIDENCE = 0.5


def iso639_1(code: str | None) -> str:
    """Map a detector's code to ISO 639-1 (or ``und``)."""
    if not code:
        return UNDETERMINED
    code = code.lower()
    code = _CODE_FIXES.get(code, code)
    return code.split("-")[0] if code != UNDETERMINED else code


def detection_text(item: Item) -> str:
    return (item.title + "\n" + item.text)[:DETECT_CHARS]


class Detector(Protocol):
    name: str

    def detect(self, text: str) -> tuple[str, float]:
        """Language code and confidence in [0, 1] for one text."""


class Cld2Detector:
    name = "cld2"

    def __init__(self) -> None:
        import pycld2

        self._cld2 = pycld2

    def detect_full(self, text: str) -> tuple[str, float, bool]:
        try:
            reliable, _, details = self._cld2.detect(text, bestEffort=True)
        except self._cld2.error:
            # CLD2 rejects some byte sequences (lone surrogates, C1 controls).
            clean = text.encode("utf-8", "ignore").decode("utf-8")
            clean = "".join(ch for ch in clean if ch.isprintable() or ch.isspace())
            try:
                reliable, _, details = self._cld2.detect(clean, bestEffort=True)
            except self._cld2.error:
                return UNDETERMINED, 0.0, False
        name, code, percent, _ = details[0]
        return iso639_1(code), percent / 100.0, bool(reliable)

    def detect(self, text: str) -> tuple[str, float]:
        code, confidence, reliable = self.detect_full(text)
        return (code, confidence) if reliable or code == UNDETERMINED else (code, confidence / 2)


class LangidDetector:
    name = "langid"

    def __init__(self) -> None:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

        self._identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)

    def detect(self, text: str) -> tuple[str, float]:
        if not any(ch.isalpha() for ch in text):
            return UNDETERMINED, 0.0
        code, prob = self._identifier.classify(text)
        return iso639_1(code), float(prob)


class LangdetectDetector:
    name = "langdetect"

    def __init__(self) -> None:
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException

        DetectorFactory.seed = 0  # langdetect is random without a seed
        self._detect_langs = detect_langs
        self._error = LangDetectException

    def detect(self, text: str) -> tuple[str, float]:
        try:
            best = self._detect_langs(text)[0]
        except self._error:
            return UNDETERMINED, 0.0
        return iso639_1(best.lang), float(best.prob)


class CascadeDetector:
    """CLD2 where it is reliable on enough text, py3langid elsewhere."""

    name = "cascade"

    def __init__(self) -> None:
        self._fast = Cld2Detector()
        self._accurate = LangidDetector()
        self.fallbacks = 0
        self.calls = 0

    def detect(self, text: str) -> tuple[str, float]:
        self.calls += 1
        code, confidence, reliable = self._fast.detect_full(text)
        if reliable and code != UNDETERMINED and len(text) >= CASCADE_MIN_CHARS:
            return code, confidence
        self.fallbacks += 1
        return self._accurate.detect(text)


BACKENDS = {
    "cascade": CascadeDetector,
    "cld2": Cld2Detector,
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
        raise ValueError(f"language backend must be one of {sorted(BACKENDS)} (got {name!r})") from None


def identify(detector: Detector, item: Item) -> Item:
    code, confidence = detector.detect(detection_text(item))
    if confidence < MIN_CONFIDENCE:
        code = UNDETERMINED
    return item.replace(language=code, language_confidence=round(confidence, 4))


class _DetectFn(beam.DoFn):
    def __init__(self, backend: str) -> None:
        self._backend = backend
        self._detector: Detector | None = None
        self._undetermined = Metrics.counter("newswatch", "language_undetermined")

    def setup(self) -> None:
        self._detector = make_detector(self._backend)

    def process(self, item: Item):
        out = identify(self._detector, item)
        if out.language == UNDETERMINED:
            self._undetermined.inc()
        yield out


class DetectLanguage(beam.PTransform):
    """Items → items with ``language`` and ``language_confidence``."""

    def __init__(self, backend: str = "cascade") -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"language backend must be one of {sorted(BACKENDS)} (got {backend!r})")
        self._backend = backend

    def expand(self, items):
        return items | "DetectLanguage" >> beam.ParDo(_DetectFn(self._backend)).with_output_types(Item)
