"""Replay throughput: the real feeds through the whole pipeline, against a plain loop.

    python -m benchmarks.replay_bench [--corpora DIR]

The baseline is the same per-item work (parse, normalise, language, flag) in
a plain Python loop in this process, with no Beam and no dedup; the ratio
shows what the pipeline costs on top of the work itself.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from connectors.feeds import parse_feed
from pipelines.commands.common import DEFAULT_CORPORA
from pipelines.cli import main as cli_main
from transforms.flagging import flag_item
from transforms.language import identify, make_detector
from transforms.normalise import normalise_item
from transforms.rules import RuleEngine


def plain_loop(files: list[Path]) -> tuple[int, float]:
    started = time.perf_counter()
    detector = make_detector("cascade")
    engine = RuleEngine.load()
    count = 0
    for path in files:
        for item in parse_feed(str(path), path.read_bytes()).items:
            flag_item(engine, identify(detector, normalise_item(item)))
            count += 1
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(DEFAULT_CORPORA))
    args = parser.parse_args()
    real = Path(args.corpora) / "feeds" / "real"
    files = sorted(p for p in real.rglob("*") if p.is_file())
    count, loop_seconds = plain_loop(files)
    runs = {}
    for label, extra in (
        ("FnApiRunner", []),
        (
            "DirectRunner multi_processing x2",
            [
                "--runner=DirectRunner",
                "--direct_running_mode=multi_processing",
                "--direct_num_workers=2",
            ],
        ),
    ):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            code = cli_main(["replay", str(real), "--output", out, "--quiet", *extra])
            runs[label] = time.perf_counter() - started
            counts = json.loads(Path(out, "summary.json").read_text())
            assert code == 0, f"{label}: identities broken"
    print(f"replay of {len(files)} real feed files, {count} items (cores: {os.cpu_count()})")
    print(
        f"  plain loop (baseline)     {loop_seconds:6.1f} s  {count / loop_seconds:8,.0f} items/s  1.00x"
    )
    for label, seconds in runs.items():
        print(
            f"  {label:<25} {seconds:6.1f} s  {count / seconds:8,.0f} items/s  {loop_seconds / seconds:.2f}x"
        )
    print(
        f"  last run: {counts.get('entries.unique', 0)} unique, {counts.get('entries.duplicate', 0)} duplicates"
    )


if __name__ == "__main__":
    main()
