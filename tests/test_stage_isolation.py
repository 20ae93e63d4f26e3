"""One item that breaks a stage becomes a dead letter of that stage; the others go on."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from transforms.flagging import DEAD_LETTER_TAG, Flagging, _FlagFn
from transforms.normalise import normalise_item


def test_flag_dofn_turns_a_failing_item_into_a_dead_letter(make_item):
    fn = _FlagFn(str(Flagging()._packs_dir), {}, isolate=True)
    fn.setup()
    broken = make_item(text=None, origin="feeds/broken.xml")  # not a str: the engine raises
    (out,) = list(fn.process(broken))
    assert out.tag == DEAD_LETTER_TAG
    assert out.value.stage == "flag"
    assert out.value.reason.startswith("TypeError")
    assert out.value.path == "feeds/broken.xml"


def test_flag_dofn_without_isolation_raises(make_item):
    fn = _FlagFn(str(Flagging()._packs_dir), {})
    fn.setup()
    try:
        list(fn.process(make_item(text=None)))
    except TypeError:
        return
    raise AssertionError("a failing item must raise when the stage is not isolated")


def test_flagging_stage_keeps_good_items_and_dead_letters_the_broken_one(pipeline, make_item):
    good = normalise_item(make_item(title="Prosecutors open a war crimes investigation"))
    broken = make_item(guid="wire-2", text=None)
    with pipeline as p:
        out = p | beam.Create([good, broken]) | Flagging(dead_letters=True)
        assert_that(
            out["items"] | "Ids" >> beam.Map(lambda item: (item.id, bool(item.flags))),
            equal_to([(good.id, True)]),
            label="items",
        )
        assert_that(
            out[DEAD_LETTER_TAG] | "Stages" >> beam.Map(lambda d: d.stage),
            equal_to(["flag"]),
            label="dead",
        )
