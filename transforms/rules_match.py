"""Rule packs compiled into matchers, and the scan that finds their terms in a text.

What :class:`transforms.rules.RuleEngine` needs before it can judge a rule:
each pack becomes one Aho-Corasick automaton over pattern segments plus a
word-level phrase trie (:func:`_compile`), and :func:`_find_terms` scans a
folded text with it into term occurrences. The two live together because the
automaton's values are laid out by one and unpacked by the other, per hit.

The names keep their leading underscore: they are the rule engine's inner
parts, not API of their own (``transforms.rules`` re-exports them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import ahocorasick

from transforms.folding import Folded, fold
from transforms.gazetteer import Gazetteer, Place, with_places
from transforms.rulepack import Pack

__all__ = [
    "_GAP_CHARS",
    "_ORDER",
    "_Compiled",
    "_Node",
    "_Occurrence",
    "_compile",
    "_find_terms",
    "_nodes",
    "_segments",
    "_trie_order",
    "_walk",
]

# What may stand between the words of a phrase: whitespace, hyphens, and
# apostrophes (French "crimes contre l'humanité" is the phrase
# "crimes contre l humanite").
_GAP_CHARS = frozenset(" \n\t\u00a0-\u2010\u2011\u2012\u2013'\u2018\u2019\u02bc\u200c\u200d")


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
    # Keys go in by _trie_order: a node lists its next letters in the order
    # they first arrive, and the scan tries them one by one at every step.
    for (segment, stem), kid in sorted(key_ids.items(), key=lambda kv: _trie_order(kv[0][0])):
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


# How often a letter starts a word, and how often it occurs, in English news
# (the real feeds' English items, folded): most frequent first.
_INITIALS = {ch: rank for rank, ch in enumerate("taiscowpfbmdrhelnguyv1jk20q345x687z9")}
_LETTERS = {ch: rank for rank, ch in enumerate("etaoinsrlhdcumpgfywbvk0x12jqz3456987")}


def _trie_order(segment: str) -> tuple[int, ...]:
    """A sort key that puts the likelier letter first at every node of the automaton's trie.

    pyahocorasick looks a character up among a node's children one by one,
    in the order they were added; after every space the text meets the node
    that lists the first letter of every key. Inserting keys in this order
    (first letters by how often they start a word, later ones by how often
    they occur; other scripts after, by code point) makes the common letters
    cheap to find. Which keys match, and where, does not depend on it.
    """
    first = [_INITIALS.get(segment[:1], 64 + ord(segment[:1] or " "))]
    return tuple(first + [_LETTERS.get(ch, 64 + ord(ch)) for ch in segment[1:]])


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
