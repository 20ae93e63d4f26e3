"""CPU per stage and memory per worker, measured on real items (the figures of docs/scaling.md).

    .venv/bin/python engines/stage_costs.py [--corpora DIR] [--runs 3] [--no-replay]

Stages are the pipeline's own pure functions, called in a plain loop on every
entry of ``feeds/real`` (250 real feeds), each stage on the previous stage's
output, timed in process CPU seconds, best of ``--runs``:

* parse: ``connectors.feeds.parse_feed`` on each file's bytes;
* normalise: ``transforms.normalise.normalise_item``;
* language: ``transforms.language.identify`` with the ``cascade`` detector;
* flag: ``transforms.flagging.flag_item`` with the shipped packs;
* dedup keys: ``transforms.dedup.member`` (URL and content keys, MinHash
  fingerprint, LSH band keys): the per-item part of dedup, before the shuffle.

The same stages (less parse) run on real social posts (Bluesky, Mastodon
and Reddit texts from the corpora, made into items) to show how posts
differ from articles. Then one whole replay of ``feeds/real`` on FnApiRunner,
in a child process, gives the pipeline's total CPU and peak memory: what the
stages above leave out (Beam's own cost, the dedup shuffle, the sinks) is the
difference. One-off loads (detector, rule packs) are reported apart: a worker
pays them once, not per item.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connectors.feeds import parse_feed  # noqa: E402
from transforms.dedup import member  # noqa: E402
from transforms.flagging import flag_item  # noqa: E402
from transforms.item import Item, Source  # noqa: E402
from transforms.language import identify, make_detector  # noqa: E402
from transforms.normalise import normalise_item  # noqa: E402
from transforms.rules import RuleEngine  # noqa: E402

__all__ = ["main"]

MILLION = 1_000_000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def best_cpu(runs: int, work: Callable[[], list]) -> tuple[float, list]:
    best, result = float("inf"), []
    for _ in range(runs):
        started = time.process_time()
        result = work()
        best = min(best, time.process_time() - started)
    return best, result


def social_items(corpora: Path) -> list[Item]:
    """Real post texts from the social corpora, as raw items (title empty, as posts have)."""
    posts: list[tuple[str, str]] = []
    social = corpora / "social"
    for post in json.loads((social / "bluesky" / "bluesky-posts.json").read_text(encoding="utf-8")):
        if (post.get("record") or {}).get("text"):
            posts.append((post.get("uri", ""), post["record"]["text"]))
    for path in sorted((social / "mastodon").glob("public_timeline*.json")):
        for status in json.loads(path.read_text(encoding="utf-8")):
            posts.append((status.get("url") or "", status.get("content") or ""))
    for path in sorted((social / "reddit").glob("*.listing.json")):
        listing = json.loads(path.read_text(encoding="utf-8"))["listing"]
        for child in listing["data"]["children"]:
            post = child["data"]
            posts.append(
                (post.get("url", ""), f"{post.get('title', '')}\n{post.get('selftext', '')}")
            )
    source = Source(kind="social", name="corpus", url="https://social.example/")
    return [
        Item(source=source, guid=f"post-{n}", url=url or None, title="", text=text)
        for n, (url, text) in enumerate(posts)
        if text.strip()
    ]


def stage_table(label: str, items: list[Item], runs: int, detector, engine) -> list[Item]:
    rows = []
    seconds, normalised = best_cpu(runs, lambda: [normalise_item(i) for i in items])
    rows.append(("normalise", seconds))
    seconds, identified = best_cpu(runs, lambda: [identify(detector, i) for i in normalised])
    rows.append(("language (cascade)", seconds))
    seconds, flagged = best_cpu(runs, lambda: [flag_item(engine, i) for i in identified])
    rows.append(("flag", seconds))
    seconds, _ = best_cpu(runs, lambda: [member(i) for i in flagged])
    rows.append(("dedup keys", seconds))
    print(f"{label}: {len(items)} items, best of {runs}, CPU seconds")
    for name, seconds in rows:
        print(f"  {name:<20} {seconds:7.2f} s  {seconds / len(items) * MILLION:9,.0f} CPU-s per 1M")
    total = sum(s for _, s in rows)
    print(f"  {'sum':<20} {total:7.2f} s  {total / len(items) * MILLION:9,.0f} CPU-s per 1M")
    return flagged


def whole_replay(real: Path) -> None:
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "replay", str(real)]
            + ["--output", out, "--quiet", "--runner=FnApiRunner"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        counts = json.loads(Path(out, "summary.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    read = counts["entries.read"]
    print(f"whole replay on FnApiRunner (one process and its parse children): {read} entries")
    print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, {cpu / read * MILLION:,.0f} CPU-s per 1M entries")
    print(f"  peak RSS of the largest child process: {after.ru_maxrss / 1024:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(REPO.parent / "shared" / "corpora"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-replay", action="store_true", help="skip the whole-replay run")
    args = parser.parse_args()
    corpora = Path(args.corpora)
    real = corpora / "feeds" / "real"
    files = [(p, p.read_bytes()) for p in sorted(real.rglob("*")) if p.is_file()]
    base = rss_mb()

    started = time.process_time()
    detector = make_detector("cascade")
    detector.detect("A first text makes any lazy model load now.")
    detector_s, detector_mb = time.process_time() - started, rss_mb() - base
    started = time.process_time()
    engine = RuleEngine.load()
    engine_s, engine_mb = time.process_time() - started, rss_mb() - base - detector_mb
    print(f"one-off loads: cascade detector {detector_s:.1f} CPU-s, +{detector_mb:,.0f} MB peak;")
    print(f"               rule packs {engine_s:.1f} CPU-s, +{engine_mb:,.0f} MB peak")

    seconds, outcomes = best_cpu(args.runs, lambda: [parse_feed(str(p), data) for p, data in files])
    items = [item for outcome in outcomes for item in outcome.items]
    mb = sum(len(d) for _, d in files) / 1e6
    print(f"parse: {len(files)} files, {mb:.1f} MB, {len(items)} entries: {seconds:.2f} CPU-s,")
    per_million, per_feed_ms = seconds / len(items) * MILLION, seconds / len(files) * 1000
    print(f"  {per_million:,.0f} CPU-s per 1M entries, {per_feed_ms:.1f} ms per feed")
    stage_table("feed entries", items, args.runs, detector, engine)
    posts = social_items(corpora)
    if posts:
        stage_table("social posts", posts, args.runs, detector, engine)
    print(f"peak RSS of this process (all stages loaded, all items held): {rss_mb():,.0f} MB")
    if not args.no_replay:
        whole_replay(real)


if __name__ == "__main__":
    main()
