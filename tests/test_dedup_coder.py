"""The item coder that carries items between stages writes the one JSON form."""

from __future__ import annotations

from transforms.coders import ItemCoder
from transforms.item import Duplicate, Report, Source, from_json, to_json
from transforms.normalise import normalise_item


def test_item_coder_bytes_are_to_json_and_round_trip(make_item):
    source = Source(kind="feed", name="Herald", url="https://herald.example/rss")
    plain = normalise_item(make_item())
    rich = plain.replace(
        duplicate=Duplicate(of="x", kind="near", similarity=0.5),
        also_reported_by=(Report(id="y", source=source, url=None),),
        unsafe_urls=("javascript:alert(1)",),
    )
    coder = ItemCoder()
    for item in (plain, rich):
        assert coder.encode(item) == to_json(item).encode("utf-8")
        assert coder.decode(coder.encode(item)) == item
    assert coder.is_deterministic()


def test_item_coder_round_trips_real_items(corpora):
    from connectors.feeds import parse_feed

    real = corpora / "feeds" / "real"
    checked = 0
    for path in sorted(p for p in real.rglob("*") if p.is_file())[::5]:
        for raw in parse_feed(path.name, path.read_bytes()).items:
            item = normalise_item(raw)
            assert ItemCoder().decode(ItemCoder().encode(item)) == item
            assert from_json(to_json(item)) == item
            checked += 1
    assert checked > 1000
