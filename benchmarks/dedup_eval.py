"""Dedup quality on real items: recall per kind of copy, false merges of hard negatives.

    python -m benchmarks.dedup_eval [--corpora DIR] [--output out/dedup_eval.json] [--beam-check N]

Data (:mod:`benchmarks.dedup_data`): every entry of the real feeds, each with
generated copies (URL forms, edited title, changed lead, truncation,
boilerplate, Unicode changes) as positives; as negatives, the most similar
pairs of different stories of one feed, plus generated "same text, other
figures" pairs (the shelling report with another casualty count).

Decisions are the pipeline's own: every item and copy goes, in ``rank``
order, through :class:`transforms.dedup_state.DedupState` with no
time-to-live, which makes the batch ``Dedup`` decisions (``--beam-check``
runs the Beam batch transform on a sample and counts disagreements). A copy
is found when it lands in its base's cluster; a negative pair is falsely
merged when both land in one cluster. The pairwise figures (candidate key
shared and :func:`~transforms.neardup.near_similarity` says yes) and the
threshold sweep show where the defaults come from.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import asdict, replace
from pathlib import Path

from benchmarks.dedup_beamcheck import beam_check
from benchmarks.dedup_data import (
    URL_KINDS,
    VARIANT_KINDS,
    Variant,
    _copy,
    hard_negatives,
    load_items,
    make_variants,
    same_headline_pairs,
)
from pipelines.commands.common import DEFAULT_CORPORA
from transforms.dedup import rank
from transforms.dedup_state import DedupKeys, DedupState, dedup_keys
from transforms.item import Item
from transforms.neardup import NearConfig, candidate_keys, near_similarity
from transforms.normalise import url_key

_NUMBER = re.compile(r"\d+")
_FOREVER = 10**9  # seconds: a batch has no time-to-live


def run_decisions(
    items: list[Item], keys: dict[str, DedupKeys], config: NearConfig
) -> dict[str, tuple[str, str]]:
    """id → (cluster, kind) for every item, deciding in rank order as the batch does."""
    state = DedupState(config, ttl_seconds=_FOREVER)
    out: dict[str, tuple[str, str]] = {}
    for item in sorted(items, key=rank):
        verdict, _ = state.observe(keys[item.id], 0)
        if verdict.duplicate is None:
            out.setdefault(item.id, (item.id, "new"))
        elif verdict.duplicate.kind == "id":
            out.setdefault(item.id, out[verdict.duplicate.of])
        else:
            out[item.id] = (out[verdict.credit][0], verdict.duplicate.kind)
    return out


def pair_decision(a: DedupKeys, b: DedupKeys, config: NearConfig) -> bool:
    """Would a pair alone be merged: same URL or content key, or a verified near candidate."""
    if (a.url is not None and a.url == b.url) or (a.content is not None and a.content == b.content):
        return True
    if not set(candidate_keys(a.near, config)) & set(candidate_keys(b.near, config)):
        return False
    return near_similarity(a.near, b.near, config) is not None


def figure_negatives(items: list[Item], limit: int = 2000) -> list[tuple[Item, Item]]:
    """Same text, other figures: every number in the text of an item changed."""
    pairs = []
    for n, base in enumerate(items):
        if len(base.text.split()) < 25 or not _NUMBER.search(base.text):
            continue
        rng = random.Random(f"figures:{base.id}")
        text = _NUMBER.sub(lambda m: str(int(m[0]) + rng.randint(1, 9)), base.text)
        pairs.append((base, _copy(base, n, "figures", text=text)))
        if len(pairs) == limit:
            break
    return pairs


def sweep(
    variants: list[Variant], negatives, headlines, keys: dict[str, DedupKeys], base: NearConfig
) -> list[dict]:
    """Pairwise recall and false merges around the defaults (the measurement behind them)."""
    rows = []
    grid = [
        ("threshold", (0.3, 0.4, 0.5, 0.6)),
        ("containment", (0.7, 0.8, 0.9)),
        ("edited_threshold", (0.5, 0.6, 0.7, 0.8)),
        ("title_agree", (0.5, 0.6, 0.7, 0.8)),
        ("strong", (0.7, 0.8, 0.9)),
        ("min_shingles", (5, 10, 15, 20)),
    ]
    text_variants = [v for v in variants if v.kind not in URL_KINDS]
    for name, values in grid:
        for value in values:
            config = replace(base, **{name: value})
            found = defaultdict(list)
            for v in text_variants:
                found[v.kind].append(pair_decision(keys[v.base.id], keys[v.item.id], config))
            merged = sum(pair_decision(keys[a.id], keys[b.id], config) for _, a, b, _ in negatives)
            same = sum(pair_decision(keys[a.id], keys[b.id], config) for a, b in headlines)
            recall = {k: round(sum(f) / len(f), 4) for k, f in found.items()}
            rows.append(
                {
                    "setting": name,
                    "value": value,
                    "min_recall": min(recall.values()),
                    "recall": recall,
                    "false_merges": merged,
                    "false_merge_rate": round(merged / len(negatives), 5),
                    "same_headline_merges": same,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(DEFAULT_CORPORA))
    parser.add_argument("--output", default="out/dedup_eval.json")
    parser.add_argument(
        "--beam-check",
        type=int,
        default=1500,
        metavar="N",
        help="also run the Beam batch Dedup on N base items and their copies (0: skip)",
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the threshold sweep")
    args = parser.parse_args()
    config = NearConfig()
    started = time.perf_counter()
    items = load_items(Path(args.corpora) / "feeds" / "real")
    variants = list(make_variants(items))
    negatives = hard_negatives(items)
    figures = figure_negatives(items)
    headlines = same_headline_pairs(items)
    everything = items + [v.item for v in variants] + [b for _, b in figures]
    keys = {}
    for item in everything:
        if item.id not in keys:
            keys[item.id] = dedup_keys(item)
    prepared = time.perf_counter() - started

    # End to end: bases and copies together, figures pairs in a run of their own.
    started = time.perf_counter()
    clusters = run_decisions(items + [v.item for v in variants], keys, config)
    decide_seconds = time.perf_counter() - started
    figure_clusters = run_decisions([a for a, _ in figures] + [b for _, b in figures], keys, config)

    recall: dict[str, dict] = {}
    for kind in VARIANT_KINDS:
        of_kind = [v for v in variants if v.kind == kind]
        found = [clusters[v.item.id][0] == clusters[v.base.id][0] for v in of_kind]
        by_pass = Counter(clusters[v.item.id][1] for v, ok in zip(of_kind, found) if ok)
        entry = {
            "copies": len(of_kind),
            "found": sum(found),
            "recall": round(sum(found) / len(of_kind), 4),
            "found_by": {("first" if k == "new" else k): n for k, n in by_pass.items()},
            "pairwise_recall": round(
                sum(pair_decision(keys[v.base.id], keys[v.item.id], config) for v in of_kind)
                / len(of_kind),
                4,
            ),
        }
        if kind in URL_KINDS:
            same = sum(
                url_key(v.item.canonical_url) == url_key(v.base.canonical_url) for v in of_kind
            )
            entry["url_key_equal"] = round(same / len(of_kind), 4)
            details = defaultdict(list)
            for v in of_kind:
                details[v.detail].append(
                    url_key(v.item.canonical_url) == url_key(v.base.canonical_url)
                )
            entry["url_key_equal_by_form"] = {
                d: round(sum(x) / len(x), 4) for d, x in sorted(details.items())
            }
        recall[kind] = entry

    merged = [
        (how, a, b, j) for how, a, b, j in negatives if clusters[a.id][0] == clusters[b.id][0]
    ]
    pair_merged = sum(pair_decision(keys[a.id], keys[b.id], config) for _, a, b, _ in negatives)
    hardest = sorted(negatives, key=lambda n: -n[3])[:100]
    by_how = Counter(how for how, *_ in negatives)
    merged_how = Counter(how for how, *_ in merged)
    figure_merged = sum(figure_clusters[a.id][0] == figure_clusters[b.id][0] for a, b in figures)
    headline_merged = sum(pair_decision(keys[a.id], keys[b.id], config) for a, b in headlines)
    result = {
        "config": asdict(config),
        "items": len(items),
        "copies": len(variants),
        "recall": recall,
        "hard_negatives": {
            "pairs": len(negatives),
            "feeds": len({a.origin for _, a, _, _ in negatives}),
            "overlap_range": [
                round(min(n[3] for n in negatives), 3),
                round(max(n[3] for n in negatives), 3),
            ],
            "false_merges": len(merged),
            "false_merge_rate": round(len(merged) / len(negatives), 5),
            "pairwise_false_merges": pair_merged,
            "by_selection": {
                how: {"pairs": n, "false_merges": merged_how.get(how, 0)}
                for how, n in by_how.items()
            },
            "hardest_100_false_merges": sum(
                clusters[a.id][0] == clusters[b.id][0] for _, a, b, _ in hardest
            ),
            "merged_pairs": [
                {"how": how, "overlap": round(j, 3), "a": a.title, "b": b.title, "feed": a.origin}
                for how, a, b, j in merged
            ],
        },
        "figure_negatives": {"pairs": len(figures), "false_merges": figure_merged},
        "same_headline_pairs": {"pairs": len(headlines), "merged_pairwise": headline_merged},
        "seconds": {
            "prepare": round(prepared, 1),
            "decide": round(decide_seconds, 1),
            "items_per_second": round(len(items + variants) / decide_seconds),
        },
    }
    if args.beam_check:
        sample_ids = {
            i.id for i in items[:: max(1, len(items) // args.beam_check)][: args.beam_check]
        }
        sample = [i for i in items if i.id in sample_ids]
        sample += [v.item for v in variants if v.base.id in sample_ids]
        result["beam_check"] = beam_check(sample, config, run_decisions(sample, keys, config))
    if not args.no_sweep:
        result["sweep"] = sweep(variants, negatives, headlines, keys, config)

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(
        f"dedup benchmark: {len(items)} real items, {len(variants)} generated copies, "
        f"{len(negatives)} hard negative pairs from {result['hard_negatives']['feeds']} feeds"
    )
    print(f"config: {json.dumps(asdict(config))}")
    print(f"{'copy kind':<14}{'copies':>8}{'recall':>9}{'pairwise':>10}  found by")
    for kind, entry in recall.items():
        extra = f"  url key equal {entry['url_key_equal']:.4f}" if "url_key_equal" in entry else ""
        print(
            f"{kind:<14}{entry['copies']:>8}{entry['recall']:>9.4f}{entry['pairwise_recall']:>10.4f}  "
            f"{dict(sorted(entry['found_by'].items()))}{extra}"
        )
    hn = result["hard_negatives"]
    print(
        f"hard negatives: {hn['false_merges']} of {hn['pairs']} merged = {hn['false_merge_rate']:.3%} "
        f"(goal <= 0.5%); pairwise {hn['pairwise_false_merges']}; of the 100 most similar: "
        f"{hn['hardest_100_false_merges']}"
    )
    for m in hn["merged_pairs"]:
        print(f"  merged ({m['how']}, overlap {m['overlap']}): {m['a'][:60]!r} ~ {m['b'][:60]!r}")
    print(f"same text, other figures: {figure_merged} of {len(figures)} merged")
    print(
        f"same headline, other URL and text (ambiguous, not in the negatives): {headline_merged} of "
        f"{len(headlines)} pairs would merge"
    )
    if "beam_check" in result:
        bc = result["beam_check"]
        print(
            f"Beam batch Dedup on {bc['items']} items: {bc['disagreements']} decisions differ from the "
            f"state machine ({bc['seconds']} s)"
        )
    if "sweep" in result:
        print("sweep (pairwise, one setting changed at a time):")
        print(
            f"  {'setting':<17}{'value':>6}  {'min recall':>10}  {'false merges':>12}  {'same-headline merges':>20}"
        )
        for row in result["sweep"]:
            print(
                f"  {row['setting']:<17}{row['value']:>6}  {row['min_recall']:>10.4f}  {row['false_merges']:>12}"
                f"  {row['same_headline_merges']:>20}"
            )
    print(f"decisions: {result['seconds']['items_per_second']} items/s; wrote {out}")


if __name__ == "__main__":
    main()
