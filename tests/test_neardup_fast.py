"""The fast path of fingerprints and content keys against the general one, and its cheaper parts."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms import neardup_fast
from transforms.dedup_member import MIN_CONTENT_CHARS, content_key, near_and_content
from transforms.item import Item, Source
from transforms.neardup import _general_fingerprint, fingerprint
from transforms.neardup_fast import fast_keys
from transforms.neardup_hashes import _distinct
from transforms.neardup_tokens import _token_fold

SOURCE = Source(kind="feed", name="t", url="https://example.org/feed")

# Pieces of every script and of every trap the fast path must refuse or
# take alike: digits of other scripts and superscripts, format characters,
# Hangul, bigram scripts, Ethiopic digits (no decimal value), harakat,
# apostrophes, whitespace of all kinds, numbers with leading zeros.
PIECES = (
    "war crimes", "Kherson", "обстріл", "Херсона", "военные", "قَصْف", "حلب", "بمباران", "۲۰۲۴",
    "٢٠٢٤", "東京で会議", "서울에서", "ՀՀ", "საქართველო", "ประเทศไทย", "12", "007", "0", "000",
    "2024年", "¹²", "⓿", "①", "\u1369\u136a", "atro\u00adcity", "zero\u200bwidth", "Café", "ＡＢＣ１２",
    "l'humanité", "в’язниця", "İstanbul", "SOYKIRIM", "e\u0301", "-", ",", ".", "\n", "\t",
    "\u00a0", "\u2029", "\u0640", "\u3000", "covid19", "f16s", "1a2b3", "x\ud800y", "\x00",
)  # fmt: skip


def general(title: str, text: str) -> tuple:
    return _general_fingerprint(title, text), content_key(_item(title, text))


def _item(title: str, text: str) -> Item:
    return Item(source=SOURCE, guid="g", url="https://example.org/1", title=title, text=text)


def test_general_path_only_marks_what_the_fast_path_cannot_take():
    # ASCII is always taken; each kind of refused character is refused.
    assert all(neardup_fast._general_only(chr(c)) == "" for c in range(128))
    for ch in ("\u00ad", "\u200b", "٣", "۲", "서", "東", "ก", "\u1369"):
        assert neardup_fast._general_only(ch) == "x", hex(ord(ch))
    for ch in ("é", "б", "ب", "Ａ", "１", "¹", "İ", "\u0640", "\u00a0"):
        assert neardup_fast._general_only(ch) == "", hex(ord(ch))


def test_fold_of_every_taken_character_splits_as_bytes_do():
    # What the fast path relies on: a taken character folds to nothing, a
    # space or one character that is neither whitespace nor a digit other
    # than ASCII, so that splitting UTF-8 bytes at b" " gives the words and
    # a word holds a digit exactly when its bytes hold an ASCII digit.
    odd = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        if unicodedata.category(ch) == "Cn" and cp > 0xFFFF:
            continue  # unassigned astral code points fold like any other Cn
        if neardup_fast._general_only(ch):
            continue
        token = _token_fold(ch)
        if token in ("", " "):
            continue
        if len(token) != 1 or not token.isalnum() or (token.isdigit() and not token.isascii()):
            odd.append(hex(cp))
    assert odd == []


@pytest.mark.parametrize(
    "title,text",
    [
        ("", ""),
        ("Shelling of Kharkiv", ""),
        ("", "only text here " * 3),
        ("War crimes case", "Regional prosecutors opened 007 cases in 2024 and 12 more " * 40),
        ("Обстріл Херсона", "Обстріл Херсона: 3 загиблих, 12 поранених " * 30),
        ("قصف حلب", "قَصْف مدينة حلب 2024 " * 20),
        ("Court", "a " * 39),
        ("Court", "é" * 39),
        ("Court", "б" * 60),
        ("x", "word " * 3000),
        ("num", " ".join(str(i).zfill(4) for i in range(2000))),
    ],
)
def test_fast_keys_equal_the_general_path(title, text):
    got = fast_keys(title, text, MIN_CONTENT_CHARS)
    assert got is not None
    assert got == general(title, text)
    assert fingerprint(title, text) == got[0]
    assert fast_keys(title, text, None) == (got[0], None)


@pytest.mark.parametrize("trap", ["서울에서", "東京で会議", "atro\u00adcity", "٢٠٢٤", "\u1369"])
def test_texts_the_fast_path_refuses_take_the_general_one(trap):
    title, text = "Report", f"Shelling of the city {trap} continued overnight " * 5
    assert fast_keys(title, text, MIN_CONTENT_CHARS) is None
    assert fast_keys(trap, "plain text", MIN_CONTENT_CHARS) is None
    item = _item(title, text)
    assert near_and_content(item) == general(title, text)
    assert fingerprint(title, text) == _general_fingerprint(title, text)


texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=60).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=texts, text=texts)
def test_fast_keys_equal_the_general_path_on_any_text(title, text):
    got = fast_keys(title, text, MIN_CONTENT_CHARS)
    want = general(title, text)
    if got is not None:
        assert got == want
    assert near_and_content(_item(title, text)) == want


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=300))
def test_distinct_is_numpy_unique(values):
    array = np.array(values, dtype=np.uint32)
    assert np.array_equal(_distinct(array.copy()), np.unique(array))
