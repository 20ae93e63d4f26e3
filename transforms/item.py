"""The item record: one news item or post, defined once and used by every stage.

An item is born in a connector (``source``, ``guid``, ``url``, ``title``, raw
``text``), then each transform returns a copy with its own fields filled in:
normalisation (``text``, ``canonical_url``, ``id``), language identification,
flagging, deduplication. Records are frozen so that a stage can never change
what another stage already emitted.

There is exactly one JSON form (:func:`to_json` / :func:`from_json`); every
sink writes it and the Beam coder encodes it, so what crosses a worker
boundary is what lands in ``items.jsonl``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = [
    "COLLISION_MARK",
    "DEAD_LETTER_TAG",
    "SCHEMA_VERSION",
    "DeadLetter",
    "Duplicate",
    "Flag",
    "ArchiveRecord",
    "collision_id",
    "Item",
    "MatchedTerm",
    "Media",
    "READABLE_SCHEMA_VERSIONS",
    "Report",
    "ReportUpdate",
    "Source",
    "dead_letter_from_dict",
    "failure_reason",
    "from_dict",
    "from_json",
    "item_dead_letter",
    "item_id",
    "sha256_hex",
    "to_dict",
    "to_json",
]

# 2 added the source's country and affiliation, the archive record, media,
# links, views and summary. Readers accept every version listed here.
SCHEMA_VERSION = 2
READABLE_SCHEMA_VERSIONS = (1, 2)


@dataclass(frozen=True, slots=True)
class Source:
    """Where an item came from.

    Attributes:
        kind: connector kind, e.g. ``feed``, ``mastodon``, ``telegram``.
        name: human name of the feed or channel (may be empty).
        url: the feed or channel URL; for a saved file with no declared URL,
            the file's path as given to the replay.
        country: where the source publishes from (ISO 3166-1 alpha-2), as the
            sources file says.
        affiliation: who the source speaks for, as the sources file says:
            ``state media``, ``party to a conflict``, ``ngo``, ``wire`` ...
    """

    kind: str
    name: str
    url: str
    country: str | None = None
    affiliation: str | None = None


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    """Where the response an item was read from is archived: a WARC file and record."""

    file: str
    record_id: str


@dataclass(frozen=True, slots=True)
class Media:
    """A media attachment referenced by a post (never downloaded by the connectors)."""

    type: str  # photo, video, audio, document, link_preview ...
    url: str


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    """One matched term: ``item.<field>[start:end] == text``."""

    term_id: str
    gloss: str
    field: str
    start: int
    end: int
    text: str
    rule: str


@dataclass(frozen=True, slots=True)
class Flag:
    """A category an item was flagged for, with its evidence."""

    category: str
    score: float
    terms: tuple[MatchedTerm, ...]
    snippet: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Marks an item as a copy of an earlier one.

    Attributes:
        of: id of the representative item.
        kind: why: ``id``, ``url``, ``content`` or ``near``.
        similarity: 1.0 for exact kinds, the estimated similarity for ``near``.
    """

    of: str
    kind: str
    similarity: float = 1.0


@dataclass(frozen=True, slots=True)
class Report:
    """Another outlet's copy of a story, listed on the representative."""

    id: str
    source: Source
    url: str | None


@dataclass(frozen=True, slots=True)
class ReportUpdate:
    """An addition to an item's ``also_reported_by``, made after the item went out.

    In streaming the representative of a story is emitted when it arrives; a
    later copy cannot change it, so the copy produces this update, keyed by
    the representative's id, for sinks to apply as an upsert.
    """

    representative_id: str
    report: Report


@dataclass(frozen=True, slots=True)
class Item:
    """One news item or social post. See the module docstring."""

    source: Source
    guid: str | None
    url: str | None
    title: str
    text: str
    author: str | None = None
    published: str | None = None
    fetched: str | None = None
    origin: str | None = None
    raw_sha256: str = ""
    id: str = ""
    canonical_url: str | None = None
    language: str | None = None
    language_confidence: float = 0.0
    language_hint: str | None = None
    rules_language: str | None = None
    flags: tuple[Flag, ...] = ()
    other_categories: tuple[str, ...] = ()
    duplicate: Duplicate | None = None
    also_reported_by: tuple[Report, ...] = ()
    archive: ArchiveRecord | None = None
    media: tuple[Media, ...] = ()
    links: tuple[str, ...] = ()
    views: int | None = None
    summary: str | None = None
    # URLs refused as links (javascript:, vbscript:, data:), kept as text so
    # nothing is lost; written to JSON only when there are any.
    unsafe_urls: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def story_id(self) -> str:
        """The story's cluster id: its representative's id (its own for a representative)."""
        return self.duplicate.of if self.duplicate else self.id

    def replace(self, **changes: Any) -> Item:
        """A copy with ``changes``: what ``dataclasses.replace`` gives, in about 60% of its time.

        Items are copied a few times each on their way through the stages: the
        copy sets each slot from the original instead of calling ``__init__``
        with every field (there is no ``__post_init__`` to run).
        """
        if not _ITEM_FIELDS.issuperset(changes):
            return dataclasses.replace(self, **changes)  # its TypeError names the field
        new = _NEW(type(self))
        for put, value in zip(_ITEM_SETTERS, _ITEM_VALUES(self)):
            put(new, value)
        for name, value in changes.items():
            _ITEM_SETTER[name](new, value)
        return new


