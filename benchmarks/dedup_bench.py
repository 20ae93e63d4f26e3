"""Streaming dedup state: bytes per remembered item, and memory over a long run through the TTL.

    python -m benchmarks.dedup_bench [--corpora DIR] [--days N] [--stream-items N]

1. **Bytes per remembered item**: every real item and its generated copies
   (:mod:`benchmarks.dedup_data`) through :class:`DedupState`; the size of
   each persisted record, plus the bag's length prefix.
2. **A long run through the TTL** (the state machine the DoFn drives): one
   item every 10 s of event time for ``--days`` days with the default 7-day
   TTL and the DoFn's daily cleanup, items drawn in order from the real
   items and their copies (so copies meet their stories) with fresh ids and
   URLs. Remembered items, persisted bytes and the Python heap of the lookup
   tables are sampled each simulated day: after the first TTL they must stay
   flat, state expiring as fast as it is added.
3. **One real streaming run**: ``StreamingDedup``'s DoFn on the
   BundleBasedDirectRunner with ``TestStream``, a 10-minute TTL and real
   items every 2 s, the watermark advancing as it goes; the persisted state
   is measured inside the runner at each timer firing.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from benchmarks.dedup_data import load_items, make_variants
from pipelines.commands.common import DEFAULT_CORPORA
from transforms.dedup_state import DEFAULT_TTL_SECONDS, DedupKeys, DedupState, dedup_keys
from transforms.item import Item

_MICROS = 1_000_000
_DAY = 24 * 3600
_FRAMING = 2  # a bag element's varint length prefix for records of 128..16383 bytes


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 2**20


def record_sizes(pool: list[DedupKeys]) -> dict:
    state = DedupState(ttl_seconds=10**9)
    sizes = {"story": [], "copy": []}
    for keys in pool:
        verdict, record = state.observe(keys, 0)
        if record is not None:
            sizes["copy" if verdict.duplicate else "story"].append(len(record) + _FRAMING)
    every = sizes["story"] + sizes["copy"]
    return {
        "records": len(every),
        "mean": statistics.fmean(every),
        "p50": statistics.median(every),
        "p95": sorted(every)[int(0.95 * len(every))],
        "max": max(every),
        "story_mean": statistics.fmean(sizes["story"]),
        "copy_mean": statistics.fmean(sizes["copy"]) if sizes["copy"] else 0.0,
    }


def long_run(pool: list[DedupKeys], days: int, every_seconds: int = 10) -> list[dict]:
    """Drive the state machine through ``days`` of event time; one sample per day."""
    rng = random.Random(1)
    state = DedupState()
    cleanup = DEFAULT_TTL_SECONDS // 7 * _MICROS
    next_cleanup = cleanup
    samples = []
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    steps = days * _DAY // every_seconds
    persisted = 0
    for step in range(steps):
        now = step * every_seconds * _MICROS
        if now >= next_cleanup:
            # What the DoFn's timer does: drop expired records, rewrite the rest.
            state.expire(now)
            persisted = sum(len(r) + _FRAMING for r in state.records())
            next_cleanup += cleanup
            current, _ = tracemalloc.get_traced_memory()
            samples.append(
                {
                    "day": now // (_DAY * _MICROS),
                    "items_seen": step,
                    "remembered": len(state),
                    "persisted_bytes": persisted,
                    "heap_bytes": current,
                    "rss_mb": round(_rss_mb(), 1),
                }
            )
        base = pool[step % len(pool)]
        # A fresh entry each time (own id, URL and text hash); the text fingerprint repeats per pass.
        keys = replace(
            base, id=f"{step:032x}", url=rng.getrandbits(64), content=rng.getrandbits(64)
        )
        state.observe(keys, now)
    tracemalloc.stop()
    seconds = time.perf_counter() - started
    for s in samples:
        s["items_per_second"] = round(steps / seconds)
    return samples


def stream_run(items: list[Item], ttl: int = 600, every: int = 2) -> dict:
    """StreamingDedup's DoFn on the BundleBasedDirectRunner; state measured at each timer firing."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
    from apache_beam.testing.test_stream import TestStream
    from apache_beam.transforms.window import TimestampedValue

    import benchmarks.dedup_bench as here
    from transforms.coders import ItemCoder
    from transforms.dedup import DUPLICATES_TAG
    from transforms.neardup import NearConfig
    from transforms.streaming_dedup import UPDATES_TAG, _StreamingDedupFn

    here.FIRINGS = []

    class MeasuredFn(_StreamingDedupFn):
        def _expire(self, key, fired, records, meta, expiry) -> None:
            before = list(records.read())
            super()._expire(key, fired, records, meta, expiry)
            after = list(records.read())
            here.FIRINGS.append(
                (
                    fired.micros // _MICROS,
                    len(before),
                    len(after),
                    sum(len(r) + _FRAMING for r in after),
                )
            )

    stream = TestStream(coder=ItemCoder())
    for n, item in enumerate(items):
        stream.add_elements([TimestampedValue(item, n * every)])
        if n % 50 == 49:
            stream.advance_watermark_to(n * every)
    options = PipelineOptions(["--runner=BundleBasedDirectRunner"])
    options.view_as(StandardOptions).streaming = True
    started = time.perf_counter()
    with beam.Pipeline(options=options) as p:
        _ = (
            p
            | stream.advance_watermark_to_infinity()
            | beam.Map(lambda item: ("newswatch", item))
            | beam.ParDo(MeasuredFn(NearConfig(), ttl, ttl / 7)).with_outputs(
                DUPLICATES_TAG, UPDATES_TAG, main="u"
            )
        )
    seconds = time.perf_counter() - started
    firings = here.FIRINGS
    live = [f for f in firings if f[2]]
    return {
        "items": len(items),
        "seconds": round(seconds, 1),
        "firings": len(firings),
        "remembered_after_firing": [f[2] for f in firings],
        "bytes_per_item": round(sum(f[3] for f in live) / max(1, sum(f[2] for f in live)), 1),
        "cleared_at_end": bool(firings) and firings[-1][2] == 0,
    }


