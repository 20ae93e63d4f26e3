"""Feed sources (``kind: feed``): RSS, Atom, RDF and JSON Feed, polled politely.

Sources file keys::

    - name: Le Monde International
      kind: feed
      url: https://www.lemonde.fr/international/rss_full.xml
      country: FR            # optional; copied onto every item
      language: fr           # optional; a hint where the entry has none
      affiliation: press     # optional; copied onto every item

One poll is one conditional GET. The cursor (compact JSON) keeps the feed's
``ETag`` and ``Last-Modified`` for the next request's ``If-None-Match`` /
``If-Modified-Since``, a hash of the last body, and the ids of the most
recent entries seen:

* 304 Not Modified: nothing parsed, nothing emitted, ``not_modified=True``;
* a 200 whose body is byte-identical to the last one (servers that ignore
  conditional requests): nothing parsed, nothing emitted;
* otherwise the body is read by :func:`connectors.feeds.parse_feed` (the
  replay's reader, with its hostile-input bounds), each entry normalised by
  the replay's function, and only entries whose id is not in the seen set
  are emitted. The seen set keeps the ids of the current feed and the most
  recent earlier ones, at least :data:`SEEN_LIMIT` of them.

A body that is not a feed (an HTML error page, a login wall) is not an HTTP
failure: the poll returns one file-level dead letter with the reason and an
excerpt (counted in the source's health and the round line), emits nothing,
and forgets the validators so the next poll fetches in full. HTTP failures
(429, 5xx, timeouts, limits, refused addresses) are raised by the HTTP layer
as :class:`~connectors.errors.TransientError` or
:class:`~connectors.errors.PermanentError`.

``retry_after`` is the feed's own freshness hint, the largest of RSS
``<ttl>`` (minutes), ``Cache-Control: max-age`` or ``Expires``, and a
``Retry-After`` sent with a success; the poller's adaptive interval
(:func:`connectors.schedule.next_interval`) treats it as a floor.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from connectors.base import Connector, Page, PollResult, SourceConfig, register
from connectors.feeds import parse_feed
from connectors.http import parse_retry_after
from connectors.schedule import freshness_hint
from connectors.social import language_hint
from transforms.item import DeadLetter, Item
from transforms.normalise import normalise_or_reason

if TYPE_CHECKING:
    from connectors.http import Fetcher, Response

__all__ = ["SEEN_LIMIT", "FeedConnector", "FeedCursor", "feed_hint"]

# Ids kept in the cursor beyond those of the current feed: enough for an
# entry that drops out of a busy feed and comes back not to be emitted twice.
SEEN_LIMIT = 500
# Prefix of each item id kept (64 bits: no collision among a few hundred).
_ID_PREFIX = 16
# <ttl> belongs to the channel, which comes before the items: the head of
# the body is enough, and a regex there is far cheaper than another parse.
_TTL = re.compile(rb"<ttl>\s*([0-9]{1,7})\s*</ttl>", re.IGNORECASE)
_TTL_HEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """The feed's cursor, kept as compact JSON (``e``, ``m``, ``h``, ``s`` keys).

    Attributes:
        etag: the last ``ETag``.
        last_modified: the last ``Last-Modified``.
        body_hash: a hash of the last body read.
        seen: id prefixes of recent entries, the current feed's first.
    """

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    seen: tuple[str, ...] = ()

    @classmethod
    def decode(cls, cursor: str | None) -> FeedCursor:
        """Read a cursor; None, or one that is not this kind's JSON, is a first poll."""
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        seen = data.get("s")
        ids = tuple(s for s in seen if isinstance(s, str)) if isinstance(seen, list) else ()
        return cls(text("e"), text("m"), text("h"), ids)

    def encode(self) -> str:
        """The cursor string stored between polls."""
        data: dict[str, Any] = {"e": self.etag, "m": self.last_modified, "h": self.body_hash}
        data = {k: v for k, v in data.items() if v}
        data["s"] = list(self.seen)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=True)

    def conditional_headers(self) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` for the next request."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def feed_hint(response: Response) -> float | None:
    """Seconds the feed says its content stays fresh, or None (see the module docstring)."""
    hints = [
        freshness_hint(
            response.header("cache-control"),
            response.header("expires"),
            response.header("date"),
        ),
        parse_retry_after(response.header("retry-after")),
    ]
    if response.status == 200:
        match = _TTL.search(response.body, 0, _TTL_HEAD)
        if match:
            hints.append(int(match.group(1)) * 60.0)
    usable = [h for h in hints if h]
    return max(usable) if usable else None


@register
class FeedConnector(Connector):
    """One RSS, Atom, RDF or JSON feed; see the module docstring.

    Args:
        config: the source as configured (``url`` is the feed).
        fetcher: the HTTP layer; None is enough for :meth:`parse` (replay).

    Raises:
        ValueError: the configured ``url`` is not an http(s) URL.
    """

    kind = "feed"

    def __init__(self, config: SourceConfig, fetcher: Fetcher) -> None:
        self.check(config)
        super().__init__(config, fetcher)
        self.url: str = config.url  # type: ignore[assignment]  # check() made sure

    @classmethod
    def check(cls, config: SourceConfig) -> None:
        """The feed URL is an absolute http(s) URL.

        Raises:
            ValueError: it is missing or not http(s); the message shows it.
        """
        url = config.url
        if not isinstance(url, str) or not re.fullmatch(r"https?://[^/\s?#]+\S*", url):
            raise ValueError(
                f"feed source {config.name!r}: url must be an http(s) URL (got {url!r})"
            )

    # -- the pure half

    def parse(self, response: Response) -> Page:
        """The feed's entries as raw items, stamped with the configured source.

        Pure: the live poll and a WARC replay give the same items. Never
        raises for a bad body; an unreadable one is ``status="dead_letter"``.
        """
        outcome = parse_feed(self.config.url or response.url, response.body, response.captured_at)
        if outcome.status == "dead_letter":
            return Page(dead_letters=outcome.dead_letters, status="dead_letter")
        items = tuple(self._stamp(item, response) for item in outcome.items)
        return Page(items=items, dead_letters=outcome.dead_letters, status=outcome.status)

    def _stamp(self, item: Item, response: Response) -> Item:
        source = self.config.source(url=self.config.url, name=self.config.name or item.source.name)
        return item.replace(
            source=source,
            language_hint=item.language_hint or language_hint(self.config.language),
            archive=response.archive,
            origin=self.config.url,
        )

    # -- polling

    async def poll(self, cursor: str | None) -> PollResult:
        """One conditional GET; see the module docstring.

        Raises:
            TransientError: from the HTTP layer (429, 5xx, timeouts, connections).
            PermanentError: from the HTTP layer (4xx, limits, refused addresses).
        """
        state = FeedCursor.decode(cursor)
        response = await self.fetcher.get(
            self.url, headers=state.conditional_headers(), context=self.config.to_dict()
        )
        hint = feed_hint(response)
        if response.status == 304:
            # A 304 may carry fresh validators (RFC 9110 15.4.5).
            fresh_state = replace(
                state,
                etag=response.header("etag") or state.etag,
                last_modified=response.header("last-modified") or state.last_modified,
            )
            same = fresh_state == state and cursor is not None
            kept = cursor if same else fresh_state.encode()
            return PollResult((), kept, retry_after=hint, not_modified=True)
        body_hash = hashlib.sha256(response.body).hexdigest()[:32]
        unchanged = body_hash == state.body_hash
        state = replace(
            state,
            etag=response.header("etag"),
            last_modified=response.header("last-modified"),
            body_hash=body_hash,
        )
        if unchanged:
            return PollResult((), state.encode(), retry_after=hint)
        page = self.parse(response)
        if page.status == "dead_letter":
            # Forget the validators: a 304 must not hide the feed once it is back.
            state = replace(state, etag=None, last_modified=None)
            return PollResult((), state.encode(), dead_letters=page.dead_letters)
        fresh, letters, ids = self._new_items(page, set(state.seen))
        state = replace(state, seen=_merge_seen(ids, state.seen))
        return PollResult(
            _oldest_first(fresh),
            state.encode(),
            retry_after=hint,
            dead_letters=page.dead_letters + tuple(letters),
        )

    def _new_items(
        self, page: Page, seen: set[str]
    ) -> tuple[list[Item], list[DeadLetter], list[str]]:
        fresh: list[Item] = []
        letters: list[DeadLetter] = []
        ids: list[str] = []
        for raw in page.items:
            item = normalise_or_reason(raw)
            if isinstance(item, str):
                letters.append(
                    DeadLetter(
                        stage="normalise",
                        reason=item,
                        path=self.url,
                        raw=f"{raw.guid or ''} {raw.url or ''} {raw.title}"[:2000],
                    )
                )
                continue
            key = item.id[:_ID_PREFIX]
            ids.append(key)
            if key not in seen:
                seen.add(key)  # the same entry twice in one body is emitted once
                fresh.append(item)
        return fresh, letters, ids


def _merge_seen(current: list[str], previous: tuple[str, ...]) -> tuple[str, ...]:
    # The current feed's ids all stay (however long the feed), then the most
    # recent earlier ones up to SEEN_LIMIT.
    keep = dict.fromkeys(current)
    for key in previous:
        if len(keep) >= max(SEEN_LIMIT, len(current)):
            break
        keep.setdefault(key, None)
    return tuple(keep)


def _oldest_first(items: list[Item]) -> tuple[Item, ...]:
    # Feeds list newest first by convention; dates decide when every item has one.
    ordered = items[::-1]
    if all(item.published for item in ordered):
        ordered.sort(key=lambda item: item.published or "")
    return tuple(ordered)
