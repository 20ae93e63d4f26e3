"""Replay memory and time against input size: bytes per item at 10k, 100k and 1M items.

    python -m benchmarks.memory_bench [--sizes 10000 100000 1000000] [--corpora DIR] [--workdir DIR]

For each size, :mod:`benchmarks.realgen` writes that many items generated
from the real feeds (about 5.3 KB of feed per item), and ``newswatch replay``
runs on them in a fresh interpreter on the default runner (FnApiRunner, one
process, which holds every grouping in memory). Measured: peak RSS of the
process tree (sampled from ``/proc``), wall and CPU time. Printed: bytes per
item, and the marginal bytes and CPU per item between consecutive sizes,
which is what stays flat when memory and time are linear in the input. The
goal (issue 9) is a 1M-item replay within 4 GB. The 1M run generates about
5 GB of feeds and takes long: it is part of ``make bench``; ``--sizes``
picks others. Each size is measured once (one run of 1M items is what there
is time for): the figures are about growth, not speed.

``--stages`` instead replays the smallest size in this process and prints,
for each FnApiRunner stage, the RSS before it, its peak and after it, and
the allocator's in-use bytes after it: where the bytes per item are held.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.realgen import GENERATION, load_templates, write_feeds
from benchmarks.proctree import measure
from pipelines.commands.common import corpora_dir

__all__ = ["GOAL_MB_AT_1M", "main"]

GOAL_MB_AT_1M = 4096


def _sizes(text: str | list[str]) -> list[int]:
    """Item counts from ``10000,100000`` or ``10000 100000`` (several arguments)."""
    joined = ",".join(text) if isinstance(text, list) else text
    try:
        sizes = sorted({int(part) for part in joined.split(",") if part.strip()})
    except ValueError:
        sizes = []
    if not sizes or sizes[0] <= 0:
        raise ValueError(f"--sizes must be positive item counts (got {joined!r})")
    return sizes


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _malloc_in_use_mb() -> float:
    """glibc's in-use bytes (main arena and mmapped blocks), 0 where there is no mallinfo2."""
    import ctypes

    class Info(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                         "uordblks", "fordblks", "keepcost")
        ]  # fmt: skip

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = Info
    except (OSError, AttributeError):
        return 0.0
    info = libc.mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20


def stage_profile(inputs: Path, out: Path) -> int:
    """Replay ``inputs`` in this process, printing memory around each runner stage."""
    import threading
    import time

    from apache_beam.runners.portability.fn_api_runner import fn_runner

    from pipelines.cli import main as cli

    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _rss_mb())

    run_stage = fn_runner.FnApiRunner._execute_bundle

    def measured(self, context, bundle, bundle_input):
        before = peak[0] = _rss_mb()
        started = time.monotonic()
        try:
            return run_stage(self, context, bundle, bundle_input)
        finally:
            print(
                f"  {before:7,.0f} {max(peak[0], before):7,.0f} {_rss_mb():7,.0f}"
                f" {_malloc_in_use_mb():7,.0f} {time.monotonic() - started:7.1f}"
                f"  {bundle.stage.name[:120]}",
                flush=True,
            )

    print("  RSS MB: before    peak   after  malloc  seconds  stage")
    threading.Thread(target=sample, daemon=True).start()
    fn_runner.FnApiRunner._execute_bundle = measured
    try:
        return cli(["replay", str(inputs), "--output", str(out), "--quiet"])
    finally:
        fn_runner.FnApiRunner._execute_bundle = run_stage
        done.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["10000,100000,1000000"],
        help="item counts, comma- or space-separated",
    )
    parser.add_argument("--corpora", default=str(corpora_dir()))
    parser.add_argument("--workdir", default=None, help="keep generated feeds here (reused)")
    parser.add_argument(
        "--stages", action="store_true", help="memory per runner stage at the smallest size"
    )
    args = parser.parse_args(argv)
    sizes = _sizes(args.sizes)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="memory-bench-"))
    templates = load_templates(Path(args.corpora))
    if args.stages:
        inputs = work / f"feeds-{sizes[0]}-g{GENERATION}"
        if not inputs.is_dir():
            write_feeds(templates, inputs, sizes[0])
        return stage_profile(inputs, work / "out-stages")
    rows = []
    for size in sizes:
        inputs = work / f"feeds-{size}-g{GENERATION}"
        if not inputs.is_dir():
            write_feeds(templates, inputs, size)
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        result = measure(
            [sys.executable, "-m", "pipelines.cli", "replay", str(inputs), "--output", str(out), "--quiet"]
        )
        counts = json.loads((out / "summary.json").read_text())
        rows.append((size, result, load, counts))
        print(
            f"  {size:>9,} items: peak {result['tree_mb']:8,.0f} MB = {result['tree_mb'] * 2**20 / size:8,.0f} B/item, "
            f"wall {result['seconds']:7.0f} s, CPU {result['cpu']:7.0f} s "
            f"({counts.get('entries.unique', 0):,} unique; load average {load:.1f})",
            flush=True,
        )
        if not args.workdir:
            shutil.rmtree(inputs, ignore_errors=True)
    print("memory and time against input size (FnApiRunner, one process)")
    print(f"  {'items':>9}{'peak MB':>10}{'B/item':>9}{'marginal B/item':>17}{'CPU ms/item':>13}{'marginal':>10}")
    previous = None
    for size, result, _, _ in rows:
        marginal = marginal_cpu = ""
        if previous is not None:
            p_size, p_result = previous
            marginal = f"{(result['tree_mb'] - p_result['tree_mb']) * 2**20 / (size - p_size):,.0f}"
            marginal_cpu = f"{(result['cpu'] - p_result['cpu']) * 1000 / (size - p_size):.2f}"
        print(
            f"  {size:>9,}{result['tree_mb']:>10,.0f}{result['tree_mb'] * 2**20 / size:>9,.0f}"
            f"{marginal:>17}{result['cpu'] * 1000 / size:>13.2f}{marginal_cpu:>10}"
        )
        previous = (size, result)
    largest, result, _, _ = rows[-1]
    if largest >= 1_000_000:
        verdict = "met" if result["tree_mb"] <= GOAL_MB_AT_1M else "NOT met"
        print(f"  goal: {largest:,} items within {GOAL_MB_AT_1M:,} MB -> {verdict}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