_ITEM_NAMES = tuple(f.name for f in dataclasses.fields(Item))
_ITEM_FIELDS = frozenset(_ITEM_NAMES)
# The slots' own setters (a frozen dataclass refuses setattr), and one call
# that reads every field.
_ITEM_SETTER = {name: getattr(Item, name).__set__ for name in _ITEM_NAMES}
_ITEM_SETTERS = tuple(_ITEM_SETTER[name] for name in _ITEM_NAMES)
_ITEM_VALUES = operator.attrgetter(*_ITEM_NAMES)
_NEW = object.__new__


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that could not become an item, with the reason.

    Attributes:
        stage: the stage that rejected it (``read``, ``parse``, ``normalise`` ...).
        reason: one line a person can act on.
        path: the file or URL the record came from.
        kind: ``file`` when a whole input file is rejected, ``entry`` when one
            entry of an otherwise readable feed is.
        raw: the raw input, truncated, for inspection and replay.
    """

    stage: str
    reason: str
    path: str
    kind: str = "entry"
    raw: str = ""


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        # surrogatepass: a lone surrogate must not stop an item from being hashed.
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def item_id(source: Source, guid: str | None, canonical_url: str | None, content: str) -> str:
    """Stable id of an item.

    A guid alone is not an identity: bare guids such as ``1`` or ``?p=123``
    recur across feeds, so the guid is always hashed with the source URL.
    Without a guid the canonical URL identifies the item; without either,
    the normalised content does (scoped to the source, so that two feeds'
    one-word test entries are not one item — cross-source copies are found
    by the content dedup stage instead).
    """
    if guid:
        key = "guid\x1f" + source.url + "\x1f" + guid
    elif canonical_url:
        key = "url\x1f" + canonical_url
    else:
        key = "content\x1f" + source.url + "\x1f" + content
    return sha256_hex(key)[:32]


# The tagged output every Beam stage sends its DeadLetter records to; the
# graph flattens them into one collection.
DEAD_LETTER_TAG = "dead_letter"

# Joins a colliding entry's own id to its content hash; also, as a raw item's
# whole id, asks normalisation for such an id (see collision_id).
COLLISION_MARK = "~"


def collision_id(base_id: str, content: str) -> str:
    """A distinct id for an entry whose id another entry with different content already has.

    Two different stories must never share an id, or the id dedup pass marks
    one a copy of the other. The new id keeps the original as its prefix (so
    the collision stays visible) and adds a hash of the content; it contains
    :data:`COLLISION_MARK`, which plain ids never do, so summaries count it.
    """
    return base_id[:32] + COLLISION_MARK + sha256_hex(content)[:12]


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


def to_json(record: Item | DeadLetter) -> str:
    """One JSON line, keys sorted so equal records give equal bytes.

    The bytes are those of ``json.dumps(..., ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))``; orjson writes them about five
    times faster wherever it writes the same (everything but the floats
    marked by :func:`_plain`, lone surrogates and integers past 64 bits,
    which it refuses, so json writes those records).
    """
    data = to_dict(record)
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def failure_reason(exc: BaseException) -> str:
    """One line naming an exception, for a dead letter's reason."""
    lines = f"{type(exc).__name__}: {exc}".splitlines() or [type(exc).__name__]
    return lines[0][:500]


def item_dead_letter(stage: str, item: Item, reason: str) -> DeadLetter:
    """The dead letter of an item that ``stage`` could not process.

    Args:
        stage: the stage that rejected it (``normalise``, ``language``, ``flag``).
        item: the item as the stage received it (kept as JSON, truncated).
        reason: why, one line.
    """
    return DeadLetter(
        stage=stage,
        reason=reason,
        path=item.origin or item.source.url,
        raw=to_json(item)[:2000],
    )


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
    return from_dict(data)


def dead_letter_from_dict(d: dict[str, Any]) -> DeadLetter:
    return DeadLetter(**{k: d[k] for k in ("stage", "reason", "path", "kind", "raw")})
