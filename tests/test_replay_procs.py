"""The per-process CPU watcher sees a grandchild and what it spent."""

from __future__ import annotations

import re
import sys

import pytest

from benchmarks.replay_procs import Usage, timeline, watch

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


def test_the_timeline_says_how_many_cores_each_step_used_and_by_whom():
    seen = {
        10: Usage("python -m pipelines.cli replay in --output out"),
        11: Usage("python -m transforms.language_server lingua-accurate-x"),
    }
    samples = [
        (0.0, {10: 0.0}),
        (0.5, {10: 0.5, 11: 0.0}),
        (1.0, {10: 0.52, 11: 0.45}),
        (1.2, {10: 0.6, 11: 0.46}),
    ]
    assert timeline(samples, seen, 0.5) == [
        "   0.0-   0.5 s  cores 1.00  runner 10: 0.50",
        "   0.5-   1.0 s  cores 0.94  language server 11: 0.45",
        "   1.0-   1.2 s  cores 0.45  runner 10: 0.08",
    ]
    with pytest.raises(ValueError, match="got 0"):
        timeline(samples, seen, 0)


def test_a_real_runs_timeline_adds_up_to_its_cpu():
    samples: list = []
    status, _, seen = watch([sys.executable, "-c", PARENT], every=0.02, samples=samples)
    assert status == 0 and samples
    spent: dict[int, float] = {}
    for line in timeline(samples, seen, 0.1, busy=0.0):
        for pid, cpu in re.findall(r" (\d+): (\d+\.\d\d)", line):
            spent[int(pid)] = spent.get(int(pid), 0.0) + float(cpu)
    # Every process that spent CPU is named in the steps it spent it in, and its
    # steps add up to what it spent in all (each step rounded to 0.01 s).
    final: dict[int, float] = {}
    for _, tree in samples:  # the last reading of each process (the last sample has none)
        final.update({pid: cpu for pid, cpu in tree.items() if cpu > 0})
    assert set(spent) == set(final)
    for pid, cpu in final.items():
        assert abs(spent[pid] - cpu) <= 0.005 * len(samples) + 1e-9
    assert max(final.values()) >= 0.25  # the burner
