"""The fast paths of matching and near-dup tokens give what the plain definitions give.

Each fast path (the rule engine's scan that turns one-word hits into
occurrences at once, its numpy word count, the near-dup tokens' check for
scripts written without spaces) is compared with a slow reference written
here from the definition, on texts built to reach every branch.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.folding import Folded, fold
from transforms.neardup import _RUNS, _token_fold, tokens
from transforms.rulepack import Pack, Rule
from transforms.rules import (
    _GAP_CHARS,
    _compile,
    _find_terms,
    _number_words,
    _Occurrence,
    _segments,
)
from transforms.rules_match import _trie_order

# ---------------------------------------------------------------- near-dup tokens


def reference_tokens(text: str) -> list[str]:
    """Fold per character, split, and cut every run of a script without spaces into bigrams."""
    out: list[str] = []
    for word in "".join(_token_fold(ch) for ch in text).split():
        for dense, spaced in _RUNS.findall(word):
            if spaced:
                out.append(spaced)
            elif len(dense) == 1:
                out.append(dense)
            else:
                out.extend(dense[i : i + 2] for i in range(len(dense) - 1))
    return out


# Latin, Cyrillic and Arabic stay below U+0E00; Hangul, Devanagari, Georgian and
# emoji lie above it without being written without spaces; Thai, kana, Han and a
# supplementary-plane ideograph are. Invisible characters, marks and digits of
# other scripts change the fold.
TOKEN_PIECES = [
    "war", "Crimes", "7", "٣", "১২", " ", "\n", "\u00a0", "\u2029", "\u200b", "\u00ad",
    "\ufeff", "\u0301", "é", "война", "قتل", "한국어", "हिंदी", "ქართული", "\U0001f600",
    "ไทย", "ภาษา", "カタカナ", "中文", "戦争犯罪", "\U00020000", "\U00020001", "ｗａｒ", ",", "—",
]
token_texts = st.lists(st.sampled_from(TOKEN_PIECES), max_size=200).map("".join) | st.text(
    max_size=300
)


@settings(max_examples=300, deadline=None)
@given(token_texts)
def test_tokens_match_the_reference_on_any_text(text):
    assert tokens(text) == reference_tokens(text)
    long = text * 3 + " filler" * 30
    assert tokens(long) == reference_tokens(long)


@pytest.mark.parametrize(
    "text",
    [
        "한국어 텍스트 " * 50,  # above U+0E00, no bigrams
        "emoji \U0001f600 only " * 40,  # a surrogate pair in UTF-16, no bigrams
        "war crimes " * 100 + "戦争",  # one dense run at the very end of a long text
        "\U00020000\U00020001x" + " plain" * 40,  # dense beyond the BMP, glued to a word
        "война ".join(["x"] * 300),
    ],
)
def test_tokens_on_long_mixed_scripts(text):
    assert tokens(text) == reference_tokens(text)


# ---------------------------------------------------------------- rule engine scan

TERMS = {
    "war_crime": ("war crime*", "crimes of war", "war* crimes"),
    "crime": ("crime*",),
    "war": ("war",),  # also the first segment of longer patterns
    "of_war": ("of war",),  # a later part of a phrase, and a term of its own
    "icc": ("international criminal court", "intern* criminal court"),
    "kill": ("kill*", "killed"),  # two patterns meeting the same word
    "civ": ("civilian*",),
    "humanity": ("crimes against humanity", "crimes contre l humanite"),
}


def make_pack() -> Pack:
    rule = Rule(id="r", category="war_crime_allegation", weight=0.9, any=tuple(TERMS))
    return Pack(
        language="zz",
        name="test",
        glosses={t: t for t in TERMS},
        patterns=TERMS,
        rules=(rule,),
    )


def reference_terms(folded: Folded, document: str) -> list[tuple[str, int, int]]:
    """Every pattern tried at every word start of the folded text, segment by segment.

    Two patterns of one term meeting the same words are two occurrences (the
    engine keeps both), unless they fold to the same segments.
    """
    text = folded.text
    found = []
    for term, patterns in TERMS.items():
        for segments in {tuple(_segments(p)) for p in patterns}:
            for start in range(1, len(text) - 1):
                if text[start - 1] != " " or text[start] == " ":
                    continue
                end = _match(segments, start, folded, document)
                if end is not None:
                    found.append((term, start, end))
    return sorted(found, key=lambda f: (f[1], f[2], f[0]))


def _match(segments, pos: int, folded: Folded, document: str) -> int | None:
    text = folded.text
    for k, (segment, stem) in enumerate(segments):
        if k:  # between segments: only gap characters in the original
            while pos < len(text) - 1 and text[pos] == " ":
                if document[folded.original(pos)] not in _GAP_CHARS:
                    return None
                pos += 1
        if not text.startswith(segment, pos):
            return None
        after = pos + len(segment)
        for i, ch in enumerate(segment):  # inside a segment: the same
            if ch == " " and document[folded.original(pos + i)] not in _GAP_CHARS:
                return None
        if stem:
            after = text.find(" ", after)
        elif text[after] != " ":
            return None
        pos = after
    return pos


SCAN_PIECES = [
    "war", "War", "crimes", "crime", "of", "against", "humanity", "contre", "l'humanité",
    "international", "internationally", "criminal", "court", "killed", "killing", "civilians",
    " ", "  ", "\n", " - ", "-", ", ", ". ", "\u00a0", "’", "\u2029", "é", "\u0301",
]
scan_texts = st.lists(st.sampled_from(SCAN_PIECES), max_size=120).map("".join)
COMPILED = _compile(make_pack())


@settings(max_examples=300, deadline=None)
@given(scan_texts)
def test_scan_finds_what_every_pattern_tried_everywhere_finds(document):
    for text in (document, document + " padding" * 20 + "’"):  # short and long folds
        folded = Folded(text)
        got = [(o.term, o.start, o.end) for o in _find_terms(COMPILED, folded, text)]
        assert got == reference_terms(folded, text)


def test_scan_follows_phrases_and_their_parts():
    document = "War crimes of war, an international criminal court; crimes against humanity"
    folded = Folded(document)
    terms = [o.term for o in _find_terms(COMPILED, folded, document)]
    # "war crime*" and "war* crimes" at the start, "crimes of war" next.
    assert terms.count("war_crime") == 3
    assert "of_war" in terms and "icc" in terms and "humanity" in terms
    # A comma inside a phrase breaks it.
    broken = "crimes, against humanity"
    assert "humanity" not in [o.term for o in _find_terms(COMPILED, Folded(broken), broken)]


# ---------------------------------------------------------------- word numbers


def reference_words(text: str, starts: list[int]) -> list[int]:
    """Words of ``text`` starting at or before each offset, less one: split and count."""
    return [len(text[: start + 1].split()) - 1 for start in starts]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1 ", max_size=300), st.data())
def test_word_numbers_are_the_words_before_each_occurrence(raw, data):
    text = " " + fold(raw) + " "
    starts = sorted(
        data.draw(st.lists(st.integers(0, len(text) - 1), max_size=20), label="starts")
    )
    occurrences = [_Occurrence("t", s, s) for s in starts]
    _number_words(text, occurrences)
    assert [o.word for o in occurrences] == reference_words(text, starts)


def test_word_numbers_on_a_long_text_beyond_latin():
    text = " " + fold("Война  — это 戦争 \U00020000 war crimes " * 300) + " "
    starts = [i for i in range(1, len(text)) if text[i - 1] == " " and text[i] != " "][::7]
    occurrences = [_Occurrence("t", s, s) for s in starts]
    _number_words(text, occurrences)
    assert [o.word for o in occurrences] == reference_words(text, starts)


def test_the_trie_order_changes_no_hit():
    # Keys enter the automaton in _trie_order; the same keys in pack order find the same.
    import ahocorasick

    from transforms.rules import RuleEngine

    engine = RuleEngine.load()
    compiled = engine._pack("en")
    plain = ahocorasick.Automaton()
    for key, value in sorted(compiled.automaton.items()):
        plain.add_word(key, value)
    plain.make_automaton()
    text = Folded(
        "War crimes, investigators said: the UN probe into killings of civilians in Bucha "
        "and the mass graves found near Izium goes on. " * 5
    ).text
    assert sorted(compiled.automaton.iter(text)) == sorted(plain.iter(text))
    assert len(list(plain.iter(text))) > 20
    assert _trie_order("the") < _trie_order("zoo") < _trie_order("война")
