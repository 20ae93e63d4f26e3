"""Language-ID backends kept for comparison with the cascade (``--language_backend``).

* :class:`LangidDetector` — py3langid over its 97 languages;
* :class:`LangdetectDetector` — langdetect: no Armenian, Azerbaijani,
  Georgian, Kazakh or Belarusian model, about 100 texts/s.

Both return ISO 639-1 codes, ``und`` when undecided, like every backend in
:mod:`transforms.langid_backends`.
"""

from __future__ import annotations

from transforms.langid_backends import UNDETERMINED, iso639_1

__all__ = ["LangdetectDetector", "LangidDetector"]


class LangidDetector:
    name = "langid"

    def __init__(self) -> None:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

        self._identifier = LanguageIdentifier.from_modelpath(
            MODEL_DIR / MODEL_FILE, norm_probs=True
        )

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
