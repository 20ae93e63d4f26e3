"""The JSONL sinks: every record written once, never grouped, shards joined and removed."""

from __future__ import annotations

import hashlib
import json
import typing
from pathlib import Path

import apache_beam as beam
import pytest

from connectors.shards import Shard, join_shards
from connectors.sinks import SHARDS_PREFIX, WriteJsonl, _ShardFn, serialise
from pipelines.pipeline import OUTPUT_FILES, write_files
from pipelines.summary import check_identities, item_keys
from transforms.item import DEAD_LETTER_TAG, DeadLetter, Flag, Item, Source, to_json

BROKEN_TITLE = "War crimes \ud800 report"  # a lone surrogate: no UTF-8 form


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(SHARDS_PREFIX)]


def _grouped_inputs(p: beam.Pipeline) -> list[str]:
    """Full labels of the GroupByKeys in the graph."""
    found = []

    class Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            if isinstance(node.transform, beam.GroupByKey):
                found.append(node.full_label)

    p.visit(Visitor())
    return found


def test_every_record_lands_once_and_no_record_is_grouped(pipeline, make_item, tmp_path):
    items = [make_item(guid=f"g{i}", title=f"Report {i}") for i in range(300)]
    target = tmp_path / "items.jsonl"
    with pipeline as p:
        p | beam.Create(items) | WriteJsonl(str(target), keys=item_keys)
        # The sink's only grouping is its final step's, over shard records and counts.
        grouped = [label for label in _grouped_inputs(p) if label.startswith("WriteJsonl/")]
        assert grouped == ["WriteJsonl/Join/Gather/CombinePerKey/GroupByKey"]
    assert sorted(_lines(target)) == sorted(to_json(i) for i in items)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["items.jsonl"]  # no shards left


def test_empty_input_still_writes_an_empty_file(pipeline, tmp_path):
    target = tmp_path / "flagged.jsonl"
    with pipeline as p:
        p | beam.Create([]).with_output_types(Item) | WriteJsonl(str(target))
    assert target.read_bytes() == b""
    assert _leftovers(tmp_path) == []


def test_item_that_cannot_be_serialised_becomes_a_write_dead_letter(make_item, tmp_path):
    fn = _ShardFn(str(tmp_path / "shards"), "items.jsonl", item_keys, dead_letters=True)
    good = make_item(language="en")
    broken = make_item(guid="bad", title=BROKEN_TITLE, origin="feeds/bad.xml")
    with pytest.raises(UnicodeEncodeError):
        serialise(broken)
    fn.start_bundle()
    assert list(fn.process(good)) == []
    (letter,) = list(fn.process(broken))
    (shard,) = [w.value for w in fn.finish_bundle()]
    assert letter.tag == DEAD_LETTER_TAG
    dead = letter.value
    assert dead.stage == "write" and dead.kind == "entry" and dead.path == "feeds/bad.xml"
    assert dead.reason.startswith("cannot write the record: UnicodeEncodeError")
    assert "\\ud800" in dead.raw  # the record, escaped, for inspection
    serialise(dead)  # the dead letter itself can be written
    assert shard.lines == 1 and shard.output == "items.jsonl"
    assert dict(shard.counts) == {"entries.unique": 1, "language.en": 1}
    assert _lines(Path(shard.path)) == [to_json(good)]


def test_dead_letter_that_cannot_be_serialised_is_written_sanitised(tmp_path):
    fn = _ShardFn(str(tmp_path / "shards"), "dead_letter.jsonl", None, dead_letters=False)
    letter = DeadLetter(stage="parse", reason="bad \udcff byte", path="feeds/x\udcff.xml")
    fn.start_bundle()
    assert list(fn.process(letter)) == []
    (shard,) = [w.value for w in fn.finish_bundle()]
    (line,) = _lines(Path(shard.path))
    written = json.loads(line)
    assert written["stage"] == "parse" and written["kind"] == "entry"
    assert written["path"] == "feeds/x\\udcff.xml"
    assert written["reason"].startswith("bad \\udcff byte [cannot write the record")


def test_flagged_sink_skips_what_the_items_sink_dead_letters(make_item, tmp_path):
    fn = _ShardFn(str(tmp_path / "shards"), "flagged.jsonl", None, dead_letters=False)
    fn.start_bundle()
    assert list(fn.process(make_item(title=BROKEN_TITLE))) == []
    assert list(fn.finish_bundle()) == []  # nothing written: no shard, no file
    assert not (tmp_path / "shards").exists()


