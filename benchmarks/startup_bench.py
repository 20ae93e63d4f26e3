"""Start-up cost: a one-item replay against a trivial Beam pipeline, same runner, same run.

    python -m benchmarks.startup_bench [--corpora DIR] [--repeat N] [--no-slow] [--workers N]

The commands below, each in a fresh interpreter, interleaved, ``--repeat``
times (the figure is the best of them):

* **trivial**: ``Create(["x"]) → Map → WriteToText`` on ``FnApiRunner`` (the
  replay's default runner): what any Beam job on this machine costs;
* **replay, fast route**: ``newswatch replay`` of a feed holding one real
  item of real length, in a language CLD2 decides alone (the common case:
  the slow model is never needed);
* the fast route again with the rule-pack cache off (``NEWSWATCH_CACHE=off``):
  what parsing the packs' YAML costs when the cache is cold;
* **replay, slow route**: the same with one item too short for CLD2, which
  the cascade sends to lingua: what the model costs when it does load
  (``--no-slow`` skips it);
* with ``--workers N``, the trivial pipeline and the fast route again on
  ``DirectRunner`` with N worker processes (``multi_processing``): the fixed
  cost that a replay with workers pays before its first item, which bounds
  the items per second any replay of a given size can reach on that runner.

Each command is measured by :func:`benchmarks.proctree.measure`: wall time
around the subprocess, CPU time as user + system of the process tree (on a
shared machine it moves less with the load than wall time), the peak RSS of
the process tree (the replay's parse worker included) and the child's own
``ru_maxrss``.
Goals (issue 9): fast route <= 1.5x the trivial pipeline's wall time, and
<= 350 MB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from benchmarks.proctree import measure, tree_rss_kb
from pipelines.commands.common import corpora_dir

__all__ = ["GOAL_RATIO", "GOAL_RSS_MB", "measure", "one_item_feed", "tree_rss_kb"]

GOAL_RATIO = 1.5
GOAL_RSS_MB = 350

_TRIVIAL = """
import sys
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
RUNNER = ["--runner=apache_beam.runners.portability.fn_api_runner.FnApiRunner"]
with beam.Pipeline(options=PipelineOptions(sys.argv[2:] or RUNNER)) as p:
    p | beam.Create(["x"]) | beam.Map(str.upper) | beam.io.WriteToText(sys.argv[1])
"""

# A real English paragraph of real length (CLD2 calls it reliable), and a
# two-word title that only lingua can place.
_LONG_TEXT = (
    "Investigators from the United Nations said on Tuesday that they had gathered evidence "
    "of the deliberate shelling of a hospital in the north of the country, and that "
    "witnesses described soldiers detaining and executing civilians who had sheltered in "
    "its basement. The commission will present its findings to the Human Rights Council "
    "next month, and prosecutors at the International Criminal Court have asked for access "
    "to the material. Local officials said the bodies of at least twelve people were "
    "recovered from a mass grave near the building after the troops withdrew. "
) * 4
_SHORT_TEXT = "Shelling resumes at dawn"


def one_item_feed(title: str, text: str) -> bytes:
    """An RSS 2.0 file holding one item."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Bench</title><link>https://bench.example/</link>"
        f"<item><title>{escape(title)}</title><link>https://bench.example/a/1</link>"
        f"<guid>https://bench.example/a/1</guid><description>{escape(text)}</description>"
        "<pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


FAST = "one-item replay, fast route"
SLOW = "one-item replay, slow route"
UNCACHED = "  the same, pack cache off"
TRIVIAL = "trivial Beam pipeline"


def worker_args(workers: int) -> list[str]:
    """Beam's options for ``DirectRunner`` with ``workers`` processes."""
    return [
        "--runner=DirectRunner",
        "--direct_running_mode=multi_processing",
        f"--direct_num_workers={workers}",
    ]


def _replay(work: Path, route: str, runner: list[str] = (), out: str = "") -> list[str]:
    return [
        sys.executable,
        *("-m", "pipelines.cli", "replay", str(work / route)),
        *("--output", str(work / f"out-{route}{out}"), "--quiet", *runner),
    ]


