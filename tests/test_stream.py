"""The streaming job on the Pub/Sub emulator: raw items in; flagged, updates, dead letters out."""

from __future__ import annotations

import socket
import time
from collections import defaultdict
from datetime import UTC, datetime

import httpx
import pytest

from connectors.pubsub import raw_item_message
from tests.streamkit import (
    Topics,
    bodies,
    pull_until,
    sample_items,
    start_stream,
    stop_process,
    wait_for_jsonl,
    wait_for_log,
)
from tests.test_replay import SAMPLES, replay
from transforms.normalise import normalise_item

WINDOW = 30


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> dict:
    return replay(tmp_path_factory.mktemp("replay"), SAMPLES / "feeds")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_metric(port: int, line: str, timeout: float = 30) -> str:
    """The /metrics page once it holds ``line`` (the status loop refreshes it every 2 s)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.HTTPError:
            text = ""
        if line in text:
            return text
        time.sleep(0.5)  # polling the endpoint for a condition, with a deadline
    raise AssertionError(f"{line!r} not in /metrics after {timeout} s:\n{text[-2000:]}")


def _stories(flagged: list[dict], updates: list[dict]) -> set[frozenset[str]]:
    """Each flagged story as the set of its members' ids (representative and reports)."""
    members: dict[str, set[str]] = defaultdict(set)
    for item in flagged:
        members[item["id"]].add(item["id"])
        members[item["id"]].update(r["id"] for r in item["also_reported_by"])
    for update in updates:
        if update["representative_id"] in members:
            members[update["representative_id"]].add(update["report"]["id"])
    return {frozenset(m) for m in members.values()}


def test_stream_flags_publishes_updates_and_dead_letters(pubsub_emulator, tmp_path, replayed):
    topics = Topics(pubsub_emulator)
    proc = None
    try:
        raw_topic, raw_sub = topics.pair("raw")
        flagged_topic, flagged_sub = topics.pair("flagged")
        dead_topic, dead_sub = topics.pair("dead")
        # The local runner's watermark is the wall clock: fetched just after the
        # next window boundary, so no item can be behind it by publishing time.
        start = (int(time.time()) // WINDOW + 1) * WINDOW + 1
        fetched = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        items = sample_items(fetched=fetched)
        # One item fetched long before the rest: behind the watermark, counted, not dropped.
        late_guid = items[0].guid
        items[0] = items[0].replace(fetched="2020-01-01T00:00:00Z")
        messages = [raw_item_message(item) for item in items]
        flagged_guids = {i["guid"] for i in replayed["flagged"]}
        # A flagged item published twice must still come out once.
        twice = next(
            m
            for m, i in zip(messages, items, strict=True)
            if i.guid in flagged_guids and i.guid != late_guid
        )
        metrics_port = _free_port()
        out = tmp_path / "out"
        proc = start_stream(
            [
                "--subscription", raw_sub,
                "--flagged_topic", flagged_topic,
                "--dead_letter_topic", dead_topic,
                "--output", str(out),
                "--status_seconds", "2",
                "--window_seconds", str(WINDOW),
                "--metrics_port", str(metrics_port),
            ],
            tmp_path / "stream.log",
        )  # fmt: skip
        wait_for_log(proc, tmp_path / "stream.log", "streaming from", timeout=120)
        topics.publish(raw_topic, [*messages, twice, (b"{not json", {"fetched": "x"})])

        expected_flagged = {(i["source"]["url"], i["guid"]) for i in replayed["flagged"]}
        got = pull_until(
            topics.subscriber,
            flagged_sub,
            lambda ms: sum(m.attributes.get("kind") == "item" for m in ms) >= len(expected_flagged),
            timeout=240,
            settle=8,
            alive=lambda: proc.poll() is None,
        )
        dead = pull_until(
            topics.subscriber,
            dead_sub,
            lambda ms: len(ms) >= 1,
            timeout=30,
            alive=lambda: proc.poll() is None,
        )
        assert proc.poll() is None, (tmp_path / "stream.log").read_text()[-3000:]
        metrics = _wait_for_metric(metrics_port, 'newswatch_stream_count{name="entries.read"} 53.0')
        assert 'newswatch_stream_count{name="late"} 1.0' in metrics
        assert "newswatch_stream_up 1.0" in metrics
        # Windows close on the watermark (the wall clock here) and are written then.
        written = wait_for_jsonl(out / "flagged", len(expected_flagged), timeout=3 * WINDOW + 60)
        late = wait_for_jsonl(out / "late", 1, timeout=30)
        code = stop_process(proc)
        log = (tmp_path / "stream.log").read_text()
        assert code == 0, log[-3000:]
    finally:
        if proc is not None and proc.poll() is None:
            stop_process(proc)
        topics.close()

    decoded = bodies(got)
    flagged = [(b, a) for b, a in decoded if a["kind"] == "item"]
    updates = [b for b, a in decoded if a["kind"] == "update"]
    # Each flagged story once, although one raw message was published twice.
    ids = [b["id"] for b, _ in flagged]
    assert len(ids) == len(set(ids))
    assert {(b["source"]["url"], b["guid"]) for b, _ in flagged} <= {
        (normalise_item(i).source.url, i.guid) for i in items
    }
    for body, attrs in flagged:
        categories = {f["category"] for f in body["flags"]}
        assert attrs["item_id"] == body["id"]
        assert attrs["schema_version"] == "2"
        assert attrs["language"] == body["language"]
        assert attrs["source_kind"] == "feed"
        assert float(attrs["score"]) == pytest.approx(
            max(f["score"] for f in body["flags"]), abs=1e-3
        )
        assert {k[5:] for k in attrs if k.startswith("flag_")} == categories
    # The same stories as the replay of the same input (representatives may differ).
    assert _stories([b for b, _ in flagged], updates) == _stories(replayed["flagged"], [])
    for body, attrs in bodies(got):
        if attrs["kind"] == "update":
            assert attrs["item_id"] == body["representative_id"]
    assert updates, "the samples' duplicates must produce also_reported_by updates"
    # Updates only for flagged representatives: an unflagged one never reaches the store.
    assert {u["representative_id"] for u in updates} <= set(ids)

    ((letter, attrs),) = bodies(dead)
    assert letter["stage"] == "read" and "not JSON" in letter["reason"]
    assert letter["raw"] == "{not json"

    # With --output: flagged items in event-time windowed files, the late item in late/.
    assert sorted(i["id"] for i in written) == sorted(ids)
    assert [i["guid"] for i in late] == [late_guid]
    assert "late 1" in log and "stopped." in log
