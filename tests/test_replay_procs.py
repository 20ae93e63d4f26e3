"""The per-process CPU watcher sees a grandchild and what it spent."""

from __future__ import annotations

import sys

import pytest

from benchmarks.replay_procs import watch

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"
PARENT = (
    "import subprocess, sys\n"
    f"subprocess.run([sys.executable, '-c', {BURN!r}], check=True)\n"
)


def test_a_grandchilds_cpu_is_seen_and_counted():
    status, wall, seen = watch([sys.executable, "-c", PARENT], every=0.02)
    assert status == 0 and wall > 0.3
    burners = [
        u for u in seen.values() if "process_time" in u.command and "subprocess" not in u.command
    ]
    assert len(burners) == 1
    assert 0.25 <= burners[0].cpu <= 2.0
    assert max(burners[0].threads.values()) >= 0.25


def test_the_interval_must_be_positive():
    with pytest.raises(ValueError, match="got 0"):
        watch([sys.executable, "-c", "pass"], every=0)
