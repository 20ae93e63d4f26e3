"""``make stream``: poller, pipeline, consumer into the review store; Ctrl-C leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pubsub_emulator import emulator_binary
from tests.streamkit import REPO
from tests.test_replay import SAMPLES, replay


def _flagged_rows(store: Path) -> list[tuple[str, str]]:
    if not store.exists():
        return []
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT item_json, also_reported_by FROM flagged").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path("/proc", entry, "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry))
    return found


def test_stack_polls_flags_and_stores_then_stops_cleanly(tmp_path):
    if emulator_binary() is None:
        pytest.skip("Pub/Sub emulator not found (gcloud's platform/pubsub-emulator)")
    expected = replay(tmp_path / "replay", SAMPLES / "feeds")["flagged"]
    workdir = tmp_path / "stack"
    store = workdir / "review.db"
    log = (tmp_path / "stack.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.local_stack", "--workdir", str(workdir),
         "--store", str(store), "--status_seconds", "2"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        rows = []
        while time.monotonic() < deadline and proc.poll() is None:
            rows = _flagged_rows(store)
            reported = sum(json.loads(r[1]) != [] for r in rows)
            if len(rows) >= len(expected) and reported >= 1:
                break
            time.sleep(1)  # polling the store for a condition, with a deadline
        text = (tmp_path / "stack.log").read_text(errors="replace")
        assert proc.poll() is None, text[-3000:]
        emulator = text.split("emulator ", 1)[1].split(",", 1)[0]
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=240) == 0, text[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    text = (tmp_path / "stack.log").read_text(errors="replace")
    assert "stopped (poll 0, stream 0, consume 0)" in text
    # Nothing left: no process names the stack's folder or its emulator port.
    assert _processes_mentioning(str(workdir)) == []
    assert _processes_mentioning(f"--port={emulator.rsplit(':', 1)[1]}") == []

    items = [json.loads(r[0]) for r in _flagged_rows(store)]
    assert len({i["id"] for i in items}) == len(items)
    # The same stories as the replay; a story's representative may differ (the
    # stream's first arrival, the batch's earliest), so stories are compared
    # as the set of their members' URLs.
    assert _stories(items) == _stories(expected)
    assert any(i["also_reported_by"] for i in items)


def _stories(items: list[dict]) -> set[frozenset[str]]:
    return {frozenset([i["url"], *(r["url"] for r in i["also_reported_by"])]) for i in items}