def _commands(
    work: Path, slow: bool, workers: int = 0
) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """Name → (argv, environment) of each command measured."""
    no_cache = dict(os.environ, NEWSWATCH_CACHE="off")
    commands = {
        TRIVIAL: ([sys.executable, "-c", _TRIVIAL, str(work / "trivial")], None),
        FAST: (_replay(work, "fast"), None),
        UNCACHED: (_replay(work, "fast"), no_cache),
    }
    if slow:
        commands[SLOW] = (_replay(work, "slow"), None)
    if workers:
        runner = worker_args(workers)
        trivial = [sys.executable, "-c", _TRIVIAL, str(work / "trivial-workers"), *runner]
        commands[f"{TRIVIAL}, {workers} workers"] = (trivial, None)
        commands[f"{FAST}, {workers} workers"] = (_replay(work, "fast", runner, "-w"), None)
    return commands


_PACKAGES = ("connectors", "pipelines", "transforms")


def compile_bytecode() -> None:
    """Compile the project's modules to bytecode first, as an installed package is.

    Beam's modules were compiled when pip installed them; the project runs
    from its checkout, where an environment with ``PYTHONDONTWRITEBYTECODE``
    (this machine's) would otherwise compile every module on every start.
    ``make run`` and ``make test`` do the same.
    """
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *(str(root / d) for d in _PACKAGES)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(corpora_dir()))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-slow", action="store_true", help="skip the slow route (the lingua model's cost)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="also measure both on DirectRunner with this many worker processes",
    )
    args = parser.parse_args(argv)
    compile_bytecode()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "fast").mkdir()
        (work / "slow").mkdir()
        (work / "fast" / "one.xml").write_bytes(one_item_feed("Mass grave found", _LONG_TEXT))
        (work / "slow" / "one.xml").write_bytes(one_item_feed(_SHORT_TEXT, ""))
        commands = _commands(work, not args.no_slow, args.workers)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, (command, env) in commands.items():
                runs[name].append(measure(command, env))
        routes = {}
        for route in ("fast", "slow") if not args.no_slow else ("fast",):
            items = [
                json.loads(line)
                for line in (work / f"out-{route}" / "items.jsonl").read_text().splitlines()
            ]
            routes[route] = items[0]["language"] if items else "?"
    best = {name: min(r, key=lambda r: r["seconds"]) for name, r in runs.items()}
    cpu = {name: min(r["cpu"] for r in results) for name, results in runs.items()}
    peak = {name: min(r["tree_mb"] for r in results) for name, results in runs.items()}
    base, base_cpu = best[TRIVIAL]["seconds"], cpu[TRIVIAL]
    print(
        f"start-up, best of {args.repeat} (fresh interpreters, FnApiRunner unless named, "
        f"interleaved; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"{os.cpu_count()} cores)"
    )
    print(
        f"  {'':<40}{'wall s':>8}{'x trivial':>11}{'CPU s':>8}{'x trivial':>11}"
        f"{'peak tree MB':>14}{'own MB':>9}"
    )
    worker_base = f"{TRIVIAL}, {args.workers} workers"
    for name, result in best.items():
        # Each row against the trivial pipeline on its own runner.
        against = worker_base if name.endswith(" workers") else TRIVIAL
        wall_x = result["seconds"] / best[against]["seconds"]
        print(
            f"  {name:<40}{result['seconds']:>8.2f}{wall_x:>11.2f}"
            f"{cpu[name]:>8.2f}{cpu[name] / cpu[against]:>11.2f}"
            f"{peak[name]:>14.0f}{min(r['own_mb'] for r in runs[name]):>9.0f}"
        )
    fast = best[FAST]
    print("  languages: " + ", ".join(f"{route} route {lang}" for route, lang in routes.items()))
    print(
        f"  goal: fast route <= {GOAL_RATIO}x trivial and <= {GOAL_RSS_MB} MB: "
        f"{fast['seconds'] / base:.2f}x (CPU {cpu[FAST] / base_cpu:.2f}x), "
        f"{peak[FAST]:.0f} MB -> "
        + (
            "met"
            if fast["seconds"] / base <= GOAL_RATIO and peak[FAST] <= GOAL_RSS_MB
            else "NOT met"
        )
    )
    if SLOW in best:
        print(
            f"  the slow model, when an item needs it: "
            f"+{best[SLOW]['seconds'] - fast['seconds']:.2f} s, +{peak[SLOW] - peak[FAST]:.0f} MB"
        )
    if args.workers:
        trivial = best[f"{TRIVIAL}, {args.workers} workers"]["seconds"]
        print(
            f"  with {args.workers} workers, a trivial pipeline takes {trivial:.2f} s: a replay of "
            f"N items cannot pass N / {trivial:.2f} items/s there (25,077 items: "
            f"{25077 / trivial:,.0f} items/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
