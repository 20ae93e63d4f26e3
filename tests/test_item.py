"""The item record: its one JSON form, its identity, its Beam coder."""

from __future__ import annotations

import json
import math

import apache_beam as beam
import pytest

from transforms.coders import DeadLetterCoder, ItemCoder
from transforms.item import (
    SCHEMA_VERSION,
    DeadLetter,
    Duplicate,
    Flag,
    Item,
    MatchedTerm,
    Report,
    Source,
    from_dict,
    from_json,
    item_id,
    to_dict,
    to_json,
)

OTHER = Source(kind="feed", name="Other Wire", url="https://other.example/feed")


@pytest.fixture
def full_item(make_item):
    """An item with every nested record filled in."""
    term = MatchedTerm(
        term_id="war_crime",
        gloss="war crime",
        field="title",
        start=4,
        end=14,
        text="war crimes",
        rule="wc",
    )
    flag = Flag(
        category="war_crime_allegation",
        score=0.95,
        terms=(term,),
        snippet="UN: war crimes reported.",
        rules=("wc",),
    )
    return make_item(
        id="a" * 32,
        canonical_url="https://wire.example/news/1",
        language="en",
        language_confidence=0.99,
        language_hint="en",
        rules_language="en",
        flags=(flag,),
        other_categories=("other_investigation",),
        duplicate=Duplicate(of="b" * 32, kind="url"),
        also_reported_by=(Report(id="c" * 32, source=OTHER, url="https://other.example/x"),),
        author="Désirée Ünal",
        raw_sha256="d" * 64,
    )


def test_json_round_trip_keeps_every_field(full_item):
    back = from_json(to_json(full_item))
    assert back == full_item
    assert back.flags[0].terms[0].text == "war crimes"
    assert back.duplicate == Duplicate(of="b" * 32, kind="url", similarity=1.0)
    assert back.also_reported_by[0].source == OTHER


def test_json_round_trip_of_a_bare_item(make_item):
    item = make_item(guid=None, url=None)
    assert from_json(to_json(item)) == item


def test_json_has_sorted_keys_and_is_deterministic(full_item):
    line = to_json(full_item)
    assert line == to_json(from_json(line))
    keys = list(json.loads(line))
    assert keys == sorted(keys)
    assert "\n" not in line
    # Non-ASCII is written as is, not \u-escaped.
    assert "Désirée Ünal" in line


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"language_confidence": 1e-05},  # json writes 1e-05, orjson 0.00001
        {"language_confidence": 5e-324},
        {"language_confidence": float("nan")},  # json writes NaN, orjson null
        {"language_confidence": float("-inf")},
        {"language_confidence": -0.0},
        {"language_confidence": 1e300},
        {"language_confidence": 0.30000000000000004},
        {"views": 2**70},  # past 64 bits: orjson refuses it
        {"views": -(2**63)},
        {"title": "lone \ud800 surrogate"},  # orjson refuses it
        {"title": 'quote " backslash \\ NUL \x00 DEL \x7f LS \u2028 emoji \U0001f600'},
        {"duplicate": Duplicate(of="c" * 32, kind="near", similarity=2.5e-07)},
    ],
)
def test_json_bytes_are_those_of_the_json_module(full_item, changes):
    # to_json writes with orjson where that gives the same bytes; whatever the
    # values, the line is what json.dumps with the documented settings writes.
    record = full_item.replace(**changes)
    expected = json.dumps(
        to_dict(record), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert to_json(record) == expected
    letter = DeadLetter(stage="parse", reason=str(changes), path="p\x01", raw="\ud800")
    assert to_json(letter) == json.dumps(
        to_dict(letter), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"language_confidence": 1e-05},
        {"language_confidence": float("-inf")},
        {"language_confidence": -0.0},
        {"views": 2**70},  # json wrote it, orjson cannot read it
        {"views": -(2**63)},
        {"title": "lone \ud800 surrogate"},  # the same
        {"title": 'quote " backslash \\ NUL \x00 DEL \x7f LS \u2028 emoji \U0001f600'},
    ],
)
def test_json_lines_read_back_to_the_same_item_whichever_module_reads_them(full_item, changes):
    record = full_item.replace(**changes)
    line = to_json(record)
    assert from_json(line) == record
    assert from_json(line.encode("utf-8", "surrogatepass")) == record
    assert from_dict(json.loads(line)) == record


def test_a_nan_confidence_reads_back_as_nan(full_item):
    back = from_json(to_json(full_item.replace(language_confidence=float("nan"))))
    assert math.isnan(back.language_confidence)


def test_dict_form_reports_flagged(full_item, make_item):
    assert to_dict(full_item)["flagged"] is True
    assert to_dict(make_item())["flagged"] is False


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 0, None, "1"])
def test_unknown_schema_version_is_refused(make_item, version):
    d = to_dict(make_item())
    d["schema_version"] = version
    with pytest.raises(ValueError, match=r"schema_version must be one of \(1, 2\) \(got"):
        from_dict(d)


