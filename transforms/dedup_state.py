"""The streaming dedup state machine, without Beam.

:class:`DedupState` makes the decisions described in
:mod:`transforms.streaming_dedup` for one item at a time and keeps what it
remembers as compact binary records (:func:`encode_record` / :func:`decode_record`), so
that the Beam DoFn only stores and expires them. Being pure, it is what the
benchmarks drive for hours of simulated traffic and what the tests compare
with the batch passes.

An item's keys and the records are in :mod:`transforms.dedup_state_records`;
every name below is importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from transforms.dedup_state_records import (
    DedupKeys,
    _Entry,
    decode_record,
    dedup_keys,
    encode_record,
)
from transforms.item import Duplicate
from transforms.neardup import NUM_PERM, Fingerprint, NearConfig, _title_digest, near_similarity

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "DedupKeys",
    "DedupState",
    "Verdict",
    "dedup_keys",
    "encode_record",
    "decode_record",
    "MICROS",
]

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MICROS = 1_000_000
_TITLE_KEY = 1 << 80  # keeps title keys apart from band keys


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of one item.

    Attributes:
        duplicate: set when the item is a copy.
        credit: the representative whose ``also_reported_by`` the copy joins
            (None for a new story and for the same entry seen again).
        credit_flagged: whether that representative was flagged (only then
            does anyone need the copy's update).
    """

    duplicate: Duplicate | None = None
    credit: str | None = None
    credit_flagged: bool = False


