"""The Pub/Sub messages (connectors/pubsub.py), pure, and the publisher on the emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors.pubsub import (
    TRUNCATION_MARKER,
    dead_letter_message,
    decode_flagged,
    flagged_message,
    item_from_message,
    parse_subscription,
    parse_topic,
    raw_item_message,
    rfc3339,
    update_message,
)
from connectors.pubsub_publisher import RawItemPublisher
from transforms.item import DeadLetter, Item, Report, ReportUpdate, Source, from_dict
from transforms.normalise import normalise_item

ALLEGATION = (
    "Prosecutors opened an investigation into war crimes after the execution of prisoners of war "
    "and the shelling of civilians in the city."
)


@pytest.fixture
def flagged(engine, make_item):
    """A real item through normalisation and the shipped rule packs, flagged in English."""

    def factory(**overrides) -> Item:
        from transforms.flagging import flag_item

        fields = {"title": "War crimes inquiry", "text": ALLEGATION}
        fields.update(overrides)
        item = normalise_item(make_item(**fields)).replace(language="en")
        out = flag_item(engine, item)
        assert out.flags, "the sample text must be flagged by the shipped packs"
        return out

    return factory


def test_raw_item_message_round_trips_and_carries_its_attributes(make_item):
    item = make_item(fetched="2026-03-10T09:00:00+00:00")
    data, attributes = raw_item_message(item)
    assert item_from_message(data, attributes) == item
    assert attributes == {
        "item_id": normalise_item(item).id,
        "source_kind": "feed",
        "source_name": "Example Wire",
        "schema_version": "2",
        "fetched": "2026-03-10T09:00:00Z",
    }
    assert all(isinstance(v, str) for v in attributes.values())


def test_raw_item_without_fetched_gets_the_publish_time_in_the_attribute_only(make_item):
    item = make_item(fetched=None)
    now = datetime(2026, 3, 11, 7, 30, 5, 250000, tzinfo=UTC)
    data, attributes = raw_item_message(item, now=now)
    assert attributes["fetched"] == "2026-03-11T07:30:05.250Z"
    assert json.loads(data)["fetched"] is None


def test_long_source_names_are_cut_to_the_attribute_limit(make_item):
    from connectors.pubsub import MAX_ATTRIBUTE_BYTES

    name = "Агентство " * 200  # 2-byte letters: the cut must not split one
    data, attributes = raw_item_message(make_item(source=Source("feed", name, "https://a/rss")))
    cut = attributes["source_name"]
    assert len(cut.encode("utf-8")) <= MAX_ATTRIBUTE_BYTES
    assert len(cut.encode("utf-8")) > MAX_ATTRIBUTE_BYTES - 4 and name.startswith(cut)
    assert json.loads(data)["source"]["name"] == name, "the body keeps the whole name"


def test_rfc3339_converts_offsets_to_utc():
    assert rfc3339("2026-03-10T11:00:00+02:00") == "2026-03-10T09:00:00Z"
    assert rfc3339("2026-03-10T09:00:00") == "2026-03-10T09:00:00Z"
    with pytest.raises(ValueError):
        rfc3339("yesterday")


@pytest.mark.parametrize(
    ("data", "attributes", "reason"),
    [
        (b"\xff\xfe", {}, "not JSON"),
        (b"[1, 2]", {}, "must be a JSON object"),
        (b'{"schema_version": 99}', {}, "schema_version"),
        (b"{}", {"kind": "update"}, "kind must be 'item'"),
        (b'{"schema_version": 2}', {}, "lacks the field 'source'"),
        (b'{"schema_version": 2, "source": "x"}', {}, "malformed field"),
        (b'{"schema_version": 2, "source": {"kind": "f", "name": "", "url": ""}}', {}, "missing"),
    ],
)
def test_item_from_message_refuses_with_a_reason(data, attributes, reason):
    with pytest.raises(ValueError, match=reason):
        item_from_message(data, attributes)


def test_flagged_message_attributes_name_each_flagged_category(flagged):
    item = flagged()
    data, attributes = flagged_message(item)
    categories = {f.category for f in item.flags}
    assert attributes["kind"] == "item"
    assert attributes["item_id"] == item.id
    assert attributes["language"] == "en"
    assert attributes["source_kind"] == "feed"
    assert attributes["schema_version"] == "2"
    assert float(attributes["score"]) == pytest.approx(max(f.score for f in item.flags), abs=1e-3)
    assert {k for k in attributes if k.startswith("flag_")} == {f"flag_{c}" for c in categories}
    assert all(attributes[f"flag_{c}"] == "1" for c in categories)
    assert "truncated" not in attributes
    assert decode_flagged(data, attributes) == item


def test_long_text_is_truncated_under_the_cap_and_every_kept_span_stays_valid(flagged):
    # Evidence early and late in a text far over the cap: the late terms must go.
    filler = "The column moved along the road. " * 40_000  # about 1.3 MB
    item = flagged(text=ALLEGATION + " " + filler + ALLEGATION)
    late = [t for f in item.flags for t in f.terms if t.field == "text" and t.start > len(filler)]
    assert late, "the sample must have evidence past the cut"
    cap = 256 * 1024
    data, attributes = flagged_message(item, max_bytes=cap)
    assert len(data) <= cap
    assert len(data) > cap - 1024, "the cut keeps as much text as fits"
    assert attributes["truncated"] == "1"
    body = json.loads(data)
    info = body["text_truncated"]
    assert info["total_chars"] == len(item.text)
    assert info["terms_dropped"] >= len(late)
    kept = info["kept_chars"]
    marker = TRUNCATION_MARKER.format(kept=f"{kept:,}", total=f"{len(item.text):,}")
    assert body["text"] == item.text[:kept] + marker
    out = from_dict(body)
    terms = [t for f in out.flags for t in f.terms]
    assert terms, "terms before the cut are kept"
    for term in terms:
        assert getattr(out, term.field)[term.start : term.end] == term.text
        assert term.field != "text" or term.end <= kept


def test_an_item_too_large_without_its_text_is_refused(flagged):
    item = flagged(title="x" * 5000)
    with pytest.raises(ValueError, match="does not fit"):
        flagged_message(item, max_bytes=2000)


def test_update_message_round_trips(make_item):
    update = ReportUpdate(
        representative_id="a" * 32,
        report=Report(
            id="b" * 32, source=Source("feed", "Other", "https://o/rss"), url="https://o/1"
        ),
    )
    data, attributes = update_message(update)
    assert attributes == {"kind": "update", "item_id": "a" * 32, "schema_version": "2"}
    assert decode_flagged(data, attributes) == update


@pytest.mark.parametrize(
    ("data", "attributes", "reason"),
    [
        (b"{}", {}, "kind must be 'item' or 'update'"),
        (b'{"representative_id": "x"}', {"kind": "update"}, "lacks"),
        (b"not json", {"kind": "update"}, "not JSON"),
    ],
)
def test_decode_flagged_refuses_with_a_reason(data, attributes, reason):
    with pytest.raises(ValueError, match=reason):
        decode_flagged(data, attributes)


def test_dead_letter_message_caps_the_raw_input():
    letter = DeadLetter(stage="parse", reason="not a feed", path="https://x/rss", raw="y" * 100)
    data, attributes = dead_letter_message(letter, max_raw_chars=10)
    assert attributes == {"kind": "dead_letter", "stage": "parse"}
    body = json.loads(data)
    assert (body["stage"], body["reason"], body["path"]) == ("parse", "not a feed", "https://x/rss")
    assert body["raw"] == "y" * 10 and body["raw_truncated"] is True


def test_topic_and_subscription_validators():
    assert parse_topic("projects/newswatch-test/topics/raw-items") == (
        "projects/newswatch-test/topics/raw-items"
    )
    for bad in ("raw-items", "projects/x/topics/raw", "projects/newswatch-test/subscriptions/s1x"):
        with pytest.raises(ValueError, match=r"must look like projects/<p>/topics/<t> \(got"):
            parse_topic(bad)
    assert parse_subscription("projects/newswatch-test/subscriptions/flagged")
    with pytest.raises(ValueError, match="must look like projects/<p>/subscriptions/<s>"):
        parse_subscription("projects/newswatch-test/topics/flagged")


def test_the_publisher_is_importable_where_the_poller_imports_it():
    from connectors.pubsub import RawItemPublisher as Same

    assert Same is RawItemPublisher


def test_raw_item_publisher_publishes_every_item_to_the_emulator(pubsub_emulator, make_item):
    from connectors.errors import PermanentError
    from tests.streamkit import Topics

    topics = Topics(pubsub_emulator)
    subscriber = topics.subscriber
    try:
        topic, subscription = topics.pair("raw")
        items = [make_item(guid=f"g{n}", url=f"https://wire.example/news/{n}") for n in range(30)]
        with RawItemPublisher(topic) as publisher:
            ids = publisher.publish_many(items)
        assert len(set(ids)) == 30
        got = []
        while len(got) < 30:
            response = subscriber.pull(subscription=subscription, max_messages=100, timeout=30)
            assert response.received_messages, "published messages must be pullable"
            got += [m.message for m in response.received_messages]
            subscriber.acknowledge(
                subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages]
            )
        assert sorted(item_from_message(m.data, m.attributes).guid for m in got) == sorted(
            i.guid for i in items
        )
        missing = topic + "-missing"
        with RawItemPublisher(missing, timeout=30) as publisher, pytest.raises(PermanentError):
            publisher.publish_many(items[:1])
    finally:
        topics.close()
