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
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

import ahocorasick
import numpy as np

from transforms.folding import Folded, fold
from transforms.item import Flag, MatchedTerm
from transforms.gazetteer import (
    GAZETTEER_DIR,
    Gazetteer,
    Place,
    add_place_boost,
    load_gazetteer,
    with_places,
)
from transforms.rulepack import CATEGORIES, FLAG_CATEGORIES, Pack, PackError, Rule, load_pack

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
# What may stand between the words of a phrase: whitespace, hyphens, and
# apostrophes (French "crimes contre l'humanité" is the phrase
# "crimes contre l humanite").
_GAP_CHARS = frozenset(" \n\t\u00a0-\u2010\u2011\u2012\u2013'\u2018\u2019\u02bc\u200c\u200d")
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
        flagged = {f.category for f in self.flags}
        return tuple(c.category for c in self.candidates if c.category not in flagged)


@dataclass(slots=True)
class _Occurrence:
    term: str
    start: int  # in the padded folded text
    end: int
    word: int = -1


class _Node:
    """A node of the word-level phrase trie: children by word key, terms ending here."""

    __slots__ = ("children", "terms")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.terms: list[str] = []


@dataclass(slots=True)
class _Compiled:
    pack: Pack
    automaton: Any
    # Phrases as a trie over segment keys: walking it costs what the text
    # matches, not how many phrases share a first segment.
    roots: dict[int, _Node] = field(default_factory=dict)
    # term id -> indexes of the rules that cannot fire without it
    triggers: dict[str, list[int]] = field(default_factory=dict)
    # gazetteer term id -> its place
    places: dict[str, Place] = field(default_factory=dict)


def _segments(pattern: str) -> list[tuple[str, bool]]:
    """Split a pattern after each stem: ``a b* c d`` → ``[("a b", stem), ("c d", exact)]``.

    A segment is one automaton key, so the words inside it (often function
    words: "crimes against humanity") never become keys of their own that
    would hit on every "the" and "of" of a text.
    """
    segments: list[tuple[str, bool]] = []
    words: list[str] = []
    for word in pattern.split():
        words.append(fold(word.rstrip("*")).strip())
        if word.endswith("*"):
            segments.append((" ".join(words), True))
            words = []
    if words:
        segments.append((" ".join(words), False))
    return segments


def _compile(pack: Pack, gazetteer: Gazetteer | None = None) -> _Compiled:
    places: dict[str, Place] = {}
    if gazetteer is not None:
        pack, places = with_places(pack, gazetteer)
    automaton = ahocorasick.Automaton()
    key_ids: dict[tuple[str, bool], int] = {}
    roots: dict[int, _Node] = {}
    for term_id, pats in pack.patterns.items():
        for pat in pats:
            node = None
            for segment in _segments(pat):
                kid = key_ids.setdefault(segment, len(key_ids))
                children = roots if node is None else node.children
                node = children.setdefault(kid, _Node())
            if term_id not in node.terms:
                node.terms.append(term_id)
    inner = {kid for node in _nodes(roots) for kid in node.children}
    for (segment, stem), kid in key_ids.items():
        # The value carries what the scan needs, so no lookup per hit: how far
        # back the segment starts, whether it is a stem, where its inner word
        # gaps are (to check them against the original text), the terms that
        # end with it as a pattern's first segment, the trie node a longer
        # pattern goes on from, and whether it is a later segment of any.
        gaps = tuple(i for i, ch in enumerate(segment) if ch == " ")
        back = len(segment) - 1 if stem else len(segment)
        root = roots.get(kid)
        value = (
            kid,
            back,
            stem,
            gaps,
            tuple(root.terms) if root is not None else (),
            root if root is not None and root.children else None,
            kid in inner,
        )
        automaton.add_word(" " + segment + ("" if stem else " "), value)
    automaton.make_automaton()
    # A rule needs its first all-term, or else one of its any-terms: only
    # rules so triggered by a term found in the text are evaluated.
    triggers: dict[str, list[int]] = defaultdict(list)
    for index, rule in enumerate(pack.rules):
        for term in rule.all[:1] or rule.any:
            triggers[term].append(index)
    return _Compiled(pack, automaton, roots, dict(triggers), places)


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


def _nodes(roots: dict[int, _Node]) -> Iterator[_Node]:
    """Every node of the phrase trie."""
    stack = list(roots.values())
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children.values())


# Occurrences sort by where they start and end, then by term (C speed, no lambda).
_ORDER = attrgetter("start", "end", "term")


