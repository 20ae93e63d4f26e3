"""The run summary: counter keys, the two identities, the text for people."""

from __future__ import annotations

import pytest

from pipelines.summary import check_identities, dead_letter_keys, item_keys, render
from transforms.item import DeadLetter, Duplicate, Flag

HOLDING = {
    "files.parsed": 3,
    "files.empty": 1,
    "files.dead_letter": 2,
    "dead_letter_files.parse": 1,
    "dead_letter_files.read": 1,
    "entries.read": 10,
    "entries.unique": 6,
    "entries.duplicate": 3,
    "entries.dead_letter": 1,
    "dead_letter_entries.normalise": 1,
    "duplicates.id": 1,
    "duplicates.url": 2,
    "language.en": 3,
    "language.ru": 1,
    "language.und": 2,
    "flagged.war_crime_allegation": 2,
    "flagged.investigation": 1,
    "flagged.any": 2,
}


def flag(category):
    return Flag(category=category, score=0.9, terms=(), snippet="", rules=("r",))


# ---------------------------------------------------------------- keys


def test_item_keys_for_a_unique_flagged_item(make_item):
    item = make_item(language="hy", flags=(flag("war_crime_allegation"), flag("investigation")))
    assert item_keys(item) == [
        "entries.unique",
        "language.hy",
        "flagged.war_crime_allegation",
        "flagged.investigation",
        "flagged.any",
    ]


def test_item_keys_without_language_or_flags(make_item):
    assert item_keys(make_item(language=None)) == ["entries.unique", "language.und"]


def test_item_keys_for_a_duplicate_count_nothing_else(make_item):
    item = make_item(
        language="en", flags=(flag("investigation"),), duplicate=Duplicate(of="x", kind="content")
    )
    assert item_keys(item) == ["entries.duplicate", "duplicates.content"]


@pytest.mark.parametrize(
    ("letter", "keys"),
    [
        (DeadLetter(stage="read", reason="big", path="a", kind="file"), ["dead_letter_files.read"]),
        (
            DeadLetter(stage="parse", reason="junk", path="a", kind="file"),
            ["dead_letter_files.parse"],
        ),
        (
            DeadLetter(stage="parse", reason="empty entry", path="a"),
            ["entries.dead_letter", "dead_letter_entries.parse", "entries.read"],
        ),
        (
            DeadLetter(stage="normalise", reason="empty", path="a"),
            ["entries.dead_letter", "dead_letter_entries.normalise"],
        ),
    ],
)
def test_dead_letter_keys(letter, keys):
    assert dead_letter_keys(letter) == keys


# ---------------------------------------------------------------- identities


def test_identities_hold():
    assert check_identities(HOLDING) == []
    assert check_identities({}) == []


def test_identity_of_files_broken():
    counts = dict(HOLDING, **{"files.dead_letter": 3})
    assert check_identities(counts) == ["dead-lettered files 3 != dead-letter records 2"]


def test_identity_of_entries_broken():
    counts = dict(HOLDING, **{"entries.read": 11})
    assert check_identities(counts) == ["entries read 11 != unique + duplicates + dead-lettered 10"]


def test_unknown_file_outcome_is_reported():
    counts = dict(HOLDING, **{"files.weird": 1})
    assert check_identities(counts) == ["unknown file outcome in counts"]


# ---------------------------------------------------------------- render


def test_render_holding():
    lines = render(HOLDING).splitlines()
    assert lines == [
        "files read           6 = parsed 3 + empty 1 + dead-lettered 2",
        "entries read        10 = unique 6 + duplicates 3 + dead-lettered 1",
        "duplicates    id 1, url 2",
        "languages     en 3, und 2, ru 1",
        "flagged       2 items (investigation 1, war_crime_allegation 2)",
        "dead letters  dead_letter_entries.normalise 1, dead_letter_files.parse 1, dead_letter_files.read 1",
        "identities    hold",
    ]


def test_render_broken():
    text = render(dict(HOLDING, **{"entries.read": 12, "files.dead_letter": 0}))
    last = text.splitlines()[-1]
    assert last.startswith("identities    BROKEN: ")
    assert "dead-lettered files 0 != dead-letter records 2" in last
    assert "entries read 12 != unique + duplicates + dead-lettered 10" in last


def test_render_empty_run():
    text = render({})
    assert "duplicates    none" in text
    assert "languages     none" in text
    assert "flagged       0 items (none)" in text
    assert "dead letters  none" in text
    assert text.endswith("identities    hold")
