"""Case and diacritic folding, and the way back to original offsets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.folding import Folded, fold, fold_char


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("War CRIMES", "war crimes"),
        ("Exécutions sommaires", "executions sommaires"),
        ("Çağ Şəhər Ölüm", "cag səhər olum"),  # ə is a letter of its own, not a diacritic
        ("ВОЕННЫЕ Преступления", "военные преступления"),
        ("ÀÉÎÕÜ", "aeiou"),
    ],
)
def test_case_and_diacritics_fold(text, folded):
    assert fold(text) == folded


def test_turkish_capital_dotted_i_folds_to_one_plain_i():
    # Plain casefold would give "i" + U+0307 and shift every later offset.
    assert fold("İSTANBUL İnsan") == "istanbul insan"
    assert len(fold("İSTANBUL")) == len("İSTANBUL")


def test_arabic_variants_fold_to_one_spelling():
    arabic_yeh_kaf = "\u0643\u062a\u0627\u0628 \u0639\u0644\u064a"  # كتاب علي
    farsi_yeh_keheh = "\u06a9\u062a\u0627\u0628 \u0639\u0644\u06cc"  # کتاب علی
    assert fold(arabic_yeh_kaf) == fold(farsi_yeh_keheh) == farsi_yeh_keheh
    assert fold("\u0649") == "\u06cc"  # alef maksura
    assert fold("\u0623\u0625\u0622") == "\u0627\u0627\u0627"  # hamza and madda forms → alef


def test_harakat_and_tatweel_are_deleted():
    with_harakat = "\u0645\u064e\u062c\u0652\u0632\u064e\u0631\u064e\u0629\u064c"  # مَجْزَرَةٌ
    assert fold(with_harakat) == "\u0645\u062c\u0632\u0631\u0629"
    assert fold("\u0645\u0640\u0640\u062c") == "\u0645\u062c"  # tatweel
    assert fold_char("\u064e") == ""


def test_offsets_map_back_when_characters_were_deleted():
    original = "\u0642\u064e\u062a\u064e\u0644\u064e \u0639\u0645\u062f"  # قَتَلَ عمد
    folded = Folded(original)
    assert folded.text == " \u0642\u062a\u0644 \u0639\u0645\u062f "
    # Padded offsets 1..3 are the three letters; 4 is the space; 5 starts the next word.
    assert [folded.original(i) for i in (1, 2, 3, 4, 5)] == [0, 2, 4, 6, 7]
    # The end of the last word maps to the end of the original.
    assert folded.original(len(folded.text) - 1) == len(original)
    # A span of the folded text slices the original with its harakat.
    start, end = folded.original(1), folded.original(4)
    assert original[start:end] == "\u0642\u064e\u062a\u064e\u0644\u064e"


def test_offsets_map_back_over_decomposed_accents():
    original = "une exe\u0301cution"
    folded = Folded(original)
    assert folded.text == " une execution "
    start = folded.text.index("execution")
    end = start + len("execution")
    assert original[folded.original(start) : folded.original(end)] == "exe\u0301cution"


def test_offsets_are_shared_when_nothing_is_deleted():
    original = "Tom, Jerry!"
    folded = Folded(original)
    assert len(folded.text) == len(original) + 2
    assert all(folded.original(i) == i - 1 for i in range(1, len(original) + 1))


@pytest.mark.parametrize(
    "sep", [",", ".", "!", "?", "-", "—", "«", "»", "\u00a0", "\t", "\n", "/", "'"]
)
def test_punctuation_and_whitespace_become_a_space(sep):
    assert fold(f"a{sep}b") == "a b"


def test_letters_and_digits_of_other_scripts_are_kept():
    assert fold("Հայաստան 2024") == "հայաստան 2024"
    assert fold("١٢٣") == "١٢٣"  # Arabic-Indic digits are digits


def test_turkish_dotless_i_and_capital_i_fold_alike():
    assert fold("SOYKIRIM") == fold("soykırım") == "soykirim"


def test_every_apostrophe_folds_to_a_word_break():
    assert fold("в’язниця") == fold("вʼязниця") == fold("в'язниця") == "в язниця"


# ------------------------------------------------ every path against one reference
#
# Folded takes different paths by text: str.translate with a regex for whitespace
# runs (short or ASCII text), numpy arrays for long non-ASCII text (one way when
# nothing is deleted, another when marks are), and a per-character walk when a
# short text loses characters. Each must give what this plain reference gives.

# Pieces chosen to meet every branch: Unicode spaces and runs of them, marks that
# are deleted, invisible format characters, mixed scripts, characters beyond the
# BMP, a lone surrogate, and letters whose fold changes (İ, ı, ß, µ).
PIECES = [
    "War", "CRIMES", "crimes", "a", "7", " ", "  ", "\n\n", "\t", " \n ", "\u00a0", "\u2029",
    "\u3000", "\x1c", "\x85", "\u200b", "\u00ad", "\ufeff", "\u2060", "\u202e", "\x00",
    "\u0301", "exe\u0301cution", "\u064e", "\u0640", "\u0642\u064e\u062a\u064e\u0644",
    "Преступления", "в’язниця", "İSTANBUL", "soykırım", "Straße", "µ", "’", "'", ",", "—",
    "中文", "ไทย", "한국어", "\U0001f600", "\U00020000", "٣", "½", "\ud800", "Ａ",
]
texts = st.lists(st.sampled_from(PIECES), max_size=300).map("".join) | st.text(max_size=400)


def reference(original: str) -> tuple[str, list[int]]:
    """The padded folded text and each padded offset's original offset, char by char."""
    out: list[str] = []
    origin: list[int] = []
    previous_space = False
    for i, ch in enumerate(original):
        value = fold_char(ch)
        if not value:
            continue
        if ch.isspace() and previous_space:
            continue
        previous_space = ch.isspace()
        out.append(value)
        origin.append(i)
    origin.append(len(original))
    return " " + "".join(out) + " ", origin


