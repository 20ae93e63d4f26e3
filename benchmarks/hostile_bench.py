"""Hostile input: what the bounds cost and what they saved, as ratios measured in this run.

1. HTML to text on ``<script `` repeated: the earlier regex passes (kept
   here as the baseline, run in a child with a time cap) against the linear
   ones now in :func:`transforms.normalise.html_to_text`.
2. Decoding undecodable bytes: chardet on the whole input (the baseline
   feedparser used) against :func:`connectors.textdecode.decode_bytes`.
3. The parse worker: the real feeds parsed in process against through
   :class:`connectors.parse_worker.ParseWorker` (CPU deadline, memory cap),
   so its per-file overhead is measured on real files of real size.
4. Each hostile case of tests/test_hostile.py, parsed in process.
5. The property tests with many more examples (``NEWSWATCH_HYPOTHESIS=bench``).

Every figure is the best of three runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
CAP_SECONDS = 30.0

# The HTML-to-text passes before the hostile-input work, as the baseline.
_OLD = r"""
import html, re, sys, time
SKIPPED = re.compile(r"<(script|style|noscript|template|svg|iframe)\b(?:[^>]*[^/>])?>.*?(?:</\1\s*>|$)", re.DOTALL | re.IGNORECASE)
ANY_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<![^>]*>|<\?[^>]*>")
markup = "<script " * int(sys.argv[1])
started = time.perf_counter()
html.unescape(ANY_TAG.sub("", SKIPPED.sub(" ", markup)))
print(time.perf_counter() - started)
"""


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def best_of_cpu(
    fn: Callable[[], object], runs: int = 3, child: Callable[[], int] | None = None
) -> float:
    """CPU seconds of this process (and of a child, by pid), best of ``runs``: load-proof."""
    from connectors.parse_worker import _cpu_seconds

    times = []
    for _ in range(runs):
        before = time.process_time() + ((_cpu_seconds(child()) or 0.0) if child else 0.0)
        fn()
        after = time.process_time() + ((_cpu_seconds(child()) or 0.0) if child else 0.0)
        times.append(after - before)
    return min(times)


def _child_seconds(code: str, *args: str) -> float | None:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=CAP_SECONDS,
            cwd=REPO,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return float(proc.stdout.strip()) if proc.returncode == 0 else None


def _fmt(seconds: float | None) -> str:
    return f">{CAP_SECONDS:.0f} s (stopped)" if seconds is None else f"{seconds * 1000:9.1f} ms"


def bench_html() -> None:
    from transforms.normalise import html_to_text

    print("HTML to text on '<script ' repeated (baseline: the earlier regex passes)")
    print(f"{'input':>10} {'baseline':>22} {'now':>12} {'ratio':>10}")
    for repeats in (1250, 2500, 5000, 20000):
        markup = "<script " * repeats
        now = best_of(lambda markup=markup: html_to_text(markup))
        old = [_child_seconds(_OLD, str(repeats)) for _ in range(3)]
        old_best = None if None in old else min(old)
        ratio = f"{old_best / now:9.0f}x" if old_best else "   --"
        print(f"{len(markup) // 1024:>7} KB {_fmt(old_best):>22} {_fmt(now):>12} {ratio:>10}")
        if old_best is None:
            break
    megabyte = "<a " * 350_000
    print(f"  now, 1 MB of '<a ': {_fmt(best_of(lambda: html_to_text(megabyte)))}")


def bench_decoding() -> None:
    import chardet

    from connectors.textdecode import decode_bytes

    print("\nDecoding undecodable bytes (baseline: chardet on the whole input)")
    print(f"{'input':>10} {'chardet':>22} {'decode_bytes':>14} {'ratio':>10}")
    code = "import chardet, os, sys, time; d = os.urandom(int(sys.argv[1]))\n"
    code += "s = time.perf_counter(); chardet.detect(d); print(time.perf_counter() - s)"
    for size in (64 * 1024, 256 * 1024, 1024 * 1024):
        data = os.urandom(size)
        now = best_of(lambda data=data: decode_bytes(data))
        runs = [_child_seconds(code, str(size)) for _ in range(3)]
        old = None if None in runs else min(runs)
        ratio = f"{old / now:9.0f}x" if old else "   --"
        print(f"{size // 1024:>7} KB {_fmt(old):>22} {_fmt(now):>14} {ratio:>10}")
        if old is None:
            break
    del chardet


def bench_worker() -> None:
    from connectors.feeds import parse_feed
    from connectors.parse_worker import ParseWorker
    from pipelines.commands.common import corpora_dir

    root = corpora_dir() / "feeds" / "real"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".md"))
    if not files:
        print("\n(parse worker: no corpus at", root, ")")
        return
    data = [(p.name, p.read_bytes()) for p in files]
    megabytes = sum(len(d) for _, d in data) / 1e6
    in_process = best_of(lambda: [parse_feed(n, d) for n, d in data])
    in_cpu = best_of_cpu(lambda: [parse_feed(n, d) for n, d in data])
    with ParseWorker() as worker:
        worker.parse("warm.xml", b"<rss/>")
        started = time.perf_counter()
        worker.close()
        worker.parse("start.xml", b"<rss/>")
        start_cost = time.perf_counter() - started
        isolated = best_of(lambda: [worker.parse(n, d) for n, d in data])
        isolated_cpu = best_of_cpu(
            lambda: [worker.parse(n, d) for n, d in data], child=lambda: worker._process.pid
        )
    print(f"\nParse worker on {len(data)} real feeds ({megabytes:.1f} MB), best of 3")
    print(f"{'':18}{'wall':>9}{'CPU (parent + child)':>24}")
    print(f"  in process      {in_process:7.2f} s{in_cpu:17.2f} s")
    print(f"  in the worker   {isolated:7.2f} s{isolated_cpu:17.2f} s")
    print(
        f"  worker / in process: wall {isolated / in_process:.2f}x, CPU {isolated_cpu / in_cpu:.2f}x;"
        f" CPU overhead per file {(isolated_cpu - in_cpu) / len(data) * 1000:.2f} ms;"
        f" child start {start_cost * 1000:.0f} ms once per DoFn instance"
    )


def bench_cases() -> None:
    import tests.test_hostile as hostile

    print("\nHostile cases of tests/test_hostile.py, in process (best of 3)")
    skip = {"external_entities", "parse_deadline"}  # need a server / measure the deadline itself
    for name, case in sorted(hostile.CASES.items()):
        if name in skip:
            continue
        print(f"  {name:<22} {best_of(case) * 1000:9.1f} ms")


def bench_properties() -> None:
    env = {**os.environ, "NEWSWATCH_HYPOTHESIS": "bench"}
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_properties.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(
        f"\nProperty tests, many examples: {re.sub(r'=+', '', last).strip()}"
        f" ({time.perf_counter() - started:.0f} s)"
    )
    if proc.returncode:
        print(proc.stdout[-4000:])


def main() -> None:
    bench_html()
    bench_decoding()
    bench_worker()
    bench_cases()
    bench_properties()


if __name__ == "__main__":
    main()