class DedupState:
    """The streaming dedup decisions over what is remembered: a pure state machine.

    Args:
        config: the near-duplicate decision's settings.
        ttl_seconds: how long an item is remembered after its event time.
    """

    def __init__(
        self, config: NearConfig = NearConfig(), ttl_seconds: float = DEFAULT_TTL_SECONDS
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive (got {ttl_seconds!r})")
        self.config = config
        self.ttl = int(ttl_seconds * MICROS)
        self._entries: list[_Entry] = []
        self._ids: dict[str, _Entry] = {}
        self._urls: dict[int, _Entry] = {}
        self._contents: dict[int, _Entry] = {}
        # Candidate key -> the entry, or a list when several share it (most keys have one).
        self._near: dict[int, _Entry | list[_Entry]] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)

    def records(self) -> Iterator[bytes]:
        """Every remembered item as a binary record (what the DoFn persists)."""
        return (encode_record(e) for e in self._entries)

    def load(self, records: Iterable[bytes]) -> DedupState:
        """Add persisted records, in the order they were made."""
        for data in records:
            self._add(decode_record(data, self._seq))
        return self

    def earliest_expiry(self) -> int | None:
        """Microseconds at which the first remembered item expires."""
        return min((e.expiry for e in self._entries), default=None)

    def observe(self, keys: DedupKeys, timestamp_micros: int) -> tuple[Verdict, bytes | None]:
        """Decide one item seen at ``timestamp_micros`` and remember it.

        Returns:
            The verdict, and the record that now remembers the item (None for
            the same entry seen again, which adds nothing).
        """
        now = timestamp_micros
        seen = self._ids.get(keys.id)
        if seen is not None and seen.expiry > now:
            return Verdict(Duplicate(of=seen.id, kind="id")), None
        expiry = now + self.ttl
        near_keys = self._near_keys(keys.near)
        anchor = keys.near if near_keys else None
        by_url = self._urls.get(keys.url) if keys.url is not None else None
        if by_url is not None and by_url.expiry > now:
            verdict = Verdict(
                Duplicate(of=by_url.id, kind="url"), by_url.rep, by_url.rep_flagged
            )
            entry = _Entry(
                keys.id, by_url.rep, expiry, None, None, anchor, self._seq, by_url.rep_flagged
            )
            return verdict, self._remember(entry, near_keys)
        by_content = self._contents.get(keys.content) if keys.content is not None else None
        if by_content is not None and by_content.expiry > now:
            verdict = Verdict(
                Duplicate(of=by_content.id, kind="content"), by_content.rep, by_content.rep_flagged
            )
            entry = _Entry(
                keys.id,
                by_content.rep,
                expiry,
                keys.url,
                None,
                anchor,
                self._seq,
                by_content.rep_flagged,
            )
            return verdict, self._remember(entry, near_keys)
        best: tuple[float, int, _Entry] | None = None
        checked: set[int] = set()
        for key in near_keys:
            found = self._near.get(key, ())
            for other in (found,) if isinstance(found, _Entry) else found:
                if other.seq in checked or other.expiry <= now:
                    continue
                checked.add(other.seq)
                similarity = near_similarity(keys.near, other.fp, self.config)
                if similarity is not None and (
                    best is None or (-similarity, other.seq) < (-best[0], best[1])
                ):
                    best = (similarity, other.seq, other)
        if best is not None:
            similarity, _, match = best
            verdict = Verdict(
                Duplicate(of=match.rep, kind="near", similarity=round(similarity, 4)),
                credit=match.rep,
                credit_flagged=match.rep_flagged,
            )
            # A near copy is not matched against: chains of copies would drift from the story.
            entry = _Entry(
                keys.id,
                match.rep,
                expiry,
                keys.url,
                keys.content,
                None,
                self._seq,
                match.rep_flagged,
            )
            return verdict, self._remember(entry, [])
        entry = _Entry(
            keys.id, keys.id, expiry, keys.url, keys.content, anchor, self._seq, keys.flagged
        )
        return Verdict(), self._remember(entry, near_keys)

    def expire(self, now_micros: int) -> int:
        """Forget every item whose time-to-live has passed by ``now_micros``; returns how many."""
        keep, gone = [], []
        for entry in self._entries:
            (keep if entry.expiry > now_micros else gone).append(entry)
        for entry in gone:
            self._unindex(entry)
        self._entries = keep
        return len(gone)

    def _remember(self, entry: _Entry, near_keys: list[int]) -> bytes:
        entry.keys = near_keys
        self._add(entry)
        return encode_record(entry)

    def _add(self, entry: _Entry) -> None:
        # Keys of a new record replace older ones: an older holder of the same
        # key has expired, or the new item would have been its copy.
        entry.seq = self._seq
        self._seq += 1
        self._entries.append(entry)
        self._ids[entry.id] = entry
        if entry.url is not None:
            self._urls[entry.url] = entry
        if entry.content is not None:
            self._contents[entry.content] = entry
        if entry.fp is not None:
            if not entry.keys:
                entry.keys = self._near_keys(entry.fp)
            for key in entry.keys:
                found = self._near.get(key)
                if found is None:
                    self._near[key] = entry
                elif isinstance(found, _Entry):
                    self._near[key] = [found, entry]
                else:
                    found.append(entry)

    def _unindex(self, entry: _Entry) -> None:
        if self._ids.get(entry.id) is entry:
            del self._ids[entry.id]
        if entry.url is not None and self._urls.get(entry.url) is entry:
            del self._urls[entry.url]
        if entry.content is not None and self._contents.get(entry.content) is entry:
            del self._contents[entry.content]
        for key in entry.keys:
            found = self._near.get(key)
            if found is entry:
                del self._near[key]
            elif isinstance(found, list):
                found.remove(entry)
                if len(found) == 1:
                    self._near[key] = found[0]

    def _near_keys(self, fp: Fingerprint) -> list[int]:
        # The candidate keys as ints: in memory they cost half as much as
        # strings. Each is int(key, 16) of its candidate_keys() string, made
        # from the signature's bytes without the string.
        config = self.config
        if fp.size < config.min_shingles:
            return []
        keys = _band_ints(fp.signature, config.bands, config.rows)
        digest = _title_digest(fp)
        if digest is not None:
            keys.append(int.from_bytes(digest, "big") | _TITLE_KEY)
        return keys


# Band numbers above a 4-byte band's value: the common layout, done with numpy.
_BANDS_OF_4 = np.arange(NUM_PERM, dtype=np.uint64) << np.uint64(32)


def _band_ints(signature: bytes, bands: int, rows: int) -> list[int]:
    """int(key, 16) of each LSH band key: the band number, then the band's bytes, big-endian."""
    if rows == 4:
        values = np.frombuffer(signature, dtype=">u4", count=bands).astype(np.uint64)
        return (values | _BANDS_OF_4[:bands]).tolist()
    return [
        band << (8 * rows) | int.from_bytes(signature[band * rows : (band + 1) * rows], "big")
        for band in range(bands)
    ]
