"""Flagging throughput on one core: every pack loaded, then every pack's terms ×10.

    python -m benchmarks.flag_bench [--corpora DIR] [--repeat N]

Items are the labelled dev set's real texts, normalised and language-tagged
up front so that only the rule engine is timed. The ×10 packs add nine
generated variants of every pattern: the automaton grows tenfold while the
texts and the rules that can fire stay the same.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from pipelines.commands.common import DEFAULT_CORPORA
from transforms.flagging import flag_item
from transforms.item import Item, Source
from transforms.language import identify, make_detector
from transforms.normalise import normalise_item
from transforms.rules import PACKS_DIR, RuleEngine


def load_items(corpora: Path) -> list[Item]:
    detector = make_detector("cascade")
    items = []
    with (corpora / "labeled" / "dev.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            raw = Item(
                source=Source("bench", "", ""), guid=row["id"], url=None, title="", text=row["text"]
            )
            items.append(identify(detector, normalise_item(raw)))
    return items


def _variant(pattern: str, n: int) -> str:
    # A word that cannot occur in real text but shares the pattern's prefix,
    # so the automaton's trie really grows.
    words = pattern.split()
    words[-1] = words[-1].rstrip("*") + f"q{n}zx" + ("*" if words[-1].endswith("*") else "")
    return " ".join(words)


def multiply_packs(source: Path, target: Path, factor: int) -> int:
    terms = 0
    for path in sorted(source.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for spec in (doc.get("terms") or {}).values():
            base = list(spec["patterns"])
            spec["patterns"] = base + [_variant(p, n) for n in range(1, factor) for p in base]
            terms += len(spec["patterns"])
        (target / path.name).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return terms


def count_patterns(directory: Path) -> int:
    return sum(
        len(spec["patterns"])
        for path in directory.glob("*.yaml")
        for spec in (yaml.safe_load(path.read_text(encoding="utf-8")).get("terms") or {}).values()
    )


def rate(engine: RuleEngine, items: list[Item], repeat: int) -> tuple[float, int]:
    best = 0.0
    flagged = 0
    for _ in range(repeat):
        started = time.perf_counter()
        flagged = sum(1 for item in items if flag_item(engine, item).flags)
        best = max(best, len(items) / (time.perf_counter() - started))
    return best, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(DEFAULT_CORPORA))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    items = load_items(Path(args.corpora))
    base = RuleEngine.load()
    base_rate, base_flagged = rate(base, items, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        terms = multiply_packs(PACKS_DIR, Path(tmp), 10)
        big = RuleEngine.load(tmp)
        big_rate, big_flagged = rate(big, items, args.repeat)
    print(f"flagging, {len(items)} dev items, best of {args.repeat}, one core")
    print(
        f"  packs as shipped  {count_patterns(PACKS_DIR):>7} patterns  {base_rate:>9,.0f} items/s  ({base_flagged} flagged)"
    )
    print(
        f"  terms x10         {terms:>7} patterns  {big_rate:>9,.0f} items/s  ({big_flagged} flagged)"
    )
    print(
        f"  slowdown x10 / shipped: {base_rate / big_rate:.2f}x (goal <= 2x); goal 20,000 items/s: "
        f"{'met' if base_rate >= 20000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
