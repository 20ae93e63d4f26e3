"""Exact deduplication: the order that picks a representative, keys, groups."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedup import (
    MIN_CONTENT_CHARS,
    ExactDedup,
    handle,
    member,
    pack_member,
    resolve_members,
    unpack_member,
    content_key,
    rank,
    resolve_group,
)
from transforms.dedup_exact import _ResolveFn
from transforms.dedup_member import pack_record, peek_member
from transforms.item import Duplicate, Report, Source
from transforms.normalise import normalise_item

WIRE = Source(kind="feed", name="Wire", url="https://wire.example/rss")
MONITOR = Source(kind="feed", name="Monitor", url="https://monitor.example/atom")
HERALD = Source(kind="feed", name="Herald", url="https://herald.example/rss")

STORY = "Investigators from the rights office documented the shelling of the market in detail."


# ---------------------------------------------------------------- rank


def test_rank_orders_by_published_then_fetched_then_id(make_item):
    early = make_item(published="2026-03-01T00:00:00Z", fetched="2026-03-09T00:00:00Z", id="z")
    late = make_item(published="2026-03-02T00:00:00Z", fetched="2026-03-01T00:00:00Z", id="a")
    same_pub_early_fetch = make_item(
        published="2026-03-02T00:00:00Z", fetched="2026-02-01T00:00:00Z", id="b"
    )
    tie_low_id = make_item(published="2026-03-02T00:00:00Z", fetched="2026-03-01T00:00:00Z", id="0")
    ordered = sorted([late, tie_low_id, same_pub_early_fetch, early], key=rank)
    assert ordered == [early, same_pub_early_fetch, tie_low_id, late]


def test_rank_puts_items_without_a_date_last(make_item):
    undated = make_item(published=None, fetched=None, id="0")
    dated = make_item(published="2099-12-31T23:59:59Z", id="z")
    fetched_only = make_item(published=None, fetched="2026-01-01T00:00:00Z", id="y")
    assert sorted([undated, fetched_only, dated], key=rank) == [dated, fetched_only, undated]


# ---------------------------------------------------------------- content_key


def test_content_key_is_none_for_short_texts(make_item):
    assert content_key(make_item(title="Test", text="")) is None
    assert content_key(make_item(title="Read more", text="Click here")) is None
    assert content_key(make_item(title="x" * (MIN_CONTENT_CHARS - 1), text="")) is None
    assert content_key(make_item(title="x" * MIN_CONTENT_CHARS, text="")) is not None


def test_content_key_ignores_whitespace_case_and_punctuation(make_item):
    a = make_item(title="Shelling of the market", text=STORY)
    b = make_item(
        title="SHELLING  of the Market", text="  " + STORY.upper().replace(" ", "\n ") + " "
    )
    c = make_item(title="Shelling of the market:", text=STORY.replace(".", "!"), source=MONITOR)
    assert content_key(a) == content_key(b) == content_key(c)
    assert content_key(a) != content_key(make_item(title="Shelling of the station", text=STORY))


def test_content_key_treats_every_unicode_space_as_a_space(make_item):
    # Each character str.isspace() calls whitespace (the set re's \s matches),
    # alone or in runs, at the ends or inside, gives the key of one plain space.
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    assert len(spaces) > 20
    plain = content_key(make_item(title="Shelling of the market", text=STORY))
    for space in spaces:
        spaced = STORY.replace(" ", space * 2)
        item = make_item(title=f"{space}Shelling{space}of the{space * 3}market", text=spaced + space)
        assert content_key(item) == plain, hex(ord(space))


# ---------------------------------------------------------------- resolve_group


def test_single_item_group_is_unchanged(make_item):
    item = make_item(id="a")
    assert resolve_group("url", [item]) == [item]


def test_representative_is_the_earliest_and_copies_are_marked(make_item):
    first = make_item(id="i1", source=WIRE, published="2026-03-10T08:00:00Z")
    second = make_item(
        id="i2", source=MONITOR, url="https://monitor.example/2", published="2026-03-10T10:00:00Z"
    )
    undated = make_item(
        id="i0", source=HERALD, url="https://herald.example/3", published=None, fetched=None
    )
    rep, *copies = resolve_group("url", [undated, second, first])
    assert rep.id == "i1" and rep.duplicate is None
    assert [c.id for c in copies] == ["i2", "i0"]
    assert [c.duplicate for c in copies] == [Duplicate(of="i1", kind="url")] * 2
    assert rep.also_reported_by == (
        Report(id="i2", source=MONITOR, url="https://monitor.example/2"),
        Report(id="i0", source=HERALD, url="https://herald.example/3"),
    )


def test_id_copies_are_not_other_outlets(make_item):
    first = make_item(id="same", fetched="2026-03-10T09:00:00Z")
    again = make_item(id="same", fetched="2026-03-10T12:00:00Z")
    rep, copy = resolve_group("id", [again, first])
    assert rep.fetched == "2026-03-10T09:00:00Z"
    assert copy.duplicate == Duplicate(of="same", kind="id")
    assert rep.also_reported_by == ()


def test_content_copies_are_listed(make_item):
    rep, copy = resolve_group(
        "content",
        [
            make_item(id="b", source=MONITOR, published="2026-03-11T00:00:00Z"),
            make_item(id="a", source=WIRE),
        ],
    )
    assert copy.duplicate == Duplicate(of="a", kind="content")
    assert [r.id for r in rep.also_reported_by] == ["b"]


def test_a_copys_earlier_reports_move_to_the_representative(make_item):
    earlier = Report(id="r-old", source=HERALD, url="https://herald.example/old")
    own = Report(id="r-own", source=HERALD, url="https://herald.example/own")
    rep_in = make_item(
        id="a", source=WIRE, published="2026-03-10T00:00:00Z", also_reported_by=(own,)
    )
    copy_in = make_item(
        id="b", source=MONITOR, published="2026-03-12T00:00:00Z", also_reported_by=(earlier,)
    )
    rep, copy = resolve_group("content", [copy_in, rep_in])
    assert [r.id for r in rep.also_reported_by] == ["r-own", "b", "r-old"]
    assert copy.also_reported_by == ()


def test_an_id_copys_reports_still_move(make_item):
    earlier = Report(id="r-old", source=HERALD, url=None)
    rep, copy = resolve_group(
        "id",
        [
            make_item(id="x", fetched="2026-03-11T00:00:00Z", also_reported_by=(earlier,)),
            make_item(id="x"),
        ],
    )
    assert rep.also_reported_by == (earlier,)
    assert copy.also_reported_by == ()


def test_resolve_group_accepts_any_iterable(make_item):
    rep, copy = resolve_group("url", iter([make_item(id="b"), make_item(id="a")]))
    assert (rep.id, copy.duplicate.of) == ("a", "a")


def test_resolve_fn_called_directly(make_item):
    fn = _ResolveFn("url")
    later, first = member(make_item(id="b", fetched="2026-03-11T00:00:00Z")), member(make_item(id="a"))
    # Members travel packed (one bytes object each), with their duplicate once they have one.
    group = [pack_record((pack_member(later), None)), pack_record((pack_member(first), None))]
    rep, copy = fn.process(("=example.com/a", group))
    assert unpack_member(rep[0]).id == "a" and unpack_member(rep[0]).reports == (later.report,)
    assert rep[1] is None
    assert (unpack_member(copy[0]), copy[1]) == (later, Duplicate(of="a", kind="url"))
    # A record that meets nothing in this pass (no key, or a copy already) goes on as it is.
    alone = (pack_member(first), Duplicate(of="z", kind="id"))
    assert list(fn.process(("\x00f\x1fh", [pack_record(alone)]))) == [alone]


def test_members_resolve_as_items_do(make_item):
    items = [
        make_item(id="c", published="2026-03-12T00:00:00Z"),
        make_item(id="a", published="2026-03-10T00:00:00Z"),
        make_item(id="b", published="2026-03-11T00:00:00Z"),
    ]
    rep_item, *copy_items = resolve_group("content", items)
    rep, copies = resolve_members("content", [member(i) for i in items])
    assert rep.id == rep_item.id and rep.reports == rep_item.also_reported_by
    assert [c.id for c in copies] == [c.id for c in copy_items]


def test_byte_identical_repeats_are_twins_not_copies(make_item):
    entry = make_item(id="a", origin="feed.xml")
    later = make_item(id="a", origin="other.xml", fetched="2026-03-11T00:00:00Z")
    rep, copies = resolve_members("id", [member(later), member(entry), member(entry)])
    assert rep.handle == handle(entry) and rep.twins == 1
    assert [c.handle for c in copies] == [handle(later)]
    # Twins of a copy are copies too: they share its decision.
    rep, copies = resolve_members("id", [member(later), member(later), member(entry)])
    assert rep.twins == 0 and [c.handle for c in copies] == [handle(later)] * 2


# ---------------------------------------------------------------- ExactDedup


@pytest.fixture
def dedup_input(make_item):
    def norm(**kw):
        return normalise_item(make_item(**kw))

    original = norm(
        source=WIRE,
        guid="w-1",
        url="https://www.wire.example/story/1",
        title="Market shelled",
        text=STORY,
        published="2026-03-10T08:00:00Z",
    )
    seen_again = norm(
        source=WIRE,
        guid="w-1",
        url="https://www.wire.example/story/1",
        title="Market shelled (updated)",
        text=STORY + " Updated.",
        published="2026-03-10T08:00:00Z",
        fetched="2026-03-10T12:00:00Z",
    )
    url_copy = norm(
        source=MONITOR,
        guid="m-7",
        url="http://wire.example/story/1?utm_source=twitter&fbclid=abc",
        title="Wire: market shelled",
        text="Short rewrite of the wire story about the market.",
        published="2026-03-10T12:30:00Z",
    )
    content_source = norm(
        source=HERALD,
        guid="h-3",
        url="https://herald.example/report/3",
        title="Detention centre report",
        text="A new report describes torture of detainees in the northern detention centre.",
        published="2026-03-09T00:00:00Z",
    )
    content_copy = norm(
        source=MONITOR,
        guid="m-9",
        url="https://monitor.example/a/9",
        title="DETENTION CENTRE REPORT",
        text="A new report describes torture of detainees in the northern detention centre!",
        published="2026-03-09T02:00:00Z",
    )
    unique = norm(
        source=MONITOR,
        guid="m-10",
        url="https://monitor.example/a/10",
        title="Ceasefire talks resume",
        text="Delegations met again in the capital on Monday.",
        published="2026-03-10T00:00:00Z",
    )
    return {
        "original": original,
        "seen_again": seen_again,
        "url_copy": url_copy,
        "content_source": content_source,
        "content_copy": content_copy,
        "unique": unique,
    }


def test_fixture_items_have_the_intended_keys(dedup_input):
    d = dedup_input
    assert d["original"].id == d["seen_again"].id
    assert d["original"].id != d["url_copy"].id
    assert d["original"].canonical_url != d["url_copy"].canonical_url
    assert content_key(d["content_source"]) == content_key(d["content_copy"])


def test_exact_dedup_composite(pipeline, dedup_input):
    d = dedup_input
    with pipeline as p:
        out = p | beam.Create(list(d.values())) | ExactDedup()
        assert_that(
            out["unique"] | "UniqueKeys" >> beam.Map(lambda i: (i.id, i.duplicate)),
            equal_to([(d[k].id, None) for k in ("original", "content_source", "unique")]),
            label="unique",
        )
        assert_that(
            out["duplicates"]
            | "DupKeys" >> beam.Map(lambda i: (i.id, i.duplicate.kind, i.duplicate.of)),
            equal_to(
                [
                    (d["original"].id, "id", d["original"].id),
                    (d["url_copy"].id, "url", d["original"].id),
                    (d["content_copy"].id, "content", d["content_source"].id),
                ]
            ),
            label="duplicates",
        )
        assert_that(
            out["unique"]
            | "Reports" >> beam.Map(lambda i: (i.id, tuple(r.id for r in i.also_reported_by))),
            equal_to(
                [
                    (d["original"].id, (d["url_copy"].id,)),
                    (d["content_source"].id, (d["content_copy"].id,)),
                    (d["unique"].id, ()),
                ]
            ),
            label="also_reported_by",
        )
        # The id pass keeps the first fetch, not the update.
        assert_that(
            out["duplicates"]
            | "IdCopy" >> beam.Filter(lambda i: i.duplicate.kind == "id")
            | "IdCopyTitle" >> beam.Map(lambda i: i.title),
            equal_to(["Market shelled (updated)"]),
            label="id_copy",
        )


# ---------------------------------------------------------------- packed members


def test_packed_members_unpack_equal(make_item):
    plain = member(normalise_item(make_item(title="Market shelled", text=STORY)), file="f1")
    assert plain.near and plain.url and plain.content
    earlier = Report(id="r-old", source=HERALD, url=None)
    odd = member(
        make_item(
            id="x\ud800~",  # a lone surrogate, and a collision id's mark
            source=Source(kind="feed", name="", url="u" * 70_000, country="UA", affiliation="ngo"),
            url=None,
            title="",
            text="",
            published=None,
            also_reported_by=(earlier, Report(id="r2", source=WIRE, url="https://w.example/2")),
        ),
        near=None,
    )._replace(twins=3)
    assert odd.url is None and odd.content is None and odd.near == b""
    for m in (plain, odd, odd._replace(report=Report(id="other", source=WIRE, url="x"))):
        packed = pack_member(m)
        assert isinstance(packed, bytes) and unpack_member(packed) == m
    # One object of about 450 bytes in a grouping, not a tree of records: the
    # hexadecimal strings (id, hashes, handle, file) and the date go as bytes.
    assert len(pack_member(plain)) < 450
    hexed = plain._replace(file="0a" * 10, handle="ff" * 12)
    assert len(pack_member(hexed)) == len(pack_member(plain._replace(file="", handle=""))) + 22
    assert unpack_member(pack_member(hexed)) == hexed
    # Strings that only look like the compact forms stay as they are.
    odd_forms = plain._replace(
        rank=("2026-03-10T08:00:00.5+02:00", "2026-03-1", "ABCD", "0a1", "\u0662026-03-10T08:00:00"),
        handle="",
    )
    assert unpack_member(pack_member(odd_forms)) == odd_forms
    # Reading a few fields gives what the whole unpack gives, whatever the
    # sizes' width (odd's 70,000-character source URL makes them 4 bytes).
    names = ("handle", "id", "file", "url", "content", "twins", "reports")
    for m in (plain, odd, hexed, odd_forms, odd._replace(id="own", twins=0, reports=())):
        want = (m.handle, m.id, m.file, m.url, m.content, m.twins, bool(m.reports))
        assert peek_member(pack_member(m), *names) == want
        assert peek_member(pack_member(m), "content", "id") == (m.content, m.id)


def test_a_member_keeps_its_fingerprint_exactly_when_it_has_candidate_keys(make_item):
    from transforms.neardup import NearConfig, Fingerprint, candidate_keys

    config = NearConfig()
    words = "shelling of the market in the city centre killed several people on saturday".split()
    for n in range(0, len(words) + 1):
        m = member(make_item(title="", text=" ".join(words[:n])), config, "f1")
        fp = Fingerprint.unpack(m.near) if m.near else None
        keys = candidate_keys(fp, config) if fp else []
        assert bool(m.near) == bool(keys) == (n - 2 >= config.min_shingles)


def test_near_parts_grow_with_the_input_and_stop_at_the_most():
    from transforms.dedup import near_parts_for
    from transforms.dedup_near import NEAR_PARTS

    mib = 1024 * 1024
    assert [near_parts_for(n) for n in (0, 1, 32 * mib, 32 * mib + 1, 100 * mib)] == [1, 1, 1, 2, 4]
    assert near_parts_for(10**12) == NEAR_PARTS
    assert near_parts_for(None) == NEAR_PARTS
