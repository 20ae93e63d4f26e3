"""Language-ID backends: one ``detect(text) -> (code, confidence)`` each.

Every backend considers all the languages its model knows, never a subset
picked for our tests, and returns ISO 639-1 codes (``und`` when undecided):

* :class:`Cld2Detector` — CLD2 (pycld2), about 30k texts/s, trustworthy when
  it says "reliable" on a sentence or more, weak on a few words;
* :class:`LinguaDetector` — lingua 2.x over its 75 languages, accurate on
  short text, about 1k sentences/s; its models take about 1 GB and 10 s to
  load, so one instance is shared by the whole process (:func:`lingua_model`),
  and the cascade builds it only when a text first needs it;
* py3langid and langdetect, kept for comparison, are in
  :mod:`transforms.langid_compare`.

:func:`unique_script_language` names the language of a text written in a
script that only one language uses (Armenian, Georgian, ...).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Protocol

__all__ = [
    "UNDETERMINED",
    "Cld2Detector",
    "Detector",
    "LinguaDetector",
    "iso639_1",
    "letter_count",
    "lingua_model",
    "unique_script_language",
]

UNDETERMINED = "und"
# CLD2 and others still use retired or regional codes.
_CODE_FIXES = {
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "mo": "ro",
    "no": "nb",  # CLD2's NORWEGIAN is Bokmål (it names Nynorsk "nn"), as lingua's "nb"
    "un": UNDETERMINED,
    "xxx": UNDETERMINED,
}

# Scripts written by one language only (among those any detector knows).
# Cyrillic, Arabic, Latin, Devanagari, Bengali, Hebrew (Yiddish), Han and
# Myanmar are shared, so they are left to the statistical detectors.
_UNIQUE_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("hy", "\u0531-\u0556\u0559-\u058a\ufb13-\ufb17"),  # Armenian
    ("ka", "\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f"),  # Georgian
    ("el", "\u0370-\u03ff\u1f00-\u1fff"),  # Greek
    ("ko", "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"),  # Hangul
    ("th", "\u0e00-\u0e7f"),  # Thai
    ("lo", "\u0e80-\u0eff"),  # Lao
    ("km", "\u1780-\u17ff"),  # Khmer
    ("gu", "\u0a80-\u0aff"),  # Gujarati
    ("pa", "\u0a00-\u0a7f"),  # Gurmukhi
    ("ta", "\u0b80-\u0bff"),  # Tamil
    ("te", "\u0c00-\u0c7f"),  # Telugu
    ("kn", "\u0c80-\u0cff"),  # Kannada
    ("ml", "\u0d00-\u0d7f"),  # Malayalam
    ("si", "\u0d80-\u0dff"),  # Sinhala
    ("dv", "\u0780-\u07bf"),  # Thaana
)
_ANY_UNIQUE = re.compile("[" + "".join(ranges for _, ranges in _UNIQUE_SCRIPTS) + "]")
_SCRIPT_RES = tuple((code, re.compile("[" + ranges + "]")) for code, ranges in _UNIQUE_SCRIPTS)
# Share of a text's letters that must be in the script for the shortcut.
SCRIPT_SHARE = 0.6


def iso639_1(code: str | None) -> str:
    """Map a detector's code to ISO 639-1 (or ``und``)."""
    if not code:
        return UNDETERMINED
    code = code.lower()
    code = _CODE_FIXES.get(code, code)
    return code.split("-")[0] if code != UNDETERMINED else code


def letter_count(text: str) -> int:
    """Letters in ``text`` (digits, punctuation, emoji and marks excluded)."""
    return sum(1 for ch in text if ch.isalpha())


def unique_script_language(text: str, min_letters: int = 1) -> tuple[str, float] | None:
    """The language a text's script identifies on its own, or None.

    Args:
        text: the text.
        min_letters: fewer letters than this are no evidence.

    Returns:
        ``(code, share)`` when at least :data:`SCRIPT_SHARE` of the letters
        are in a script that only one language writes, else None.
    """
    # Every script above is outside ASCII, and str.isascii() is answered from
    # the string's header without a scan: over half of the feed texts end here.
    if text.isascii() or _ANY_UNIQUE.search(text) is None:
        return None
    letters = letter_count(text)
    if letters < max(min_letters, 1):
        return None
    for code, pattern in _SCRIPT_RES:
        share = len(pattern.findall(text)) / letters
        if share >= SCRIPT_SHARE:
            return code, min(share, 1.0)
    return None


class Detector(Protocol):
    name: str

    def detect(self, text: str) -> tuple[str, float]:
        """Language code and confidence in [0, 1] for one text."""


