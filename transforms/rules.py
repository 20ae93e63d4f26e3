"""The rule engine: explainable flagging driven by rule packs as data.

A pack (``transforms/packs/<language>.yaml``) names **terms** — groups of
patterns with an English gloss — and **rules** that combine terms:

* ``any`` / ``all`` — at least one of, every one of;
* ``within`` — the rule's terms lie within N words of one another;
* ``none`` (with optional ``none_within``) — exclusions for known noise.

A pattern is one or more words; a word ending in ``*`` is a stem and matches
any word that starts with it, which is how inflection is covered. Matching
runs on folded text (:mod:`transforms.folding`) with one Aho-Corasick
automaton per language, so its cost follows the length of the text, not the
size of the vocabulary.

A category's score is ``1 - prod(1 - weight)`` over the rules that fired for
it; a category is flagged when its score reaches its threshold.

The **gazetteer** (``packs/gazetteer/*.yaml``, :mod:`transforms.gazetteer`)
names atrocities and places (Bucha, Khojaly, Srebrenica, ...) with their
spellings per language. A named place found in a text adds its weight, once,
to every flag category for which a rule already fired, and shows as evidence;
on its own it never flags.

The engine is here; a pack's compiled matcher and the scan for its terms
are in :mod:`transforms.rules_match`, the rule decisions on the terms found
(windows, exclusions) in :mod:`transforms.rules_fire`.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from transforms.folding import Folded
from transforms.item import Flag, MatchedTerm
from transforms.gazetteer import (
    GAZETTEER_DIR,
    Gazetteer,
    add_place_boost,
    load_gazetteer,
)
from transforms.rulepack import CATEGORIES, FLAG_CATEGORIES, Pack, PackError, Rule, load_pack
from transforms.rules_fire import _fire, _number_words
from transforms.rules_match import _Compiled, _compile, _find_terms, _Occurrence

# The engine's inner parts live in rules_match (compile and scan) and
# rules_fire (rule decisions); these stay importable from here for the
# tests and benchmarks that compare the fast paths with references.
from transforms.rules_match import _GAP_CHARS as _GAP_CHARS
from transforms.rules_match import _segments as _segments

__all__ = [
    "CATEGORIES",
    "CROSS_LANGUAGE",
    "FLAG_CATEGORIES",
    "PACKS_DIR",
    "Evaluation",
    "Gazetteer",
    "Pack",
    "PackError",
    "Rule",
    "RuleEngine",
    "load_gazetteer",
    "load_pack",
]

CROSS_LANGUAGE = "xx"
PACKS_DIR = Path(__file__).parent / "packs"
DEFAULT_THRESHOLD = 0.5
MAX_TERMS_PER_FLAG = 20
_FIELD_SEPARATOR = "\u2029"
_SENTENCE_END = re.compile(r"[.!?։。؟\n\u2029]")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What the engine found in one item."""

    rules_language: str
    flags: tuple[Flag, ...]
    candidates: tuple[Flag, ...]

    @property
    def other_categories(self) -> tuple[str, ...]:
        if not self.candidates:  # most items
            return ()
        flagged = {f.category for f in self.flags}
        return tuple(c.category for c in self.candidates if c.category not in flagged)


