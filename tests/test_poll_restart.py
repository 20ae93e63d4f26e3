"""Restart: ``newswatch poll`` killed with SIGKILL at random points, then restarted, misses nothing.

Six real feeds grow while the poller runs (the server serves a growing tail
of each real file, newest entries appearing on top, as a live feed does).
The poller is started and SIGKILLed several times at seeded random moments;
after the last kill the feeds stop changing and one more round runs. Every
entry any feed ever served must be in the output, and every entry written
more than once (at-least-once delivery) must carry the same id each time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from lxml import etree

from tests.localserver import Reply

FEEDS = (
    "rss-parser/guardian.rss",
    "multilingual/tehtehteh_stub_unian_rss.xml",
    "multilingual/onliner_by_2021-10-26.ru.xml",
    "multilingual/lemonde_international_2024-03-27.fr.xml",
    "multilingual/tehtehteh_stub_pravda_rss.xml",
    "multilingual/liga_net_2021-08-22.ru.xml",
)
KILLS = 6
SEED = 20261201


class GrowingFeed:
    """A real RSS file served as its oldest ``k`` entries; ``grow()`` publishes the next one."""

    def __init__(self, data: bytes, start: int = 2) -> None:
        self.root = etree.fromstring(data)
        self.channel = self.root.find("channel")
        self.entries = self.channel.findall("item")
        for entry in self.entries:
            self.channel.remove(entry)
        self.k = min(start, len(self.entries))
        self.lock = threading.Lock()

    def grow(self, n: int = 1) -> None:
        with self.lock:
            self.k = min(len(self.entries), self.k + n)

    def published(self) -> list:
        with self.lock:
            # the file lists newest first; its oldest entries were published first
            return self.entries[len(self.entries) - self.k :]

    def body(self) -> bytes:
        shown = self.published()
        for entry in shown:
            self.channel.append(entry)
        try:
            return etree.tostring(self.root, xml_declaration=True, encoding="utf-8")
        finally:
            for entry in shown:
                self.channel.remove(entry)


def guid_of(entry) -> str:
    for tag in ("guid", "link"):
        node = entry.find(tag)
        if node is not None and (node.text or "").strip():
            return node.text.strip()
    raise AssertionError("test feeds have a guid or a link on every entry")


@pytest.fixture
def growing(server, corpora):
    feeds = {}
    lock = threading.Lock()
    for n, rel in enumerate(FEEDS):
        feed = GrowingFeed((corpora / "feeds" / "real" / rel).read_bytes())
        name = f"feed{n}"
        feeds[name] = feed

        def handler(request, feed=feed):
            with lock:  # one feed body built at a time (the tree is shared)
                body = feed.body()
            etag = f'"{len(body)}-{feed.k}"'
            time.sleep(0.02)  # a server with some latency, so that rounds take a while
            if request.headers.get("if-none-match") == etag:
                return Reply(304, b"", {"ETag": etag})
            return Reply(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})

        server.route(f"/{name}.xml", handler)
    return feeds


def read_items(out: Path) -> list[dict]:
    items = []
    for path in sorted(out.glob("items-*.jsonl")):
        for line in path.read_bytes().splitlines(keepends=True):
            if line.endswith(b"\n"):  # a torn last line was never acknowledged
                items.append(json.loads(line))
    return items


def items_size(out: Path) -> int:
    return sum(p.stat().st_size for p in out.glob("items-*.jsonl"))


def kill_points(rng: random.Random, out: Path, process: subprocess.Popen) -> str:
    """Wait for this run's kill point: a random moment, or the moment items were just written.

    The second kind lands between writing a batch and storing its cursors
    (with ``--publish`` the client holds a batch ~50 ms before sending it),
    the window where at-least-once shows: those items come again.
    """
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0.3, 2.5))  # the kill point itself, not a wait for a condition
        return "random"
    before = items_size(out)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        if items_size(out) > before:
            return "after write"
        time.sleep(0.001)
    return "timeout"


def run_with_kills(tmp_path, server, growing, extra: list[str]):
    rng = random.Random(SEED)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "".join(
            f"- name: {name}\n  kind: feed\n  url: {server.url(f'/{name}.xml')}\n"
            for name in growing
        )
    )
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "pipelines.cli", "poll",
        "--sources", str(sources), "--state", str(tmp_path / "state.sqlite"),
        "--output", str(out), "--min_interval", "100ms", "--max_interval", "300ms",
        "--per_host_delay", "0", "--per_host_concurrency", "3", "--quiet", *extra,
    ]  # fmt: skip
    stop_growing = threading.Event()
    rng_grow = random.Random(SEED + 1)

    def publish() -> None:
        # New entries keep appearing while the poller runs and is killed.
        while not stop_growing.wait(0.15):
            for feed in growing.values():
                feed.grow(rng_grow.randint(0, 2))

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    rounds_seen = 0
    points = []
    try:
        for n in range(KILLS):
            log = tmp_path / f"run{n}.log"
            with open(log, "wb") as handle:
                process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
            points.append(kill_points(rng, out, process))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            assert process.returncode == -signal.SIGKILL, log.read_text()[-3000:]
            rounds_seen += log.read_text().count("round ")
    finally:
        stop_growing.set()
        publisher.join(timeout=5)
    assert "timeout" not in points
    # The feeds are final now; one more round collects what is left.
    final = subprocess.run(command + ["--once", "--force"], capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert "6 sources polled" in final.stdout and "0 errors" in final.stdout
    expected = {(name, guid_of(e)) for name, feed in growing.items() for e in feed.published()}
    return expected, read_items(out), points, rounds_seen


def check_delivery(expected, items, what: str) -> int:
    """Every expected item delivered, each always with the same id; returns the re-emits."""
    by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in items:
        by_key[(item["source"]["name"], item["guid"] or item["url"])].add(item["id"])
    missing = expected - set(by_key)
    assert not missing, f"{what}: {len(missing)} items never delivered, e.g. {sorted(missing)[:3]}"
    assert set(by_key) == expected
    # Re-emitted items carry the same id every time, so downstream dedup absorbs them.
    assert all(len(ids) == 1 for ids in by_key.values())
    copies = Counter(item["id"] for item in items)
    re_emitted = sum(n - 1 for n in copies.values())
    assert len(items) == len(expected) + re_emitted
    return re_emitted


def test_sigkill_at_random_points_never_loses_an_item(tmp_path, server, growing):
    expected, items, points, rounds = run_with_kills(tmp_path, server, growing, [])
    assert rounds >= KILLS, "the poller should have completed rounds between kills"
    re_emitted = check_delivery(expected, items, "files")
    print(
        f"\nrestart: kills {points}, {rounds} rounds before kills, {len(expected)} items,"
        f" {len(items)} lines written, {re_emitted} re-emitted"
    )


def test_sigkill_while_publishing_re_emits_with_the_same_ids(
    tmp_path, server, growing, pubsub_emulator
):
    from tests.streamkit import Topics

    topics = Topics(pubsub_emulator)
    subscriber = topics.subscriber
    try:
        topic, subscription = topics.pair("restart")
        expected, items, points, rounds = run_with_kills(
            tmp_path, server, growing, ["--publish", topic]
        )
        re_emitted = check_delivery(expected, items, "files")
        # Killed between writing and acknowledging: those items came again.
        assert "after write" in points and re_emitted > 0
        published: list[dict] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Every message was acknowledged by the server before poll went on, so once
            # every expected item is here an empty pull means there is nothing more.
            response = subscriber.pull(subscription=subscription, max_messages=500, timeout=3)
            received = response.received_messages
            if not received:
                keys = {(m["source"]["name"], m["guid"] or m["url"]) for m in published}
                if expected <= keys:
                    break
                continue
            published += [json.loads(r.message.data) for r in received]
            subscriber.acknowledge(subscription=subscription, ack_ids=[r.ack_id for r in received])
        re_published = check_delivery(expected, published, "Pub/Sub")
        print(
            f"\nrestart with --publish: kills {points}, {len(expected)} items; re-emitted"
            f" {re_emitted} to files, {re_published} to Pub/Sub"
        )
    finally:
        topics.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_the_round_in_flight_then_exits_cleanly(
    tmp_path, server, corpora, signum
):
    data = (corpora / "feeds" / "real" / FEEDS[3]).read_bytes()
    release = threading.Event()

    def slow(request):
        release.wait(10)  # held until the signal has been sent: the round is in flight
        return Reply(200, data, {"Content-Type": "application/rss+xml"})

    names = ("a", "b", "c")
    for name in names:
        server.route(f"/{name}.xml", slow)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "".join(f"- name: {n}\n  kind: feed\n  url: {server.url(f'/{n}.xml')}\n" for n in names)
    )
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "pipelines.cli", "poll", "--sources", str(sources),
            "--state", str(tmp_path / "s.sqlite"), "--output", str(out),
            "--per_host_delay", "0", "--per_host_concurrency", "3",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(server.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(server.requests) == 3
        process.send_signal(signum)
        release.set()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopping after the round in flight" in stderr
    assert "round 1: 3 sources polled, 0 not modified (304)" in stdout
    assert "round 2" not in stdout
    items = read_items(out)  # the round in flight was delivered before exiting
    assert {i["source"]["name"] for i in items} == set(names)
    assert len({i["id"] for i in items}) == len(items) > 0


def test_a_changed_sources_file_is_read_again_and_a_broken_one_is_refused(
    tmp_path, server, corpora
):
    for n, rel in enumerate(FEEDS[3:5]):
        data = (corpora / "feeds" / "real" / rel).read_bytes()
        server.route(f"/{n}.xml", lambda r, data=data: Reply(200, data))
    sources = tmp_path / "sources.yaml"
    entry = "- name: {0}\n  kind: feed\n  url: " + server.url("/{0}.xml") + "\n"
    sources.write_text(entry.format(0))
    out = tmp_path / "out"
    log = tmp_path / "poll.log"

    def wait_for(condition, what: str) -> None:
        deadline = time.monotonic() + 30
        while not condition():
            assert time.monotonic() < deadline, f"{what}; log:\n{log.read_text()[-3000:]}"
            time.sleep(0.02)

    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "pipelines.cli", "poll", "--sources", str(sources),
                "--state", str(tmp_path / "s.sqlite"), "--output", str(out),
                "--min_interval", "200ms", "--max_interval", "1s", "--per_host_delay", "0",
            ],
            stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        names = lambda: {i["source"]["name"] for i in read_items(out)}  # noqa: E731
        wait_for(lambda: names() == {"0"}, "the first source was not polled")
        sources.write_text(entry.format(0) + "- name: 1\n  kind: rss\n")
        wait_for(lambda: "sources file not reloaded" in log.read_text(), "no reload error")
        assert "sources.yaml:5: kind must be one of" in log.read_text()
        sources.write_text(entry.format(0) + entry.format(1))
        wait_for(lambda: names() == {"0", "1"}, "the added source was not polled")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, log.read_text()[-3000:]
