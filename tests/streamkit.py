"""Helpers for the streaming tests and benchmark: topics, raw items, pulling what came out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from connectors.feeds import parse_feed
from transforms.item import Item

__all__ = [
    "REPO",
    "SAMPLE_FEEDS",
    "Topics",
    "bodies",
    "pull_until",
    "sample_items",
    "start_stream",
    "stop_process",
    "wait_for_jsonl",
    "wait_for_log",
]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_FEEDS = REPO / "samples" / "feeds"


def sample_items(fetched: str = "2026-12-01T00:00:00Z") -> list[Item]:
    """The bundled samples as raw items, named as ``newswatch replay samples/feeds`` names them."""
    items: list[Item] = []
    for path in sorted(SAMPLE_FEEDS.iterdir()):
        outcome = parse_feed(path.name, path.read_bytes(), fetched=fetched)
        items.extend(outcome.items)
    return items


class Topics:
    """Creates topics and subscriptions on the emulator, and deletes them again."""

    def __init__(self, emulator) -> None:
        from google.cloud import pubsub_v1

        self._emulator = emulator
        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()
        self._made: list[tuple[str, str]] = []

    def pair(self, prefix: str, ack_deadline: int = 60) -> tuple[str, str]:
        """A new topic and a subscription to it (``ack_deadline`` seconds)."""
        topic, subscription = self._emulator.names(prefix)
        self.publisher.create_topic(name=topic)
        self.subscriber.create_subscription(
            name=subscription, topic=topic, ack_deadline_seconds=ack_deadline
        )
        self._made.append((topic, subscription))
        return topic, subscription

    def publish(self, topic: str, messages: Iterable[tuple[bytes, dict[str, str]]]) -> None:
        """Publishes in order, each acknowledged before the next is sent."""
        for data, attributes in messages:
            self.publisher.publish(topic, data, **attributes).result(timeout=30)

    def close(self) -> None:
        for topic, subscription in self._made:
            try:
                self.subscriber.delete_subscription(subscription=subscription)
                self.publisher.delete_topic(topic=topic)
            except Exception:  # noqa: BLE001 - the emulator may already be gone
                pass
        self.subscriber.close()


def pull_until(
    subscriber,
    subscription: str,
    done: Callable[[list], bool],
    timeout: float,
    settle: float = 0.0,
    alive: Callable[[], bool] = lambda: True,
) -> list:
    """Pulls (and acknowledges) messages until ``done(messages)`` or the timeout.

    With ``settle``, keeps pulling that many seconds after ``done`` first held,
    so that anything extra (a duplicate) would show up. Stops early when
    ``alive()`` turns false (the job producing the messages died).
    """
    messages: list = []
    deadline = time.monotonic() + timeout
    settle_until = None
    while time.monotonic() < deadline and alive():
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": 500}, timeout=10
        )
        if response.received_messages:
            messages.extend(rm.message for rm in response.received_messages)
            subscriber.acknowledge(
                request={
                    "subscription": subscription,
                    "ack_ids": [rm.ack_id for rm in response.received_messages],
                }
            )
        if settle_until is None and done(messages):
            settle_until = time.monotonic() + settle
        if settle_until is not None and time.monotonic() >= settle_until:
            break
    return messages


def start_stream(args: list[str], log: Path) -> subprocess.Popen:
    """``newswatch stream`` in a subprocess with its own process group, output to ``log``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "stream", *args],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_process(proc: subprocess.Popen, timeout: float = 90.0) -> int:
    """SIGINT (as Ctrl-C), then the exit status; killed as a group if it does not stop."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        raise


def bodies(messages) -> list[tuple[dict, dict]]:
    return [(json.loads(m.data), dict(m.attributes)) for m in messages]


def wait_for_log(proc: subprocess.Popen, log: Path, text: str, timeout: float) -> None:
    """Waits until ``text`` appears in ``log``; fails if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"process exited {proc.returncode}: {log.read_text()[-3000:]}")
        time.sleep(0.2)  # polling a file for a condition, with a deadline
    raise AssertionError(f"{text!r} not in {log} after {timeout} s")


def read_jsonl_tree(directory: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(directory.rglob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def wait_for_jsonl(directory: Path, count: int, timeout: float) -> list[dict]:
    """The records of the JSONL files under ``directory``, once ``count`` (or at timeout)."""
    deadline = time.monotonic() + timeout
    records: list[dict] = []
    while time.monotonic() < deadline:
        records = read_jsonl_tree(directory) if directory.exists() else []
        if len(records) >= count:
            return records
        time.sleep(0.5)  # polling files for a condition, with a deadline
    return records
