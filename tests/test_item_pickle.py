"""Items pickle as their field values (the parse worker's pipe): same item back."""

from __future__ import annotations

import copy
import dataclasses
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.item import Duplicate, Flag, Item, MatchedTerm, Media, Report, Source
from transforms.item_records import _item_from_values

_SOURCE = Source(kind="feed", name="Wire", url="https://wire.example/rss", country="UA")


def _full_item() -> Item:
    term = MatchedTerm("t1", "war crimes", "text", 0, 10, "war crimes", "r1")
    return Item(
        source=_SOURCE, guid="g", url="https://wire.example/1", title="T", text="war crimes",
        author="A", published="2026-01-01T00:00:00Z", fetched=None, origin="f.xml",
        raw_sha256="ab", id="x" * 32, canonical_url="https://wire.example/1", language="en",
        language_confidence=0.9, language_hint="en", rules_language="en",
        flags=(Flag("atrocity", 1.5, (term,), "war crimes", ("r1",)),),
        other_categories=("c",), duplicate=Duplicate(of="y", kind="near", similarity=0.8),
        also_reported_by=(Report(id="z", source=_SOURCE, url=None),),
        media=(Media("photo", "https://img.example/1.jpg"),), links=("https://a.example",),
        views=3, summary="s", unsafe_urls=("javascript:x",),
    )


def _fields(item: Item) -> dict:
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(Item)}


def test_every_field_survives_pickling_at_every_protocol():
    item = _full_item()
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(item, protocol))
        assert type(back) is Item and back == item and _fields(back) == _fields(item)
    assert copy.deepcopy(item) == item and copy.copy(item) == item


def test_pickle_uses_the_field_values():
    item = _full_item()
    function, (values,) = item.__reduce__()
    assert function is _item_from_values
    assert values == tuple(_fields(item).values())


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.text(max_size=20), st.one_of(st.none(), st.text(max_size=10)), st.text(max_size=50),
    st.one_of(st.none(), st.integers()), st.tuples(st.text(max_size=5)),
)
def test_pickled_items_equal_their_originals(title, guid, text, views, links):
    item = Item(source=_SOURCE, guid=guid, url=None, title=title, text=text, views=views,
                links=links)
    back = pickle.loads(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
    assert back == item and _fields(back) == _fields(item)
    if _hashable(item):
        assert hash(back) == hash(item)


def _hashable(item: Item) -> bool:
    try:
        hash(item)
    except TypeError:
        return False
    return True
