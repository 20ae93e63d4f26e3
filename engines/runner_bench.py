"""Replay throughput on each local runner: the real feeds, FnApiRunner as the baseline.

    .venv/bin/python engines/runner_bench.py [--corpora DIR] [--runs N] [--engines prism,flink]

Every run replays the same input (by default all of ``feeds/real``, 250 files)
with ``newswatch replay`` in its own process, as a user does. Runs are
interleaved (FnApiRunner, then each engine, then again), so that load from
others on a shared machine falls on all of them alike; each runner's figure is
its best of ``--runs``, and the ratio is FnApiRunner's best time over the
runner's (above 1.00x: faster than FnApiRunner). Each run's outputs must equal
FnApiRunner's first run, compared order-independently, or the figure is void.
Engines come from `make engines`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.engines.enginekit import FLINK_CONF, job_server_jar, prism_path  # noqa: E402

__all__ = ["main"]

OUTPUTS = ("items.jsonl", "flagged.jsonl", "dead_letter.jsonl")


def runner_options(name: str) -> list[str]:
    if name == "FnApiRunner":
        return ["--runner=FnApiRunner"]
    if name == "prism":
        return [
            "--runner=PrismRunner",
            f"--prism_location={prism_path()}",
            "--environment_type=LOOPBACK",
        ]
    if name == "flink":
        return [
            "--runner=FlinkRunner",
            "--flink_master=[local]",
            f"--flink_job_server_jar={job_server_jar('flink')}",
            "--parallelism=2",
            "--environment_type=LOOPBACK",
        ]
    if name == "spark":
        return [
            "--runner=SparkRunner",
            "--spark_master_url=local[2]",
            f"--spark_job_server_jar={job_server_jar('spark')}",
            "--environment_type=LOOPBACK",
        ]
    raise ValueError(f"unknown engine {name!r} (prism, flink or spark)")


def run_once(name: str, inputs: list[Path], out: Path) -> float:
    # Flink's mini-cluster needs more network memory than its default for the
    # replay (engines/flink-conf/flink-conf.yaml says why).
    env = {**os.environ, "FLINK_CONF_DIR": str(FLINK_CONF)} if name == "flink" else None
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "replay", *map(str, inputs)]
        + ["--output", str(out), "--quiet", *runner_options(name)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return seconds


def outputs(out: Path) -> dict[str, list[str]]:
    found = {name: sorted((out / name).read_text().splitlines()) for name in OUTPUTS}
    found["summary"] = [json.dumps(json.loads((out / "summary.json").read_text()), sort_keys=True)]
    return found


def _load() -> str:
    """The 1, 5 and 15 minute load averages: others share this machine."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(REPO.parent / "shared" / "corpora"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="prism")
    args = parser.parse_args()
    inputs = [Path(args.corpora) / "feeds" / "real"]
    names = ["FnApiRunner", *[e for e in args.engines.split(",") if e]]
    best: dict[str, float] = {}
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for name in names:
                out = Path(tmp) / f"{name}-{run}"
                seconds = run_once(name, inputs, out)
                got = outputs(out)
                if reference is None:
                    reference = got
                same = got == reference
                print(
                    f"run {run + 1} {name:<12} {seconds:7.1f} s  same outputs: {same}"
                    f"  load average {_load()}",
                    flush=True,
                )
                if not same:
                    raise SystemExit(f"{name}: outputs differ from FnApiRunner's")
                best[name] = min(best.get(name, seconds), seconds)
    items = len(reference["items.jsonl"])
    print(
        f"replay of {inputs[0]} ({items} items), best of {args.runs}, interleaved;"
        f" load average at the end {_load()} on {os.cpu_count()} cores"
    )
    for name in names:
        print(
            f"  {name:<12} {best[name]:7.1f} s  {items / best[name]:7.0f} items/s"
            f"  {best['FnApiRunner'] / best[name]:.2f}x"
        )


if __name__ == "__main__":
    main()
