"""The poller's state file: rows per source, config changes, durability across connections."""

from __future__ import annotations

import sqlite3

import pytest

from connectors.base import SourceConfig
from connectors.rawsinks import JsonlOutput, repair_tail
from connectors.state import SourceHealth, State, config_hash, default_state_path


def feed(name: str, url: str = "https://example.org/rss", **kw) -> SourceConfig:
    return SourceConfig(name=name, kind="feed", url=url, **kw)


def test_new_sources_are_due_at_once(tmp_path):
    with State(tmp_path / "s.sqlite") as state:
        rows = state.sync([feed("a"), feed("b", "https://example.org/b")])
    assert sorted(rows) == ["a", "b"]
    assert all(r.next_poll == 0 and r.cursor is None and r.polls == 0 for r in rows.values())


def test_rows_survive_reopening_and_are_written_in_wal_mode(tmp_path):
    path = tmp_path / "deep" / "dir" / "s.sqlite"
    with State(path) as state:
        row = state.sync([feed("a")])["a"]
        state.save([row.replace(cursor="c1", next_poll=123.0, polls=1, last_error="x")])
        assert state.bump("rounds") == 1
        assert state.bump("rounds") == 2
    with State(path) as state:
        again = state.get("a")
        got = (again.cursor, again.next_poll, again.polls, again.last_error)
        assert got == ("c1", 123.0, 1, "x")
        assert state.counter("rounds") == 2
        # sync keeps what is stored when the configuration is unchanged
        assert state.sync([feed("a")])["a"] == again
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_changed_url_starts_the_source_afresh_but_keeps_counts(tmp_path):
    with State(tmp_path / "s.sqlite") as state:
        row = state.sync([feed("a")])["a"]
        state.save([row.replace(cursor="c1", next_poll=9e9, consecutive_failures=4, items=7)])
        moved = state.sync([feed("a", "https://example.org/new")])["a"]
    assert moved.url == "https://example.org/new"
    assert (moved.cursor, moved.next_poll, moved.consecutive_failures) == (None, 0.0, 0)
    assert moved.items == 7


def test_country_or_language_change_does_not_reset_the_cursor(tmp_path):
    # Only what decides what is fetched belongs to the hash.
    assert config_hash(feed("a", country="UA")) == config_hash(feed("a", language="uk"))
    assert config_hash(feed("a")) != config_hash(
        SourceConfig(name="a", kind="feed", url="https://example.org/rss", options={"x": 1})
    )


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not sqlite at all, just text\n" * 50)
    with pytest.raises(ValueError, match="not a newswatch state file"):
        State(path)


def test_default_path_is_under_the_user_state_directory():
    path = default_state_path()
    assert path.name == "poll.sqlite" and "newswatch" in str(path)


def test_fresh_row_is_keyed_by_the_configuration():
    row = SourceHealth.fresh(feed("a"))
    assert row.config_hash == config_hash(feed("a")) and row.kind == "feed"


def test_torn_jsonl_tail_is_cut_when_the_file_is_next_opened(tmp_path, make_item):
    out = JsonlOutput(tmp_path, clock=lambda: 0.0)
    out.write([make_item(guid="1")], [])
    out.close()
    path = out.path("items", "1970-01-01")
    good = path.read_bytes()
    with open(path, "ab") as handle:
        handle.write(b'{"id": "torn')  # a write cut short by a kill
    assert repair_tail(path) == len(b'{"id": "torn')
    assert path.read_bytes() == good
    assert repair_tail(path) == 0
    # a reopened output repairs before appending
    with open(path, "ab") as handle:
        handle.write(b'{"half')
    again = JsonlOutput(tmp_path, clock=lambda: 0.0)
    again.write([make_item(guid="2")], [])
    again.close()
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2 and all(line.startswith(b"{") and line.endswith(b"}") for line in lines)


def test_after_success_adapts_the_interval_and_keeps_counts():
    from connectors.base import PollResult
    from connectors.rounds import after_success

    row = SourceHealth.fresh(feed("a")).replace(consecutive_failures=3, last_error="transient: x")
    busy = PollResult(items=("i1", "i2"), cursor="c1")  # two new items (items are opaque here)
    first = after_success(row, busy, started=100.0, now=101.0, bounds=(300.0, 3600.0))
    assert (first.cursor, first.interval, first.next_poll) == ("c1", 300.0, 401.0)
    assert (first.consecutive_failures, first.last_status, first.items) == (0, "new", 2)
    assert first.last_error == "transient: x" and first.last_new == 101.0
    quiet = PollResult(items=(), cursor="c1", not_modified=True)
    second = after_success(first, quiet, started=500.0, now=500.0, bounds=(300.0, 3600.0))
    assert second.interval == 450.0 and second.not_modified == 1 and second.last_new == 101.0
    # the source's own freshness hint is a floor
    hinted = PollResult(items=(), cursor="c1", retry_after=3000.0)
    third = after_success(second, hinted, started=1.0, now=1.0, bounds=(300.0, 3600.0))
    assert third.interval == 3000.0 and third.last_status == "unchanged"


def test_after_failure_backs_off_and_keeps_the_cursor():
    import random

    from connectors.errors import PermanentError, TransientError
    from connectors.rounds import PollerConfig, after_failure

    config = PollerConfig(bounds=(300.0, 3600.0), backoff_base=60.0)
    row = SourceHealth.fresh(feed("a")).replace(cursor="c1", interval=900.0)
    delays = []
    for _ in range(4):
        row = after_failure(row, TransientError("HTTP 503"), 0.0, 0.0, config, random.Random(1))
        delays.append(row.next_poll)
    assert row.consecutive_failures == 4 and row.errors == 4 and row.cursor == "c1"
    assert row.interval == 900.0 and row.last_error == "transient: HTTP 503"
    # full jitter below the doubling ceiling: 60, 120, 240, 480 s (same draw each time)
    assert all(1.0 <= d <= 60.0 * 2**n for n, d in enumerate(delays))
    assert delays == sorted(delays)
    told = after_failure(row, TransientError("429", retry_after=2000.0), 0.0, 10.0, config)
    assert told.next_poll >= 2010.0
    gone = after_failure(row, PermanentError("HTTP 404"), 0.0, 10.0, config)
    assert gone.next_poll == 3610.0 and gone.last_error == "permanent: HTTP 404"