def assert_like_reference(original: str) -> None:
    folded = Folded(original)
    text, origin = reference(original)
    assert folded.text == text
    assert [folded.original(p) for p in range(1, len(text))] == origin


@settings(max_examples=300, deadline=None)
@given(texts)
def test_folded_text_and_offsets_match_the_reference_on_any_text(original):
    assert_like_reference(original)
    # The same text long (numpy arrays) and inside ASCII (curly quote path).
    assert_like_reference(original * 3 + "x" * 130)
    assert_like_reference("plain ascii text " * 10 + original)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_fold_is_the_per_character_fold(original):
    long = original * 2 + "y" * 130
    for text in (original, long, original + "\u064e" * 130):
        assert fold(text) == "".join(fold_char(ch) for ch in text)


@pytest.mark.parametrize(
    "original",
    [
        # Long, non-ASCII, nothing deleted: runs at the start, the end and side by side.
        "\n\n  " + "Война — war\u00a0\u00a0crimes.\n\n\n" * 40 + " \t\u3000",
        # Long, with deleted marks inside and next to whitespace runs.
        ("قَتَلَ  \u064e\n\n\u064e عمد " * 30),
        # Long English with one curly quote: the common case.
        "Officials said it wasn’t over.\n\n" + "The shelling went on all night. " * 20,
        # Long with a run of every Unicode space.
        "x" + "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) * 3 + "y" * 200,
        # Every character deleted, long (an empty array to decode).
        "\u064e\u0640" * 100,
        # Only whitespace, long and short.
        " \n\u2029\u00a0" * 100,
        " \n",
        "",
    ],
)
def test_folded_offsets_on_long_and_edge_texts(original):
    assert_like_reference(original)


def test_every_whitespace_character_folds_to_a_space():
    # The array path marks whitespace in one table and turns the mark into a space.
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert max(spaces) <= "\u3000"
    assert {fold_char(ch) for ch in spaces} == {" "}


def test_long_texts_reach_code_points_not_yet_in_the_table():
    # Each text brings characters no earlier text had: the table grows on demand.
    for start in (0x0530, 0x10A0, 0x1E00, 0xA640, 0x1D400):
        original = "".join(chr(c) for c in range(start, start + 90)) + " x" * 40 + "\u2029"
        assert_like_reference(original)


@pytest.mark.parametrize(
    "original",
    [
        # Two lone surrogates that would make a pair in UTF-16: still two characters.
        "War \ud83d\ude00 crimes, " * 20,
        # A real character beyond the BMP: the text is read as UTF-32.
        "War \U0001f600 crimes, " * 20,
        # Latin-1 only (one byte a character in memory), long.
        "Exécutions sommaires à Boutcha. " * 10,
    ],
)
def test_long_texts_inside_and_beyond_the_bmp(original):
    assert_like_reference(original)