FIRINGS: list = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(DEFAULT_CORPORA))
    parser.add_argument(
        "--days", type=int, default=28, help="simulated days of the long run (default 28 = 4 TTLs)"
    )
    parser.add_argument(
        "--stream-items", type=int, default=2000, help="items through the real streaming run"
    )
    args = parser.parse_args()
    items = load_items(Path(args.corpora) / "feeds" / "real")
    copies: dict[str, list[Item]] = {}
    for v in make_variants(items):
        copies.setdefault(v.base.id, []).append(v.item)
    ordered = [x for item in items for x in (item, *copies.get(item.id, ()))]
    started = time.perf_counter()
    pool = [dedup_keys(item) for item in ordered]
    print(
        f"{len(pool)} items (real and generated copies) fingerprinted in {time.perf_counter() - started:.1f} s"
    )

    sizes = record_sizes(pool)
    print(
        f"persisted state per remembered item: mean {sizes['mean']:.0f} B, median {sizes['p50']:.0f} B, "
        f"p95 {sizes['p95']} B, max {sizes['max']} B (goal <= 256 B; {sizes['records']} records; "
        f"story {sizes['story_mean']:.0f} B, copy {sizes['copy_mean']:.0f} B)"
    )

    samples = long_run(pool, args.days)
    print(
        f"long run: one item every 10 s for {args.days} days, TTL 7 days, cleanup daily "
        f"({samples[-1]['items_per_second']} items/s)"
    )
    print(
        f"  {'day':>4} {'seen':>8} {'remembered':>10} {'persisted MB':>13} {'B/item':>7} {'heap MB':>8} "
        f"{'heap B/item':>11} {'RSS MB':>7}"
    )
    for s in samples:
        per = s["persisted_bytes"] / max(1, s["remembered"])
        heap = s["heap_bytes"] / max(1, s["remembered"])
        print(
            f"  {s['day']:>4} {s['items_seen']:>8} {s['remembered']:>10} {s['persisted_bytes'] / 2**20:>13.1f} "
            f"{per:>7.0f} {s['heap_bytes'] / 2**20:>8.1f} {heap:>11.0f} {s['rss_mb']:>7.1f}"
        )
    # Warm-up: one TTL to fill the state, one more for the tables' hash maps to reach their size.
    warm = [s for s in samples if s["day"] >= 14]
    if len(warm) >= 2:

        def spread(key: str) -> str:
            values = [s[key] for s in warm]
            return f"{min(values) / statistics.fmean(values):.3f}..{max(values) / statistics.fmean(values):.3f}"

        print(
            f"  after warm-up (days {warm[0]['day']}-{warm[-1]['day']}, min..max over mean): remembered "
            f"{spread('remembered')}, persisted {spread('persisted_bytes')}, heap {spread('heap_bytes')}, "
            f"RSS {spread('rss_mb')}"
        )

    if args.stream_items:
        run = stream_run(ordered[: args.stream_items])
        print(
            f"streaming run (BundleBasedDirectRunner + TestStream, TTL 600 s, an item every 2 s): "
            f"{run['items']} items in {run['seconds']} s, {run['firings']} timer firings"
        )
        print(f"  remembered after each firing: {run['remembered_after_firing']}")
        print(
            f"  persisted bytes per remembered item {run['bytes_per_item']}; state cleared at the end: "
            f"{run['cleared_at_end']}"
        )


if __name__ == "__main__":
    main()
