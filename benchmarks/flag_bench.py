"""Flagging throughput on one core, on real feed items: packs before and after a change, and ×10.

    python -m benchmarks.flag_bench [--corpora DIR] [--repeat N] [--base COMMIT]

Items are every entry of the real feeds (``CORPORA/feeds/real``), parsed with
``connectors.feeds.parse_feed``, normalised and language-tagged up front so
that only the rule engine is timed; they keep their real length.

Three engines flag the same items in the same run, interleaved, best of
``--repeat`` each:

* **base** — the packs of commit ``--base`` (read with ``git show`` into a
  temporary folder; the commit before the gazetteer and the civilian-harm
  rules by default);
* **shipped** — the packs as they are now, gazetteer included;
* **×10** — the shipped packs with nine generated variants of every pattern:
  the automaton grows tenfold while the texts and the rules that can fire stay
  the same.

Rates are items per CPU second of this process (one core). Goals: shipped
≥ 0.90 × base (a pack change may cost at most 10%), ×10 within 2× of
shipped, and shipped ≥ 10,000 real items per CPU second.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.dedup_data import load_items as load_feed_items
from pipelines.commands.common import DEFAULT_CORPORA
from transforms.flagging import flag_item
from transforms.item import Item
from transforms.language import identify, make_detector
from transforms.rules import PACKS_DIR, RuleEngine

# The last commit before the gazetteer and the civilian-harm rules.
BASE_COMMIT = "cd924be3e71e304e9088539c58e2b45595bdd350"
PACKS_PATH = "transforms/packs"
GOAL_ITEMS_PER_CPU_SECOND = 10_000


def load_items(corpora: Path) -> list[Item]:
    detector = make_detector("cascade")
    return [identify(detector, item) for item in load_feed_items(corpora / "feeds" / "real")]


def export_packs(commit: str, target: Path) -> int:
    """Write the packs (and gazetteer, if any) of ``commit`` into ``target``; the file count.

    Raises:
        RuntimeError: git cannot read the commit's packs.
    """
    repo = Path(__file__).resolve().parents[1]
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", commit, PACKS_PATH + "/"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    if listing.returncode != 0 or not listing.stdout.strip():
        raise RuntimeError(f"cannot list {PACKS_PATH} at {commit}: {listing.stderr.strip()}")
    count = 0
    for name in listing.stdout.split():
        blob = subprocess.run(
            ["git", "show", f"{commit}:{name}"], cwd=repo, capture_output=True, check=True
        ).stdout
        path = target / Path(name).relative_to(PACKS_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        count += 1
    return count


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
    gazetteer = source / "gazetteer"
    if gazetteer.is_dir():
        (target / "gazetteer").mkdir()
        for path in gazetteer.glob("*.yaml"):
            (target / "gazetteer" / path.name).write_bytes(path.read_bytes())
    return terms


def count_patterns(directory: Path) -> int:
    return sum(
        len(spec["patterns"])
        for path in directory.glob("*.yaml")
        for spec in (yaml.safe_load(path.read_text(encoding="utf-8")).get("terms") or {}).values()
    )


def _once(engine: RuleEngine, items: list[Item]) -> tuple[float, int]:
    # CPU time of this process: other people's work on a shared machine does not count.
    started = time.process_time()
    flagged = sum(1 for item in items if flag_item(engine, item).flags)
    return len(items) / max(time.process_time() - started, 1e-9), flagged


def rates(engines: dict[str, RuleEngine], items: list[Item], repeat: int) -> dict:
    """Best items/s per engine; rounds interleave the engines so drift hits all alike."""
    best = {name: (0.0, 0) for name in engines}
    for _ in range(repeat):
        for name, engine in engines.items():
            rate, flagged = _once(engine, items)
            if rate > best[name][0]:
                best[name] = (rate, flagged)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(DEFAULT_CORPORA))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--base", default=BASE_COMMIT, help="commit whose packs are the baseline")
    args = parser.parse_args()
    items = load_items(Path(args.corpora))
    chars = sum(len(i.title) + len(i.text) for i in items)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir, big_dir = Path(tmp) / "base", Path(tmp) / "x10"
        base_dir.mkdir()
        big_dir.mkdir()
        engines = {"shipped": RuleEngine.load()}
        try:
            export_packs(args.base, base_dir)
            engines["base"] = RuleEngine.load(base_dir)
        except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as exc:
            print(f"  (no baseline: {exc})")
        big_terms = multiply_packs(PACKS_DIR, big_dir, 10)
        engines["x10"] = RuleEngine.load(big_dir)
        best = rates(engines, items, args.repeat)
        sizes = {"shipped": count_patterns(PACKS_DIR), "x10": big_terms}
        if "base" in engines:
            sizes["base"] = count_patterns(base_dir)
    print(
        f"flagging, {len(items)} real feed items ({chars / max(len(items), 1):,.0f} chars "
        f"on average), best of {args.repeat}, one core, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    labels = {
        "base": f"packs at {args.base[:10]}",
        "shipped": "packs as shipped",
        "x10": "terms x10",
    }
    for name in ("base", "shipped", "x10"):
        if name in best:
            rate, flagged = best[name]
            print(
                f"  {labels[name]:<22} {sizes[name]:>7} patterns  {rate:>9,.0f} items/CPU s  "
                f"({flagged} flagged)"
            )
    shipped = best["shipped"][0]
    if "base" in best:
        ratio = shipped / best["base"][0]
        print(
            f"  shipped / base: {ratio:.3f} (goal >= 0.90: {'met' if ratio >= 0.90 else 'NOT met'})"
        )
    print(f"  slowdown x10 / shipped: {shipped / best['x10'][0]:.2f}x (goal <= 2x)")
    verdict = "met" if shipped >= GOAL_ITEMS_PER_CPU_SECOND else "NOT met"
    goal = GOAL_ITEMS_PER_CPU_SECOND
    print(f"  shipped: {shipped:,.0f} items/CPU s (goal >= {goal:,}: {verdict})")


if __name__ == "__main__":
    main()
