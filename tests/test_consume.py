"""``newswatch consume`` against the real Pub/Sub emulator, run as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from connectors import store_queries as q
from connectors.pubsub import flagged_message, update_message
from connectors.pubsub_publisher import Publisher
from connectors.store import ReviewStore
from pipelines.commands.consume import PAUSE_ENV, format_item_line, parse_idle, parse_port
from tests.waiting import wait_for
from transforms.item import Item, Report, ReportUpdate, Source
from transforms.normalise import normalise_item

ROOT = Path(__file__).resolve().parents[1]
TEXT = (
    "Prosecutors opened an investigation into war crimes after the execution of prisoners of war "
    "and the shelling of civilians in the city."
)


@pytest.fixture
def flagged(engine, make_item):
    """Items flagged by the shipped rule packs (as the pipeline's flagging stage does)."""

    def factory(n: int, raw_title: str | None = None, **overrides) -> Item:
        fields = {
            "guid": f"wire-{n}",
            "url": f"https://wire.example/news/{n}",
            "title": f"War crimes inquiry {n}",
            "text": TEXT,
        }
        fields.update(overrides)
        item = normalise_item(make_item(**fields)).replace(language="en")
        if raw_title is not None:  # as a source other than a feed might send it
            item = item.replace(title=raw_title)
        result = engine.evaluate({"title": item.title, "text": item.text}, "en")
        assert result.flags, "the sample text must be flagged"
        return item.replace(flags=result.flags, rules_language=result.rules_language)

    return factory


@pytest.fixture
def channel(pubsub_emulator):
    """A fresh topic with a subscription (10 s ack deadline) and a publisher to it."""
    from tests.streamkit import Topics

    topics = Topics(pubsub_emulator)
    try:
        topic, subscription = topics.pair("flagged", ack_deadline=10)
        publisher = Publisher(topic)
        try:
            yield publisher, subscription
        finally:
            publisher.close()
    finally:
        topics.close()


def report(n: int) -> Report:
    return Report(f"copy-{n}", Source("feed", f"Outlet {n}", f"https://o{n}.example/rss"), None)


def consume_argv(subscription: str, store: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "consume", "--subscription", subscription,
            "--store", str(store), *extra]  # fmt: skip


def consume(subscription: str, store: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        consume_argv(subscription, store, "--exit_when_idle", "2", *extra),
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def json_lines(stdout: str) -> list[dict]:
    # Only whole lines: a file may be read while the consumer is writing it.
    return [json.loads(line) for line in stdout.splitlines(keepends=True) if line.endswith("\n")]


def test_each_item_once_updates_applied_and_bad_messages_dead_lettered(channel, flagged, tmp_path):
    publisher, subscription = channel
    a, b = flagged(1), flagged(2)
    publisher.publish_messages([update_message(ReportUpdate(a.id, report(1)))])
    publisher.publish_messages([flagged_message(a), flagged_message(a), flagged_message(b)])
    publisher.publish_messages(
        [
            update_message(ReportUpdate(b.id, report(2))),
            update_message(ReportUpdate(a.id, report(1))),
            (b"{not json", {"kind": "item"}),
        ]
    )
    store_path = tmp_path / "review.db"
    out = consume(subscription, store_path, "--json")
    assert out.returncode == 0, out.stderr
    events = json_lines(out.stdout)
    items = sorted((e["item_id"], e["status"]) for e in events if e["kind"] == "item")
    assert items == sorted([(a.id, "new"), (a.id, "unchanged"), (b.id, "new")])
    assert next(e for e in events if e["kind"] == "dead_letter")["reason"].startswith(
        "item message body is not JSON"
    )
    assert "acked 7" in out.stderr
    with ReviewStore(store_path) as store:
        assert store.item_ids() == sorted([a.id, b.id])
        assert store.item(a.id).item.also_reported_by == (report(1),)
        assert store.item(b.id).item.also_reported_by == (report(2),)
        assert store.counts()["pending_updates"] == 0
        [letter] = store.dead_letters()
        assert letter["data"] == b"{not json" and letter["attributes"] == {"kind": "item"}


def test_text_lines_and_decisions_untouched_by_a_changed_item(channel, flagged, tmp_path):
    publisher, subscription = channel
    item = flagged(1, raw_title="Inquiry into\x1b[31m shelling")
    store_path = tmp_path / "review.db"
    publisher.publish_messages([flagged_message(item)])
    out = consume(subscription, store_path)
    assert out.returncode == 0, out.stderr
    [line] = out.stdout.splitlines()
    assert "\x1b" not in line
    assert "Inquiry into [31m shelling" in line
    assert "investigation" in line and "  en " in line and "[Example Wire]" in line
    with ReviewStore(store_path) as store:
        q.record_decision(store, item.id, "confirmed", reviewer="ana", note="ICC")
    publisher.publish_messages([flagged_message(item.replace(title="Tribunal inquiry"))])
    out = consume(subscription, store_path)
    assert out.returncode == 0, out.stderr
    with ReviewStore(store_path) as store:
        stored = store.item(item.id)
        assert stored.item.title == "Tribunal inquiry"
        assert (stored.decision, stored.decision_reviewer, stored.decision_note) == (
            "confirmed",
            "ana",
            "ICC",
        )
        assert len(q.decision_history(store, item.id)) == 1


def _killed_at(point: str, subscription: str, store: Path, marker: Path) -> None:
    """Runs consume until it stops itself at ``point`` of its first batch, then SIGKILLs it."""
    env = dict(os.environ, **{PAUSE_ENV: f"{point}:{marker}"})
    proc = subprocess.Popen(
        consume_argv(subscription, store), cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(
            lambda: marker.exists() or proc.poll() is not None, f"consume to reach {point}", 60
        )
        assert proc.poll() is None, "consume exited instead of pausing"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_consumer_killed_between_pull_and_ack_loses_and_duplicates_nothing(
    channel, flagged, tmp_path
):
    publisher, subscription = channel
    items = [flagged(n) for n in range(1, 7)]
    publisher.publish_messages([flagged_message(i) for i in items])
    publisher.publish_messages([update_message(ReportUpdate(items[0].id, report(9)))])
    publisher.publish_messages([(b"[]", {"kind": "update"})])
    store_path = tmp_path / "review.db"

    # Killed after the pull, before the commit: nothing stored, nothing acknowledged.
    _killed_at("pulled", subscription, store_path, tmp_path / "pulled")
    with ReviewStore(store_path) as store:
        assert store.counts()["flagged"] == 0

    # Killed after the commit, before the ack: stored, and redelivered later.
    _killed_at("committed", subscription, store_path, tmp_path / "committed")
    with ReviewStore(store_path) as store:
        stored_first = set(store.item_ids())
    assert stored_first, "the second run must have committed its batch"

    # A normal run: everything arrives (redelivered after the ack deadline), once.
    expected = {i.id for i in items}
    log = tmp_path / "consume.jsonl"
    with log.open("w") as stdout:
        proc = subprocess.Popen(
            consume_argv(subscription, store_path, "--json"), cwd=ROOT,
            stdout=stdout, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    try:

        def complete() -> bool:
            # The committed-but-unacknowledged batch comes back too, and changes nothing.
            seen = {e.get("item_id") for e in json_lines(log.read_text()) if e["kind"] == "item"}
            with ReviewStore(store_path) as store:
                return (
                    stored_first <= seen
                    and set(store.item_ids()) == expected
                    and store.counts()["dead_letters"] == 1
                    and store.item(items[0].id).item.also_reported_by == (report(9),)
                )

        wait_for(complete, "every message to be stored and the batch to be redelivered", 60)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "consume: stopped on request" in stderr
    events = [e for e in json_lines(log.read_text()) if e["kind"] == "item"]
    assert all(e["status"] == "unchanged" for e in events if e["item_id"] in stored_first)
    with ReviewStore(store_path) as store:
        assert store.item_ids() == sorted(expected)
        assert store.counts()["flagged"] == len(expected)
        assert store.counts()["dead_letters"] == 1
        assert store.item(items[0].id).item.also_reported_by == (report(9),)


def test_missing_subscription_or_unreachable_endpoint_is_one_line_exit_2(pubsub_emulator, tmp_path):
    _, missing = pubsub_emulator.names("missing")
    out = consume(missing, tmp_path / "review.db")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"newswatch: error: subscription {missing} does not exist (at {pubsub_emulator.host})"
    ]
    env = dict(os.environ, PUBSUB_EMULATOR_HOST="127.0.0.1:9")
    out = subprocess.run(
        consume_argv(missing, tmp_path / "review.db"), check=False, cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("newswatch: error: cannot reach Pub/Sub at 127.0.0.1:9")


def test_metrics_port_serves_counts_while_consuming(channel, flagged, tmp_path):
    import socket

    import httpx

    publisher, subscription = channel
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        consume_argv(subscription, tmp_path / "review.db", "--metrics_port", str(port)),
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def metrics() -> str:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.TransportError:
                return ""

        wait_for(lambda: "newswatch_consume_up 1.0" in metrics(), "the metrics endpoint", 60)
        publisher.publish_messages([flagged_message(flagged(1))])
        wait_for(
            lambda: 'newswatch_consume_count{name="item_new"} 1.0' in metrics(), "the count", 60
        )
        assert 'newswatch_consume_count{name="acked"} 1.0' in metrics()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_option_validation_and_line_format(make_item):
    assert parse_port("9100") == 9100
    for bad in ("0", "65536", "http"):
        with pytest.raises(ValueError, match=r"--metrics_port must be .* \(got"):
            parse_port(bad)
    assert parse_idle("2.5") == 2.5
    for bad in ("0", "-1", "soon"):
        with pytest.raises(ValueError, match=r"--exit_when_idle must be .* \(got"):
            parse_idle(bad)

    class Stored:
        item = make_item(
            title="A\nB\x07C", language="uk", source=Source("feed", "", "https://s/rss")
        )
        sort_time = "2026-03-10T09:00:00Z"

    assert format_item_line(Stored()) == "2026-03-10T09:00:00Z  uk   -  A B C  [https://s/rss]"


def _store_stories(store_path: Path) -> set[frozenset[str]]:
    """Each stored story as the set of its members' ids (the row and its reports)."""
    with ReviewStore(store_path) as store:
        rows = [store.item(i).item for i in store.item_ids()]
    return {frozenset({i.id, *(r.id for r in i.also_reported_by)}) for i in rows}


def test_stream_to_store_end_to_end_with_a_consumer_killed_once(pubsub_emulator, tmp_path):
    """Raw items → ``newswatch stream`` → flagged topic → ``newswatch consume`` → review store:
    the replay's flagged stories, each once, with their other reports, although one raw message
    is published twice and the first consumer is killed between pull and commit."""
    from datetime import UTC, datetime

    from google.cloud import pubsub_v1

    from connectors.pubsub import raw_item_message
    from tests.streamkit import Topics, sample_items, start_stream, stop_process, wait_for_log
    from tests.test_replay import SAMPLES, replay

    replayed = replay(tmp_path / "replay", SAMPLES / "feeds")
    expected = {
        frozenset({i["id"], *(r["id"] for r in i["also_reported_by"])}) for i in replayed["flagged"]
    }
    assert any(len(story) > 1 for story in expected), "the samples have duplicate stories"
    topics = Topics(pubsub_emulator)
    subscriber = pubsub_v1.SubscriberClient()
    stream = consumer = None
    raw_topic, raw_sub = topics.pair("e2e-raw")
    flagged_topic, _ = topics.pair("e2e-flagged")
    # The consumer's own subscription, with the shortest ack deadline, so a redelivery is quick.
    consume_sub = flagged_topic.replace("/topics/", "/subscriptions/") + "-desk"
    subscriber.create_subscription(name=consume_sub, topic=flagged_topic, ack_deadline_seconds=10)
    store_path = tmp_path / "review.db"
    try:
        stream = start_stream(
            ["--subscription", raw_sub, "--flagged_topic", flagged_topic, "--status_seconds", "5"],
            tmp_path / "stream.log",
        )
        wait_for_log(stream, tmp_path / "stream.log", "streaming from", timeout=180)
        # Fetched now: the local runner's watermark is the wall clock.
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        messages = [raw_item_message(item) for item in sample_items(fetched=now)]
        topics.publish(raw_topic, [*messages, messages[1]])

        _killed_at("pulled", consume_sub, store_path, tmp_path / "pulled")
        with ReviewStore(store_path) as store:
            assert store.counts()["flagged"] == 0
        consumer = subprocess.Popen(
            consume_argv(consume_sub, store_path, "--json"), cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for(lambda: _store_stories(store_path) == expected, "the stored stories", 240)
        assert stream.poll() is None, (tmp_path / "stream.log").read_text()[-3000:]
        consumer.send_signal(signal.SIGTERM)
        _, stderr = consumer.communicate(timeout=30)
        assert consumer.returncode == 0, stderr
    finally:
        if consumer is not None and consumer.poll() is None:
            consumer.kill()
            consumer.communicate()
        if stream is not None:
            stop_process(stream)
        subscriber.delete_subscription(subscription=consume_sub)
        subscriber.close()
        topics.close()
    with ReviewStore(store_path) as store:
        ids = store.item_ids()
        assert len(ids) == len(expected) == len(set(ids))
        assert store.counts()["pending_updates"] == 0
        assert store.counts()["dead_letters"] == 0
