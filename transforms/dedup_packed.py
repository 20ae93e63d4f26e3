"""What the dedup passes carry of an item: the :class:`Member` record and its packed form.

A runner such as FnApiRunner holds every grouping in memory, as objects: a
member as a named tuple of strings and records is about 1.5 KB of Python
objects, and as :func:`pack_member` bytes about 600 (one object; strings that
repeat a field of the rank are not written twice). The passes therefore group
packed members and unpack each where they look inside it (:func:`as_member`,
:func:`peek_member`); a pass's record (a packed member and its duplicate) is
one bytes object too (:func:`pack_record`). How an item becomes a member (its
rank, keys and handle) is in :mod:`transforms.dedup_member`.
"""

from __future__ import annotations

import json
import re
import struct
from typing import NamedTuple

from transforms.item import Duplicate, Report, Source

__all__ = [
    "Decision",
    "Member",
    "as_member",
    "pack_member",
    "pack_record",
    "peek_member",
    "stamp_bytes",
    "unpack_member",
    "unpack_record",
]


class Member(NamedTuple):
    """What the passes know of one item (the item itself stays out of every grouping).

    Attributes:
        rank: :func:`rank` of the item.
        handle: :func:`handle` of the item.
        id: the item's id.
        report: how the item is listed in a representative's ``also_reported_by``.
        reports: the reports it carries (its own ``also_reported_by``, then
            those of the copies it represents).
        url: a digest of its ``url`` pass key (:func:`url_dedup_key`), or None.
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


# A packed member's strings: each in one of three forms, 2 bits each in a
# 5-byte mask: text (UTF-8), lowercase hex of even length (its bytes: ids,
# hashes, handles, file ids are half as long), or a date of the form every
# connector writes (its 14 digits in 6 bytes, the rest as text). Their sizes
# take 1, 2 or 4 bytes each, by the longest; the largest value of the width
# stands for None.
_WIDE = {0: ("B", 0xFF), 1: ("H", 0xFFFF), 2: ("I", 0xFFFFFFFF)}
_TEXTS = 18
_TEXT, _HEX, _DATE = 0, 1, 2
_HEX_TEXT = re.compile(r"(?:[0-9a-f]{2})+")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
_HEX_DIGITS = "0123456789abcdef"
# The sizes' layout by width code, and the size that stands for None.
_LAYOUTS = {
    wide: (struct.Struct(f"<{_TEXTS}{code}"), none) for wide, (code, none) in _WIDE.items()
}
_TWINS = struct.Struct("<BI")
_U32 = struct.Struct("<I")


def stamp_bytes(text: str) -> bytes | None:
    """The 14 digits of a date in the form every connector writes, in 6 bytes.

    The form is ``2026-03-10T08:00:00`` (ASCII digits); None when ``text``
    does not start so. The bytes sort as the 19
    characters do; what follows them (a fraction, ``Z``) is the caller's.
    """
    # The dash test turns most other texts away before the regular expression.
    if len(text) < 19 or text[4] != "-" or not _DATE_TEXT.match(text):
        return None
    digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
    return int(digits).to_bytes(6, "big")


def _encode_text(text: str) -> tuple[int, bytes]:
    # Lowercase hex of even length (what _HEX_TEXT matches): stripping the hex
    # digits leaves nothing, in C, where most other texts stop at their first
    # character.
    if text and not len(text) & 1 and not text.strip(_HEX_DIGITS):
        return _HEX, bytes.fromhex(text)
    stamp = stamp_bytes(text)
    if stamp is not None:
        return _DATE, stamp + text[19:].encode("utf-8", "surrogatepass")
    return _TEXT, text.encode("utf-8", "surrogatepass")


def _decode_text(form: int, data: bytes) -> str:
    if form == _HEX:
        return data.hex()
    if form == _DATE:
        d = "%014d" % int.from_bytes(data[:6], "big")
        stamp = f"{d[:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}"
        return stamp + data[6:].decode("utf-8", "surrogatepass")
    return data.decode("utf-8", "surrogatepass")


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
    forms, shift, parts, sizes = 0, 0, [], []
    for text in texts:
        if text is None:
            sizes.append(None)
        else:
            form, part = _encode_text(text)
            forms |= form << shift
            parts.append(part)
            sizes.append(len(part))
        shift += 2
    longest = max(map(len, parts), default=0)
    wide = 0 if longest < 0xFF else 1 if longest < 0xFFFF else 2
    layout, none = _LAYOUTS[wide]
    head = _TWINS.pack(wide, m.twins) + forms.to_bytes(5, "little")
    sized = layout.pack(*[none if size is None else size for size in sizes])
    return head + sized + b"".join(parts) + m.near


def unpack_member(data: bytes) -> Member:
    """Inverse of :func:`pack_member`."""
    wide = data[0]
    layout, none = _LAYOUTS[wide]
    (twins,) = _U32.unpack_from(data, 1)
    forms = int.from_bytes(data[5:10], "little")
    sizes = layout.unpack_from(data, 10)
    at = 10 + layout.size
    texts: list[str | None] = []
    for size in sizes:
        if size == none:
            texts.append(None)
        else:
            form = forms & 3
            part = data[at : at + size]
            # Text is most fields; hex and dates take _decode_text.
            texts.append(part.decode("utf-8", "surrogatepass") if form == _TEXT else (
                _decode_text(form, part)
            ))
            at += size
        forms >>= 2
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
        report=Report(
            id=item_id if report_id is None else report_id, source=source, url=report_url
        ),
        reports=_reports(reports),
        url=url,
        content=content,
        near=bytes(data[at:]),
        twins=twins,
        file=file,
    )


# The position of each field among a packed member's texts (see pack_member).
_FIELDS = {"handle": 5, "id": 6, "file": 7, "url": 15, "content": 16, "reports": 17}


def peek_member(data: bytes, *names: str) -> tuple:
    """Some fields of a packed member without unpacking the rest.

    ``names`` are among ``handle``, ``id``, ``file``, ``url``, ``content``,
    ``twins`` and ``reports`` (the last only as whether there are any: a
    bool). Each value is what :func:`unpack_member` would give for that field.
    Most records of a pass only need their key, file and handle: this reads
    them in about 60% of the time of a whole unpack.
    """
    layout, none = _LAYOUTS[data[0]]
    sizes = layout.unpack_from(data, 10)
    forms = int.from_bytes(data[5:10], "little")
    out: list = []
    for name in names:
        if name == "twins":
            out.append(int.from_bytes(data[1:5], "little"))
            continue
        if name == "reports":
            out.append(sizes[17] != none)
            continue
        n = _FIELDS[name]
        if sizes[n] == none and name == "id":
            n = 2  # the id is the rank's when it is not written
        size = sizes[n]
        if size == none:
            out.append(None)
            continue
        start = 10 + layout.size + sum(x for x in sizes[:n] if x != none)
        out.append(_decode_text((forms >> (2 * n)) & 3, data[start : start + size]))
    return tuple(out)


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
