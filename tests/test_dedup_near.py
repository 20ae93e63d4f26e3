"""The batch near pass: each pair verified once, pairs linear in a crowded bucket, twins."""

from __future__ import annotations

from collections import Counter

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedup import Dedup, rank
from transforms.dedup_near import WINDOW, pack_entry, unpack_entry, verify_bucket
from transforms.neardup import NearConfig, candidate_keys, fingerprint

CONFIG = NearConfig()
LEAD = (
    "Investigators exhumed bodies from a mass grave in a forest outside the town on Tuesday, the "
    "regional prosecutor's office said, and forensic experts described signs of torture on several "
    "of the victims found at the site near the checkpoint"
)


def _entries(texts: list[str], title: str) -> list[tuple[str, tuple]]:
    out = []
    for n, text in enumerate(texts):
        fp = fingerprint(title, text)
        entry = ((f"2026-03-{n // 24 + 1:02d}T{n % 24:02d}", "", f"id{n:05d}"), f"id{n:05d}", fp.pack(), False)
        out.extend((key, entry) for key in candidate_keys(fp, CONFIG))
    return out


def _all_buckets(entries):
    buckets: dict[str, list] = {}
    for key, entry in entries:
        buckets.setdefault(key, []).append(entry)
    return [edge for key, members in buckets.items() for edge in verify_bucket(key, members, CONFIG)]


def test_a_pair_sharing_many_keys_is_verified_and_emitted_once():
    texts = [LEAD + f" {suffix}" for suffix in ("today.", "this week.", "on Tuesday.")]
    edges = _all_buckets(_entries(texts, "Mass grave found"))
    pairs = Counter((a, b) for _, a, _, b, _ in edges)
    assert set(pairs) == {("id00000", "id00001"), ("id00000", "id00002"), ("id00001", "id00002")}
    assert set(pairs.values()) == {1}


def test_a_headline_repeated_hundreds_of_times_gives_linearly_many_pairs():
    # A daily bulletin under one headline, the same text each day: every issue
    # shares every key with every other, the worst case for pairs.
    copies = 300
    entries = _entries([LEAD] * copies, "Daily bulletin")
    buckets: dict[str, list] = {}
    for key, entry in entries:
        buckets.setdefault(key, []).append(entry)
    assert len(buckets) == CONFIG.bands + 1 and all(len(m) == copies for m in buckets.values())
    smallest = min(buckets)
    edges = verify_bucket(smallest, buckets[smallest], CONFIG)
    index = {f"id{n:05d}": n for n in range(copies)}
    assert all(0 < index[b] - index[a] <= WINDOW for _, a, _, b, _ in edges)
    assert len(edges) == sum(min(j, WINDOW) for j in range(copies))  # not copies * (copies - 1) / 2
    # The same pairs meet again under every other key, and are not emitted again.
    assert all(not verify_bucket(key, members, CONFIG) for key, members in buckets.items() if key != smallest)


def test_byte_identical_repeats_in_one_file_keep_one_item(pipeline, make_item):
    entry = make_item(id="a", origin="feed.xml", text=LEAD)
    other = make_item(id="b", origin="feed.xml", text="Another story entirely, about talks.")
    with pipeline as p:
        out = p | beam.Create([entry, entry, entry, other]) | Dedup()
        assert_that(
            out["unique"] | "U" >> beam.Map(lambda i: (i.id, i.duplicate)),
            equal_to([("a", None), ("b", None)]),
            label="unique",
        )
        assert_that(
            out["duplicates"] | "D" >> beam.Map(lambda i: (i.id, i.duplicate.kind, i.duplicate.of)),
            equal_to([("a", "id", "a"), ("a", "id", "a")]),
            label="duplicates",
        )


def test_rank_is_what_orders_a_bucket(make_item):
    early = make_item(id="z", published="2026-03-01T00:00:00Z")
    late = make_item(id="a", published="2026-03-02T00:00:00Z")
    assert rank(early) < rank(late)


def test_bucket_entries_pack_to_bytes_and_back():
    fp = fingerprint("Mass grave found", LEAD).pack()
    rank = ("2026-03-01T00:00:00Z", "\uffff", "id\u00e9", "ab" * 32, "https://wire.example/rss")
    packed = pack_entry(rank, "id\u00e9", fp, True)
    assert isinstance(packed, bytes)
    assert unpack_entry(packed) == (rank, "id\u00e9", fp, True)
