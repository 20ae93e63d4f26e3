"""The flagging stage: run each item through the rule pack of its language."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.item import DEAD_LETTER_TAG, Item, failure_reason, item_dead_letter
from transforms.language import UNDETERMINED
from transforms.rules import CATEGORIES, PACKS_DIR, RuleEngine

__all__ = ["DEAD_LETTER_TAG", "Flagging", "flag_item", "shared_engine"]


_engines: dict[tuple, RuleEngine] = {}
_engines_lock = threading.Lock()


def shared_engine(packs_dir: str, thresholds: Mapping[str, float]) -> RuleEngine:
    """The process's :class:`RuleEngine` for these packs and thresholds, compiled once.

    ``Flagging`` compiles the packs at construction (to fail early) and every
    ``setup()`` needs them again: in one process both get the same engine.
    The key includes each pack file's size and modification time, so packs
    edited on disk are compiled anew.

    Raises:
        PackError: as :meth:`RuleEngine.load`.
    """
    folder = Path(packs_dir)
    files = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )
    key = (str(folder), tuple(sorted(thresholds.items())), files)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = RuleEngine.load(packs_dir, thresholds)
    return engine


def flag_item(engine: RuleEngine, item: Item) -> Item:
    """The item with its flags, other categories and the pack that matched it.

    When the text's language is undetermined the source's declared language
    picks the pack; when neither has a pack, the cross-language pack does.
    """
    language = item.language
    if not language or language == UNDETERMINED:
        language = item.language_hint
    result = engine.evaluate({"title": item.title, "text": item.text}, language)
    return item.replace(
        flags=result.flags,
        other_categories=result.other_categories,
        rules_language=result.rules_language,
    )


class _FlagFn(beam.DoFn):
    def __init__(
        self, packs_dir: str, thresholds: Mapping[str, float], isolate: bool = False
    ) -> None:
        self._packs_dir = packs_dir
        self._thresholds = dict(thresholds)
        self._isolate = isolate
        self._engine: RuleEngine | None = None
        self._counters = {c: Metrics.counter("newswatch", f"flagged_{c}") for c in CATEGORIES}
        self._failed = Metrics.counter("newswatch", "flag_dead_letters")

    def setup(self) -> None:
        self._engine = shared_engine(self._packs_dir, self._thresholds)

    def process(self, item: Item):
        try:
            out = flag_item(self._engine, item)
        except Exception as exc:  # any one item's failure must not end the run
            if not self._isolate:
                raise
            self._failed.inc()
            letter = item_dead_letter("flag", item, failure_reason(exc))
            yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, letter)
            return
        for flag in out.flags:
            self._counters[flag.category].inc()
        yield out


class Flagging(beam.PTransform):
    """Items → items with flags and their evidence.

    Args:
        packs_dir: directory of rule packs (``*.yaml``).
        thresholds: score threshold per category, overriding the default 0.5.
        dead_letters: isolate each item: an item whose flagging raises becomes
            a dead letter (stage ``flag``) and the output is
            ``{"items", "dead_letter"}``; otherwise the error ends the run.
    """

    def __init__(
        self,
        packs_dir: str | None = None,
        thresholds: Mapping[str, float] | None = None,
        *,
        dead_letters: bool = False,
    ):
        super().__init__()
        self._packs_dir = str(packs_dir or PACKS_DIR)
        self._thresholds = dict(thresholds or {})
        self._isolate = dead_letters
        # Fail at construction, not on a worker: a broken pack is a config error.
        shared_engine(self._packs_dir, self._thresholds)

    def expand(self, items):
        fn = _FlagFn(self._packs_dir, self._thresholds, self._isolate)
        flag = beam.ParDo(fn).with_output_types(Item)
        if not self._isolate:
            return items | "Flag" >> flag
        out = items | "Flag" >> flag.with_outputs(DEAD_LETTER_TAG, main="items")
        return {"items": out["items"], DEAD_LETTER_TAG: out[DEAD_LETTER_TAG]}
