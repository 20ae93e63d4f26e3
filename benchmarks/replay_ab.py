"""The whole replay in two source trees, alternating: wall, CPU and outputs side by side.

    python -m benchmarks.replay_ab OLD_TREE NEW_TREE INPUT_DIR [--repeat N] [--runs NAME ...]

OLD_TREE is a clean copy of an earlier commit (``git archive <commit> | tar -x
-C /tmp/base``) and NEW_TREE this checkout. Each run is ``newswatch replay``
in a fresh interpreter of one tree (``PYTHONPATH`` and the working directory
set to it, so its worker processes load that tree too), alternating old and
new, ``--repeat`` times per runner: ``2 workers`` (DirectRunner,
multi_processing, two workers) and ``FnApiRunner`` (one process). It prints
the best wall time, items per second, CPU seconds of the process tree and
peak RSS of each, the old/new ratios, and whether the two trees wrote the
same ``items.jsonl`` and ``flagged.jsonl`` (compared as sorted lines). The
load average is printed since the machine may be shared: only ratios measured
in the same run are figures.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.proctree import measure
from benchmarks.two_trees import tree_parser, tree_paths

__all__ = ["RUNS", "main", "same_lines"]

RUNS = {
    "2 workers": [
        "--runner=DirectRunner",
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
    ],
    "FnApiRunner": [],
}


def same_lines(a: Path, b: Path) -> bool:
    """Whether two JSON-lines files hold the same lines, in any order."""
    return sorted(a.read_bytes().splitlines()) == sorted(b.read_bytes().splitlines())


def _replay(tree: Path, input_dir: Path, out: Path, extra: list[str]) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    argv = [sys.executable, "-m", "pipelines.cli", "replay", str(input_dir), "--quiet"]
    shutil.rmtree(out, ignore_errors=True)
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        return measure([*argv, "--output", str(out), *extra], env=env)
    finally:
        os.chdir(cwd)


def main(argv: list[str] | None = None) -> int:
    parser = tree_parser(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    args = parser.parse_args(argv)
    trees = tree_paths(args)
    input_dir = args.input.resolve()
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="replay-ab-") as work:
        outs = {tag: Path(work, tag) for tag in trees}
        for name in args.runs:
            for _ in range(args.repeat):
                for tag, tree in trees.items():
                    run = _replay(tree, input_dir, outs[tag], RUNS[name])
                    results.setdefault((name, tag), []).append(run)
                    loads.append(os.getloadavg()[0])
        counts = json.loads((outs["new"] / "summary.json").read_text(encoding="utf-8"))
        same = {
            name: same_lines(outs["old"] / name, outs["new"] / name)
            for name in ("items.jsonl", "flagged.jsonl")
        }
    n = int(counts.get("entries.read", 0))
    print(
        f"newswatch replay of {n} items, best of {args.repeat}, alternating old {trees['old']}"
        f" / new {trees['new']}; {os.cpu_count()} cores, load average"
        f" {min(loads):.1f}-{max(loads):.1f}"
    )
    print(f"  {'run':<20}{'wall s':>8}{'items/s':>9}{'CPU s':>8}{'items/CPU s':>13}{'peak MB':>9}")
    for name in args.runs:
        best = {}
        for tag in trees:
            runs = results[(name, tag)]
            best[tag] = min(runs, key=lambda r: r["seconds"])
            cpu = min(r["cpu"] for r in runs)
            mb = min(r["tree_mb"] for r in runs)
            wall = best[tag]["seconds"]
            print(
                f"  {name + ', ' + tag:<20}{wall:>8.1f}{n / wall:>9,.0f}{cpu:>8.1f}"
                f"{n / cpu:>13,.0f}{mb:>9,.0f}"
            )
        old_cpu = min(r["cpu"] for r in results[(name, "old")])
        new_cpu = min(r["cpu"] for r in results[(name, "new")])
        print(
            f"  {name}: old/new wall {best['old']['seconds'] / best['new']['seconds']:.2f}x,"
            f" CPU {old_cpu / new_cpu:.2f}x"
        )
    print(f"  same outputs (sorted lines): {json.dumps(same)}")
    print(
        f"  last run (new): {counts.get('entries.read', 0)} read,"
        f" {counts.get('entries.unique', 0)} unique, {counts.get('entries.duplicate', 0)}"
        f" duplicates, {counts.get('entries.dead_letter', 0)} dead letters"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
