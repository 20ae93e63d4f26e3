"""One command measured as a process tree: wall time, CPU time and peak memory (Linux ``/proc``).

:func:`measure` is what every end-to-end benchmark times a fresh interpreter
with (``startup_bench``, ``replay_bench``, ``replay_ab``, ``memory_bench``,
``sink_bench``): wall seconds around the subprocess, user + system CPU of the
process and every descendant (children never waited for included), the peak
of the tree's summed RSS sampled every 20 ms, and the child's own
``ru_maxrss`` from ``wait4``.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

__all__ = ["measure", "tree_rss_kb"]

_TICKS = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> dict[int, tuple[int, float]]:
    """``pid → (VmRSS kB, CPU seconds)`` for ``root`` and its descendants (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    seen: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        seen[pid] = (rss, (int(fields[11]) + int(fields[12])) / _TICKS)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            tree[pid] = seen[pid]
        todo.extend(children.get(pid, ()))
    return tree


def tree_rss_kb(root: int) -> int:
    """Sum of VmRSS over ``root`` and its descendants, in kB (Linux ``/proc``)."""
    return sum(rss for rss, _ in _tree(root).values())


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``argv``: wall seconds, peak tree RSS (MB), own ``ru_maxrss`` (MB), CPU seconds.

    CPU is the larger of what ``wait4`` reports (the process and the children
    it waited for) and the sum over every process of the tree last seen in
    ``/proc`` (children that were never waited for included).

    Raises:
        RuntimeError: the command failed.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=os.getcwd()
    )
    peak = 0
    cpu_seen: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            tree = _tree(proc.pid)
            peak = max(peak, sum(rss for rss, _ in tree.values()))
            for pid, (_, cpu) in tree.items():
                cpu_seen[pid] = max(cpu, cpu_seen.get(pid, 0.0))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{argv[:4]} exited {proc.returncode}: {stderr.decode(errors='replace')[-500:]}"
        )
    cpu = max(usage.ru_utime + usage.ru_stime, sum(cpu_seen.values()))
    return {
        "seconds": seconds,
        "tree_mb": peak / 1024,
        "own_mb": usage.ru_maxrss / 1024,
        "cpu": cpu,
    }
