"""The review store (connectors/store.py, store_queries.py) on real SQLite files."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from connectors import store_queries as q
from connectors.store import ReviewStore
from transforms.item import Flag, MatchedTerm, Report, ReportUpdate, Source
from transforms.normalise import normalise_item


@pytest.fixture
def store(tmp_path):
    with ReviewStore(tmp_path / "review.db") as opened:
        yield opened


@pytest.fixture
def flagged_item(make_item):
    def factory(n: int = 1, categories=("investigation",), **overrides):
        fields = {
            "guid": f"wire-{n}",
            "url": f"https://wire.example/news/{n}",
            "title": f"Prosecutors open inquiry number {n}",
            "text": "Prosecutors opened an inquiry into the shelling of civilians.",
            "fetched": f"2026-03-{10 + n:02d}T09:00:00Z",
        }
        fields.update(overrides)
        item = normalise_item(make_item(**fields))
        term = MatchedTerm("inquiry", "inquiry", "title", 17, 24, "inquiry", "r1")
        assert item.title[17:24] == "inquiry"
        flags = tuple(
            Flag(c, 0.5 + 0.1 * i, (term,), item.title, ("r1",)) for i, c in enumerate(categories)
        )
        return item.replace(language=fields.get("language", "en"), flags=flags)

    return factory


def report(n: int) -> Report:
    return Report(
        id=f"copy-{n}",
        source=Source("feed", f"Outlet {n}", f"https://o{n}/rss"),
        url=f"https://o{n}/a",
    )


def test_opens_in_wal_mode_with_fts5(store):
    assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = {r[0] for r in store.connection.execute("SELECT name FROM sqlite_master")}
    assert {"flagged", "decisions", "flag_categories", "pending_updates", "flagged_fts"} <= names


def test_upsert_by_id_never_duplicates(store, flagged_item):
    item = flagged_item()
    assert store.upsert_item(item) == "new"
    assert store.upsert_item(item) == "unchanged"
    assert store.counts()["flagged"] == 1
    assert store.item(item.id).item == item


def test_a_changed_item_replaces_its_row_and_its_search_entry(store, flagged_item):
    item = flagged_item()
    store.upsert_item(item)
    store.upsert_item(item.replace(title="Tribunal hears witnesses"))
    assert store.counts()["flagged"] == 1
    assert [s.item.id for s in q.queue(store, q.QueueFilter(query="tribunal"))] == [item.id]
    assert q.queue(store, q.QueueFilter(query="prosecutors open")) == []


def test_update_applied_once_and_kept_across_redelivery(store, flagged_item):
    item = flagged_item()
    store.upsert_item(item)
    update = ReportUpdate(item.id, report(1))
    assert store.apply_update(update) == "applied"
    assert store.apply_update(update) == "duplicate"
    assert store.upsert_item(item) == "unchanged", "the redelivered item keeps the report"
    assert store.item(item.id).item.also_reported_by == (report(1),)


def test_update_before_its_item_waits_and_is_applied_when_it_arrives(store, flagged_item):
    item = flagged_item()
    assert store.apply_update(ReportUpdate(item.id, report(2))) == "pending"
    assert store.apply_update(ReportUpdate(item.id, report(2))) == "duplicate"
    assert store.counts()["pending_updates"] == 1
    store.upsert_item(item.replace(also_reported_by=(report(1),)))
    assert store.item(item.id).item.also_reported_by == (report(1), report(2))
    assert store.counts()["pending_updates"] == 0


def test_updates_waiting_past_the_ttl_are_dropped_and_counted(store, flagged_item):
    a, b = flagged_item(1), flagged_item(2)
    store.apply_update(ReportUpdate(a.id, report(1)), received_at="2026-03-01T00:00:00.000Z")
    store.apply_update(ReportUpdate(b.id, report(2)), received_at="2026-03-09T00:00:00.000Z")
    assert store.expire_pending("2026-03-05T00:00:00Z") == 1
    store.upsert_item(a)
    store.upsert_item(b)
    assert store.item(a.id).item.also_reported_by == ()
    assert store.item(b.id).item.also_reported_by == (report(2),)


def test_upserts_never_touch_decisions(store, flagged_item):
    item = flagged_item()
    store.upsert_item(item)
    q.record_decision(store, item.id, "confirmed", reviewer="ana", note="ICC case")
    store.upsert_item(item.replace(title="Updated title"))
    store.apply_update(ReportUpdate(item.id, report(1)))
    stored = store.item(item.id)
    assert (stored.decision, stored.decision_reviewer, stored.decision_note) == (
        "confirmed",
        "ana",
        "ICC case",
    )
    assert [d.decision for d in q.decision_history(store, item.id)] == ["confirmed"]


def test_latest_decision_is_current_and_undo_stacks(store, flagged_item):
    item = flagged_item()
    store.upsert_item(item)
    q.record_decision(store, item.id, "confirmed", reviewer="ana")
    q.record_decision(store, item.id, "dismissed", reviewer="ben", note="sports")
    assert store.item(item.id).decision == "dismissed"
    assert store.item(item.id).decision_reviewer == "ben"
    assert q.undo(store, item.id, reviewer="ben").decision == "confirmed"
    assert store.item(item.id).decision == "confirmed"
    assert q.undo(store, item.id, reviewer="ben").decision == "undecided"
    assert store.item(item.id).decision is None
    assert q.undo(store, item.id, reviewer="ben") is None
    history = q.decision_history(store, item.id)
    assert [d.decision for d in history] == ["confirmed", "dismissed", "confirmed", "undecided"]
    assert [d.undoes for d in history] == [None, None, history[1].id, history[0].id]


@pytest.mark.parametrize(
    ("decision", "reviewer", "item_id", "reason"),
    [
        ("maybe", "ana", None, "decision must be one of"),
        ("confirmed", " ", None, "reviewer"),
        ("confirmed", "ana", "missing", "no flagged item"),
    ],
)
def test_bad_decisions_are_refused(store, flagged_item, decision, reviewer, item_id, reason):
    item = flagged_item()
    store.upsert_item(item)
    with pytest.raises(ValueError, match=reason):
        q.record_decision(store, item_id or item.id, decision, reviewer=reviewer)
    assert store.counts()["decisions"] == 0


def test_queue_filters_newest_first(store, flagged_item):
    a = flagged_item(1, language="en")
    b = flagged_item(2, categories=("war_crime_allegation", "investigation"), language="uk")
    c = flagged_item(3, source=Source("feed", "State TV", "https://tv/rss", "RU", "state media"))
    for item in (a, b, c):
        store.upsert_item(item)
    q.record_decision(store, c.id, "dismissed", reviewer="ana")

    def ids(**filters):
        return [s.item.id for s in q.queue(store, q.QueueFilter(**filters))]

    assert ids() == [b.id, a.id]
    assert ids(decision="any") == [c.id, b.id, a.id]
    assert ids(decision="dismissed") == [c.id]
    assert ids(category="war_crime_allegation") == [b.id]
    assert ids(language="uk") == [b.id]
    assert ids(decision="any", affiliation="state media", country="RU") == [c.id]
    assert ids(decision="any", source="Example Wire") == [b.id, a.id]
    assert ids(since="2026-03-12", until="2026-03-13") == [b.id]
    assert q.count_queue(store, q.QueueFilter(decision="any")) == 3
    assert [
        s.item.id for s in q.queue(store, q.QueueFilter(decision="any"), limit=1, offset=1)
    ] == [b.id]
    with pytest.raises(ValueError, match="decision filter"):
        q.queue(store, q.QueueFilter(decision="maybe"))
    with pytest.raises(ValueError, match="since must be"):
        q.queue(store, q.QueueFilter(since="last week"))


def test_search_marks_matches_and_treats_syntax_as_text(store, flagged_item):
    item = flagged_item(text="Witnesses described the shelling of civilians near the bridge.")
    store.upsert_item(item)
    [hit] = q.queue(store, q.QueueFilter(query="shell*"))
    assert f"{q.MATCH_START}shelling{q.MATCH_END}" in hit.snippet
    assert q.queue(store, q.QueueFilter(query='bridge" OR title:x NEAR(')) == []
    assert len(q.queue(store, q.QueueFilter(query="BRIDGE witnesses"))) == 1


def test_overview_counts(store, flagged_item):
    a, b = flagged_item(1), flagged_item(2, categories=("war_crime_allegation",), language="fr")
    store.upsert_item(a)
    store.upsert_item(b)
    q.record_decision(store, a.id, "confirmed", reviewer="ana")
    assert q.counts_by_decision(store) == {"undecided": 1, "confirmed": 1, "dismissed": 0}
    assert q.daily_counts(store, "category", "2026-03-01") == [
        ("2026-03-11", "investigation", 1),
        ("2026-03-12", "war_crime_allegation", 1),
    ]
    assert q.daily_counts(store, "language", "2026-03-12") == [("2026-03-12", "fr", 1)]
    assert q.top_sources(store)[0]["n"] == 2


def test_truncation_info_is_kept(store, flagged_item):
    item = flagged_item()
    info = {"kept_chars": 10, "total_chars": 99, "terms_dropped": 1}
    store.upsert_item(item, text_truncated=info)
    assert store.item(item.id).text_truncated == info
    assert store.item(item.id).item == item


def test_the_desk_reads_while_a_writer_holds_its_transaction(tmp_path, flagged_item):
    path = tmp_path / "review.db"
    writer, reader = ReviewStore(path), ReviewStore(path)
    try:
        writer.upsert_item(flagged_item(1))
        done = threading.Event()
        with writer.transaction():
            writer.upsert_item(flagged_item(2))
            # WAL: a reader sees the last commit at once, without waiting for the writer.
            thread = threading.Thread(
                target=lambda: q.count_queue(reader) == 1 and done.set(), daemon=True
            )
            thread.start()
            thread.join(timeout=5)
            assert done.is_set()
        assert q.count_queue(reader) == 2
    finally:
        writer.close()
        reader.close()


def test_a_newer_store_version_is_refused(tmp_path):
    path = tmp_path / "review.db"
    ReviewStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(sqlite3.DatabaseError, match="version 99"):
        ReviewStore(path)
