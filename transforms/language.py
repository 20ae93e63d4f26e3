"""Language identification behind one small interface, with backends.

Backends (all return ISO 639-1 codes, ``und`` when undecided; each considers
every language its model knows):

* ``cascade`` (default) — see :class:`CascadeDetector`: a script that only
  one language writes decides alone; else CLD2 where it says it is reliable on
  at least :data:`CASCADE_MIN_CHARS` characters; else lingua's low-accuracy
  mode where CLD2's best guess agrees with it, and lingua's high-accuracy
  mode where they disagree (:data:`FALLBACKS` ``vote``), answering ``und``
  when lingua's own confidence is below :data:`ACCURATE_MIN_CONFIDENCE`;
* ``cascade-accurate`` — the same, but every fallback goes to lingua's
  high-accuracy mode (the cascade before the vote);
* ``cascade-quick`` — the same, but every fallback goes to lingua's
  low-accuracy mode (cheapest, less accurate on a few words);
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

from functools import partial

from transforms.item import DEAD_LETTER_TAG, Item
from transforms.langid_backends import (
    UNDETERMINED,
    Cld2Detector,
    Detector,
    LinguaDetector,
    iso639_1,
    letter_count,
    unique_script_language,
)
from transforms.langid_compare import LangdetectDetector, LangidDetector

__all__ = [
    "BACKENDS",
    "DEAD_LETTER_TAG",
    "UNDETERMINED",
    "CascadeDetector",
    "Detector",
    "FALLBACKS",
    "detection_text",
    "identify",
    "iso639_1",
    "make_detector",
    "with_language",
]


# The first 600 characters of title and text decide (CLD2's time grows with
# the text). Measured against 1,000 on the 8,359 real feed items: three
# answers changed, two to the right language (an English post from Yoruba,
# another from Hungarian) and one to a wrong one (an English post to
# Portuguese); 53 confidences changed (CLD2's share of the text in its
# language); the 2,421 labelled real items kept their accuracy (2,420 right);
# the langid corpus is scored whole, uncut; and the cascade ran 1.07 to 1.30
# times as fast (``python -m benchmarks.detect_cuts``). 1,000 had been chosen
# the same way against 2,000.
DETECT_CHARS = 600
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
# How the cascade's fallback uses lingua (measured with
# ``python -m benchmarks.cascade_modes``; figures in the README):
# * ``accurate``: lingua's high-accuracy mode over all 75 languages. Its first
#   short Latin-script text loads every Latin-script language's 1- to 5-gram
#   models (about 10 CPU s and 1 GB per process).
# * ``quick``: lingua's low-accuracy mode (trigrams only: under 1 s and 83 MB),
#   clearly less accurate on a few words (word pairs of the 18 target
#   languages 0.851 against 0.925).
# * ``vote`` (default): the low-accuracy answer where CLD2's best guess names
#   the same language, the high-accuracy answer where they differ. As accurate
#   as ``accurate`` on the langid corpus and the labelled items, with about
#   half the fallbacks spared the high-accuracy call; the high-accuracy models
#   load only when a text first needs them (a run whose fallbacks all agree
#   never loads them; a run of thousands of items still does).
# Restricting lingua to the 18 targets scores 0.826 / 0.123 on the other 57
# languages, and restricting its high-accuracy pass to the low-accuracy
# pass's top candidates saves nothing on a real run: their union covers 56 or
# 57 languages, so all but a few models load anyway.
FALLBACKS = ("vote", "accurate", "quick")
CASCADE_FALLBACK = "vote"
# The fallback's answers for this many recent texts are kept: a title that
# several feeds carry alike (60 of the 254 real items that reach lingua) costs
# one lingua call (about half a millisecond), not one per copy.
FALLBACK_CACHE = 4096


def detection_text(item: Item) -> str:
    """The first :data:`DETECT_CHARS` characters of title, newline and text."""
    title = item.title
    if len(title) >= DETECT_CHARS:
        return title[:DETECT_CHARS]
    # Cut the text before joining: real texts run to thousands of characters.
    return title + "\n" + item.text[: DETECT_CHARS - len(title) - 1]


class CascadeDetector:
    """Fast where that is reliable, accurate where it is not.

    1. most of at least :data:`MIN_LETTERS` letters in a script that only
       one language writes (Armenian → ``hy``, Georgian → ``ka``, ...) → that
       language, with the script's share of the letters as confidence;
    2. CLD2 when the text has :data:`CASCADE_MIN_CHARS` characters or more
       and CLD2 calls its answer reliable (unless in :data:`CLD2_DOUBTFUL`);
    3. otherwise a *fallback*: fewer than :data:`MIN_LETTERS` letters →
       ``und`` at confidence 0; else lingua's answer and confidence (how lingua
       is asked: ``fallback``), or ``und`` with that low confidence below
       :data:`ACCURATE_MIN_CONFIDENCE`.

    ``calls``, ``shortcuts`` and ``fallbacks`` count the routes taken;
    ``cached`` counts the fallbacks answered from the answers kept for the
    last :data:`FALLBACK_CACHE` texts (the same text always gets the same
    answer); ``escalated`` counts the fallbacks that asked lingua's
    high-accuracy mode.

    Args:
        fallback: one of :data:`FALLBACKS` (see :data:`CASCADE_FALLBACK`).
        accurate: the high-accuracy detector to ask; lingua's, in this
            process, when None (a Beam stage with several worker processes
            passes a :class:`~transforms.language_shared.SharedAccurate`).

    Raises:
        ValueError: an unknown ``fallback``.
    """

    name = "cascade"

    def __init__(
        self, fallback: str = CASCADE_FALLBACK, accurate: Detector | None = None
    ) -> None:
        if fallback not in FALLBACKS:
            raise ValueError(f"cascade fallback must be one of {FALLBACKS} (got {fallback!r})")
        self.fallback = fallback
        self._fast = Cld2Detector()
        # Both built on their first call, not here: most runs never need them.
        self._quick = LinguaDetector(low_accuracy=True, lazy=True)
        self._accurate = accurate or LinguaDetector(low_accuracy=False, lazy=True)
        self._recent: dict[str, tuple[str, float]] = {}
        self.calls = 0
        self.shortcuts = 0
        self.fallbacks = 0
        self.cached = 0
        self.escalated = 0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.calls if self.calls else 0.0

    def detect(self, text: str) -> tuple[str, float]:
        answer = self.route(text)
        if answer is None:
            answer = self.settle(text, self._accurate.detect(text))
        return answer

    def route(self, text: str) -> tuple[str, float] | None:
        """The answer, or None when it is the high-accuracy model's to give.

        :meth:`detect` is ``route``, and for None :meth:`settle` with the
        high-accuracy model's answer.
        """
        self.calls += 1
        script = unique_script_language(text, min_letters=MIN_LETTERS)
        if script is not None:
            self.shortcuts += 1
            return script
        full = None
        if len(text) >= CASCADE_MIN_CHARS:
            full = self._fast.detect_full(text)
            code, share, reliable = full
            if reliable and code != UNDETERMINED and code not in CLD2_DOUBTFUL:
                return code, share
        self.fallbacks += 1
        if len(text) < CASCADE_MIN_CHARS and letter_count(text) < MIN_LETTERS:
            return UNDETERMINED, 0.0
        answer = self._recent.get(text)
        if answer is not None:
            self.cached += 1
            return answer
        answer = self._lingua(text, full)
        if answer is None:
            self.escalated += 1
            return None
        return self.settle(text, answer)

    def settle(self, text: str, answer: tuple[str, float]) -> tuple[str, float]:
        """The cascade's answer for a fallback text, from lingua's: ``und`` below the bar; kept."""
        code, confidence = answer
        answer = (UNDETERMINED if confidence < ACCURATE_MIN_CONFIDENCE else code), confidence
        if len(self._recent) >= FALLBACK_CACHE:
            del self._recent[next(iter(self._recent))]  # the oldest
        self._recent[text] = answer
        return answer

    @property
    def accurate(self) -> Detector:
        """The high-accuracy detector the cascade asks (lingua's, or a shared one)."""
        return self._accurate

    def _lingua(
        self, text: str, full: tuple[str, float, bool] | None = None
    ) -> tuple[str, float] | None:
        """lingua's answer for a fallback text, asked as :attr:`fallback` says.

        None when the high-accuracy model must answer. ``full``: CLD2's
        :meth:`~Cld2Detector.detect_full` answer for the text, when the
        cascade asked it (texts of :data:`CASCADE_MIN_CHARS` or more): the
        vote's CLD2 guess starts from it.
        """
        if self.fallback != "accurate":
            ranked = self._quick.ranked(text, top=2)
            if self.fallback == "quick":
                return ranked[0] if ranked and ranked[0][1] > 0.0 else (UNDETERMINED, 0.0)
            if ranked and ranked[0][1] > 0.0:
                # One candidate: lingua's letter rules decided, as they would
                # in high-accuracy mode; else CLD2's best guess must agree.
                if len(ranked) < 2 or ranked[1][1] <= 0.0:
                    return ranked[0]
                if ranked[0][0] == self._fast.detect(text, full)[0]:
                    return ranked[0]
        return None

    @property
    def loaded(self) -> tuple[bool, bool]:
        """Whether lingua's low- and high-accuracy models have been asked for yet."""
        return self._quick.loaded, self._accurate.loaded

    def clear_cache(self) -> None:
        """Forget the fallback answers kept (benchmarks start each pass cold)."""
        self._recent.clear()


BACKENDS = {
    "cascade": CascadeDetector,
    "cascade-accurate": partial(CascadeDetector, fallback="accurate"),
    "cascade-quick": partial(CascadeDetector, fallback="quick"),
    "cld2": Cld2Detector,
    "lingua": LinguaDetector,
    "langid": LangidDetector,
    "langdetect": LangdetectDetector,
}


def make_detector(name: str, shared: str | None = None) -> Detector:
    """Build a detector by backend name.

    Args:
        name: one of :data:`BACKENDS`.
        shared: a cascade's high-accuracy model is the one shared on this
            machine under this tag (:mod:`transforms.language_shared`);
            None: its own.

    Raises:
        ValueError: unknown backend name.
    """
    if name not in BACKENDS:
        raise ValueError(f"language backend must be one of {sorted(BACKENDS)} (got {name!r})")
    if shared is not None and name.startswith("cascade"):
        from transforms.language_shared import SharedAccurate

        return BACKENDS[name](accurate=SharedAccurate(shared))
    return BACKENDS[name]()


def identify(detector: Detector, item: Item) -> Item:
    """The item with the detector's language and confidence for its title and text."""
    return with_language(item, detector.detect(detection_text(item)))


def with_language(item: Item, answer: tuple[str, float]) -> Item:
    """The item with a detector's ``(code, confidence)`` for it."""
    code, confidence = answer
    return item.replace(language=code, language_confidence=round(confidence, 4))


def __getattr__(name: str):
    # The Beam stage lives in transforms.language_stage, so that the detectors
    # load without Beam; its names are still found here.
    if name in ("DetectLanguage", "_DetectFn"):
        from transforms import language_stage

        return getattr(language_stage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
