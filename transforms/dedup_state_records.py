"""What the streaming dedup state remembers: an item's keys and its binary record.

:func:`dedup_keys` gives the :class:`DedupKeys` of an item (the keys the batch
passes group on, hashed to 64 bits, and its fingerprint); a remembered item is
held in memory as an ``_Entry`` and persisted as a compact binary record
(:func:`encode_record` / :func:`decode_record`). The decisions over them are
made by :class:`transforms.dedup_state.DedupState`.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

from transforms.dedup_member import near_and_content, url_dedup_key
from transforms.item import Item
from transforms.neardup import Fingerprint

__all__ = ["DedupKeys", "decode_record", "dedup_keys", "encode_record"]

_HEX_ID = re.compile(r"[0-9a-f]{32}")
# Record flags.
_URL, _CONTENT, _NEAR, _OTHER_REP, _HEX, _REP_HEX = 1, 2, 4, 8, 16, 32
# Set when the item's representative was not flagged. Negative on purpose: a
# record persisted before this bit existed reads as flagged, so its copies'
# updates are still published, as they were then (the consumer expires any
# that name an unflagged item).
_REP_UNFLAGGED = 64


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
    near, content = near_and_content(item)
    return DedupKeys(
        id=item.id,
        url=None if url is None else _hash64(url),
        content=None if content is None else _hash64(content),
        near=near,
        flagged=item.flagged,
    )


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
