"""Telegram public channels, read from the ``t.me/s/<channel>`` web preview.

Sources file keys (``kind: telegram``)::

    channel: topwar_official      # the public channel's username
    base_url: https://t.me        # (default; or url)
    max_pages: 5                  # requests per poll when catching up

The preview page lists a channel's latest messages, oldest first, and
``?before=<id>`` pages back. The cursor is the largest message id emitted; a
poll pages back while the oldest message on the page is still newer than the
cursor (up to ``max_pages``). The first poll takes the latest page only.

Each message becomes an item with its text (HTML kept), date, views, the
links in it, and references to its media with type and URL: photos,
videos, round videos, voice notes, documents, stickers and link previews.
Media are never downloaded here.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

import lxml.etree
import lxml.html

from connectors.base import Connector, Page, PollResult, SourceConfig, register
from connectors.social import (
    Entries,
    base_url,
    bounded_int,
    dead_response,
    iso_utc,
    language_hint,
    require_str,
    to_poll_result,
)
from transforms.item import Item, Media, sha256_hex

if TYPE_CHECKING:
    from connectors.http import Fetcher, Response

__all__ = ["TelegramConnector", "parse_views"]

_BACKGROUND = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)['\"]?\)")
_SPACE = re.compile(r"\s+")
_MESSAGE = (
    '//div[contains(concat(" ", normalize-space(@class), " "), " tgme_widget_message ")]'
    "[@data-post]"
)


def _has_class(name: str) -> str:
    return f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'


def parse_views(text: str | None) -> int | None:
    """``"37.2K"`` -> 37200, ``"1.1M"`` -> 1100000, ``"815"`` -> 815; None if unreadable."""
    if not text:
        return None
    match = re.fullmatch(r"\s*([\d.,]+)\s*([KkMm]?)\s*", text)
    if not match:
        return None
    try:
        number = float(match.group(1).replace(",", ""))
    except ValueError:
        return None
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return round(number * scale)


def _first(node: Any, xpath: str) -> Any:
    found = node.xpath(xpath)
    return found[0] if found else None


def _background(node: Any) -> str | None:
    match = _BACKGROUND.search(node.get("style") or "")
    return match.group(1) if match else None


def _media(message: Any) -> tuple[Media, ...]:
    out: list[Media] = []
    for node in message.xpath(f".//a[{_has_class('tgme_widget_message_photo_wrap')}]"):
        url = _background(node)
        if url:
            out.append(Media("photo", url))
    for node in message.xpath(f".//a[{_has_class('tgme_widget_message_video_player')}]"):
        src = _first(node, f".//video[{_has_class('tgme_widget_message_video')}]/@src")
        # A video too big for the preview has no file URL: its message link stands in.
        url = src or node.get("href")
        if url:
            out.append(Media("video", url))
    for src in message.xpath(f".//video[{_has_class('tgme_widget_message_roundvideo')}]/@src"):
        out.append(Media("video", src))
    for src in message.xpath(f".//audio[{_has_class('tgme_widget_message_voice')}]/@src"):
        out.append(Media("audio", src))
    for href in message.xpath(f".//a[{_has_class('tgme_widget_message_document_wrap')}]/@href"):
        out.append(Media("document", href))
    for srcset in message.xpath(
        f".//picture[{_has_class('tgme_widget_message_tgsticker')}]"
        "/source[@type='application/x-tgsticker']/@srcset"
    ):
        out.append(Media("sticker", srcset))
    for href in message.xpath(f".//a[{_has_class('tgme_widget_message_link_preview')}]/@href"):
        out.append(Media("link_preview", href))
    return tuple(dict.fromkeys(out))


def _text_node(message: Any) -> Any:
    # Albums nest a text div inside another; the outermost one holds it all.
    return _first(
        message,
        f".//div[{_has_class('tgme_widget_message_text')}]"
        f"[not(ancestor::div[{_has_class('tgme_widget_message_text')}])]",
    )


def _markup(node: Any) -> str:
    """The node's HTML with its whitespace collapsed, as a browser shows it.

    Line breaks in a message are ``<br>``; newlines in the page source are
    layout only, and would otherwise become line breaks in the item text.
    """
    for element in node.iter():
        if element.text:
            element.text = _SPACE.sub(" ", element.text)
        if element.tail and element is not node:
            element.tail = _SPACE.sub(" ", element.tail)
    return lxml.html.tostring(node, encoding="unicode", with_tail=False)


def _poll_text(message: Any) -> str:
    question = _first(message, f".//div[{_has_class('tgme_widget_message_poll_question')}]")
    if question is None:
        return ""
    options = message.xpath(f".//div[{_has_class('tgme_widget_message_poll_option_text')}]")
    parts = [question.text_content().strip()] + [o.text_content().strip() for o in options]
    return "<p>" + "</p><p>".join(html.escape(p) for p in parts if p) + "</p>"


@register
class TelegramConnector(Connector):
    """See the module docstring."""

    kind = "telegram"

    def __init__(self, config: SourceConfig, fetcher: Fetcher) -> None:
        self.check(config)
        super().__init__(config, fetcher)
        self.base = base_url(config, "https://t.me")
        self.channel = require_str(config, "channel").lstrip("@")
        self.max_pages = bounded_int(config, "max_pages", 5, 1, 100)

    @classmethod
    def check(cls, config: SourceConfig) -> None:
        """A channel username; a usable base URL; bounds.

        Raises:
            ValueError: a key is missing or malformed; the message names it.
        """
        base_url(config, "https://t.me")
        require_str(config, "channel", r"@?[A-Za-z][A-Za-z0-9_]{2,63}")
        bounded_int(config, "max_pages", 5, 1, 100)

    @property
    def channel_url(self) -> str:
        """The channel's public address, used as the items' source URL."""
        return f"https://t.me/{self.channel}"

    # -- the pure half

    def read(self, response: Response) -> Entries:
        """Messages of one preview page as ``(message id, raw item)`` entries."""
        try:
            doc = lxml.html.document_fromstring(response.body)
        except (lxml.etree.ParserError, ValueError) as exc:
            return dead_response(response, f"not an HTML page: {exc}")
        prev = _first(doc, "//link[@rel='prev']/@href")
        out = Entries(next_page=urljoin(response.url, prev) if prev else None)
        for message in doc.xpath(_MESSAGE):
            raw = message.get("data-post")
            out.add(response.url, raw, lambda m=message: self._entry(m, response))
        return out

    def parse(self, response: Response) -> Page:
        return self.read(response).page()

    def _entry(self, message: Any, response: Response) -> tuple[int, Item]:
        post = message.get("data-post")
        channel, _, number = post.partition("/")
        message_id = int(number)
        url = f"https://t.me/{channel}/{message_id}"
        body = _text_node(message)
        text = _markup(body) if body is not None else ""
        text = text or _poll_text(message)
        links = [] if body is None else body.xpath(".//a/@href")
        links += message.xpath(f".//a[{_has_class('tgme_widget_message_link_preview')}]/@href")
        signature = _first(message, f".//span[{_has_class('tgme_widget_message_from_author')}]")
        owner = _first(message, f".//a[{_has_class('tgme_widget_message_owner_name')}]")
        author_node = signature if signature is not None else owner
        author = author_node.text_content().strip() if author_node is not None else None
        date = _first(message, f".//a[{_has_class('tgme_widget_message_date')}]//time/@datetime")
        views = _first(message, f".//span[{_has_class('tgme_widget_message_views')}]")
        item = Item(
            source=self.config.source(url=self.channel_url),
            guid=url,
            url=url,
            title="",
            text=text,
            author=author or None,
            published=iso_utc(date),
            fetched=response.captured_at,
            origin=response.url,
            raw_sha256=sha256_hex(lxml.html.tostring(message, encoding="unicode")),
            language_hint=language_hint(self.config.language),
            archive=response.archive,
            media=_media(message),
            links=tuple(dict.fromkeys(h for h in links if h.startswith(("http://", "https://")))),
            views=parse_views(views.text_content()) if views is not None else None,
        )
        return message_id, item

    # -- polling

    async def poll(self, cursor: str | None) -> PollResult:
        after = int(cursor) if cursor else None
        entries: list[tuple[int, Item]] = []
        letters = []
        fetches = 0
        before: int | None = None
        for _ in range(self.max_pages):
            url = f"{self.base}/s/{self.channel}"
            if before is not None:
                url += "?" + urlencode({"before": before})
            response = await self.fetcher.get(url, context=self.config.to_dict())
            fetches += 1
            page = self.read(response)
            letters.extend(page.dead_letters)
            fresh = [(k, i) for k, i in page.entries if after is None or k > after]
            entries.extend(fresh)
            # Page back only while the oldest message here is still new and
            # does not follow the cursor directly.
            if after is None or not fresh or len(fresh) < len(page.entries):
                break
            oldest = min(k for k, _ in page.entries)
            if oldest <= after + 1:
                break
            before = oldest
        return to_poll_result(entries, cursor, encode=str, dead_letters=letters, fetches=fetches)
