"""Dedup in Beam: the batch near pass, the streaming form with its time-to-live, and their agreement."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing import test_stream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from transforms.coders import ItemCoder
from transforms.dedup import Dedup, rank
from transforms.dedup_state import DedupState, dedup_keys
from transforms.item import Flag, Item, Report, ReportUpdate, Source
from transforms.neardup import NearConfig
from transforms.normalise import normalise_item
from transforms.streaming_dedup import StreamingDedup, _StreamingDedupFn

WIRE = Source(kind="feed", name="Wire", url="https://wire.example/rss")
MONITOR = Source(kind="feed", name="Monitor", url="https://monitor.example/rss")
HERALD = Source(kind="feed", name="Herald", url="https://herald.example/rss")
DAILY = Source(kind="feed", name="Daily", url="https://daily.example/rss")

GRAVE_TITLE = "Mass grave with bound victims found near Izium, prosecutors say"
GRAVE = (
    "Investigators exhumed at least 17 bodies from a mass grave in a forest outside Izium on Tuesday, "
    "the regional prosecutor's office said. Several of the victims had their hands tied behind their "
    "backs and showed signs of torture, according to forensic experts working at the site. Prosecutors "
    "have opened a war crimes investigation and are collecting testimony from residents who said the "
    "men were detained at a checkpoint in the spring."
)
SHELLING_TITLE = "Shelling of Izium market kills civilians, governor says"
SHELLING = (
    "Artillery shelling hit the central market of Izium on Saturday morning, killing {dead} civilians "
    "and wounding {hurt} others, the regional governor said in a statement on Telegram. Rescue teams "
    "were searching the rubble of two destroyed stalls and a nearby apartment block."
)


# Flagging runs before dedup; only flagged representatives' copies make updates.
INVESTIGATION = Flag(
    category="investigation", score=0.9, terms=(), snippet=GRAVE_TITLE, rules=("exhumation",)
)


def _item(guid: str, source: Source, url: str, title: str, text: str, hour: int) -> Item:
    return normalise_item(
        Item(
            source=source,
            guid=guid,
            url=url,
            title=title,
            text=text,
            published=f"2026-03-10T{hour:02d}:00:00Z",
        )
    )


@pytest.fixture
def stories() -> list[Item]:
    """One (flagged) story and its copies, another story about the same town, and its template
    with other figures."""
    words = GRAVE.split()
    return [
        _item(
            "grave", WIRE, "https://wire.example/2026/03/izium-grave", GRAVE_TITLE, GRAVE, 8
        ).replace(flags=(INVESTIGATION,)),
        _item(
            "grave-amp",
            MONITOR,
            "http://www.wire.example/2026/03/izium-grave/amp?utm_source=tg",
            "Izium: mass grave found",
            "A short teaser of the wire story.",
            9,
        ),
        _item(
            "grave-retitled",
            HERALD,
            "https://herald.example/a/1",
            "UPDATE: " + GRAVE_TITLE,
            GRAVE,
            10,
        ),
        _item(
            "grave-teaser",
            DAILY,
            "https://daily.example/b/2",
            GRAVE_TITLE,
            " ".join(words[: len(words) // 2]) + " …",
            11,
        ),
        _item(
            "grave-footer",
            MONITOR,
            "https://monitor.example/c/3",
            GRAVE_TITLE,
            GRAVE + "\n\nThe post appeared first on Monitor. Subscribe to our newsletter.",
            12,
        ),
        _item(
            "shelling",
            WIRE,
            "https://wire.example/2026/03/izium-market",
            SHELLING_TITLE,
            SHELLING.format(dead=4, hurt=11),
            13,
        ),
        _item(
            "shelling-later",
            WIRE,
            "https://wire.example/2026/03/izium-market-2",
            SHELLING_TITLE,
            SHELLING.format(dead=7, hurt=19),
            14,
        ),
        _item(
            "ceasefire",
            HERALD,
            "https://herald.example/a/9",
            "Ceasefire talks resume in Geneva",
            "Delegations met again on Monday; no agreement on prisoner exchanges was reported.",
            15,
        ),
    ]


EXPECTED = {
    "grave": None,
    "grave-amp": ("url", "grave"),
    "grave-retitled": ("near", "grave"),
    "grave-teaser": ("near", "grave"),
    "grave-footer": ("near", "grave"),
    "shelling": None,
    "shelling-later": None,  # other casualty figures: another report, however alike the text
    "ceasefire": None,
}


def _decisions(by_id: dict[str, Item]):
    """A transform: items → (guid, kind, guid of the representative) tuples."""
    return beam.Map(
        lambda i: (
            (i.guid, i.duplicate.kind, by_id[i.duplicate.of].guid)
            if i.duplicate
            else (i.guid, None, None)
        )
    )


def _expected() -> list[tuple]:
    return [(g, *(d or (None, None))) for g, d in EXPECTED.items()]


def _streaming_options() -> PipelineOptions:
    options = PipelineOptions(["--runner=BundleBasedDirectRunner"])
    options.view_as(StandardOptions).streaming = True
    return options


# ---------------------------------------------------------------- batch near pass


def test_near_pass_marks_copies_and_credits_the_representative(pipeline, stories):
    by_id = {i.id: i for i in stories}
    with pipeline as p:
        out = p | beam.Create(stories) | Dedup()
        assert_that(
            out["duplicates"]
            | "Kinds" >> beam.Map(lambda i: (i.guid, i.duplicate.kind, by_id[i.duplicate.of].guid)),
            equal_to([(g, *d) for g, d in EXPECTED.items() if d]),
            label="duplicates",
        )
        assert_that(
            out["unique"]
            | "Reports"
            >> beam.Map(lambda i: (i.guid, sorted(by_id[r.id].guid for r in i.also_reported_by))),
            equal_to(
                [
                    ("grave", ["grave-amp", "grave-footer", "grave-retitled", "grave-teaser"]),
                    ("shelling", []),
                    ("shelling-later", []),
                    ("ceasefire", []),
                ]
            ),
            label="reports",
        )
        assert_that(
            out["duplicates"]
            | "Near" >> beam.Filter(lambda i: i.duplicate.kind == "near")
            | "Similar"
            >> beam.Map(lambda i: 0.4 <= i.duplicate.similarity <= 1.0 and not i.also_reported_by),
            equal_to([True, True, True]),
            label="similarity",
        )


def test_dedup_without_near_is_the_exact_passes(pipeline, stories):
    with pipeline as p:
        out = p | beam.Create(stories) | Dedup(near=None)
        assert_that(
            out["duplicates"] | beam.Map(lambda i: (i.guid, i.duplicate.kind)),
            equal_to([("grave-amp", "url")]),
        )


# ---------------------------------------------------------------- streaming


def test_streaming_and_batch_make_the_same_decisions(pipeline, stories):
    by_id = {i.id: i for i in stories}
    with pipeline as p:
        out = p | beam.Create(stories) | Dedup()
        decided = (out["unique"], out["duplicates"]) | beam.Flatten() | _decisions(by_id)
        assert_that(decided, equal_to(_expected()))

    stream = test_stream.TestStream(coder=ItemCoder())
    for item in sorted(stories, key=rank):  # a stream's first item is the batch's earliest
        stream.add_elements([TimestampedValue(item, Timestamp.from_rfc3339(item.published))])
    with beam.Pipeline(options=_streaming_options()) as p:
        out = p | stream.advance_watermark_to_infinity() | StreamingDedup()
        decided = (out["unique"], out["duplicates"]) | beam.Flatten() | _decisions(by_id)
        assert_that(decided, equal_to(_expected()), label="decisions")
        credited = out["updates"] | beam.Map(
            lambda u: (by_id[u.representative_id].guid, by_id[u.report.id].guid)
        )
        assert_that(
            credited,
            equal_to(
                [
                    ("grave", g)
                    for g in ("grave-amp", "grave-footer", "grave-retitled", "grave-teaser")
                ]
            ),
            label="updates",
        )


def test_streaming_ttl_drops_inside_admits_after_and_the_timer_clears_state(stories):
    original, copy_one, copy_two, late = stories[0], stories[2], stories[3], stories[1]
    ttl = 100
    stream = (
        test_stream.TestStream(coder=ItemCoder())
        .add_elements([TimestampedValue(original, 1000)])
        .add_elements([TimestampedValue(copy_one, 1050)])  # inside the TTL: a copy
        .advance_watermark_to(1300)  # past 1000 + ttl: the timer fires and clears the state
        .add_elements([TimestampedValue(copy_two, 1310)])  # after the TTL: admitted again
        # Behind the watermark, inside the original's TTL by its own time: admitted only
        # because the timer cleared the state, not by the lookup's own expiry check.
        .add_elements([TimestampedValue(late, 1060)])
        .advance_watermark_to_infinity()
    )
    with beam.Pipeline(options=_streaming_options()) as p:
        out = p | stream | StreamingDedup(ttl_seconds=ttl, cleanup_seconds=10)
        assert_that(
            out["unique"] | "U" >> beam.Map(lambda i: i.guid),
            equal_to(["grave", "grave-teaser", "grave-amp"]),
            label="unique",
        )
        assert_that(
            out["duplicates"]
            | "D" >> beam.Map(lambda i: (i.guid, i.duplicate.kind, i.duplicate.of)),
            equal_to([("grave-retitled", "near", original.id)]),
            label="duplicates",
        )
        assert_that(
            out["updates"],
            equal_to(
                [
                    ReportUpdate(
                        original.id,
                        Report(id=copy_one.id, source=copy_one.source, url=copy_one.url),
                    )
                ]
            ),
            label="updates",
        )


class _Bag:
    def __init__(self):
        self.values = []

    def read(self):
        return list(self.values)

    def add(self, value):
        self.values.append(value)

    def clear(self):
        self.values = []


class _Value:
    def __init__(self):
        self.value = None

    def read(self):
        return self.value

    def write(self, value):
        self.value = value

    def clear(self):
        self.value = None


class _Timer:
    def __init__(self):
        self.at = None

    def set(self, at):
        self.at = at


def test_timer_removes_expired_records_and_clears_empty_state(stories):
    fn = _StreamingDedupFn(NearConfig(), ttl_seconds=100, cleanup_seconds=10)
    fn.setup()
    records, meta, timer = _Bag(), _Value(), _Timer()

    def feed(item, seconds):
        return list(fn.process(("k", item), Timestamp(seconds), records, meta, timer))

    feed(stories[0], 1000)
    feed(stories[2], 1050)
    feed(stories[5], 1080)
    assert len(records.values) == 3 and timer.at == Timestamp(1110)
    assert json.loads(meta.value)["count"] == 3
    fn.on_expiry("k", Timestamp(1110), records, meta, timer)  # the first record expired at 1100
    assert len(records.values) == 2 and timer.at == Timestamp(1160)
    fn.on_expiry("k", Timestamp(1190), records, meta, timer)
    assert records.values == [] and meta.value is None
    # A fresh DoFn instance (another worker) rebuilds the same tables from state.
    feed(stories[0], 2000)
    other = _StreamingDedupFn(NearConfig(), ttl_seconds=100, cleanup_seconds=10)
    other.setup()
    (copy, update) = [
        o.value for o in other.process(("k", stories[2]), Timestamp(2001), records, meta, timer)
    ]
    assert (copy.duplicate.kind, copy.duplicate.of) == ("near", stories[0].id)
    assert update == ReportUpdate(
        stories[0].id, Report(id=copy.id, source=copy.source, url=copy.url)
    )


def test_only_copies_of_a_flagged_representative_make_updates(stories):
    grave, shelling = stories[0], stories[5]
    assert grave.flagged and not shelling.flagged
    fn = _StreamingDedupFn(NearConfig(), ttl_seconds=3600, cleanup_seconds=60)
    fn.setup()
    records, meta, timer = _Bag(), _Value(), _Timer()

    def feed(dofn, item, seconds):
        """(output, guid, duplicate kind, guid credited by an update) per output."""
        out = []
        for o in dofn.process(("k", item), Timestamp(seconds), records, meta, timer):
            value = getattr(o, "value", o)
            if isinstance(value, ReportUpdate):
                credited = next(i.guid for i in stories if i.id == value.representative_id)
                assert value.report.id == item.id
                out.append(("update", credited))
            else:
                kind = value.duplicate.kind if value.duplicate else None
                out.append((getattr(o, "tag", "unique"), value.guid, kind))
        return out

    def shelling_copy(guid, url, title=SHELLING_TITLE):
        return _item(guid, DAILY, url, title, SHELLING.format(dead=4, hurt=11), 16)

    assert feed(fn, grave, 1000) == [("unique", "grave", None)]
    assert feed(fn, shelling, 1001) == [("unique", "shelling", None)]
    # Copies of the unflagged story, by each pass: marked as in batch, but no update.
    amp = shelling_copy("s-amp", "https://www.wire.example/2026/03/izium-market/amp")
    assert feed(fn, amp, 1002) == [("duplicates", "s-amp", "url")]
    same = shelling_copy("s-same", "https://daily.example/s/1")
    assert feed(fn, same, 1003) == [("duplicates", "s-same", "content")]
    retitled = shelling_copy("s-near", "https://daily.example/s/2", "UPDATE: " + SHELLING_TITLE)
    assert feed(fn, retitled, 1004) == [("duplicates", "s-near", "near")]
    # Copies of the flagged story: each makes its update.
    assert feed(fn, stories[1], 1005) == [("duplicates", "grave-amp", "url"), ("update", "grave")]
    assert feed(fn, stories[2], 1006) == [
        ("duplicates", "grave-retitled", "near"),
        ("update", "grave"),
    ]
    # Another worker rebuilds the tables from the records: a copy of a copy (by the URL
    # the near copies remembered) still knows whether its representative was flagged.
    other = _StreamingDedupFn(NearConfig(), ttl_seconds=3600, cleanup_seconds=60)
    other.setup()
    again = shelling_copy("s-again", "https://daily.example/s/2?utm_source=tg", "x")
    assert feed(other, again, 1007) == [("duplicates", "s-again", "url")]
    herald = _item("g-again", DAILY, "http://herald.example/a/1?utm_source=tg", "x", "y", 17)
    assert feed(other, herald, 1008) == [("duplicates", "g-again", "url"), ("update", "grave")]


def test_records_written_before_the_flag_bit_read_as_flagged(stories):
    shelling = stories[5]
    copy = _item("s-amp", DAILY, "https://wire.example/2026/03/izium-market/amp", "x", "y", 16)
    _, record = DedupState().observe(dedup_keys(shelling), 0)
    verdict, _ = DedupState().load([record]).observe(dedup_keys(copy), 1)
    assert (verdict.credit, verdict.credit_flagged) == (shelling.id, False)
    # Byte 8 holds the record's flags; a record from before had no "representative
    # unflagged" bit (64), so its copies' updates go out as they did then.
    old = record[:8] + bytes([record[8] & ~64]) + record[9:]
    verdict, _ = DedupState().load([old]).observe(dedup_keys(copy), 1)
    assert (verdict.credit, verdict.credit_flagged) == (shelling.id, True)