def _shard_folder(folder: Path) -> list[Shard]:
    folder.mkdir()
    shards = []
    for name, text in {"a": "1\n2\n", "b": "3\n", "c": "4\n5\n6\n"}.items():
        (folder / name).write_text(text)
        first = hashlib.sha1(text.splitlines(keepends=True)[0].encode()).hexdigest()
        shards.append(Shard("out.jsonl", str(folder / name), text.count("\n"), first))
    (folder / "failed-attempt").write_text("never joined\n")
    return shards


def test_join_is_stable_streams_every_shard_and_removes_the_folder(tmp_path):
    folder = tmp_path / "shards"
    joined = []
    for run, reverse in enumerate((False, True)):
        shards = _shard_folder(folder)
        target = tmp_path / f"run{run}"
        order = shards[::-1] if reverse else shards
        join_shards(
            str(folder), str(target), ["out.jsonl", "none.jsonl"], order, {"s.json": "{}\n"}
        )
        joined.append((target / "out.jsonl").read_text())
        assert (target / "none.jsonl").read_bytes() == b""  # no shard: still written
        assert (target / "s.json").read_text() == "{}\n"
        assert not folder.exists()  # the failed attempt's shard went with it
    assert joined[0] == joined[1]
    assert sorted(joined[0].splitlines()) == ["1", "2", "3", "4", "5", "6"]


def test_a_retried_join_leaves_the_outputs_it_wrote(tmp_path):
    folder = tmp_path / "shards"
    shards = _shard_folder(folder)
    join_shards(str(folder), str(tmp_path / "out"), ["out.jsonl"], shards)
    written = (tmp_path / "out" / "out.jsonl").read_text()
    join_shards(str(folder), str(tmp_path / "out"), ["out.jsonl"], shards)  # shards gone
    assert (tmp_path / "out" / "out.jsonl").read_text() == written
    (tmp_path / "out" / "out.jsonl").unlink()
    with pytest.raises(OSError):  # an output missing and no shards: the run fails
        join_shards(str(folder), str(tmp_path / "out"), ["out.jsonl"], shards)


def _outputs(p, items, dead_letters, files):
    made = p | "Items" >> beam.Create(list(range(len(items) + 1)))
    # The unwritable item is made inside the sink's stage, untyped: the item
    # coder (which would refuse it too) never meets it before the sink does.
    make = beam.Map(lambda i: items[i] if i < len(items) else BROKEN)
    made = made | "Make" >> make.with_output_types(typing.Any)
    return {
        "items": made,
        "flagged": made | "Flagged" >> beam.Filter(lambda item: bool(item.flags)),
        "dead_letters": p | "Dead" >> beam.Create(dead_letters),
        "files": p | "Files" >> beam.Create(files),
        "read": made,
    }


BROKEN = Item(
    source=Source(kind="feed", name="Wire", url="https://wire.example/rss"),
    guid="broken",
    url="https://wire.example/broken",
    title=BROKEN_TITLE,
    text="text",
    id="broken-id",
    flags=(Flag(category="war_crime_allegation", score=0.9, terms=(), snippet="", rules=("r",)),),
    origin="feeds/wire.xml",
)


