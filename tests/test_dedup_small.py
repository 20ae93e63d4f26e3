"""Dedup of a small input in one group makes the same decisions as the four passes."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedup import Dedup
from transforms.dedup_small import (
    ONE_GROUP_BYTES,
    DedupInOneGroup,
    decide_in_order,
    one_group_fits,
)
from transforms.item import DEAD_LETTER_TAG, from_json, to_json
from transforms.normalise import normalise_item


@pytest.fixture(scope="module")
def real_items(corpora):
    """Every entry of the real feeds, normalised, with its path relative to the corpus."""
    from connectors.feeds import parse_feed

    real = corpora / "feeds" / "real"
    items = []
    for path in sorted(p for p in real.rglob("*") if p.is_file()):
        name = str(path.relative_to(real))
        items.extend(normalise_item(raw) for raw in parse_feed(name, path.read_bytes()).items)
    return items


def test_one_group_gives_the_passes_output_line_for_line_on_the_real_feeds(
    pipeline, real_items, tmp_path
):
    decided = list(decide_in_order(real_items))
    assert len(decided) == len(real_items) > 8000
    kinds = {i.duplicate.kind for i in decided if i.duplicate is not None}
    assert kinds == {"id", "url", "content", "near"}  # every pass has work here
    assert sum(bool(i.also_reported_by) for i in decided) > 50
    # Read from a file: a Create of 8,000 items costs Beam about 10 s to pickle and decode.
    lines = tmp_path / "items.jsonl"
    lines.write_text("".join(to_json(i) + "\n" for i in real_items), encoding="utf-8")
    with pipeline as p:
        items = p | beam.io.ReadFromText(str(lines)) | "Items" >> beam.Map(from_json)
        out = items | Dedup(spill_dir=str(tmp_path / "spill"), near_parts=2)
        assert_that(out["items"] | beam.Map(to_json), equal_to([to_json(i) for i in decided]))


def test_representative_lists_its_copies_and_an_id_repeat_adds_no_report(make_item):
    first = normalise_item(make_item(guid="a", url="https://herald.example/a"))
    mirror = normalise_item(
        make_item(
            guid="b",
            url="https://www.herald.example/a?utm_source=x",
            published="2026-03-11T08:00:00Z",
        )
    )
    out = list(decide_in_order([mirror, first, first]))
    reps = [i for i in out if i.duplicate is None]
    assert [i.id for i in reps] == [first.id]
    assert [r.id for r in reps[0].also_reported_by] == [mirror.id]
    copies = sorted((i.duplicate.kind, i.duplicate.of) for i in out if i.duplicate is not None)
    assert copies == [("id", first.id), ("url", first.id)]


def test_an_item_whose_keys_fail_is_a_dead_letter_and_the_rest_go_on(pipeline, make_item):
    good = normalise_item(make_item(guid="ok"))
    broken = good.replace(id="broken", title=None)  # no title: its keys cannot be made
    with pipeline as p:
        out = p | beam.Create([good, broken]) | DedupInOneGroup()
        assert_that(out["items"] | beam.Map(lambda i: i.id), equal_to([good.id]))
        assert_that(out["unique"] | "U" >> beam.Map(lambda i: i.id), equal_to([good.id]), label="u")
        assert_that(out["duplicates"], equal_to([]), label="dups")
        assert_that(
            out[DEAD_LETTER_TAG] | beam.Map(lambda d: (d.stage, d.reason.split(":")[0])),
            equal_to([("dedup", "TypeError")]),
            label="dead",
        )


def test_an_item_that_cannot_be_ranked_is_returned_with_its_error(make_item):
    good = normalise_item(make_item(guid="ok"))
    unranked = good.replace(id=None)  # no id: neither rank nor handle can be made
    out = list(decide_in_order([unranked, good]))
    [(failed, exc)] = [o for o in out if isinstance(o, tuple)]
    assert failed is unranked and isinstance(exc, TypeError)
    assert [o.id for o in out if not isinstance(o, tuple)] == [good.id]


def test_only_a_known_small_input_takes_one_group():
    assert one_group_fits(1)
    assert one_group_fits(ONE_GROUP_BYTES)
    assert not one_group_fits(ONE_GROUP_BYTES + 1)
    assert not one_group_fits(None)  # a remote input of unknown size


def test_duplicates_output_carries_each_copy(pipeline, make_item):
    a = normalise_item(make_item(guid="a", url="https://herald.example/a"))
    b = normalise_item(make_item(guid="b", url="https://herald.example/a"))
    with pipeline as p:
        out = p | beam.Create([a, b]) | DedupInOneGroup()
        assert_that(
            out["duplicates"] | beam.Map(lambda i: i.duplicate.kind), equal_to(["url"])
        )
