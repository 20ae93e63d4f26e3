"""``newswatch rescore``: flags that appear or disappear under new packs; decisions untouched."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from connectors.store import ReviewStore
from connectors.store_queries import current_decision, decision_history, record_decision
from pipelines.commands import rescore as rescore_command
from pipelines.commands.common import CliError
from transforms.flagging import flag_item
from transforms.item import Item, Source
from transforms.rules import RuleEngine

OLD = """\
language: en
name: old
terms:
  massacre: {gloss: massacre, patterns: ["massacre"]}
  shelling: {gloss: shelling, patterns: ["shelling"]}
rules:
  - {id: en.massacre, category: war_crime_allegation, weight: 0.6, any: [massacre]}
  - {id: en.shelling, category: war_crime_allegation, weight: 0.6, any: [shelling]}
"""
# The new packs drop the shelling rule and add a tribunal rule.
NEW = """\
language: en
name: new
terms:
  massacre: {gloss: massacre, patterns: ["massacre"]}
  tribunal: {gloss: tribunal, patterns: ["tribunal"]}
rules:
  - {id: en.massacre, category: war_crime_allegation, weight: 0.7, any: [massacre]}
  - {id: en.tribunal, category: investigation, weight: 0.8, any: [tribunal]}
"""


def _packs(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "en.yaml").write_text(body, encoding="utf-8")
    return folder


def _item(n: int, text: str) -> Item:
    return Item(
        source=Source(kind="feed", name="test", url="https://example.org/feed"),
        guid=f"g{n}",
        url=f"https://example.org/{n}",
        title=f"item {n}",
        text=text,
        id=f"id-{n}",
        language="en",
    )


@pytest.fixture()
def store_file(tmp_path: Path) -> Path:
    old = RuleEngine.load(_packs(tmp_path, "old", OLD))
    path = tmp_path / "review.sqlite"
    with ReviewStore(path) as store:
        texts = [
            "Witnesses describe a massacre in the village.",  # stays, score changes
            "Heavy shelling of the district continued.",  # disappears
            "A massacre was reported; the tribunal will hear the case.",  # investigation appears
        ]
        for n, text in enumerate(texts):
            store.upsert_item(flag_item(old, _item(n, text)))
        record_decision(store, "id-1", "confirmed", reviewer="ana", categories=None)
    return path


def _args(store: Path, packs: Path | None, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    rescore_command.add_arguments(parser)
    argv = ["--store", str(store), *extra]
    if packs is not None:
        argv += ["--packs_dir", str(packs)]
    return parser.parse_args(argv)


def test_rescore_reports_changes_and_writes_nothing(tmp_path, store_file, capsys):
    new = _packs(tmp_path, "new", NEW)
    output = tmp_path / "rescore.json"
    assert rescore_command.run(_args(store_file, new, "--output", str(output)), []) == 0
    printed = capsys.readouterr().out
    assert "rescored 3 items" in printed
    assert "1 flags appeared, 1 disappeared, 2 changed score" in printed
    assert "decision=confirmed" in printed and "nothing written" in printed
    body = json.loads(output.read_text(encoding="utf-8"))
    by_id = {c["item_id"]: c for c in body["changes"]}
    assert by_id["id-1"]["disappeared"] == ["war_crime_allegation"]
    assert by_id["id-2"]["appeared"] == ["investigation"]
    assert by_id["id-0"]["after"] == {"war_crime_allegation": 0.7}
    with ReviewStore(store_file) as store:  # stored flags unchanged
        assert [f.score for f in store.item("id-0").item.flags] == [0.6]
        assert store.item("id-1").item.flags


def test_rescore_apply_rewrites_flags_and_keeps_decisions(tmp_path, store_file):
    new = _packs(tmp_path, "new", NEW)
    with ReviewStore(store_file) as store:
        history = decision_history(store, "id-1")
    assert rescore_command.run(_args(store_file, new, "--apply"), []) == 0
    with ReviewStore(store_file) as store:
        assert store.item("id-1").item.flags == ()
        assert {f.category for f in store.item("id-2").item.flags} == {
            "war_crime_allegation",
            "investigation",
        }
        assert decision_history(store, "id-1") == history
        assert current_decision(store, "id-1").decision == "confirmed"
        assert store.item("id-1").decision == "confirmed"
    # A second run finds nothing left to change.
    engine = RuleEngine.load(new)
    with ReviewStore(store_file) as store:
        changes = rescore_command.rescore(store, engine, flag_item)
    assert not any(c.appeared or c.disappeared or c.rescored for c in changes)


def test_rescore_refuses_a_missing_store(tmp_path):
    missing = tmp_path / "none.sqlite"
    with pytest.raises(CliError, match="review store not found"):
        rescore_command.run(_args(missing, None), [])
    assert not missing.exists()
