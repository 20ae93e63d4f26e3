"""Instructions per item of parse, normalise and the parse worker's pickling, in two trees.

    python -m benchmarks.parse_ir OLD_TREE NEW_TREE INPUT_DIR [--files N]

CPU seconds on a machine shared by several people move by a fifth between
runs of the same code; instruction counts do not. Each figure is counted by
valgrind's callgrind in a fresh interpreter of each tree: the same script
runs once with the measured step and once without it (imports, reading and
the steps before it included in both; so are the imports that parse_feed
makes lazily), and the difference is divided by the items. Steps: ``parse`` (:func:`connectors.feeds.parse_feed` on the
first N files of INPUT_DIR, sorted), ``normalise``
(:func:`transforms.normalise.normalise_or_reason` on their items) and
``pickle`` (each file's outcome pickled and unpickled, as it crosses the
parse worker's pipe). Needs ``valgrind`` on PATH; slow (about a minute per
figure for 40 files).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.two_trees import tree_parser, tree_paths

__all__ = ["STEPS", "main"]

STEPS = ("parse", "normalise", "pickle")
_COLLECTED = re.compile(r"Collected : (\d+)")
_SCRIPT = """
import pickle, sys
from pathlib import Path
from connectors.feeds import parse_feed
from transforms.normalise import normalise_or_reason
import connectors.fastfeed, feedparser  # imported lazily by parse_feed: not counted
step, run, folder, files = sys.argv[1], sys.argv[2] == "1", sys.argv[3], int(sys.argv[4])
paths = sorted(p for p in Path(folder).rglob("*") if p.is_file())[:files]
data = [(p.name, p.read_bytes()) for p in paths]
if step != "parse" or run:
    outcomes = [parse_feed(name, raw) for name, raw in data]
    raws = [item for outcome in outcomes for item in outcome.items]
    if step == "normalise" and run:
        for raw in raws:
            normalise_or_reason(raw)
    if step == "pickle" and run:
        for outcome in outcomes:
            pickle.loads(pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL))
"""


def _count(tree: Path, script: Path, step: str, run: bool, folder: Path, files: int) -> int:
    env = dict(os.environ, PYTHONPATH=str(tree))
    with tempfile.TemporaryDirectory(prefix="parse-ir-") as work:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/cg.out",
             sys.executable, str(script), step, "1" if run else "0", str(folder), str(files)],
            cwd=tree, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    return int(_COLLECTED.findall(done.stderr)[-1])


def _items(tree: Path, folder: Path, files: int) -> int:
    code = (
        "import sys; from pathlib import Path; from connectors.feeds import parse_feed;"
        f"ps = sorted(p for p in Path({str(folder)!r}).rglob('*') if p.is_file())[:{files}];"
        "print(sum(len(parse_feed(p.name, p.read_bytes()).items) for p in ps))"
    )
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = tree_parser(__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args(argv)
    trees = tree_paths(args)
    folder = args.input.resolve()
    items = _items(trees["new"], folder, args.files)
    print(f"instructions per item, first {args.files} files of {folder} ({items} items)")
    print(f"  {'step':<11}{'old':>11}{'new':>11}{'old/new':>9}")
    with tempfile.TemporaryDirectory(prefix="parse-ir-") as work:
        script = Path(work) / "step.py"
        script.write_text(_SCRIPT)
        for step in STEPS:
            per_item = {}
            for tag, tree in trees.items():
                spent = _count(tree, script, step, True, folder, args.files)
                spent -= _count(tree, script, step, False, folder, args.files)
                per_item[tag] = spent / items
            ratio = per_item["old"] / per_item["new"]
            print(f"  {step:<11}{per_item['old']:>11,.0f}{per_item['new']:>11,.0f}{ratio:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
