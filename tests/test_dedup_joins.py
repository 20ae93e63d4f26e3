"""The near pass's pairs verified in parts read from files: each distinct pair once, files gone."""

from __future__ import annotations

import os

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedup_joins import EntryPartsFn, VerifyInParts
from transforms.dedup_pairs import pack_entry, ref, verify_pair
from transforms.neardup import NearConfig, fingerprint

CONFIG = NearConfig()
LEAD = (
    "Investigators exhumed bodies from a mass grave in a forest outside the town on Tuesday, the "
    "regional prosecutor's office said, and forensic experts described signs of torture on several "
    "of the victims found at the site near the checkpoint"
)
OTHER = (
    "Ceasefire talks resumed in the capital on Monday with both delegations present at the table."
)


def _entries() -> dict[str, bytes]:
    texts = [LEAD + " today.", LEAD + " this week.", OTHER, LEAD + " on Tuesday."]
    texts.append(OTHER + " Again.")
    out = {}
    for n, text in enumerate(texts):
        item_id = f"id{n:05d}"
        rank = (f"2026-03-0{n + 1}T08", "", item_id)
        fp = fingerprint("Mass grave found", text).pack()
        out[item_id] = pack_entry(rank, item_id, fp, False)
    return out


def _verify_in_parts(entries: dict[str, bytes], pairs: list[tuple[str, str]], spill, parts):
    """The verification as NearDedup runs it → the verified edges (files deleted after)."""
    with beam.Pipeline(runner=FnApiRunner()) as p:
        entry_values = p | "Entries" >> beam.Create(sorted(entries.values()))
        pair_values = p | "Pairs" >> beam.Create([(ref(a), ref(b)) for a, b in pairs])
        edges = (entry_values, pair_values) | VerifyInParts(spill, CONFIG, parts)
        expected = [
            edge
            for a, b in sorted(set(pairs))
            if b in entries and a in entries
            for edge in [verify_pair(entries[a], entries[b], CONFIG)]
            if edge is not None
        ]
        assert_that(edges, equal_to(expected))
    return expected


@pytest.mark.parametrize("parts", [1, 3, 64])
def test_each_distinct_pair_is_verified_once_and_every_file_is_deleted(tmp_path, parts):
    entries = _entries()
    spill = str(tmp_path / "spill")
    os.makedirs(spill)
    pairs = [
        ("id00000", "id00001"),
        ("id00000", "id00001"),  # found under two keys: verified once (equal_to counts)
        ("id00000", "id00003"),
        ("id00001", "id00003"),
        ("id00002", "id00004"),
        ("id00000", "id00002"),  # a candidate pair that does not verify
        ("id00001", "id09999"),  # a partner with no entry: nothing, no error
    ]
    edges = _verify_in_parts(entries, pairs, spill, parts)
    # The four pairs of alike texts verify, earlier item first; the mismatch does not.
    assert sorted((e[1], e[3]) for e in edges) == [
        ("id00000", "id00001"),
        ("id00000", "id00003"),
        ("id00001", "id00003"),
        ("id00002", "id00004"),
    ]
    # Every entry, pair and half file was deleted (the last deletion removes the folder).
    assert not os.path.exists(spill)


def test_no_pairs_leaves_nothing_to_verify_and_no_file(tmp_path):
    spill = str(tmp_path / "spill")
    os.makedirs(spill)
    assert _verify_in_parts(_entries(), [], spill, 4) == []
    assert not os.path.exists(spill)


def test_parts_must_be_positive():
    with pytest.raises(ValueError, match="parts must be positive"):
        EntryPartsFn("/tmp", 0)
