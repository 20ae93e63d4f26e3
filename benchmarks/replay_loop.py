"""The replay's work in a plain Python loop: the baseline of ``benchmarks.replay_bench``.

    python -m benchmarks.replay_loop INPUT_DIR OUTPUT_DIR [--stages]

The same functions the pipeline runs, in one process, no Beam: parse every
file (:func:`connectors.feeds.parse_feed`), normalise, identify the language
(the cascade), flag, deduplicate (the state machine fed in rank order, which
makes the batch decisions, with representatives credited), and write
``items.jsonl`` and ``flagged.jsonl``. It prints one JSON line of counts.

With ``--stages`` it also prints where the CPU went: seconds per stage and
items per CPU second of each, the language stage split into the texts CLD2
or a script decided and those that went on to lingua (whose models load on
those calls).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from connectors.feeds import parse_feed
from transforms.dedup import rank
from transforms.dedup_state import DedupState, dedup_keys
from transforms.flagging import flag_item
from transforms.item import Item, Report, to_json
from transforms.language import identify, make_detector
from transforms.neardup import NearConfig
from transforms.normalise import normalise_or_reason
from transforms.rules import RuleEngine

__all__ = ["STAGES", "run"]

_FOREVER = 10**12
STAGES = (
    "setup",
    "parse",
    "normalise",
    "language",
    "language (lingua)",
    "flag",
    "dedup keys",
    "dedup decide",
    "write",
)


def run(
    input_dir: Path, output_dir: Path, stages: dict[str, float] | None = None
) -> dict[str, int]:
    """Replay ``input_dir`` into ``output_dir``; the counts.

    Args:
        input_dir: folder of feed files (read recursively).
        output_dir: where ``items.jsonl`` and ``flagged.jsonl`` go.
        stages: if given, CPU seconds per stage (:data:`STAGES`) are added to it.
    """
    spent: dict[str, float] = defaultdict(float) if stages is None else stages
    clock = time.process_time
    t0 = clock()
    detector = make_detector("cascade")
    engine = RuleEngine.load()
    t1 = clock()
    spent["setup"] += t1 - t0
    items: list[Item] = []
    dead = files = 0
    for path in sorted(p for p in Path(input_dir).rglob("*") if p.is_file()):
        files += 1
        t0 = clock()
        outcome = parse_feed(path.name, path.read_bytes())
        spent["parse"] += clock() - t0
        dead += len(outcome.dead_letters)
        for raw in outcome.items:
            t0 = clock()
            normal = normalise_or_reason(raw)
            t1 = clock()
            spent["normalise"] += t1 - t0
            if isinstance(normal, str):
                dead += 1
                continue
            before = getattr(detector, "fallbacks", 0)
            normal = identify(detector, normal)
            t2 = clock()
            spent["language (lingua)" if detector.fallbacks != before else "language"] += t2 - t1
            items.append(flag_item(engine, normal))
            spent["flag"] += clock() - t2
    state = DedupState(NearConfig(), ttl_seconds=_FOREVER)
    reports: dict[str, list[Report]] = {}
    decided: list[Item] = []
    for item in sorted(items, key=rank):
        t0 = clock()
        keys = dedup_keys(item)
        t1 = clock()
        verdict, _ = state.observe(keys, 0)
        if verdict.duplicate is not None:
            item = item.replace(duplicate=verdict.duplicate)
            if verdict.credit is not None:
                reports.setdefault(verdict.credit, []).append(
                    Report(id=item.id, source=item.source, url=item.url)
                )
        decided.append(item)
        spent["dedup keys"] += t1 - t0
        spent["dedup decide"] += clock() - t1
    t0 = clock()
    output_dir.mkdir(parents=True, exist_ok=True)
    unique = flagged = 0
    with (output_dir / "items.jsonl").open("w", encoding="utf-8") as every, (
        output_dir / "flagged.jsonl"
    ).open("w", encoding="utf-8") as queue:
        for item in decided:
            if item.duplicate is None:
                unique += 1
                if item.id in reports:
                    item = item.replace(also_reported_by=tuple(reports[item.id]))
                if item.flags:
                    flagged += 1
                    queue.write(to_json(item) + "\n")
            every.write(to_json(item) + "\n")
    spent["write"] += clock() - t0
    return {
        "files": files,
        "items": len(items),
        "unique": unique,
        "flagged": flagged,
        "dead_letters": dead,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    show = "--stages" in args
    paths = [a for a in args if a != "--stages"]
    stages: dict[str, float] = defaultdict(float)
    counts = run(Path(paths[0]), Path(paths[1]), stages)
    print(json.dumps(counts))
    if show:
        total = sum(stages.values())
        n = counts["items"]
        print(f"CPU seconds per stage, {n} items ({time.process_time():.2f} s in the process)")
        for name in STAGES:
            seconds = stages.get(name, 0.0)
            rate = f"{n / seconds:>10,.0f} items/CPU s" if seconds and name != "setup" else ""
            print(f"  {name:<18}{seconds:>7.2f} s {100 * seconds / total:>5.1f}%  {rate}")
        print(f"  {'all stages':<18}{total:>7.2f} s        {n / total:>10,.0f} items/CPU s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