def _find_terms(compiled: _Compiled, folded: Folded, document: str) -> list[_Occurrence]:
    text = folded.text
    found: list[_Occurrence] = []
    # Segments that continue a phrase, by start: [(key id, end)]; and the
    # phrases to follow once every segment is known. Most hits are one-word
    # patterns, which become occurrences at once.
    later: list[tuple[int, int, int]] = []
    phrases: list[tuple[_Node, int, int]] = []
    find = text.find
    original = folded.original
    for last, (kid, back, stem, gaps, terms, node, inner) in compiled.automaton.iter(text):
        start = last - back
        # Inside a segment, words may be separated by whitespace, a hyphen or
        # an apostrophe only: a comma or a full stop breaks the phrase.
        if gaps and any(document[original(start + g)] not in _GAP_CHARS for g in gaps):
            continue
        end = find(" ", last) if stem else last
        if inner:
            later.append((start, kid, end))
        if node is not None:
            phrases.append((node, start, end))
        else:
            for term in terms:
                found.append(_Occurrence(term, start, end))
    if phrases:
        hits: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for start, kid, end in later:
            hits[start].append((kid, end))
        for node, start, end in phrases:
            _walk(node, start, end, hits, folded, document, found)
    found.sort(key=_ORDER)
    return found


def _number_words(text: str, occurrences: list[_Occurrence]) -> None:
    """Set each occurrence's word number: the words of ``text`` starting at or before it, less one.

    A word starts where a space is followed by a non-space (``text`` is
    folded: only spaces separate words, and it begins with a space). The
    starts up to the last occurrence are counted once, with numpy, and each
    occurrence reads its count: no string is cut or split per occurrence.
    """
    if not occurrences:
        return
    last = occurrences[-1].start
    codes = np.frombuffer(text[: last + 1].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    space = codes == 32
    # before[p] = the words starting at offsets 1..p (the padding space at 0 starts none).
    before = np.zeros(last + 1, dtype=np.int64)
    np.cumsum(space[:-1] & ~space[1:], out=before[1:])
    starts = np.fromiter((occ.start for occ in occurrences), dtype=np.int64, count=len(occurrences))
    for occ, words in zip(occurrences, before[starts].tolist()):
        occ.word = words - 1


def _walk(
    node: _Node, start: int, end: int, hits, folded: Folded, document: str, found: list
) -> None:
    """Record the terms ending at ``node`` and follow the phrase trie past ``end``."""
    for term in node.terms:
        found.append(_Occurrence(term, start, end))
    if not node.children:
        return
    # Between segments the same holds as inside one (see _find_terms).
    text = folded.text
    pos = end
    limit = len(text) - 1
    while pos < limit and text[pos] == " ":
        if document[folded.original(pos)] not in _GAP_CHARS:
            return
        pos += 1
    for kid, next_end in hits.get(pos, ()):
        child = node.children.get(kid)
        if child is not None:
            _walk(child, start, next_end, hits, folded, document, found)


def _fire(rule: Rule, by_term: Mapping[str, list[_Occurrence]]) -> list[_Occurrence] | None:
    if any(t not in by_term for t in rule.all):
        return None
    anys = [t for t in rule.any if t in by_term]
    if rule.any and not anys:
        return None
    groups = [by_term[t] for t in rule.all]
    if anys:
        groups.append([o for t in anys for o in by_term[t]])
    if rule.within is None:
        evidence = [o for g in groups for o in g]
        lo = hi = None
    else:
        window = _smallest_window(groups, rule.within)
        if window is None:
            return None
        evidence, lo, hi = window
    for term in rule.none:
        for occ in by_term.get(term, ()):
            if rule.none_within is None:
                return None
            if lo is None:
                lo = min(o.word for o in evidence)
                hi = max(o.word for o in evidence)
            if lo - rule.none_within <= occ.word <= hi + rule.none_within:
                return None
    return evidence


def _smallest_window(groups, width: int):
    """Occurrences, one per group, spanning at most ``width`` words; the tightest such set."""
    tagged = sorted(
        ((o.word, g, o) for g, occs in enumerate(groups) for o in occs),
        key=lambda t: (t[0], t[1], t[2].start, t[2].end),
    )
    need = len(groups)
    counts = [0] * need
    have = 0
    best = None
    left = 0
    for right, (word, g, _) in enumerate(tagged):
        if counts[g] == 0:
            have += 1
        counts[g] += 1
        while have == need:
            lo_word = tagged[left][0]
            if word - lo_word <= width and (best is None or word - lo_word < best[0]):
                best = (word - lo_word, left, right)
            lg = tagged[left][1]
            counts[lg] -= 1
            if counts[lg] == 0:
                have -= 1
            left += 1
    if best is None:
        return None
    _, lo_i, hi_i = best
    chosen: dict[int, _Occurrence] = {}
    for word, g, occ in tagged[lo_i : hi_i + 1]:
        chosen.setdefault(g, occ)
    evidence = sorted(chosen.values(), key=lambda o: o.start)
    return evidence, tagged[lo_i][0], tagged[hi_i][0]


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
