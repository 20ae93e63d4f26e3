"""The ``near`` pass in batch: candidate buckets of fingerprints, verified pairs, one decision.

Items meet their candidate copies by LSH band and title keys
(:func:`transforms.neardup.candidate_keys`); each candidate pair is verified
once (:func:`verify_bucket`), and in ``rank`` order each item joins the most
similar earlier representative it was verified against, or becomes a
representative itself (:func:`assign_leaders`). A copy therefore always
points at a representative, never at another copy.

Only :class:`transforms.dedup.Member` records travel here, never items: the
buckets hold ``(rank, id, packed fingerprint, is exact copy)``, the pairs
and decisions are smaller still. Pairs grow linearly with the input: each
pair is emitted once (in the bucket of the smallest key the two share), and
each item is compared with at most :data:`WINDOW` earlier items per key.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Iterable

import apache_beam as beam

from transforms.item import Duplicate
from transforms.neardup import Fingerprint, NearConfig, candidate_keys, near_similarity

__all__ = [
    "WINDOW",
    "Edge",
    "NearDedup",
    "assign_leaders",
    "pack_entry",
    "unpack_entry",
    "verify_bucket",
]

BucketEntry = tuple[tuple, str, bytes, bool]


def pack_entry(rank: tuple, item_id: str, fingerprint: bytes, is_copy: bool) -> bytes:
    """A bucket entry as one bytes object: a grouping holds each value as an object."""
    parts = [part.encode("utf-8", "surrogatepass") for part in (*rank, item_id)]
    head = struct.pack(f"<?B{len(parts)}I", is_copy, len(parts), *(len(p) for p in parts))
    return head + b"".join(parts) + fingerprint


def unpack_entry(data: bytes) -> BucketEntry:
    """Inverse of :func:`pack_entry`."""
    is_copy, count = struct.unpack_from("<?B", data)
    sizes = struct.unpack_from(f"<{count}I", data, 2)
    at, parts = 2 + 4 * count, []
    for size in sizes:
        parts.append(data[at : at + size].decode("utf-8", "surrogatepass"))
        at += size
    return tuple(parts[:-1]), parts[-1], bytes(data[at:]), is_copy


# A verified pair: (rank a, id a, rank b, id b, similarity), a before b.
Edge = tuple[tuple, str, tuple, str, float]
# Each item is compared with at most this many earlier items (by rank) under
# one candidate key. A copy appears close in time to its original, so this
# only binds for keys that hundreds of items share: a bulletin headline
# repeated daily for years compares each issue with the 64 before it instead
# of with all of them (pairs grow linearly, not quadratically).
WINDOW = 64


def verify_bucket(
    key: str,
    members: Iterable[BucketEntry | bytes],
    config: NearConfig,
    window: int = WINDOW,
) -> list[Edge]:
    """Verified pairs among the items that share the candidate key ``key``.

    Args:
        key: the bucket's key (from :func:`candidate_keys`).
        members: ``(rank, id, packed fingerprint, is exact copy)`` of each item
            in the bucket, or that packed by :func:`pack_entry`. An exact copy
            only stands in for its representative, so pairs whose later item
            is one are not needed.
        config: the decision's settings.
        window: each item is compared with at most this many earlier ones.

    Two items that share several keys meet in several buckets; the pair is
    verified and returned only in the bucket of the smallest key they share,
    so each pair is emitted once.
    """
    entries = (unpack_entry(m) if isinstance(m, bytes) else m for m in members)
    ordered = sorted(entries, key=lambda m: m[0])
    if len(ordered) < 2:
        return []
    prints = [Fingerprint.unpack(m[2]) for m in ordered]
    keys: list[set[str] | None] = [None] * len(ordered)

    def keys_of(index: int) -> set[str]:
        found = keys[index]
        if found is None:
            found = keys[index] = set(candidate_keys(prints[index], config))
        return found

    edges = []
    for j in range(1, len(ordered)):
        rank_b, id_b, _, copy_b = ordered[j]
        if copy_b:
            continue
        for i in range(max(0, j - window), j):
            if min(keys_of(i) & keys_of(j)) != key:
                continue
            similarity = near_similarity(prints[i], prints[j], config)
            if similarity is not None:
                edges.append((ordered[i][0], ordered[i][1], rank_b, id_b, similarity))
    return edges


def assign_leaders(
    edges: Iterable[Edge], links: Iterable[tuple[str, str]] = ()
) -> dict[str, tuple[str, float]]:
    """Near copy id → (representative id, similarity), from verified pairs.

    Args:
        edges: verified pairs (:func:`verify_bucket`).
        links: ``(copy id, representative id)`` of the exact copies (url and
            content), which stand in for their story's representative.

    Items that are not exact copies are taken in rank order. An item with a
    verified earlier match (a representative, or an exact copy of one) is a
    copy of that story's representative, the most similar match winning, the
    earliest on a tie; otherwise it is a representative. Near copies are not
    matched against, so a copy never points at another copy. This is what a
    stream fed in rank order decides (:class:`transforms.dedup_state.DedupState`).
    """
    exact_of = dict(links)
    ranks: dict[str, tuple] = {}
    earlier: dict[str, dict[str, float]] = defaultdict(dict)
    for rank_a, id_a, rank_b, id_b, similarity in edges:
        ranks[id_a], ranks[id_b] = rank_a, rank_b
        earlier[id_b][id_a] = similarity
    near_of: dict[str, tuple[str, float]] = {}

    def story(item_id: str) -> str:
        # The representative an earlier item (a representative or an exact copy) stands for.
        while item_id in exact_of:
            item_id = exact_of[item_id]
        return near_of[item_id][0] if item_id in near_of else item_id

    for node in sorted((n for n in ranks if n not in exact_of), key=ranks.__getitem__):
        best = None
        for other, similarity in earlier[node].items():
            if other in near_of:
                continue
            candidate = (-similarity, ranks[other], story(other))
            best = candidate if best is None or candidate < best else best
        if best is not None:
            near_of[node] = (best[2], round(-best[0], 4))
    return near_of


# ---------------------------------------------------------------- Beam

_ANCHOR_KINDS = ("url", "content")


def _bucket_entries(m, is_copy: bool, config: NearConfig):
    if not m.near:
        return []
    entry = pack_entry(m.rank, m.id, m.near, is_copy)
    return [(key, entry) for key in candidate_keys(Fingerprint.unpack(m.near), config)]


def _leaders(grouped) -> Iterable[tuple[str, tuple[str, float]]]:
    _, records = grouped
    edges, links = [], []
    for kind, *fields in records:
        (edges if kind == "edge" else links).append(tuple(fields))
    return assign_leaders(edges, links).items()


def _mark(joined):
    """A survivor and its near decision → tagged copy with its credit, or the survivor."""
    _, grouped = joined
    (m,) = grouped["member"]
    decision = list(grouped["near"])
    if not decision:
        yield beam.pvalue.TaggedOutput("rest", (m.id, m))
        return
    leader, similarity = decision[0]
    yield (m, Duplicate(of=leader, kind="near", similarity=similarity))
    yield beam.pvalue.TaggedOutput("credit", (leader, (m.rank, (m.report, *m.reports))))


def _credit(joined):
    """A representative and the reports of its near copies → its decision, if it has one."""
    _, grouped = joined
    for m in grouped["member"]:
        credits = sorted(grouped["credit"], key=lambda c: c[0])
        reports = m.reports + tuple(r for _, batch in credits for r in batch)
        if reports or m.twins:
            yield m.handle, (None, reports, m.twins)


class NearDedup(beam.PTransform):
    """``(survivors, exact copies)`` of the exact passes → ``(kept decisions, near copies)``.

    ``survivors`` are :class:`~transforms.dedup.Member` records; ``exact
    copies`` are ``(member, duplicate)``. Returned: ``(handle, decision)`` for
    each survivor with reports or twins, and ``(member, duplicate)`` for each
    near copy.

    Args:
        config: the decision's settings.
    """

    def __init__(self, config: NearConfig = NearConfig()) -> None:
        super().__init__()
        self._config = config

    def expand(self, pcolls):
        survivors, copied = pcolls
        config = self._config
        anchors = copied | "Anchors" >> beam.Filter(lambda c: c[1].kind in _ANCHOR_KINDS)
        entries = (
            survivors | "SurvivorKeys" >> beam.FlatMap(_bucket_entries, False, config),
            anchors | "AnchorKeys" >> beam.FlatMap(lambda c: _bucket_entries(c[0], True, config)),
        ) | "CandidateKeys" >> beam.Flatten()
        edges = (
            entries
            | "Buckets" >> beam.GroupByKey()
            | "Verify" >> beam.FlatMap(lambda bucket: verify_bucket(bucket[0], bucket[1], config))
            | "Edges" >> beam.Map(lambda edge: ("near", ("edge", *edge)))
        )
        links = anchors | "Links" >> beam.Map(lambda c: ("near", ("link", c[0].id, c[1].of)))
        # Verified pairs and exact links are few (linear, see WINDOW): one
        # group takes them in rank order, as a stream would see them.
        near_of = (
            (edges, links)
            | "PairsAndLinks" >> beam.Flatten()
            | "Gather" >> beam.GroupByKey()
            | "Leaders" >> beam.FlatMap(_leaders)
        )
        by_id = survivors | "ById" >> beam.Map(lambda m: (m.id, m))
        marked = (
            {"member": by_id, "near": near_of}
            | "JoinLeaders" >> beam.CoGroupByKey()
            | "Mark" >> beam.FlatMap(_mark).with_outputs("rest", "credit", main="copies")
        )
        kept = (
            {"member": marked.rest, "credit": marked.credit}
            | "JoinCredits" >> beam.CoGroupByKey()
            | "Credit" >> beam.FlatMap(_credit)
        )
        return kept, marked.copies
