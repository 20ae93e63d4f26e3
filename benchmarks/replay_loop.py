"""The replay's work in a plain Python loop: the baseline of ``benchmarks.replay_bench``.

    python -m benchmarks.replay_loop INPUT_DIR OUTPUT_DIR

The same functions the pipeline runs, in one process, no Beam: parse every
file (:func:`connectors.feeds.parse_feed`), normalise, identify the language
(the cascade), flag, deduplicate (the state machine fed in rank order, which
makes the batch decisions, with representatives credited), and write
``items.jsonl`` and ``flagged.jsonl``. It prints one JSON line of counts.
"""

from __future__ import annotations

import json
import sys
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

__all__ = ["run"]

_FOREVER = 10**12


def run(input_dir: Path, output_dir: Path) -> dict[str, int]:
    """Replay ``input_dir`` into ``output_dir``; the counts."""
    detector = make_detector("cascade")
    engine = RuleEngine.load()
    items: list[Item] = []
    dead = files = 0
    for path in sorted(p for p in Path(input_dir).rglob("*") if p.is_file()):
        files += 1
        outcome = parse_feed(path.name, path.read_bytes())
        dead += len(outcome.dead_letters)
        for raw in outcome.items:
            normal = normalise_or_reason(raw)
            if isinstance(normal, str):
                dead += 1
                continue
            items.append(flag_item(engine, identify(detector, normal)))
    state = DedupState(NearConfig(), ttl_seconds=_FOREVER)
    reports: dict[str, list[Report]] = {}
    decided: list[Item] = []
    for item in sorted(items, key=rank):
        verdict, _ = state.observe(dedup_keys(item), 0)
        if verdict.duplicate is not None:
            item = item.replace(duplicate=verdict.duplicate)
            if verdict.credit is not None:
                reports.setdefault(verdict.credit, []).append(
                    Report(id=item.id, source=item.source, url=item.url)
                )
        decided.append(item)
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
    return {
        "files": files,
        "items": len(items),
        "unique": unique,
        "flagged": flagged,
        "dead_letters": dead,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(json.dumps(run(Path(args[0]), Path(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