def test_write_files_counts_what_it_writes_and_dead_letters_the_unwritable(
    pipeline, make_item, tmp_path
):
    flag = Flag(category="investigation", score=0.8, terms=(), snippet="s", rules=("r",))
    items = [
        make_item(guid="a", id="a", language="en", flags=(flag,)),
        make_item(guid="b", id="b", language="fr"),
    ]
    parse_dead = DeadLetter(stage="parse", reason="no title", path="feeds/wire.xml")
    with pipeline as p:
        write_files(_outputs(p, items, [parse_dead], ["parsed", "parsed"]), str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(OUTPUT_FILES)
    assert sorted(_lines(tmp_path / "items.jsonl")) == sorted(to_json(i) for i in items)
    assert _lines(tmp_path / "flagged.jsonl") == [to_json(items[0])]
    dead = [json.loads(line) for line in _lines(tmp_path / "dead_letter.jsonl")]
    assert sorted(d["stage"] for d in dead) == ["parse", "write"]
    (write,) = [d for d in dead if d["stage"] == "write"]
    assert write["path"] == "feeds/wire.xml" and "UnicodeEncodeError" in write["reason"]
    counts = json.loads((tmp_path / "summary.json").read_text())
    assert counts["entries.read"] == 4  # a, b, the broken item, the parse dead letter
    assert counts["entries.unique"] == 2 and counts["entries.dead_letter"] == 2
    assert counts["dead_letter_entries.write"] == 1 and counts["files.parsed"] == 2
    assert counts["flagged.any"] == 1  # the broken item's flag is not counted
    assert check_identities(counts) == []


def test_replay_graph_writes_what_beams_text_sink_writes_on_the_samples(pipeline, tmp_path):
    # The same collections through both sinks in one run: the files hold the
    # same lines (in whatever order), and the summary counts them.
    from connectors.files import ReadFeedFiles, expand_inputs
    from pipelines.pipeline import StageConfig, build
    from transforms.dedup import Dedup

    samples = Path(__file__).resolve().parents[1] / "samples" / "feeds"
    ours, text = tmp_path / "ours", tmp_path / "text"
    ours.mkdir()
    with pipeline as p:
        source = ReadFeedFiles(expand_inputs([str(samples)]))
        outputs = build(p, source, StageConfig(), dedup=Dedup(spill_dir=str(tmp_path / "spill")))
        write_files(outputs, str(ours))
        for name, key in (("items", "items"), ("flagged", "flagged"), ("dead", "dead_letters")):
            (
                outputs[key]
                | f"Json-{name}" >> beam.Map(to_json)
                | f"Text-{name}"
                >> (beam.io.WriteToText(str(text / name), shard_name_template="", num_shards=1))
            )
    assert sorted(p.name for p in ours.iterdir()) == sorted(OUTPUT_FILES)
    for ours_name, text_name in (
        ("items.jsonl", "items"),
        ("flagged.jsonl", "flagged"),
        ("dead_letter.jsonl", "dead"),
    ):
        assert sorted(_lines(ours / ours_name)) == sorted(_lines(text / text_name)), ours_name
    counts = json.loads((ours / "summary.json").read_text())
    items = len(_lines(ours / "items.jsonl"))
    assert items > 40 and counts["entries.unique"] + counts["entries.duplicate"] == items
    assert counts["flagged.any"] == len(_lines(ours / "flagged.jsonl"))
    assert check_identities(counts) == []


def test_a_join_failing_midway_leaves_the_old_outputs_and_nothing_else(tmp_path, monkeypatch):
    import shutil as real_shutil
    from types import SimpleNamespace

    import connectors.shards
    from pipelines.cli import main

    out = tmp_path / "out"
    out.mkdir()
    for name in OUTPUT_FILES:
        (out / name).write_text(f"old {name}\n")
    copied = []

    def copy_then_fail(source, target, length):
        # The first shard is copied into the staged items.jsonl; then the disk fails.
        if copied:
            raise OSError("disk full")
        copied.append(source)
        real_shutil.copyfileobj(source, target, length)

    monkeypatch.setattr(connectors.shards, "shutil", SimpleNamespace(copyfileobj=copy_then_fail))
    samples = Path(__file__).resolve().parents[1] / "samples" / "feeds"
    assert main(["replay", str(samples), "--output", str(out), "--quiet"]) == 1
    assert copied  # it did fail midway, after writing part of an output
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    for name in OUTPUT_FILES:
        assert (out / name).read_text() == f"old {name}\n"


def test_a_failed_run_into_a_remote_output_deletes_its_shards(tmp_path):
    # A remote output is its own staging area: there the shards are deleted
    # file by file through FileSystems (here on local disk, standing in).
    from pipelines.runtools import StagedOutput

    (tmp_path / "items.jsonl").write_text("old\n")
    staging = StagedOutput(str(tmp_path), OUTPUT_FILES)
    staging.remote = True
    with staging:
        shards = tmp_path / f"{SHARDS_PREFIX}run"
        shards.mkdir()
        for n in range(3):
            (shards / f"items.jsonl-{n}").write_text("new\n")
    assert list(shards.iterdir()) == []
    assert (tmp_path / "items.jsonl").read_text() == "old\n"
