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


def test_language_dofn_turns_a_failing_item_into_a_dead_letter(make_item):
    from transforms.language import DEAD_LETTER_TAG as LANGUAGE_DEAD, _DetectFn

    fn = _DetectFn("cld2", isolate=True)
    fn.setup()
    broken = make_item(text=12345, origin="feeds/numbers.json")  # a number where text belongs
    (out,) = list(fn.process(broken))
    assert out.tag == LANGUAGE_DEAD
    assert out.value.stage == "language"
    assert out.value.path == "feeds/numbers.json"
    good = normalise_item(make_item(text="<p>Investigators said on Tuesday that they had met.</p>"))
    assert [o.language for o in fn.process(good)] == ["en"]


def test_replay_graph_keeps_going_past_a_broken_item(pipeline, make_item):
    # The broken item is caught by the first stage that meets it (normalise);
    # language and flagging dead letters join the same output (tests above).
    from pipelines.pipeline import build

    good = make_item(title="Prosecutors open a war crimes investigation")
    broken = make_item(guid="wire-2", title="A number for text", text=12345)

    class Source(beam.PTransform):
        def expand(self, pbegin):
            items = pbegin | "Items" >> beam.Create([good, broken])
            none = pbegin | "NoFiles" >> beam.Create([])
            return {"items": items, "dead_letters": none, "files": none}

    with pipeline as p:
        out = build(p, Source())
        assert_that(
            out["dead_letters"] | "Stages" >> beam.Map(lambda d: d.stage),
            equal_to(["normalise"]),
            label="dead",
        )
        assert_that(
            out["items"] | "Guids" >> beam.Map(lambda item: item.guid),
            equal_to(["wire-1"]),
            label="items",
        )
