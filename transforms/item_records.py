"""The record classes: an item, the parts it is made of, and a dead letter.

Frozen, slotted dataclasses (see :mod:`transforms.item` for an item's life
through the stages), with the schema version every new item carries and the
versions readers accept. Only the standard library: the poller and the review
desk import these without Beam. Ids are made in :mod:`transforms.item_ids`,
the JSON form in :mod:`transforms.item_json`.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "READABLE_SCHEMA_VERSIONS",
    "SCHEMA_VERSION",
    "ArchiveRecord",
    "DeadLetter",
    "Duplicate",
    "Flag",
    "Item",
    "MatchedTerm",
    "Media",
    "Report",
    "ReportUpdate",
    "Source",
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

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as the tuple of its field values, rebuilt by the slots' setters.

        The default for a frozen slotted dataclass sets each field through
        ``object.__setattr__`` in a Python loop when unpickling: parsed items
        cross the parse worker's pipe this way, about 4x faster both ways.
        """
        return _item_from_values, (_ITEM_VALUES(self),)


_ITEM_NAMES = tuple(f.name for f in dataclasses.fields(Item))
_ITEM_FIELDS = frozenset(_ITEM_NAMES)
# The slots' own setters (a frozen dataclass refuses setattr), and one call
# that reads every field.
_ITEM_SETTER = {name: getattr(Item, name).__set__ for name in _ITEM_NAMES}
_ITEM_SETTERS = tuple(_ITEM_SETTER[name] for name in _ITEM_NAMES)
_ITEM_VALUES = operator.attrgetter(*_ITEM_NAMES)
_NEW = object.__new__


def _item_from_values(values: tuple[Any, ...]) -> Item:
    # The inverse of Item.__reduce__: fields in declaration order.
    new = _NEW(Item)
    for put, value in zip(_ITEM_SETTERS, values, strict=True):
        put(new, value)
    return new


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
