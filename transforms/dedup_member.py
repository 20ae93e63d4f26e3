"""The record batch dedup decides on: one :class:`Member` per item, and its packed form.

A member is what the dedup passes know of an item: its rank, a handle, its
report, its keys, its near-duplicate fingerprint and the id of the spill
file the item waits in (:mod:`transforms.spill`). A runner such as
FnApiRunner holds every grouping in memory, as objects: a member as a named
tuple of strings and records is about 1.5 KB of Python objects, and as
:func:`pack_member` bytes about 600 (one object; strings that repeat a field
of the rank are not written twice). The passes therefore group packed
members and unpack each where they look inside it (:func:`as_member`).

The member record and its packed form are in :mod:`transforms.dedup_packed`;
every name below is importable from here.
"""

from __future__ import annotations

from transforms.dedup_packed import (
    Decision,
    Member,
    as_member,
    pack_member,
    pack_record,
    peek_member,
    stamp_bytes,
    unpack_member,
    unpack_record,
)
from transforms.folding import fold
from transforms.item import Item, Report, sha256_hex
from transforms.neardup import Fingerprint, NearConfig, fingerprint
from transforms.neardup_fast import fast_keys
from transforms.normalise import url_key

__all__ = [
    "MIN_CONTENT_CHARS",
    "Decision",
    "Member",
    "as_member",
    "content_key",
    "handle",
    "member",
    "near_and_content",
    "pack_member",
    "pack_record",
    "peek_member",
    "rank",
    "stamp_bytes",
    "unpack_member",
    "unpack_record",
    "url_dedup_key",
]

# Shorter texts ("Test", "Read more") are the same by accident, not by copying.
MIN_CONTENT_CHARS = 40
_LAST = "\uffff"


def rank(item: Item) -> tuple[str, str, str, str, str]:
    """Total order that picks a group's representative: earliest first."""
    return (
        item.published or _LAST,
        item.fetched or _LAST,
        item.id,
        item.raw_sha256,
        item.source.url,
    )


def content_key(item: Item) -> str | None:
    """Hash of the folded title and text, or None when there is too little text."""
    # Runs of whitespace as one space, ends stripped: split-and-join gives the
    # string a \s+ substitution and strip gave (re's \s is str.isspace, on
    # every code point), in a third of the time.
    content = " ".join(fold(item.title + " " + item.text).split())
    if len(content) < MIN_CONTENT_CHARS:
        return None
    return sha256_hex(content)[:32]


def near_and_content(item: Item) -> tuple[Fingerprint, str | None]:
    """``(fingerprint(item.title, item.text), content_key(item))``, from one fold of the text.

    The fast path (:func:`transforms.neardup_fast.fast_keys`) gives both at
    once for most texts; the others take the two functions in turn.
    """
    both = fast_keys(item.title, item.text, MIN_CONTENT_CHARS)
    if both is None:
        return fingerprint(item.title, item.text), content_key(item)
    return both


def url_dedup_key(item: Item) -> str | None:
    """The key of the ``url`` pass (None without a canonical URL)."""
    return url_key(item.canonical_url)


def handle(item: Item) -> str:
    """What tells one read entry from another: equal only for byte-identical repeats in one file."""
    parts = (item.id, item.raw_sha256, item.origin or "", item.source.url)
    return sha256_hex("\x1f".join((*parts, item.published or "", item.fetched or "")))[:24]


def _digest(key: str | None) -> str | None:
    # What a pass groups by only needs to be equal for equal keys: 16 bytes
    # packed instead of a URL of about 100.
    return None if key is None else sha256_hex(key)[:32]


def member(item: Item, near: NearConfig | None = NearConfig(), file: str = "") -> Member:
    """The :class:`Member` of an item (its fingerprint only when ``near`` is set)."""
    packed = b""
    if near is None:
        content = content_key(item)
    else:
        fp, content = near_and_content(item)
        # candidate_keys(fp, near) is empty exactly when the text is too short
        # (there is always at least one band): the keys are made later, once.
        packed = fp.pack() if fp.size >= near.min_shingles else b""
    return Member(
        rank=rank(item),
        handle=handle(item),
        id=item.id,
        report=Report(id=item.id, source=item.source, url=item.url),
        reports=tuple(item.also_reported_by),
        url=_digest(url_dedup_key(item)),
        content=content,
        near=packed,
        file=file,
    )
