"""The connector contract: a source as configured, one poll's result, and the connector class.

A connector is a small Beam-free class. It is built from one configured
source and an HTTP layer (:class:`connectors.http.Fetcher`) handed to it from
outside, so tests point it at a local server. ``poll(cursor)`` fetches once
(or a few pages), never sleeps, and returns a :class:`PollResult`: the items
after the cursor, the cursor that points past the last item emitted, and the
source's own hint of when to come back. ``parse(response)`` is the pure half:
one fetched response to raw items, used live and by the replay of a WARC
archive; both then normalise with the same function, so both give the same
items with the same ids.

Errors are raised from :mod:`connectors.errors`: ``TransientError`` (with
``retry_after``) or ``PermanentError``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from transforms.item import DeadLetter, Item, Source

if TYPE_CHECKING:
    from connectors.http import Fetcher, Response

__all__ = [
    "KINDS",
    "Connector",
    "Page",
    "PollResult",
    "SourceConfig",
    "connector_class",
    "register",
]

# Every kind a sources file may name.
KINDS = ("feed", "mastodon", "bluesky", "telegram", "reddit", "youtube")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One source as the sources file configures it.

    Attributes:
        name: the operator's name for it; unique within a sources file.
        kind: one of :data:`KINDS`.
        url: the feed URL, or the kind's base URL (an instance, an AppView).
        country: ISO 3166-1 alpha-2 code of where it publishes from.
        language: the language it publishes in, as a hint.
        affiliation: who it speaks for (``state media``, ``ngo``, ``wire`` ...).
        options: the kind's own keys (``hashtag``, ``account``, ``channel`` ...).
        line: the line of the sources file it was read from, for errors.
    """

    name: str
    kind: str
    url: str | None = None
    country: str | None = None
    language: str | None = None
    affiliation: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None

    def source(self, url: str | None = None, name: str | None = None) -> Source:
        """The item's ``source`` for this configured source (country and affiliation copied)."""
        return Source(
            kind=self.kind,
            name=name if name is not None else self.name,
            url=url or self.url or self.name,
            country=self.country,
            affiliation=self.affiliation,
        )

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "country": self.country,
            "language": self.language,
            "affiliation": self.affiliation,
        }
        out.update(self.options)
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Page:
    """What one response holds, read by :meth:`Connector.parse` (pure, no I/O).

    Attributes:
        items: every item on the page, oldest and newest alike, raw (not normalised).
        dead_letters: entries on the page that could not become items.
        next_page: where older items continue (a URL or a cursor token), if anywhere.
        status: ``parsed``, ``empty`` or ``dead_letter`` (the whole response unreadable).
    """

    items: tuple[Item, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()
    next_page: str | None = None
    status: str = "parsed"


@dataclass(frozen=True, slots=True)
class PollResult:
    """One poll of one source.

    Attributes:
        items: items after the cursor, normalised (``normalise_or_reason``:
            ids assigned), oldest first where the source has an order. Items
            that cannot be normalised are in ``dead_letters`` instead.
        cursor: points past the last item emitted; store it only after the
            items are delivered (at-least-once).
        retry_after: seconds until the source says it is worth polling again
            (``<ttl>``, ``Cache-Control: max-age``, rate-limit reset), if it said.
        not_modified: nothing new was fetched (HTTP 304), so nothing was parsed.
        dead_letters: entries that could not become items, with the reason.
        fetches: HTTP requests made.
    """

    items: tuple[Item, ...]
    cursor: str | None
    retry_after: float | None = None
    not_modified: bool = False
    dead_letters: tuple[DeadLetter, ...] = ()
    fetches: int = 1


class Connector(ABC):
    """Base class of every source kind; see the module docstring.

    Subclasses set ``kind``, validate their keys in ``__init__`` (raising
    ``ValueError`` that names the key and shows the value), and implement
    :meth:`poll` and :meth:`parse`.
    """

    kind: ClassVar[str]

    def __init__(self, config: SourceConfig, fetcher: Fetcher) -> None:
        self.config = config
        self.fetcher = fetcher

    @classmethod
    def check(cls, config: SourceConfig) -> None:
        """Validate the configured keys without building anything.

        Raises:
            ValueError: a key is missing or malformed; the message names it.
        """

    @abstractmethod
    async def poll(self, cursor: str | None) -> PollResult:
        """Fetch what is new after ``cursor`` (None: the first poll)."""

    @abstractmethod
    def parse(self, response: Response) -> Page:
        """One fetched response to items; pure, so a WARC replay gives the same items."""


_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make ``cls`` the connector for ``cls.kind``."""
    _REGISTRY[cls.kind] = cls
    return cls


def connector_class(kind: str) -> type[Connector]:
    """The connector class for a kind.

    Raises:
        ValueError: no such kind.
    """
    if kind not in _REGISTRY:
        # Importing the modules registers their classes; done lazily so that
        # one kind's parser dependencies load only when that kind is used.
        import importlib

        module = {"feed": "feedpoll"}.get(kind, kind)
        if kind in KINDS:
            importlib.import_module(f"connectors.{module}")
    if kind not in _REGISTRY:
        raise ValueError(f"kind must be one of {list(KINDS)} (got {kind!r})")
    return _REGISTRY[kind]
