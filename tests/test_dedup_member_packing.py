"""Packed members: the cheaper encodings against their regular-expression specs, and round trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import dedup_packed
from transforms.dedup_packed import (
    _DATE,
    _DATE_TEXT,
    _HEX,
    _HEX_TEXT,
    _TEXT,
    Member,
    _decode_text,
    _encode_text,
    pack_member,
    peek_member,
    stamp_bytes,
    unpack_member,
)
from transforms.item import Report, Source

# Texts near each form's edge: hex of odd length or with capitals, dates
# with other digits, fractions and zones, and plain text.
digits = st.sampled_from("0123456789٢")
hexes = st.text("0123456789abcdefABx", max_size=40)
dates = st.builds(
    lambda y, mo, d, h, mi, s, sep, tail: f"{y}-{mo}{sep}{d}T{h}:{mi}:{s}{tail}",
    st.text(digits, min_size=4, max_size=4),
    st.text(digits, min_size=2, max_size=2),
    st.text(digits, min_size=2, max_size=2),
    st.text(digits, min_size=2, max_size=2),
    st.text(digits, min_size=2, max_size=2),
    st.text(digits, min_size=2, max_size=2),
    st.sampled_from(["-", "-", "/"]),
    st.sampled_from(["", "Z", ".5+02:00", "\ud800", "é"]),
)
texts = hexes | dates | st.text(max_size=30)


@settings(max_examples=500, deadline=None)
@given(texts)
def test_text_forms_are_those_the_regular_expressions_define(text):
    form, data = _encode_text(text)
    if _HEX_TEXT.fullmatch(text):
        assert (form, data) == (_HEX, bytes.fromhex(text))
    elif _DATE_TEXT.match(text):
        digits14 = "".join(c for c in text[:19] if c.isdigit())
        assert form == _DATE and data[:6] == int(digits14).to_bytes(6, "big")
        assert stamp_bytes(text) == data[:6]
    else:
        assert (form, data) == (_TEXT, text.encode("utf-8", "surrogatepass"))
        assert stamp_bytes(text) is None
    assert _decode_text(form, data) == text


optional = st.none() | texts


@st.composite
def members(draw) -> Member:
    rank = tuple(draw(texts) for _ in range(5))
    source = Source(
        kind=draw(texts),
        name=draw(texts),
        url=draw(st.sampled_from([rank[4], "https://wire.example/rss"])),
        country=draw(optional),
        affiliation=draw(optional),
    )
    item_id = draw(st.sampled_from([rank[2], "own-id"]))
    reports = tuple(
        Report(id=draw(texts), source=source, url=draw(optional))
        for _ in range(draw(st.integers(0, 2)))
    )
    return Member(
        rank=rank,
        handle=draw(hexes),
        id=item_id,
        report=Report(id=draw(st.sampled_from([item_id, "r"])), source=source, url=draw(optional)),
        reports=reports,
        url=draw(st.none() | hexes),
        content=draw(st.none() | hexes),
        near=draw(st.binary(max_size=20)),
        twins=draw(st.integers(0, 2**32 - 1)),
        file=draw(hexes),
    )


@settings(max_examples=150, deadline=None)
@given(members(), st.sampled_from([0, 300, 70_000]))
def test_members_round_trip_and_peek_what_unpack_gives(m, long_name):
    if long_name:
        # A long field widens every size to 2 or 4 bytes.
        m = m._replace(url="ab" * long_name)
    packed = pack_member(m)
    if long_name:
        assert packed[0] == (1 if long_name < 0xFFFF // 2 else 2)
    assert unpack_member(packed) == m
    names = ("handle", "id", "file", "url", "content", "twins", "reports")
    want = (m.handle, m.id, m.file, m.url, m.content, m.twins, bool(m.reports))
    assert peek_member(packed, *names) == want


def test_layouts_stand_for_none_with_their_largest_value():
    for wide, (layout, none) in dedup_packed._LAYOUTS.items():
        assert layout.size == dedup_packed._TEXTS * (1, 2, 4)[wide]
        assert none == (1 << (8 * (1, 2, 4)[wide])) - 1