def test_version_1_record_is_read_with_empty_new_fields(make_item):
    d = to_dict(make_item())
    for key in ("archive", "media", "links", "views", "summary"):
        del d[key]
    del d["source"]["country"], d["source"]["affiliation"]
    d["schema_version"] = 1
    item = from_dict(d)
    assert item.archive is None and item.media == () and item.source.country is None
    assert item.schema_version == SCHEMA_VERSION == 2


def test_new_fields_round_trip(make_item):
    from transforms.item import ArchiveRecord, Media, Source

    item = make_item(
        source=Source("telegram", "Channel", "https://t.me/s/x", country="ua", affiliation="ngo"),
        archive=ArchiveRecord("poll-0001.warc.gz", "<urn:uuid:1234>"),
        media=(Media("photo", "https://cdn.example/p.jpg"),),
        links=("https://example.org/a",),
        views=1200,
    )
    assert from_json(to_json(item)) == item


def test_missing_schema_version_is_refused(make_item):
    d = to_dict(make_item())
    del d["schema_version"]
    with pytest.raises(ValueError, match="schema_version"):
        from_json(json.dumps(d))


def test_same_bare_guid_in_two_sources_gives_two_ids(make_item):
    a = make_item()
    assert item_id(a.source, "1", None, "x") != item_id(OTHER, "1", None, "x")


def test_guid_wins_over_url_and_content(make_item):
    src = make_item().source
    one = item_id(src, "g-1", "https://wire.example/a", "content one")
    assert one == item_id(src, "g-1", "https://wire.example/b", "content two")
    assert one != item_id(src, "g-2", "https://wire.example/a", "content one")


def test_without_guid_the_canonical_url_identifies_across_sources(make_item):
    src = make_item().source
    url = "https://wire.example/news/1"
    assert item_id(src, None, url, "one") == item_id(OTHER, None, url, "two")
    assert item_id(src, None, url, "one") != item_id(src, None, url + "?p=2", "one")
    # An empty guid is no guid.
    assert item_id(src, "", url, "one") == item_id(src, None, url, "one")


def test_without_guid_or_url_content_identifies_within_one_source(make_item):
    src = make_item().source
    assert item_id(src, None, None, "Test") == item_id(src, None, None, "Test")
    assert item_id(src, None, None, "Test") != item_id(src, None, None, "Test 2")
    assert item_id(src, None, None, "Test") != item_id(OTHER, None, None, "Test")


def test_item_id_is_32_hex_chars(make_item):
    ident = item_id(make_item().source, "1", None, "")
    assert len(ident) == 32
    int(ident, 16)


def test_item_coder_round_trip_and_determinism(full_item):
    coder = ItemCoder()
    encoded = coder.encode(full_item)
    assert coder.decode(encoded) == full_item
    assert encoded == coder.encode(coder.decode(encoded))
    assert encoded == to_json(full_item).encode("utf-8")
    assert coder.is_deterministic()
    assert coder.to_type_hint() is type(full_item)


def test_dead_letter_coder_round_trip():
    letter = DeadLetter(
        stage="parse", reason="not a feed", path="feeds/x.xml", kind="file", raw="<html>"
    )
    coder = DeadLetterCoder()
    assert coder.decode(coder.encode(letter)) == letter
    assert coder.is_deterministic()


def test_coders_are_registered_for_the_records(full_item):
    assert isinstance(beam.coders.registry.get_coder(type(full_item)), ItemCoder)
    assert isinstance(beam.coders.registry.get_coder(DeadLetter), DeadLetterCoder)


def test_story_id_is_the_representative_for_copies_and_own_id_otherwise(make_item):
    rep = make_item().replace(id="a" * 32)
    copy = make_item().replace(
        id="b" * 32, duplicate=Duplicate(of=rep.id, kind="near", similarity=0.9)
    )
    assert json.loads(to_json(rep))["story_id"] == rep.id
    assert json.loads(to_json(copy))["story_id"] == rep.id
    assert from_json(to_json(copy)) == copy


def test_replace_gives_what_dataclasses_replace_gives(full_item):
    import dataclasses as dc

    for name in (f.name for f in dc.fields(Item)):
        value = getattr(full_item, name)
        changed = "x" if isinstance(value, str) or value is None else value
        for changes in ({}, {name: changed}, {name: changed, "title": "other"}):
            got, want = full_item.replace(**changes), dc.replace(full_item, **changes)
            assert got == want and hash(got) == hash(want) and to_json(got) == to_json(want)
            assert type(got) is Item
    with pytest.raises(TypeError, match="nope"):
        full_item.replace(nope=1)
    with pytest.raises(dc.FrozenInstanceError):
        full_item.replace(title="t").title = "u"
