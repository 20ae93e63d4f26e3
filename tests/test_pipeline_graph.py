"""One graph for batch and stream: the same builder, with the dedup and summary forms passed in."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing import test_stream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from connectors.files import DEAD_LETTERS, FILES, ITEMS
from pipelines.pipeline import StageConfig, build
from pipelines.streaming import StageCounters, local_tally
from transforms.coders import ItemCoder
from transforms.item import DeadLetter, Item, Source, item_id
from transforms.streaming_dedup import StreamingDedup

GRAVE = (
    "Investigators exhumed bodies from a mass grave near the town; prosecutors opened a war "
    "crimes investigation and said the victims had been tortured and executed."
)
CONFIG = StageConfig(language_backend="cld2")


class _Source(beam.PTransform):
    """Items from ``make``, in the source contract of ``build``."""

    def __init__(self, make) -> None:
        super().__init__()
        self._make = make

    def expand(self, pbegin):
        items = self._make(pbegin)
        return {
            ITEMS: items,
            DEAD_LETTERS: pbegin | "NoDead" >> beam.Create([]).with_output_types(DeadLetter),
            FILES: pbegin | "NoFiles" >> beam.Create([]).with_output_types(str),
        }


def _items(make_item) -> list[Item]:
    url = "https://wire.example/news/grave"
    return [
        make_item(guid="a", url=url, title="Mass grave found near the town", text=GRAVE),
        # The same story at the same URL on another feed: a url copy.
        make_item(
            source=Source(kind="feed", name="Herald", url="https://herald.example/rss"),
            guid="b",
            url=url,
            title="Mass grave found near the town",
            text=GRAVE,
            published="2026-03-10T09:00:00Z",
        ),
        make_item(
            guid="c",
            url="https://wire.example/news/market",
            title="Market prices",
            text="Prices rose.",
        ),
    ]


def test_batch_form_fills_also_reported_by_and_returns_no_updates(pipeline, make_item):
    items = _items(make_item)
    with pipeline as p:
        out = build(p, _Source(lambda b: b | beam.Create(items)), CONFIG)
        assert out["updates"] is None
        flagged = out["flagged"] | beam.Map(
            lambda i: (i.guid, [r.source.url for r in i.also_reported_by])
        )
        ids = out["items"] | "Ids" >> beam.Map(
            lambda i: (i.guid, i.duplicate.kind if i.duplicate else None)
        )
        assert_that(ids, equal_to([("a", None), ("b", "url"), ("c", None)]), label="items")
        assert_that(flagged, equal_to([("a", ["https://herald.example/rss"])]), label="flagged")


def test_stream_forms_run_the_same_graph_on_an_unbounded_source(make_item):
    items = _items(make_item)
    stream = test_stream.TestStream(coder=ItemCoder())
    for second, item in enumerate(items):
        stream.add_elements([TimestampedValue(item, 1_700_000_000 + second)])
    stream.advance_watermark_to_infinity()
    options = PipelineOptions(["--runner=BundleBasedDirectRunner"])
    options.view_as(StandardOptions).streaming = True
    before = local_tally()
    with beam.Pipeline(options=options) as p:
        out = build(
            p,
            _Source(lambda b: b | stream),
            CONFIG,
            dedup=StreamingDedup(),
            summary=StageCounters(),
        )
        assert_that(out["flagged"] | beam.Map(lambda i: i.guid), equal_to(["a"]), label="flagged")
        updates = out["updates"] | beam.Map(
            lambda u: (u.representative_id == _wire_id("a"), u.report.url)
        )
        assert_that(updates, equal_to([(True, "https://wire.example/news/grave")]), label="updates")
    after = local_tally()
    grew = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert grew["entries.read"] == 3
    assert grew["entries.unique"] == 2 and grew["duplicates.url"] == 1
    assert grew["flagged.any"] == 1 and grew["language.en"] == 2


def _wire_id(guid: str) -> str:
    source = Source(kind="feed", name="Example Wire", url="https://wire.example/rss")
    return item_id(source, guid, None, "")
