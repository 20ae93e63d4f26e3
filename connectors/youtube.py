"""YouTube channel feeds: the Atom feed of a channel's latest uploads.

Sources file keys (``kind: youtube``)::

    channel_id: UCxxxxxxxxxxxxxxxxxxxxxx   # the channel's id (UC + 22 characters)
    base_url: https://www.youtube.com       # (default; or url)

The feed (``/feeds/videos.xml?channel_id=...``) lists about fifteen latest
videos and has no paging. Each entry becomes an item with the video id as
``guid`` (``yt:video:<id>``), the title, ``media:description`` as text, the
thumbnail as a media reference and the view count when the feed gives it.
The cursor is ``<published> <video id>`` of the newest video emitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import lxml.etree

from connectors.base import Connector, Page, PollResult, SourceConfig, register
from connectors.social import (
    Entries,
    base_url,
    dead_response,
    iso_utc,
    language_hint,
    require_str,
    to_poll_result,
)
from transforms.item import Item, Media, sha256_hex

if TYPE_CHECKING:
    from connectors.http import Fetcher, Response

__all__ = ["YoutubeConnector"]

_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "media": "http://search.yahoo.com/mrss/",
}
# Untrusted XML: no entities, no network, no huge trees.
_PARSER = lxml.etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=False
)


def _text(node: Any, path: str) -> str | None:
    found = node.find(path, _NS)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _thumbnail(node: Any) -> tuple[Media, ...]:
    url = node.get("url") if node is not None else None
    return (Media("photo", url),) if url else ()


@register
class YoutubeConnector(Connector):
    """See the module docstring."""

    kind = "youtube"

    def __init__(self, config: SourceConfig, fetcher: Fetcher) -> None:
        self.check(config)
        super().__init__(config, fetcher)
        self.base = base_url(config, "https://www.youtube.com")
        self.channel_id = require_str(config, "channel_id")

    @classmethod
    def check(cls, config: SourceConfig) -> None:
        """A channel id and a usable base URL.

        Raises:
            ValueError: a key is missing or malformed; the message names it.
        """
        base_url(config, "https://www.youtube.com")
        require_str(config, "channel_id", r"UC[A-Za-z0-9_\-]{22}")

    @property
    def channel_url(self) -> str:
        """The channel's page, used as the items' source URL."""
        return f"https://www.youtube.com/channel/{self.channel_id}"

    @property
    def feed_url(self) -> str:
        return f"{self.base}/feeds/videos.xml?{urlencode({'channel_id': self.channel_id})}"

    # -- the pure half

    def read(self, response: Response) -> Entries:
        """Videos of the feed as ``((published, video id), raw item)`` entries."""
        try:
            root = lxml.etree.fromstring(response.body, _PARSER)
        except lxml.etree.XMLSyntaxError as exc:
            return dead_response(response, f"not an XML feed: {exc}")
        if root.tag != f"{{{_NS['atom']}}}feed":
            return dead_response(response, f"expected an Atom feed (got <{root.tag}>)")
        out = Entries()
        for entry in root.findall("atom:entry", _NS):
            raw = lxml.etree.tostring(entry, encoding="unicode")
            out.add(response.url, raw, lambda e=entry, r=raw: self._entry(e, r, response))
        return out

    def parse(self, response: Response) -> Page:
        return self.read(response).page()

    def _entry(self, entry: Any, raw: str, response: Response) -> tuple[Any, Item]:
        video_id = _text(entry, "yt:videoId")
        if not video_id:
            raise ValueError("entry has no yt:videoId")
        link = entry.find("atom:link[@rel='alternate']", _NS)
        url = link.get("href") if link is not None else None
        group = entry.find("media:group", _NS)
        description = _text(group, "media:description") if group is not None else None
        thumb = group.find("media:thumbnail", _NS) if group is not None else None
        stats = group.find("media:community/media:statistics", _NS) if group is not None else None
        views = stats.get("views") if stats is not None else None
        published = iso_utc(_text(entry, "atom:published")) or iso_utc(_text(entry, "atom:updated"))
        item = Item(
            source=self.config.source(url=self.channel_url),
            guid=f"yt:video:{video_id}",
            url=url or f"https://www.youtube.com/watch?v={video_id}",
            title=_text(entry, "atom:title") or "",
            text=description or "",
            author=_text(entry, "atom:author/atom:name"),
            published=published,
            fetched=response.captured_at,
            origin=response.url,
            raw_sha256=sha256_hex(raw),
            language_hint=language_hint(self.config.language),
            archive=response.archive,
            media=_thumbnail(thumb),
            views=int(views) if views and views.isdigit() else None,
        )
        return (published or "", video_id), item

    # -- polling

    async def poll(self, cursor: str | None) -> PollResult:
        after = tuple(cursor.split(" ", 1)) if cursor else None
        response = await self.fetcher.get(self.feed_url, context=self.config.to_dict())
        page = self.read(response)
        fresh = [(k, i) for k, i in page.entries if after is None or k > after]
        return to_poll_result(
            fresh, cursor, encode=lambda k: f"{k[0]} {k[1]}", dead_letters=page.dead_letters
        )
