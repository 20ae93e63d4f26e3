"""Whether a rule fires on the term occurrences found in a text.

:func:`_fire` applies one rule's ``all`` / ``any`` terms, its ``within``
window (the tightest set of occurrences, :func:`_smallest_window`) and its
``none`` exclusions, on occurrences whose word numbers
:func:`_number_words` has set. Kept apart from the scan
(:mod:`transforms.rules_match`): this part reads only occurrences, never
the text's automaton.

The names keep their leading underscore: they are the rule engine's inner
parts, not API of their own (``transforms.rules`` re-exports them).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from transforms.rulepack import Rule
from transforms.rules_match import _Occurrence

__all__ = ["_fire", "_number_words", "_smallest_window"]


def _number_words(text: str, occurrences: list[_Occurrence]) -> None:
    """Set each occurrence's word number: the words of ``text`` starting at or before it, less one.

    A word starts where a space is followed by a non-space (``text`` is
    folded: only spaces separate words, and it begins with a space). The
    word starts up to the last occurrence are found once, with numpy, and
    each occurrence's count is a binary search among them: no string is cut
    or split per occurrence, and no count is kept per character.
    """
    if not occurrences:
        return
    last = occurrences[-1].start
    head = text[: last + 1]
    if head.isascii():  # the usual folded text: one byte per character
        codes = np.frombuffer(head.encode("ascii"), dtype=np.uint8)
    else:
        codes = np.frombuffer(head.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    space = codes == 32
    # Offsets p >= 1 where a word starts (the padding space at 0 starts none).
    starts = np.flatnonzero(space[:-1] & ~space[1:]) + 1
    where = np.fromiter((occ.start for occ in occurrences), dtype=np.int64, count=len(occurrences))
    counts = np.searchsorted(starts, where, side="right")
    for occ, words in zip(occurrences, counts.tolist()):
        occ.word = words - 1


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
