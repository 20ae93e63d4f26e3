"""The record batch dedup decides on: one :class:`Member` per item, and its packed form.

A member is what the dedup passes know of an item: its rank, a handle, its
report, its keys, its near-duplicate fingerprint and the id of the spill
file the item waits in (:mod:`transforms.spill`). A runner such as
FnApiRunner holds every grouping in memory, as objects: a member as a named
tuple of strings and records is about 1.5 KB of Python objects, and as
:func:`pack_member` bytes about 600 (one object; strings that repeat a field
of the rank are not written twice). The passes therefore group packed
members and unpack each where they look inside it (:func:`as_member`).
"""

from __future__ import annotations

import json
import re
import struct
from typing import NamedTuple

from transforms.folding import fold
from transforms.item import Duplicate, Item, Report, Source, sha256_hex
from transforms.neardup import NearConfig, candidate_keys, fingerprint
from transforms.normalise import url_key

__all__ = [
    "MIN_CONTENT_CHARS",
    "Decision",
    "Member",
    "as_member",
    "content_key",
    "handle",
    "member",
    "pack_member",
    "pack_record",
    "rank",
    "unpack_member",
    "unpack_record",
    "url_dedup_key",
]

# Shorter texts ("Test", "Read more") are the same by accident, not by copying.
MIN_CONTENT_CHARS = 40
_SPACES = re.compile(r"\s+")
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
    content = _SPACES.sub(" ", fold(item.title + " " + item.text)).strip()
    if len(content) < MIN_CONTENT_CHARS:
        return None
    return sha256_hex(content)[:32]


def url_dedup_key(item: Item) -> str | None:
    """The key of the ``url`` pass (None without a canonical URL)."""
    return url_key(item.canonical_url)


def handle(item: Item) -> str:
    """What tells one read entry from another: equal only for byte-identical repeats in one file."""
    parts = (item.id, item.raw_sha256, item.origin or "", item.source.url)
    return sha256_hex("\x1f".join((*parts, item.published or "", item.fetched or "")))[:24]


class Member(NamedTuple):
    """What the passes know of one item (the item itself stays out of every grouping).

    Attributes:
        rank: :func:`rank` of the item.
        handle: :func:`handle` of the item.
        id: the item's id.
        report: how the item is listed in a representative's ``also_reported_by``.
        reports: the reports it carries (its own ``also_reported_by``, then
            those of the copies it represents).
        url: its ``url`` pass key, or None.
        content: its ``content`` pass key, or None.
        near: its packed fingerprint, or empty when it has too little text
            for the ``near`` pass.
        twins: byte-identical repeats of it in its spill file that the
            ``id`` pass folded in.
        file: the id of the spill file the item waits in.
    """

    rank: tuple
    handle: str
    id: str
    report: Report
    reports: tuple[Report, ...]
    url: str | None
    content: str | None
    near: bytes
    twins: int = 0
    file: str = ""


# (duplicate or None, also_reported_by for a representative, twins), for one
# handle in one spill file.
Decision = tuple[Duplicate | None, tuple[Report, ...], int]


def member(item: Item, near: NearConfig | None = NearConfig(), file: str = "") -> Member:
    """The :class:`Member` of an item (its fingerprint only when ``near`` is set)."""
    packed = b""
    if near is not None:
        fp = fingerprint(item.title, item.text)
        packed = fp.pack() if candidate_keys(fp, near) else b""
    return Member(
        rank=rank(item),
        handle=handle(item),
        id=item.id,
        report=Report(id=item.id, source=item.source, url=item.url),
        reports=tuple(item.also_reported_by),
        url=url_dedup_key(item),
        content=content_key(item),
        near=packed,
        file=file,
    )


# Sizes of a packed member's strings: 2 bytes each, or 4 when one is longer;
# the largest value of the width stands for None.
_WIDE = {0: ("H", 0xFFFF), 1: ("I", 0xFFFFFFFF)}
_TEXTS = 18


