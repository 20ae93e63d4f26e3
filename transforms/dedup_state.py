"""The streaming dedup state machine, without Beam.

:class:`DedupState` makes the decisions described in
:mod:`transforms.streaming_dedup` for one item at a time and keeps what it
remembers as compact binary records (:func:`encode_record` / :func:`decode_record`), so
that the Beam DoFn only stores and expires them. Being pure, it is what the
benchmarks drive for hours of simulated traffic and what the tests compare
with the batch passes.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from transforms.dedup import content_key, url_dedup_key
from transforms.item import Duplicate, Item
from transforms.neardup import Fingerprint, NearConfig, candidate_keys, fingerprint, near_similarity

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
_HEX_ID = re.compile(r"[0-9a-f]{32}")
# Record flags.
_URL, _CONTENT, _NEAR, _OTHER_REP, _HEX, _REP_HEX = 1, 2, 4, 8, 16, 32
# Set when the item's representative was not flagged. Negative on purpose: a
# record persisted before this bit existed reads as flagged, so its copies'
# updates are still published, as they were then (the consumer expires any
# that name an unflagged item).
_REP_UNFLAGGED = 64
_TITLE_KEY = 1 << 80  # keeps title keys apart from band keys


@dataclass(frozen=True, slots=True)
class DedupKeys:
    """What deduplication needs to know about one item.

    Attributes:
        id: the item's id.
        url: 64-bit hash of its URL key, or None without a URL.
        content: 64-bit hash of its content key, or None when too short.
        near: its fingerprint.
        flagged: whether the item was flagged (decides nothing; a copy's
            update is published only when its representative was flagged).
    """

    id: str
    url: int | None
    content: int | None
    near: Fingerprint
    flagged: bool = False


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def dedup_keys(item: Item) -> DedupKeys:
    """The :class:`DedupKeys` of an item (the same keys the batch passes group on)."""
    url = url_dedup_key(item)
    content = content_key(item)
    return DedupKeys(
        id=item.id,
        url=None if url is None else _hash64(url),
        content=None if content is None else _hash64(content),
        near=fingerprint(item.title, item.text),
        flagged=item.flagged,
    )


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


class _Entry:
    """One remembered item, as held in memory."""

    __slots__ = ("content", "expiry", "fp", "id", "keys", "rep", "rep_flagged", "seq", "url")

    def __init__(
        self,
        id: str,
        rep: str,
        expiry: int,
        url: int | None,
        content: int | None,
        fp: Fingerprint | None,
        seq: int,
        rep_flagged: bool,
    ) -> None:
        self.id, self.rep, self.expiry, self.rep_flagged = id, rep, expiry, rep_flagged
        self.url, self.content, self.fp, self.seq = url, content, fp, seq
        self.keys: list[int] = []


def _pack_id(value: str) -> tuple[bool, bytes]:
    if _HEX_ID.fullmatch(value):
        return True, bytes.fromhex(value)
    raw = value.encode("utf-8")
    if len(raw) > 255:
        raise ValueError(f"item id longer than 255 bytes cannot be remembered (got {len(raw)})")
    return False, bytes([len(raw)]) + raw


def _unpack_id(data: bytes, at: int, hexed: bool) -> tuple[str, int]:
    if hexed:
        return data[at : at + 16].hex(), at + 16
    n = data[at]
    return data[at + 1 : at + 1 + n].decode("utf-8"), at + 1 + n


def encode_record(entry: _Entry) -> bytes:
    """One record: expiry, flags, id, [representative id], [url], [content], [fingerprint]."""
    hexed, id_bytes = _pack_id(entry.id)
    flags = (_HEX if hexed else 0) | (0 if entry.rep_flagged else _REP_UNFLAGGED)
    parts = [b"", id_bytes]
    if entry.rep != entry.id:
        rep_hexed, rep_bytes = _pack_id(entry.rep)
        flags |= _OTHER_REP | (_REP_HEX if rep_hexed else 0)
        parts.append(rep_bytes)
    if entry.url is not None:
        flags |= _URL
        parts.append(struct.pack("<Q", entry.url))
    if entry.content is not None:
        flags |= _CONTENT
        parts.append(struct.pack("<Q", entry.content))
    if entry.fp is not None:
        flags |= _NEAR
        parts.append(entry.fp.pack())
    parts[0] = struct.pack("<qB", entry.expiry, flags)
    return b"".join(parts)


def decode_record(data: bytes, seq: int) -> _Entry:
    """The entry a record remembers (records written before ``_REP_UNFLAGGED`` read as flagged)."""
    expiry, flags = struct.unpack_from("<qB", data)
    item_id, at = _unpack_id(data, 9, bool(flags & _HEX))
    rep = item_id
    if flags & _OTHER_REP:
        rep, at = _unpack_id(data, at, bool(flags & _REP_HEX))
    url = content = None
    if flags & _URL:
        (url,), at = struct.unpack_from("<Q", data, at), at + 8
    if flags & _CONTENT:
        (content,), at = struct.unpack_from("<Q", data, at), at + 8
    fp = Fingerprint.unpack(data[at:]) if flags & _NEAR else None
    return _Entry(item_id, rep, expiry, url, content, fp, seq, not flags & _REP_UNFLAGGED)


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
        # The candidate keys as ints: in memory they cost half as much as strings.
        return [
            int(k[1:], 16) | _TITLE_KEY if k[0] == "t" else int(k, 16)
            for k in candidate_keys(fp, self.config)
        ]