class RuleEngine:
    """Evaluates items against the pack of their language.

    Build once per worker (``DoFn.setup``): loading reads and checks every
    pack; each pack's automaton is compiled when the first item in its
    language needs it (a run of English items never compiles the others).
    """

    def __init__(
        self,
        packs: Mapping[str, Pack],
        thresholds: Mapping[str, float] | None = None,
        gazetteer: Gazetteer | None = None,
    ):
        self._packs = dict(packs)
        self._gazetteer = gazetteer
        self._compiled: dict[str, _Compiled] = {}
        self._compiling = threading.Lock()
        self.thresholds = {c: DEFAULT_THRESHOLD for c in CATEGORIES}
        for category, value in (thresholds or {}).items():
            if category not in CATEGORIES:
                raise ValueError(
                    f"threshold for unknown category {category!r}; known: {CATEGORIES}"
                )
            if not 0 <= value <= 1:
                raise ValueError(f"threshold for {category} must be in [0, 1] (got {value!r})")
            self.thresholds[category] = value

    @classmethod
    def load(
        cls, directory: Path | str = PACKS_DIR, thresholds: Mapping[str, float] | None = None
    ) -> RuleEngine:
        """Load every ``*.yaml`` pack in ``directory`` and its gazetteer folder, if any.

        Raises:
            PackError: a pack or the gazetteer is invalid, or the directory
                holds no packs.
        """
        files = sorted(Path(directory).glob("*.yaml"))
        if not files:
            raise PackError(f"{directory}: no rule packs (*.yaml) found")
        packs = {}
        for path in files:
            pack = load_pack(path)
            if pack.language in packs:
                raise PackError(f"{path}: second pack for language {pack.language!r}")
            packs[pack.language] = pack
        return cls(packs, thresholds, load_gazetteer(Path(directory) / GAZETTEER_DIR))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._packs))

    def _pack(self, lang: str) -> _Compiled | None:
        compiled = self._compiled.get(lang)
        if compiled is None and lang in self._packs:
            with self._compiling:  # bundles may run in several threads of one worker
                compiled = self._compiled.get(lang)
                if compiled is None:
                    compiled = _compile(self._packs[lang], self._gazetteer)
                    self._compiled[lang] = compiled
        return compiled

    def pack_for(self, language: str | None) -> str:
        """The pack an item in ``language`` is matched with."""
        if language:
            base = language.lower().replace("_", "-").split("-")[0]  # es-419 → es
            if base in self._packs:
                return base
        return CROSS_LANGUAGE

    def rules_for(self, language: str | None) -> tuple[Rule, ...]:
        """The rules of the pack an item in ``language`` is matched with."""
        compiled = self._pack(self.pack_for(language))
        return compiled.pack.rules if compiled else ()

    def matched_terms(
        self, fields: Mapping[str, str], language: str | None
    ) -> dict[str, list[str]]:
        """Term id -> the texts where it matched, for explaining why a rule did not fire."""
        compiled = self._pack(self.pack_for(language))
        if compiled is None:
            return {}
        document = _FIELD_SEPARATOR.join(fields.values())
        folded = Folded(document)
        found: dict[str, list[str]] = defaultdict(list)
        for occ in _find_terms(compiled, folded, document):
            found[occ.term].append(document[folded.original(occ.start) : folded.original(occ.end)])
        return dict(found)

    def evaluate(self, fields: Mapping[str, str], language: str | None) -> Evaluation:
        """Match the fields of one item (e.g. title and text) against one pack.

        Spans in the result index the given field strings.
        """
        lang = self.pack_for(language)
        compiled = self._pack(lang)
        if compiled is None:
            return Evaluation(lang, (), ())
        names = list(fields)
        # Fields are joined with a paragraph separator, which is not a phrase
        # gap, so no phrase runs from one field into the next.
        bounds = []
        pos = 0
        for name in names:
            bounds.append(pos)
            pos += len(fields[name]) + 1
        document = _FIELD_SEPARATOR.join(fields[n] for n in names)
        folded = Folded(document)
        occurrences = _find_terms(compiled, folded, document)
        if not occurrences:
            return Evaluation(lang, (), ())
        by_term: dict[str, list[_Occurrence]] = defaultdict(list)
        for occ in occurrences:
            by_term[occ.term].append(occ)
        candidates_idx = sorted({i for term in by_term for i in compiled.triggers.get(term, ())})
        if not candidates_idx:  # terms found, but none a rule needs first: nothing fires
            return Evaluation(lang, (), ())
        rules = [compiled.pack.rules[i] for i in candidates_idx]
        if any(r.within is not None or r.none_within is not None for r in rules):
            _number_words(folded.text, occurrences)
        fired: dict[str, list[tuple[Rule, list[_Occurrence]]]] = defaultdict(list)
        for rule in rules:
            evidence = _fire(rule, by_term)
            if evidence is not None:
                fired[rule.category].append((rule, evidence))
        if compiled.places:
            add_place_boost(fired, by_term, compiled.places)
        flags = []
        candidates = []
        for category in CATEGORIES:
            if category not in fired:
                continue
            flag = self._flag(
                category, fired[category], compiled.pack, folded, document, names, bounds, fields
            )
            candidates.append(flag)
            if category in FLAG_CATEGORIES and flag.score >= self.thresholds[category]:
                flags.append(flag)
        return Evaluation(lang, tuple(flags), tuple(candidates))

    def _flag(self, category, fired, pack, folded, document, names, bounds, fields) -> Flag:
        miss = 1.0
        for rule, _ in fired:
            miss *= 1.0 - rule.weight
        score = round(1.0 - miss, 4)
        terms: list[MatchedTerm] = []
        seen: set[tuple[int, int]] = set()
        for rule, evidence in sorted(fired, key=lambda fe: -fe[0].weight):
            for occ in evidence:
                start, end = folded.original(occ.start), folded.original(occ.end)
                if (start, end) in seen or len(terms) >= MAX_TERMS_PER_FLAG:
                    continue
                seen.add((start, end))
                index = bisect.bisect_right(bounds, start) - 1
                offset = bounds[index]
                name = names[index]
                terms.append(
                    MatchedTerm(
                        term_id=occ.term,
                        gloss=pack.glosses[occ.term],
                        field=name,
                        start=start - offset,
                        end=end - offset,
                        text=fields[name][start - offset : end - offset],
                        rule=rule.id,
                    )
                )
        best = max(fired, key=lambda fe: fe[0].weight)
        anchor = folded.original(min(o.start for o in best[1]))
        return Flag(
            category=category,
            score=score,
            terms=tuple(terms),
            snippet=_sentence(document, anchor),
            rules=tuple(rule.id for rule, _ in fired),
        )


def _sentence(document: str, position: int, limit: int = 300) -> str:
    """The sentence around ``position``, trimmed to about ``limit`` characters."""
    start = 0
    for m in _SENTENCE_END.finditer(document, max(0, position - limit), position):
        start = m.end()
    m = _SENTENCE_END.search(document, position)
    end = m.end() if m else len(document)
    end = min(end, position + limit)
    start = max(start, position - limit)
    return document[start:end].strip()