def _reports_text(reports: tuple[Report, ...]) -> str | None:
    if not reports:
        return None
    return json.dumps(
        [
            [r.id, r.url, r.source.kind, r.source.name, r.source.url, r.source.country,
             r.source.affiliation]
            for r in reports
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _reports(text: str | None) -> tuple[Report, ...]:
    if text is None:
        return ()
    return tuple(
        Report(id=rid, source=Source(kind, name, surl, country, affiliation), url=url)
        for rid, url, kind, name, surl, country, affiliation in json.loads(text)
    )


def pack_member(m: Member) -> bytes:
    """A member as one bytes object (:func:`unpack_member` gives it back equal)."""
    if len(m.rank) != 5:
        raise ValueError(f"a member's rank has 5 fields (got {len(m.rank)})")
    report, source = m.report, m.report.source
    texts = (
        *m.rank,
        m.handle,
        None if m.id == m.rank[2] else m.id,
        m.file,
        None if report.id == m.id else report.id,
        None if source.url == m.rank[4] else source.url,
        source.kind,
        source.name,
        source.country,
        source.affiliation,
        report.url,
        m.url,
        m.content,
        _reports_text(m.reports),
    )
    parts = [b"" if t is None else t.encode("utf-8", "surrogatepass") for t in texts]
    wide = int(any(len(p) >= 0xFFFF for p in parts))
    code, none = _WIDE[wide]
    sizes = [none if t is None else len(p) for t, p in zip(texts, parts, strict=True)]
    head = struct.pack(f"<BI{len(sizes)}{code}", wide, m.twins, *sizes)
    return head + b"".join(parts) + m.near


def unpack_member(data: bytes) -> Member:
    """Inverse of :func:`pack_member`."""
    wide = data[0]
    code, none = _WIDE[wide]
    count = _TEXTS
    twins, *sizes = struct.unpack_from(f"<I{count}{code}", data, 1)
    at = 5 + struct.calcsize(f"<{count}{code}")
    texts: list[str | None] = []
    for size in sizes:
        if size == none:
            texts.append(None)
            continue
        texts.append(data[at : at + size].decode("utf-8", "surrogatepass"))
        at += size
    (*rank_, handle_, item_id, file, report_id, source_url, kind, name, country, affiliation,
     report_url, url, content, reports) = texts  # fmt: skip
    rank_t = tuple(rank_)
    item_id = rank_t[2] if item_id is None else item_id
    source = Source(
        kind, name, rank_t[4] if source_url is None else source_url, country, affiliation
    )
    return Member(
        rank=rank_t,
        handle=handle_,
        id=item_id,
        report=Report(id=item_id if report_id is None else report_id, source=source, url=report_url),
        reports=_reports(reports),
        url=url,
        content=content,
        near=bytes(data[at:]),
        twins=twins,
        file=file,
    )


def as_member(value: Member | bytes) -> Member:
    """A member, from itself or from its packed form."""
    return unpack_member(value) if isinstance(value, bytes | bytearray) else value


def pack_record(record: tuple[bytes, Duplicate | None]) -> bytes:
    """A pass's record (packed member, its duplicate or None) as one bytes object.

    The duplicate comes first: a flag, then its similarity (8 bytes), the
    sizes of its kind and representative id (2 and 4 bytes) and the two
    strings; the packed member follows. :func:`unpack_record` gives it back.
    """
    packed, duplicate = record
    if duplicate is None:
        return b"\x00" + packed
    kind = duplicate.kind.encode("utf-8", "surrogatepass")
    of = duplicate.of.encode("utf-8", "surrogatepass")
    head = struct.pack("<BdHI", 1, duplicate.similarity, len(kind), len(of))
    return head + kind + of + packed


def unpack_record(data: bytes) -> tuple[bytes, Duplicate | None]:
    """Inverse of :func:`pack_record`."""
    if data[0] == 0:
        return bytes(data[1:]), None
    _, similarity, kind_size, of_size = struct.unpack_from("<BdHI", data)
    at = struct.calcsize("<BdHI")
    kind = data[at : at + kind_size].decode("utf-8", "surrogatepass")
    at += kind_size
    of = data[at : at + of_size].decode("utf-8", "surrogatepass")
    at += of_size
    return bytes(data[at:]), Duplicate(of=of, kind=kind, similarity=similarity)
