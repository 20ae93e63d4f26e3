"""Where a core goes per stage, in two source trees: the replay loop's stages side by side.

    python -m benchmarks.stage_ab OLD_TREE NEW_TREE INPUT_DIR [--repeat N]

OLD_TREE is a clean copy of an earlier commit (``git archive <commit> | tar -x
-C /tmp/base``) and NEW_TREE this checkout. Each run is a fresh interpreter in
each tree, alternating old and new, running :mod:`benchmarks.replay_loop`
with ``--stages`` (the same work the pipeline does, in a plain loop: parse,
normalise, language, flag, dedup keys and decisions, write) over INPUT_DIR.
It prints, per stage, the best CPU seconds of each tree and their ratio, the
counts line of each tree (they must agree unless a change moved a decision),
and the load average, since the machine may be shared: only ratios measured
in the same run are figures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.two_trees import tree_parser, tree_paths

__all__ = ["main", "stage_seconds"]

_ROW = re.compile(r"^\s{2}(\S.*?)\s{2,}(\d+\.\d+) s\b", re.MULTILINE)


def stage_seconds(report: str) -> dict[str, float]:
    """The CPU seconds per stage in one ``replay_loop --stages`` report."""
    return {name.strip(): float(seconds) for name, seconds in _ROW.findall(report)}


def _run(tree: Path, input_dir: Path, out: Path) -> tuple[dict[str, float], dict]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.replay_loop", str(input_dir), str(out), "--stages"],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    )
    counts = json.loads(done.stdout.splitlines()[0])
    return stage_seconds(done.stdout), counts


def main(argv: list[str] | None = None) -> int:
    parser = tree_parser(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    trees = tree_paths(args)
    best: dict[str, dict[str, float]] = {"old": {}, "new": {}}
    counts: dict[str, dict] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="stage-ab-") as work:
        for _ in range(args.repeat):
            for tag, tree in trees.items():
                seconds, counts[tag] = _run(tree, args.input.resolve(), Path(work) / tag)
                for stage, value in seconds.items():
                    best[tag][stage] = min(value, best[tag].get(stage, value))
                loads.append(os.getloadavg()[0])
    print(
        f"CPU seconds per stage, best of {args.repeat}, old {trees['old']} / new "
        f"{trees['new']}; load average {min(loads):.1f}-{max(loads):.1f}"
    )
    print(f"  {'stage':<20}{'old':>9}{'new':>9}{'old/new':>9}")
    for stage in best["old"]:
        old, new = best["old"][stage], best["new"].get(stage, float("nan"))
        ratio = old / new if new > 0 else float("nan")
        print(f"  {stage:<20}{old:>9.2f}{new:>9.2f}{ratio:>8.2f}x")
    for tag in trees:
        print(f"  counts, {tag}: {json.dumps(counts[tag], sort_keys=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
