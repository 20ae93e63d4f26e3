"""The one JSON form of records: :func:`to_json` / :func:`from_json`.

Every sink writes it and the Beam coder encodes it, so what crosses a worker
boundary is what lands in ``items.jsonl``. Kept apart from the record classes
(:mod:`transforms.item_records`) because this is the per-item hot path of
every sink and coder, tuned on its own (orjson, with json for what orjson
writes otherwise or refuses).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson

from transforms.item_records import (
    _ITEM_FIELDS,
    READABLE_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    ArchiveRecord,
    DeadLetter,
    Duplicate,
    Flag,
    Item,
    MatchedTerm,
    Media,
    Report,
    Source,
)

__all__ = [
    "dead_letter_from_dict",
    "forget_json",
    "from_dict",
    "from_json",
    "remember_json",
    "to_dict",
    "to_json",
]


_FIELDS: dict[type, tuple[str, ...]] = {}
_SCALARS = (str, int, bool, type(None))
_MAX_FLOAT = 1.7976931348623157e308


class _ReprFloat(float):
    """A float that orjson would write otherwise than json: json writes it (orjson refuses it)."""

    __slots__ = ()


def _plain(value: Any) -> Any:
    # dataclasses.asdict without its deep copies (about 40% less time per
    # item): records hold only scalars, tuples and other records, and JSON
    # writes tuples and lists alike.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is float:
        # orjson writes 1e-05 as 0.00001 and NaN or infinities as null.
        if 1e-4 <= abs(value) <= _MAX_FLOAT or value == 0.0:
            return value
        return _ReprFloat(value)
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if kind in (tuple, list):
        return [_plain(v) for v in value]
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_dict(record: Item | DeadLetter) -> dict[str, Any]:
    """The one dict form of a record (JSON-ready)."""
    out = _plain(record)
    if isinstance(record, Item):
        if not record.unsafe_urls:
            del out["unsafe_urls"]
        # Derived, for consumers that group or filter without our code.
        out["flagged"] = record.flagged
        out["story_id"] = record.story_id
    return out


# Records whose JSON is already known: id(record) -> (record, its to_json
# text). Batch dedup reads most items back from its spill files unchanged
# (:class:`transforms.dedup_apply.ApplyFileFn`), and the sinks fused after it
# would write the same text again (about 12 µs an item). Holding the record
# keeps its id from being reused while it is here; records are immutable, so
# the text stays theirs. Bounded: cleared when full, a miss only recomputes.
_KNOWN: dict[int, tuple[object, str]] = {}
_KNOWN_MAX = 256


def remember_json(record: Item | DeadLetter, text: str) -> None:
    """Tell :func:`to_json` that ``text`` is ``to_json(record)`` for this very object.

    For a caller that has just read ``record`` from ``text``
    (``from_json(text)``, which ``to_json`` gives back exactly, as tested);
    the next serialisations of the same object then skip the encoding. A
    later equal but distinct object is encoded as usual.
    """
    if len(_KNOWN) >= _KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[id(record)] = (record, text)


def forget_json() -> None:
    """Forget every remembered text (:func:`remember_json`)."""
    _KNOWN.clear()


def to_json(record: Item | DeadLetter) -> str:
    """One JSON line, keys sorted so equal records give equal bytes.

    The bytes are those of ``json.dumps(..., ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))``; orjson writes them about five
    times faster wherever it writes the same (everything but the floats
    marked by :func:`_plain`, lone surrogates and integers past 64 bits,
    which it refuses, so json writes those records). A record given to
    :func:`remember_json` gets its remembered text.
    """
    known = _KNOWN.get(id(record))
    if known is not None and known[0] is record:
        return known[1]
    data = to_dict(record)
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _source(d: dict[str, Any]) -> Source:
    return Source(
        kind=d["kind"],
        name=d["name"],
        url=d["url"],
        country=d.get("country"),
        affiliation=d.get("affiliation"),
    )


def from_dict(d: dict[str, Any]) -> Item:
    """Inverse of :func:`to_dict` for items.

    Raises:
        ValueError: the dict is of a schema version this code does not read.
    """
    version = d.get("schema_version")
    if version not in READABLE_SCHEMA_VERSIONS:
        raise ValueError(
            f"item schema_version must be one of {READABLE_SCHEMA_VERSIONS} (got {version!r})"
        )
    kw = {k: v for k, v in d.items() if k in _ITEM_FIELDS}
    kw["source"] = _source(d["source"])
    kw["flags"] = tuple(
        Flag(
            category=f["category"],
            score=f["score"],
            terms=tuple(MatchedTerm(**t) for t in f["terms"]),
            snippet=f["snippet"],
            rules=tuple(f["rules"]),
        )
        for f in d.get("flags", ())
    )
    kw["other_categories"] = tuple(d.get("other_categories", ()))
    dup = d.get("duplicate")
    kw["duplicate"] = Duplicate(**dup) if dup else None
    kw["also_reported_by"] = tuple(
        Report(id=r["id"], source=_source(r["source"]), url=r["url"])
        for r in d.get("also_reported_by", ())
    )
    archive = d.get("archive")
    kw["archive"] = ArchiveRecord(**archive) if archive else None
    kw["media"] = tuple(Media(type=m["type"], url=m["url"]) for m in d.get("media", ()))
    kw["links"] = tuple(d.get("links", ()))
    kw["unsafe_urls"] = tuple(d.get("unsafe_urls", ()))
    # A version-1 record is read as the current version: its new fields are empty.
    kw["schema_version"] = SCHEMA_VERSION
    return Item(**kw)


def from_json(line: str | bytes) -> Item:
    # orjson reads the lines to_json writes in about two thirds of json's
    # time; what it refuses (a lone surrogate, NaN, an integer past 64 bits:
    # the records json wrote) json reads, to the same values.
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        data = json.loads(line)
    else:
        if type(data.get("views")) is float:
            # orjson reads an integer past 64 bits as a float (json wrote
            # it, as an integer); ``views`` is the one integer a source
            # sets, and never a float: json reads it exactly.
            data = json.loads(line)
    return from_dict(data)


def dead_letter_from_dict(d: dict[str, Any]) -> DeadLetter:
    return DeadLetter(**{k: d[k] for k in ("stage", "reason", "path", "kind", "raw")})
