"""BatchedDoFn: a batch of elements at a time gives what one at a time gives.

Each fast path (a batch above 1) runs against its general path (a batch of
1) in the same pipeline: the same values, tags, timestamps and windows, and
for the dedup spill step the same spill files' lines.
"""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import FixedWindows, TimestampedValue

from transforms.batching import BatchedDoFn
from transforms.dedup import _spill_record, unpack_member
from transforms.item import DEAD_LETTER_TAG
from transforms.normalise import normalise_item
from transforms.spill import SPILL_FILES_TAG, SpillFn, read_spill


class _Halves(BatchedDoFn):
    """Even numbers halved; odd ones to a tagged output, twice."""

    def one(self, n):
        if n % 2:
            yield beam.pvalue.TaggedOutput("odd", n)
            yield beam.pvalue.TaggedOutput("odd", -n)
        else:
            yield n // 2


def _stamped(value, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
    return value, float(timestamp), (float(window.start), float(window.end))


def _outputs(p, fn, values, label):
    stamped = (
        p
        | f"{label}Create" >> beam.Create([(n, 10.0 * n) for n in values])
        | f"{label}Stamp" >> beam.Map(lambda kv: TimestampedValue(kv[0], kv[1]))
        | f"{label}Window" >> beam.WindowInto(FixedWindows(25))
    )
    out = stamped | f"{label}Fn" >> beam.ParDo(fn).with_outputs("odd", main="main")
    return (
        out.main | f"{label}Main" >> beam.Map(_stamped),
        out.odd | f"{label}Odd" >> beam.Map(_stamped),
    )


@pytest.mark.parametrize("batch", [2, 3, 7, 100])
def test_batches_give_the_values_windows_and_timestamps_of_one_at_a_time(pipeline, batch):
    values = list(range(23))
    with pipeline as p:
        one_main, one_odd = _outputs(p, _Halves(batch=1), values, "one")
        many_main, many_odd = _outputs(p, _Halves(batch=batch), values, "many")
        expected_main = [(n // 2, 10.0 * n, _window(n)) for n in values if n % 2 == 0]
        expected_odd = [(s * n, 10.0 * n, _window(n)) for n in values if n % 2 for s in (1, -1)]
        assert_that(one_main, equal_to(expected_main), label="one main")
        assert_that(many_main, equal_to(expected_main), label="many main")
        assert_that(one_odd, equal_to(expected_odd), label="one odd")
        assert_that(many_odd, equal_to(expected_odd), label="many odd")


def _window(n: int) -> tuple[float, float]:
    start = (10.0 * n) // 25 * 25
    return start, start + 25


def test_a_batch_must_be_positive():
    with pytest.raises(ValueError, match="got 0"):
        _Halves(batch=0)


def _describe_or_fail(item, file_id):
    if item.guid == "bad":
        raise ValueError("no record for this one")
    return _spill_record(item, file_id)


def test_the_spill_step_in_batches_writes_and_emits_what_it_does_item_by_item(
    pipeline, make_item, tmp_path
):
    items = [
        normalise_item(make_item(guid=f"g{n}", url=f"https://wire.example/{n}", title=f"T {n}"))
        for n in range(11)
    ]
    items.insert(4, normalise_item(make_item(guid="bad", url="https://wire.example/bad")))
    dirs = {batch: tmp_path / f"b{batch}" for batch in (1, 4)}
    with pipeline as p:
        created = p | beam.Create(items)
        for batch, folder in dirs.items():
            fn = SpillFn(str(folder), _describe_or_fail, "dedup", roll_items=5, batch=batch)
            out = created | f"Spill{batch}" >> beam.ParDo(fn).with_outputs(
                SPILL_FILES_TAG, DEAD_LETTER_TAG, main="members"
            )
            expected = [_spill_record(i, "")[0] for i in items if i.guid != "bad"]
            keys = out.members | f"Keys{batch}" >> beam.Map(lambda r: unpack_member(r).handle)
            assert_that(keys, equal_to(expected), label=f"records {batch}")
            reasons = out[DEAD_LETTER_TAG] | f"Why{batch}" >> beam.Map(lambda d: d.reason)
            assert_that(reasons, equal_to(["ValueError: no record for this one"]),
                        label=f"dead letters {batch}")
            files = out[SPILL_FILES_TAG] | f"Files{batch}" >> beam.combiners.Count.Globally()
            assert_that(files, equal_to([3]), label=f"files {batch}")
    lines = {batch: sorted(_lines(folder)) for batch, folder in dirs.items()}
    assert len(lines[1]) == 11 and lines[1] == lines[4]


def _lines(folder: Path) -> list[tuple[str, str]]:
    out = []
    for path in folder.rglob("*.spill"):
        out.extend(read_spill(str(path.parent), path.stem))
    return out


def _raw_items(corpora: Path, limit: int = 300) -> list:
    from connectors.feeds import parse_feed

    items: list = []
    paths = sorted(p for p in (corpora / "feeds" / "real").rglob("*") if p.is_file())
    for path in paths:
        items.extend(parse_feed(path.name, path.read_bytes()).items)
        if len(items) >= limit:
            break
    return items


def test_normalise_and_flagging_in_batches_give_what_they_give_one_at_a_time(
    pipeline, corpora, make_item
):
    from transforms.flagging import Flagging
    from transforms.item import to_json
    from transforms.normalise_stage import Normalise

    raws = _raw_items(corpora)
    # One entry empty after its markup is removed: a dead letter on both paths.
    raws.insert(7, make_item(title="<b></b>", text="<p> </p>", url="", guid=""))
    with pipeline as p:
        created = p | beam.Create(raws)
        outs = {}
        for batch in (1, 5):
            normal = created | f"Normalise{batch}" >> Normalise(batch=batch)
            flagged = normal["items"] | f"Flag{batch}" >> Flagging(dead_letters=True, batch=batch)
            lines = flagged["items"] | f"Json{batch}" >> beam.Map(to_json)
            dead = normal[DEAD_LETTER_TAG] | f"Dead{batch}" >> beam.Map(lambda d: d.reason)
            outs[batch] = (lines, dead)
        for batch, (lines, dead) in outs.items():
            assert_that(dead, equal_to(["entry is empty after removing markup"]),
                        label=f"dead {batch}")
        # The general path's lines, gathered, against the batched path's.
        general = outs[1][0] | "All1" >> beam.combiners.ToList() | beam.Map(sorted)
        batched = outs[5][0] | "All5" >> beam.combiners.ToList() | "Sort5" >> beam.Map(sorted)
        pair = (
            (general | "K1" >> beam.Map(lambda v: ("x", v)),
             batched | "K5" >> beam.Map(lambda v: ("x", v)))
            | beam.Flatten()
            | beam.GroupByKey()
            | beam.MapTuple(lambda _, both: len(both[0]) > 300 and both[0] == both[1])
        )
        assert_that(pair, equal_to([True]), label="same items")