class Cld2Detector:
    name = "cld2"

    def __init__(self) -> None:
        import pycld2

        self._cld2 = pycld2

    def _raw(self, text: str, best_effort: bool) -> tuple[bool, Any]:
        try:
            reliable, _, details = self._cld2.detect(text, isPlainText=True, bestEffort=best_effort)
        except (self._cld2.error, UnicodeEncodeError):
            # CLD2 rejects some code points (C1 controls such as U+0085) and
            # Python cannot encode lone surrogates: drop both and retry.
            clean = text.encode("utf-8", "ignore").decode("utf-8")
            clean = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in clean)
            try:
                reliable, _, details = self._cld2.detect(
                    clean, isPlainText=True, bestEffort=best_effort
                )
            except self._cld2.error:
                return False, None
        return bool(reliable), details[0]

    def detect_full(self, text: str) -> tuple[str, float, bool]:
        """``(code, share of the text in it, reliable)``.

        Without ``bestEffort`` CLD2 only calls a text reliable when it has
        enough evidence; with it, it calls "reliable" guesses like Spanish →
        English on a four-word sentence.
        """
        reliable, best = self._raw(text, best_effort=False)
        if best is None:
            return UNDETERMINED, 0.0, False
        return iso639_1(best[1]), best[2] / 100.0, reliable

    def detect(
        self, text: str, full: tuple[str, float, bool] | None = None
    ) -> tuple[str, float]:
        """CLD2's answer, or its best-effort guess at half the share when it is unsure.

        ``full``: :meth:`detect_full`'s answer for this same text, when the
        caller has it already (CLD2 is then asked only for its guess).
        """
        code, share, reliable = full if full is not None else self.detect_full(text)
        if not reliable:
            # Its best-effort guess, marked as unsure.
            _, best = self._raw(text, best_effort=True)
            if best is None:
                return UNDETERMINED, 0.0
            return iso639_1(best[1]), best[2] / 200.0
        return code, share


_lingua_lock = threading.Lock()
_lingua_models: dict[tuple[bool, tuple[str, ...] | None, bool], Any] = {}


def lingua_model(
    low_accuracy: bool = False, languages: tuple[str, ...] | None = None, preload: bool = True
) -> Any:
    """The process's lingua detector for these settings, built on first use.

    Args:
        low_accuracy: lingua's low-accuracy mode (trigrams only: under 1 s and
            about 140 MB for all its languages, against about 10 s and 1 GB).
        languages: ISO 639-1 codes to consider; None for all of lingua's 75.
        preload: load every model now (so the cost lands in ``DoFn.setup``);
            otherwise lingua loads each language's models the first time a
            text could be in that language.
    """
    key = (low_accuracy, languages, preload)
    with _lingua_lock:
        model = _lingua_models.get(key)
        if model is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            if languages is None:
                builder = LanguageDetectorBuilder.from_all_languages()
            else:
                codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
                builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            if preload:
                builder = builder.with_preloaded_language_models()
            model = builder.build()
            _lingua_models[key] = model
        return model


# lingua 2.1 rules Ukrainian out of many texts with "щ" (a letter rule since
# fixed upstream in the Kotlin version): "Гадаю, що це тобі відомо." comes
# out Kazakh at confidence 1.0. Where the text also has a letter that
# Ukrainian writes and Russian and Bulgarian do not, lingua is shown "ш" in
# place of "щ". Measured on the langid corpus's texts with "щ": Ukrainian
# sentences 119/143 → 141/143, every other language unchanged (spelling it
# "шч" instead turns Ukrainian word pairs Belarusian).
_SHCHA = re.compile("[щЩ]")
_UK_LETTERS = re.compile("[іїєґІЇЄҐ]")


def _lingua_text(text: str) -> str:
    if _SHCHA.search(text) and _UK_LETTERS.search(text):
        return text.replace("щ", "ш").replace("Щ", "Ш")
    return text


class LinguaDetector:
    """lingua behind the :class:`Detector` interface.

    Args:
        low_accuracy: see :func:`lingua_model`.
        languages: see :func:`lingua_model`.
        lazy: build the model on the first call of :meth:`detect` (and then
            load each language's models when a text first needs them) rather
            than now: a run whose texts never need lingua never pays for it.
    """

    name = "lingua"

    def __init__(
        self,
        low_accuracy: bool = False,
        languages: tuple[str, ...] | None = None,
        lazy: bool = False,
    ) -> None:
        self._settings = (low_accuracy, languages, not lazy)
        self._model: Any = None if lazy else lingua_model(*self._settings)
        # IsoCode639_1 enum member → "hy", computed once.
        self._codes: dict[Any, str] = {}

    @property
    def loaded(self) -> bool:
        """Whether this detector has built its model yet."""
        return self._model is not None

    @property
    def _lingua(self) -> Any:
        if self._model is None:
            self._model = lingua_model(*self._settings)
        return self._model

    def _code(self, language: Any) -> str:
        code = self._codes.get(language)
        if code is None:
            code = self._codes[language] = iso639_1(language.iso_code_639_1.name)
        return code

    def ranked(self, text: str, top: int = 2) -> list[tuple[str, float]]:
        """The ``top`` most likely languages with their confidence."""
        text = _lingua_text(text)
        try:
            values = self._lingua.compute_language_confidence_values(text)
        except UnicodeEncodeError:  # lone surrogates cannot cross into Rust
            text = text.encode("utf-8", "ignore").decode("utf-8")
            values = self._lingua.compute_language_confidence_values(text)
        return [(self._code(v.language), float(v.value)) for v in values[:top]]

    def detect(self, text: str) -> tuple[str, float]:
        ranked = self.ranked(text, top=1)
        if not ranked or ranked[0][1] <= 0.0:
            return UNDETERMINED, 0.0
        return ranked[0]


def __getattr__(name: str) -> Any:
    # The backends kept for comparison moved to transforms.langid_compare
    # (which imports this module); their old import path still works.
    if name in ("LangidDetector", "LangdetectDetector"):
        from transforms import langid_compare

        return getattr(langid_compare, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
