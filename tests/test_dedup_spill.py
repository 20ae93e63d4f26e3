"""Batch dedup's spill files: items wait on disk, each is isolated, nothing is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to

import transforms.dedup as dedup_module
from pipelines.cli import main
from pipelines.summary import Summarise, check_identities
from transforms.dedup import Dedup, handle, member, resolve_members
from transforms.dedup_apply import ApplyFileFn
from transforms.item import DEAD_LETTER_TAG, DeadLetter, Duplicate, Source, to_json
from transforms.normalise import normalise_item
from transforms.spill import (
    FRAMES_SUFFIX,
    SPILL_FILES_TAG,
    FrameSpillFn,
    SpillFn,
    read_frames,
    read_spill,
    spill_path,
)

REPO = Path(__file__).resolve().parents[1]
STORY = "Investigators from the rights office documented the shelling of the market in detail."


def _items(make_item) -> list:
    out = []
    for n, name in enumerate(("Wire", "Monitor", "Herald")):
        source = Source(kind="feed", name=name, url=f"https://{name.lower()}.example/rss")
        # The same text under three outlets: one representative, two content copies.
        out.append(
            normalise_item(
                make_item(source=source, guid=f"g{n}", url=f"https://{name.lower()}.example/1",
                          title="Market shelled", text=STORY, published=f"2026-03-1{n}T08:00:00Z")
            )
        )
    other = make_item(guid="g9", url="https://wire.example/9", title="Talks resume",
                      text="Delegations met again in the capital on Monday to discuss a truce.")
    out.append(normalise_item(other))
    return out


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_dedup_spills_its_items_and_deletes_every_spill_file(pipeline, make_item, tmp_path):
    spill = tmp_path / "spill"
    items = _items(make_item)
    p = pipeline
    out = p | beam.Create(items) | Dedup(spill_dir=str(spill))
    assert_that(
        out["duplicates"] | "Dups" >> beam.Map(lambda i: (i.id, i.duplicate.kind, i.duplicate.of)),
        equal_to([(items[1].id, "content", items[0].id), (items[2].id, "content", items[0].id)]),
        label="duplicates",
    )
    assert_that(
        out["unique"] | "Reps" >> beam.Map(lambda i: (i.id, [r.id for r in i.also_reported_by])),
        equal_to([(items[0].id, [items[1].id, items[2].id]), (items[3].id, [])]),
        label="unique",
    )
    assert_that(out["items"] | "Count" >> beam.combiners.Count.Globally(), equal_to([4]), label="n")
    result = p.run()
    result.wait_until_finish()
    spilled = result.metrics().query(MetricsFilter().with_name("items_spilled"))["counters"]
    assert sum(c.committed for c in spilled) == len(items)
    # Every file was read back, then deleted, and the emptied folder removed.
    assert _files(spill) == [] and not spill.exists()


def test_an_item_breaking_its_member_is_a_dedup_dead_letter_and_the_rest_go_on(
    pipeline, make_item, tmp_path
):
    items = _items(make_item)
    broken = items[3].replace(title=None)  # what a malformed record could carry
    with pipeline as p:
        read = p | "Items" >> beam.Create([*items[:3], broken])
        out = read | Dedup(spill_dir=str(tmp_path / "spill"))
        assert_that(
            out[DEAD_LETTER_TAG]
            | "Letters" >> beam.Map(lambda d: (d.stage, d.kind, d.path, "NoneType" in d.reason)),
            equal_to([("dedup", "entry", broken.source.url, True)]),
            label="dead",
        )
        counted = {
            "items": out["items"],
            "dead_letters": out[DEAD_LETTER_TAG],
            "files": p | "Files" >> beam.Create(["parsed"]),
            "read": read,
        }
        summary = counted | Summarise() | beam.Map(json.loads)

        def check(lines):
            # Runs inside the pipeline, on the one summary line.
            (counts,) = lines
            assert check_identities(counts) == []
            assert counts["entries.read"] == 4
            assert (counts["entries.unique"], counts["entries.duplicate"]) == (1, 2)
            assert counts["dead_letter_entries.dedup"] == 1

        assert_that(summary, check, label="identities")
    assert _files(tmp_path / "spill") == []


def test_a_spill_line_that_cannot_be_read_is_a_dead_letter(make_item, tmp_path):
    spill = str(tmp_path)
    good = normalise_item(make_item())
    path = Path(spill_path(spill, "f1"))
    path.write_text(f"{handle(good)}\t{to_json(good)}\nk\t{{not json\n", encoding="utf-8")
    fn = ApplyFileFn(spill)
    out = list(fn.process(("f1", {"file": [None], "decision": []})))
    assert out[0] == good
    assert isinstance(out[1].value, DeadLetter) and out[1].tag == DEAD_LETTER_TAG
    assert out[1].value.stage == "dedup" and out[1].value.raw == "{not json"
    assert (out[2].tag, out[2].value) == ("done", "f1")


def test_twins_in_one_spill_file_share_a_decision_and_in_two_are_copies(make_item, tmp_path):
    entry = normalise_item(make_item(origin="feed.xml"))
    a1, a2, b1 = member(entry, file="A"), member(entry, file="A"), member(entry, file="B")
    rep, copies = resolve_members("id", [b1, a2, a1])
    assert (rep.file, rep.twins) == ("A", 1) and copies == [b1]
    # Reading file A back: the first of the twins takes the decision, the other is an id copy.
    spill = str(tmp_path)
    line = f"{handle(entry)}\t{to_json(entry)}\n"
    Path(spill_path(spill, "A")).write_text(line * 2, encoding="utf-8")
    decision = (Duplicate(of="earlier", kind="url"), (), rep.twins)
    fn = ApplyFileFn(spill)
    got = list(fn.process(("A", {"file": [None], "decision": [(handle(entry), decision)]})))
    assert [i.duplicate for i in got[:2]] == [
        Duplicate(of="earlier", kind="url"),
        Duplicate(of=entry.id, kind="id"),
    ]


def test_spill_files_roll_and_read_back_in_order(make_item, tmp_path):
    spill = str(tmp_path)
    fn = SpillFn(spill, lambda item, file_id: (item.id, (item.id, file_id)), "dedup", roll_items=2)
    fn.setup()
    fn.start_bundle()
    items = [normalise_item(make_item(guid=f"g{n}")) for n in range(5)]
    records = [r for item in items for r in fn.process(item)]
    files = [w.value.value for w in fn.finish_bundle()]
    assert all(w.tag == SPILL_FILES_TAG for w in fn.finish_bundle()) and len(files) == 3
    assert [r[1] for r in records] == [files[0]] * 2 + [files[1]] * 2 + [files[2]]
    back = [key for f in files for key, _ in read_spill(spill, f)]
    assert back == [i.id for i in items]


def test_replay_spills_inside_its_staging_folder_and_leaves_nothing(tmp_path, monkeypatch):
    def no_default(_):
        raise AssertionError("replay must give Dedup its spill folder")

    monkeypatch.setattr(dedup_module, "default_spill_dir", no_default)
    out = tmp_path / "out"
    code = main(["replay", str(REPO / "samples" / "feeds"), "--output", str(out), "--quiet"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "dead_letter.jsonl",
        "flagged.jsonl",
        "items.jsonl",
        "summary.json",
    ]
    assert json.loads((out / "summary.json").read_text())["entries.duplicate"] >= 1


@pytest.mark.parametrize("roll", [0, -1])
def test_spill_roll_must_be_positive(roll, tmp_path):
    with pytest.raises(ValueError, match=rf"roll_items must be positive \(got {roll}\)"):
        SpillFn(str(tmp_path), lambda item, f: (item.id, item), "dedup", roll_items=roll)


def test_frame_files_roll_and_give_back_every_record_in_order(tmp_path):
    spill = str(tmp_path)
    fn = FrameSpillFn(spill, roll=3)
    fn.setup()
    fn.start_bundle()
    # Records may hold any byte, newlines and empty ones included.
    records = [b"", b"a\nb", bytes(range(256)), b"x" * 70_000, b"\x00", b"last"]
    assert all(list(fn.process(r)) == [] for r in records)
    files = [w.value for w in fn.finish_bundle()]
    assert len(files) == 2
    assert all(Path(spill_path(spill, f, FRAMES_SUFFIX)).is_file() for f in files)
    assert [r for f in files for r in read_frames(spill, f)] == records


def test_a_frame_file_cut_short_is_an_error_not_fewer_records(tmp_path):
    spill = str(tmp_path)
    fn = FrameSpillFn(spill)
    fn.setup()
    fn.start_bundle()
    list(fn.process(b"first"))
    list(fn.process(b"second record"))
    (file_id,) = [w.value for w in fn.finish_bundle()]
    path = Path(spill_path(spill, file_id, FRAMES_SUFFIX))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="ends inside a frame of 13 bytes"):
        list(read_frames(spill, file_id))


def test_frame_roll_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match=r"roll must be positive \(got 0\)"):
        FrameSpillFn(str(tmp_path), roll=0)


def test_exact_dedup_leaves_no_file_behind_either(pipeline, make_item, tmp_path):
    from transforms.dedup import ExactDedup

    spill = tmp_path / "spill"
    items = _items(make_item)
    with pipeline as p:
        out = p | beam.Create(items) | ExactDedup(spill_dir=str(spill))
        assert_that(out["duplicates"] | beam.Map(lambda i: i.duplicate.kind),
                    equal_to(["content", "content"]))
    assert _files(spill) == [] and not spill.exists()


def test_spill_frames_go_beside_their_items_in_the_same_order(make_item, tmp_path):
    spill = str(tmp_path)

    def describe(item, file_id):
        frame = None if item.guid == "g1" else item.guid.encode()
        return item.id, ((item.id, file_id), frame)

    fn = SpillFn(spill, describe, "dedup", roll_items=2, frames=True)
    fn.setup()
    fn.start_bundle()
    items = [normalise_item(make_item(guid=f"g{n}")) for n in range(3)]
    records = [r for item in items for r in fn.process(item)]
    files = [w.value.value for w in fn.finish_bundle()]
    assert [r[1] for r in records] == [files[0], files[0], files[1]]
    assert list(read_frames(spill, files[0])) == [b"g0"]
    assert list(read_frames(spill, files[1])) == [b"g2"]


@pytest.mark.parametrize("parts", [1, 3])
def test_exact_passes_in_parts_decide_as_in_one_and_leave_no_file(pipeline, make_item, tmp_path, parts):
    spill = tmp_path / "spill"
    items = _items(make_item)
    twice = [items[0], items[0].replace(fetched="2026-03-20T00:00:00Z"), *items[1:]]
    with pipeline as p:
        out = p | beam.Create(twice) | Dedup(spill_dir=str(spill), near_parts=parts)
        assert_that(
            out["items"] | beam.Map(lambda i: (i.id, i.fetched, i.duplicate and i.duplicate.kind,
                                               [r.id for r in i.also_reported_by])),
            equal_to([
                (items[0].id, items[0].fetched, None, [items[1].id, items[2].id]),
                (items[0].id, "2026-03-20T00:00:00Z", "id", []),
                (items[1].id, items[1].fetched, "content", []),
                (items[2].id, items[2].fetched, "content", []),
                (items[3].id, items[3].fetched, None, []),
            ]),
        )
    assert _files(spill) == [] and not spill.exists()
