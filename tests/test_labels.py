"""``newswatch labels export``: decisions in the review store become a labelled set."""

from __future__ import annotations

import json

import pytest

from connectors import store_queries as q
from connectors.pubsub import flagged_message
from connectors.store import ReviewStore
from pipelines.cli import main
from transforms.item import Flag, MatchedTerm, from_dict
from transforms.normalise import normalise_item


@pytest.fixture
def item(make_item):
    def factory(n: int, categories=("war_crime_allegation", "investigation"), other=()):
        base = normalise_item(
            make_item(
                guid=f"g{n}",
                url=f"https://wire.example/news/{n}",
                title=f"Inquiry {n}",
                text="Witnesses described the shelling of civilians.",
            )
        )
        term = MatchedTerm("inquiry", "inquiry", "title", 0, 7, "Inquiry", "r1")
        flags = tuple(Flag(c, 0.8, (term,), base.title, ("r1",)) for c in categories)
        return base.replace(language="uk", flags=flags, other_categories=tuple(other))

    return factory


def export(tmp_path, store_path) -> list[dict]:
    output = tmp_path / "labels.jsonl"
    assert main(["labels", "export", "--store", str(store_path), "--output", str(output)]) == 0
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def test_export_has_the_labelled_set_format(tmp_path, item, corpora):
    store_path = tmp_path / "review.db"
    confirmed, reviewer_set, dismissed, undone, open_ = (item(n) for n in range(1, 6))
    with ReviewStore(store_path) as store:
        for each in (confirmed, reviewer_set, dismissed, undone, open_):
            store.upsert_item(each)
        store.upsert_item(item(2, other=("other_investigation",)))
        q.record_decision(store, confirmed.id, "confirmed", reviewer="ana", note="ICC probe")
        q.record_decision(
            store, reviewer_set.id, "confirmed", reviewer="ben", categories=["investigation"]
        )
        q.record_decision(store, dismissed.id, "confirmed", reviewer="ana")
        q.record_decision(store, dismissed.id, "dismissed", reviewer="ben", note="sports")
        q.record_decision(store, undone.id, "confirmed", reviewer="ana")
        q.undo(store, undone.id, reviewer="ana")
    rows = {row["id"]: row for row in export(tmp_path, store_path)}
    assert set(rows) == {confirmed.id, reviewer_set.id, dismissed.id}

    dev_keys = set(json.loads((corpora / "labeled" / "dev.jsonl").open().readline()))
    assert all(dev_keys <= set(row) for row in rows.values())

    row = rows[confirmed.id]
    assert (row["flag"], row["allegation"], row["investigation"]) == (True, True, True)
    assert row["other_investigation"] is False
    assert row["text"] == "Inquiry 1\nWitnesses described the shelling of civilians."
    assert (row["lang"], row["note"], row["reviewer"]) == ("uk", "ICC probe", "ana")
    assert row["source"] == "Example Wire:https://wire.example/rss"

    row = rows[reviewer_set.id]
    assert (row["flag"], row["allegation"], row["investigation"]) == (True, False, True)
    assert row["other_investigation"] is False, "the reviewer's categories win"

    row = rows[dismissed.id]
    assert (row["flag"], row["allegation"], row["investigation"]) == (False, False, False)
    assert (row["note"], row["reviewer"]) == ("sports", "ben")


def test_export_is_read_by_the_eval_loader(tmp_path, item):
    from pipelines.evaluate import load_labelled

    store_path = tmp_path / "review.db"
    one = item(1)
    with ReviewStore(store_path) as store:
        store.upsert_item(one)
        q.record_decision(store, one.id, "dismissed", reviewer="ana")
    export(tmp_path, store_path)
    [row] = load_labelled(tmp_path / "labels.jsonl")
    assert row["id"] == one.id and row["flag"] is False


def test_a_truncated_text_is_exported_without_the_marker(tmp_path, item):
    long = item(1).replace(text="Witnesses described the shelling. " * 2000)
    data, attributes = flagged_message(long, max_bytes=8000)
    assert attributes["truncated"] == "1"
    body = json.loads(data)
    store_path = tmp_path / "review.db"
    with ReviewStore(store_path) as store:
        store.upsert_item(from_dict(body), text_truncated=body["text_truncated"])
        q.record_decision(store, long.id, "confirmed", reviewer="ana")
    [row] = export(tmp_path, store_path)
    kept = body["text_truncated"]["kept_chars"]
    assert row["text"] == "Inquiry 1\n" + long.text[:kept]
    assert "truncated" not in row["text"]


def test_contradicting_categories_are_refused(tmp_path, item):
    with ReviewStore(tmp_path / "review.db") as store:
        one = item(1)
        store.upsert_item(one)
        with pytest.raises(ValueError, match="must have one of"):
            q.record_decision(
                store, one.id, "confirmed", reviewer="ana", categories=["other_investigation"]
            )
        with pytest.raises(ValueError, match="must not have one of"):
            q.record_decision(
                store, one.id, "dismissed", reviewer="ana", categories=["investigation"]
            )
        with pytest.raises(ValueError, match="categories must be among"):
            q.record_decision(store, one.id, "confirmed", reviewer="ana", categories=["genocide"])


def test_missing_store_is_a_one_line_error(tmp_path, capsys):
    code = main(["labels", "export", "--store", str(tmp_path / "no.db"), "--output", "x.jsonl"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"newswatch: error: --store: no review store at {tmp_path / 'no.db'}"
    )
