"""Memory of the JSONL sink: ``WriteToText(num_shards=1)`` against the shard sink, same items.

    python -m benchmarks.sink_bench [--items N] [--text-chars N] [--repeat N]

Each command runs in a fresh interpreter on FnApiRunner and makes ``--items``
items whose JSON lines are about 4.6 KB, the mean of ``items.jsonl`` over
the real corpus (``--text-chars`` sets the text's length), inside the pipeline,
from a few seeds (``beam.Create`` of many records is slow), then:

* **no sink**: counts them (the baseline: what making the items costs);
* **WriteToText(num_shards=1)**: the sink before (``to_json`` then one
  unsharded text file: Beam groups every line under one shard key);
* **WriteJsonl**: :class:`connectors.sinks.WriteJsonl` (each bundle writes
  its own shard; one final step joins them).

Printed: peak RSS of the process tree and its excess over the baseline, per
item, and wall and CPU time; the best of ``--repeat`` runs each.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.proctree import measure

__all__ = ["main"]

_SCRIPT = """
import sys
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
import transforms.coders  # the item coder, as in the replay
from transforms.item import Item, Source, to_json

kind, target, items, chars = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
SEEDS = 100
SOURCE = Source(kind="feed", name="Bench Wire", url="https://bench.example/rss")
WORDS = "investigators said the shelling of the hospital was deliberate and documented ".split()


def make(seed):
    for n in range(seed, items, SEEDS):
        words = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(chars // 7))[:chars]
        yield Item(
            source=SOURCE,
            guid=f"bench-{n}",
            url=f"https://bench.example/a/{n}",
            title=f"Report {n}: shelling of a hospital",
            text=words,
            id=f"id-{n:012d}",
            language="en",
            origin="bench/feed.xml",
        )


RUNNER = "--runner=apache_beam.runners.portability.fn_api_runner.FnApiRunner"
with beam.Pipeline(options=PipelineOptions([RUNNER])) as p:
    made = p | beam.Create(list(range(SEEDS))) | beam.FlatMap(make).with_output_types(Item)
    if kind == "none":
        made | beam.combiners.Count.Globally()
    elif kind == "text":
        made | beam.Map(to_json) | beam.io.WriteToText(target, shard_name_template="", num_shards=1)
    else:
        from connectors.sinks import WriteJsonl

        made | WriteJsonl(target)
"""

SINKS = {
    "no sink (baseline)": "none",
    "WriteToText(num_shards=1)": "text",
    "WriteJsonl (shards)": "shards",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--text-chars", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SINKS}
    lines: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, kind in SINKS.items():
                target = Path(tmp) / f"{kind}.jsonl"
                argv_ = [sys.executable, "-c", _SCRIPT, kind, str(target)]
                runs[name].append(measure([*argv_, str(args.items), str(args.text_chars)]))
                if target.exists():
                    with target.open("rb") as handle:
                        lines[name] = sum(1 for _ in handle)
                    size = target.stat().st_size
                    target.unlink()
    base = min(r["tree_mb"] for r in runs["no sink (baseline)"])
    print(
        f"JSONL sink memory, {args.items:,} items of {args.text_chars:,} text characters "
        f"({size / max(args.items, 1):,.0f} bytes per line; FnApiRunner; best of {args.repeat}; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    print(f"  {'':<28}{'peak MB':>9}{'over baseline':>15}{'B/item':>9}{'wall s':>8}{'CPU s':>7}")
    for name, results in runs.items():
        peak = min(r["tree_mb"] for r in results)
        over = peak - base
        print(
            f"  {name:<28}{peak:>9,.0f}{over:>15,.0f}{over * 2**20 / args.items:>9,.0f}"
            f"{min(r['seconds'] for r in results):>8.1f}{min(r['cpu'] for r in results):>7.1f}"
            + (f"  ({lines[name]:,} lines)" if name in lines else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
