"""Candidate pairs of the near pass, pure: bucket entries, pairs per key, verification, leaders.

What :mod:`transforms.dedup_near` runs in Beam: an item's candidate keys
(:func:`transforms.neardup.candidate_keys`) become short bucket entries
(:func:`candidate_entries`, joined with :func:`join_entries`); the entries of
one coarse key give candidate pairs (:func:`bucket_pairs`, at most
:data:`WINDOW` earlier items each); each pair is verified once on the two
items' packed entries (:func:`verify_pair`); and :func:`assign_leaders`
takes the verified pairs in rank order, as a stream would.
"""

from __future__ import annotations

import hashlib
import struct
from collections import defaultdict
from collections.abc import Iterable, Iterator

from transforms.dedup_member import stamp_bytes
from transforms.neardup import Fingerprint, NearConfig, near_similarity, title_key

__all__ = [
    "COARSE",
    "WINDOW",
    "BucketEntry",
    "Edge",
    "assign_leaders",
    "bucket_pairs",
    "candidate_entries",
    "join_entries",
    "pack_entry",
    "ref",
    "split_entries",
    "unpack_entry",
    "verify_pair",
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
# Each item is compared with at most this many earlier items (by date) under
# one candidate key. A copy appears close in time to its original, so this
# only binds for keys that hundreds of items share: a bulletin headline
# repeated daily for years compares each issue with the 64 before it instead
# of with all of them (pairs grow linearly, not quadratically).
WINDOW = 64
# Characters of a candidate key that pick its group (band number and one byte
# of the band: 32 * 256 groups; "t" and three hex digits for title keys).
COARSE = 4
# Two hexadecimal digits of each byte value: a band key's coarse part is
# those of the band number and of its first byte (COARSE characters).
_HEX = tuple(f"{n:02x}" for n in range(256))


def ref(item_id: str) -> bytes:
    """The 8-byte ref of an item in bucket entries and candidate pairs."""
    return hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()




def _time_order(value: str) -> bytes:
    """One rank date as short bytes that sort as the strings do.

    The dates every connector writes (``2026-03-10T08:00:00Z``, with or
    without a fraction) start with 19 characters of fixed form: their 14
    digits become 6 bytes, the rest stays as it is. A missing date
    (``\uffff``) sorts last; a string of any other form sorts after the
    dates of that form and before a missing one.
    """
    if value == "\uffff":
        return b"\x03"
    raw = value.encode("utf-8", "surrogatepass")
    stamp = stamp_bytes(value)
    if stamp is not None:
        return b"\x01" + stamp + raw[19:] + b"\x00"
    return b"\x02" + raw + b"\x00"


def _order(rank: tuple) -> bytes:
    # Published, then fetched: the leading fields of the rank, as sortable bytes.
    return _time_order(rank[0]) + _time_order(rank[1])


def candidate_entries(
    rank: tuple, item_id: str, fingerprint: bytes, is_copy: bool, config: NearConfig
) -> list[tuple[str, bytes]]:
    """``(coarse key, entry)`` for each candidate key of an item (none without a fingerprint).

    A grouping keeps one table slot and one list per distinct key, so the
    items meet under the first :data:`COARSE` characters of their keys (a few
    thousand groups) and each entry carries the rest of its key: a few dozen
    bytes, not the fingerprint, which joins the pairs later.
    """
    if not fingerprint:
        return []
    fp = Fingerprint.unpack(fingerprint)
    if fp.size < config.min_shingles:
        return []
    tail = struct.pack("<?", is_copy) + ref(item_id) + _order(rank)
    # A band key is the band's number and bytes in hexadecimal: its coarse
    # part the number and the first byte, the rest the band's other bytes,
    # taken here from the signature as they are (what bytes.fromhex of the
    # key's rest gives, without making the key).
    sig, rows = fp.signature, config.rows
    size = bytes((rows - 1,))
    out = [
        (_HEX[band] + _HEX[sig[at]], size + sig[at + 1 : at + rows] + tail)
        for band, at in enumerate(range(0, config.bands * rows, rows))
    ]
    title = title_key(fp)
    if title is not None:
        rest = title[COARSE:]
        # Hexadecimal, so half as many bytes (keys differ by type in their coarse part).
        fine = bytes.fromhex(rest if len(rest) % 2 == 0 else "0" + rest)
        out.append((title[:COARSE], bytes((len(fine),)) + fine + tail))
    return out


def join_entries(entries: Iterable[bytes]) -> bytes:
    """Candidate entries of one coarse key as one bytes object (:func:`split_entries`).

    A grouping holds each value as an object of its own (about 40 bytes of
    overhead each, as much as an entry): entries travel joined instead.
    """
    out = bytearray()
    for entry in entries:
        size = len(entry)
        out += bytes((size,)) if size < 255 else b"\xff" + struct.pack("<I", size)
        out += entry
    return bytes(out)


def split_entries(data: bytes) -> Iterator[bytes]:
    """The entries :func:`join_entries` joined, in order."""
    at, end = 0, len(data)
    while at < end:
        size = data[at]
        at += 1
        if size == 255:
            (size,) = struct.unpack_from("<I", data, at)
            at += 4
        yield data[at : at + size]
        at += size


def bucket_pairs(entries: Iterable[bytes], window: int = WINDOW) -> set[tuple[bytes, bytes]]:
    """Candidate pairs ``(earlier ref, later ref)`` among entries of one coarse group.

    Entries sharing a full key form a bucket; in (published, fetched) order,
    each is paired with at most ``window`` entries before it. Pairs of two
    exact copies are not needed (each only stands in for its story).
    """
    # Most full keys hold one entry, which pairs with nothing: an entry is
    # only taken apart once a second one shares its key.
    first: dict[bytes, bytes] = {}
    shared: dict[bytes, list[bytes]] = {}
    for entry in entries:
        fine = entry[1 : 1 + entry[0]]
        earlier = first.get(fine)
        if earlier is None:
            first[fine] = entry
        else:
            shared.setdefault(fine, [earlier]).append(entry)
    pairs = set()
    for bucket in shared.values():
        n = bucket[0][0]
        members = sorted((e[10 + n :], e[2 + n : 10 + n], bool(e[1 + n])) for e in bucket)
        for j in range(1, len(members)):
            _, ref_b, copy_b = members[j]
            for i in range(max(0, j - window), j):
                if not (copy_b and members[i][2]):
                    pairs.add((members[i][1], ref_b))
    return pairs


def verify_pair(a: bytes, b: bytes, config: NearConfig) -> Edge | None:
    """The verified pair of two packed entries (:func:`pack_entry`), earlier first, or None.

    None as well when the later of the two is an exact copy: it only stands in
    for its representative.
    """
    rank_a, id_a, fp_a, copy_a = unpack_entry(a)
    rank_b, id_b, fp_b, copy_b = unpack_entry(b)
    if (rank_b, id_b) < (rank_a, id_a):
        rank_a, id_a, fp_a, copy_a, rank_b, id_b, fp_b, copy_b = (
            rank_b, id_b, fp_b, copy_b, rank_a, id_a, fp_a, copy_a
        )  # fmt: skip
    if copy_b:
        return None
    similarity = near_similarity(Fingerprint.unpack(fp_a), Fingerprint.unpack(fp_b), config)
    return None if similarity is None else (rank_a, id_a, rank_b, id_b, similarity)


def assign_leaders(
    edges: Iterable[Edge], links: Iterable[tuple[str, str]] = ()
) -> dict[str, tuple[str, float]]:
    """Near copy id → (representative id, similarity), from verified pairs.

    Args:
        edges: verified pairs (:func:`verify_pair`).
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
