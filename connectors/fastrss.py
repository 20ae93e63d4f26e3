"""The fast path's RSS readers: RSS 2.0/0.9x channels and RSS 1.0 (RDF) files.

Both fill an entry's summary and content as feedparser does
(:func:`_bodies`); what they cannot read as feedparser would raises
:class:`connectors.fastfields.Refuse`.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.fastfields import (
    ATOM,
    CONTENT,
    DC,
    FEED_LINK_TYPES,
    ITUNES,
    ITUNES_READ,
    RDF,
    Refuse,
    check_mapped,
    element_text,
    is_mapped,
    set_date,
)

__all__ = ["read_rdf", "read_rss"]

_RSS1 = "{http://purl.org/rss/1.0/}"
_RSS_TEXT = {"title", "link", "guid", "description", "author", "pubDate", "comments", "category"}
_DC_TEXT = {"creator", "date", "language", "subject", "title", "rights", "publisher"}
# The item elements whose value is read: feedparser keeps the later of two,
# so a repeated one is left to it. Others (media:content in several sizes,
# enclosures) may repeat: their values go to keys no item field reads.
_RSS_READ = {
    "title", "link", "guid", "description", "author", "pubDate", CONTENT,
    DC + "creator", DC + "date", DC + "language", DC + "title",
    "{http://www.itunes.com/dtds/podcast-1.0.dtd}summary",
    "{http://www.itunes.com/dtds/podcast-1.0.dtd}author",
}  # fmt: skip

# 0.91 is left to feedparser (Userland or Netscape, told apart by the DOCTYPE).
_RSS_VERSIONS = {"2.0": "rss20", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}


def read_rss(root: Any) -> tuple[dict, list[dict], str] | None:
    """``(feed, entries, version)`` of an ``<rss>`` root, or None if it is not RSS 2.0/0.9x.

    Raises:
        Refuse: the file holds something not read here as feedparser reads it.
    """
    version = _RSS_VERSIONS.get((root.get("version") or "").strip())
    channel = root.find("channel")
    if version is None or channel is None or len(root) != 1:
        return None
    if len(channel.findall("title")) > 1 or any(
        is_mapped(element.tag) and element.tag.lower().endswith("}title")
        for child in channel
        if child.tag != "item"
        for element in child.iter()
    ):
        # feedparser's channel title then depends on order and depth, and on
        # what came between: <image>, and every item, reset what it remembers.
        raise Refuse("several channel titles (media:title, dc:title...)")
    feed: dict[str, Any] = {
        "title": element_text(channel.find("title")),
        "link": _rss_channel_link(channel),
    }
    links = [
        {"rel": link.get("rel"), "href": link.get("href")}
        for link in channel.findall(ATOM + "link")
        if link.get("href")
    ]
    if links:
        feed["links"] = links
    language = element_text(channel.find("language")) or element_text(channel.find(DC + "language"))
    if language:
        feed["language"] = language
    entries = []
    # feedparser's "content seen" flag, which decides where an item's second
    # description goes: channel elements may set it, and it lasts until an
    # item ends. None once an element whose effect is not followed here came.
    seen: bool | None = False
    feed_summary = False  # whether the feed has a summary (itunes:summary, content:encoded)
    for child in channel:
        tag = child.tag
        if tag == "item":
            entries.append(_rss_item(child, seen))
            seen = False if seen is not None else None
        elif seen is None:
            continue
        elif tag in _CHANNEL_BODIES and len(child) == 0 and not child.attrib:
            if tag == CONTENT:
                seen = feed_summary = True
            elif feed_summary and not seen:
                seen = True  # feedparser reads it as the feed's content
            elif tag != "description":
                feed_summary = True
        elif any(_starts_content(element.tag) for element in child.iter()):
            seen = None
    if any(child.getparent() is not channel for child in root.iter("item")):
        return None
    return feed, entries, version


def _rss_channel_link(channel: Any) -> str:
    """The channel's link as feedparser sets it: the last <link> text or alternate HTML href."""
    link = ""
    for child in channel:
        if child.tag != "link" and child.tag != ATOM + "link":
            continue
        if child.get("url") is not None or child.get("uri") is not None:
            raise Refuse("channel link with url or uri")  # feedparser reads them as href
        href = child.get("href")
        if href is None:
            # feedparser takes "&name;" left in a link's text for a mangled query.
            link = _ENTITY_LIKE.sub(r"&\1", element_text(child))
            continue
        rel = child.get("rel", "alternate")
        kind = child.get("type", "application/atom+xml" if rel == "self" else "text/html")
        if rel == "alternate" and kind.lower() in FEED_LINK_TYPES:
            link = href
    return link


_ENTITY_LIKE = re.compile("&([A-Za-z0-9_]+);")


def _starts_content(tag: Any) -> bool:
    # Elements whose feedparser handlers may mark "content seen", which lasts
    # until the next item ends (by local name, whatever the namespace).
    return isinstance(tag, str) and tag.rpartition("}")[2].lower() in _CONTENT_MARKERS


_CONTENT_MARKERS = {"content", "encoded", "fullitem", "description", "summary"}
_CHANNEL_BODIES = {"description", ITUNES + "summary", CONTENT}


def _rss_item(item: Any, content_seen: bool | None = False) -> dict:
    media_title = check_mapped(item, rss=True)
    # One pass over the children: each text element is read (and checked)
    # once, and no element is looked up again.
    nodes: dict[str, Any] = {}
    texts: dict[str, str] = {}
    bodies: list[tuple[str, str]] = []  # description, itunes:summary, content:encoded in order
    for child in item:
        tag = child.tag
        if tag in nodes and tag in _RSS_READ:
            raise Refuse("repeated element in an item")
        nodes.setdefault(tag, child)
        if tag in _RSS_TEXT or tag in ITUNES_READ or (
            tag.startswith(DC) and tag[len(DC) :] in _DC_TEXT
        ):
            texts.setdefault(tag, element_text(child))
        if tag == "description" or tag == CONTENT or tag == ITUNES + "summary":
            bodies.append((tag, texts[tag] if tag in texts else element_text(child)))
    entry: dict[str, Any] = {}
    if "title" in nodes:
        entry["title"] = texts["title"]
    elif DC + "title" in nodes:
        raise Refuse("dc:title")
    if media_title and not entry.get("title"):
        # feedparser reads media:title as the title; once the item's own
        # title (not empty) is read, a media:title anywhere in the item,
        # before or after it, at its depth or deeper, changes nothing.
        raise Refuse("media:title in an item without a title")
    link = texts.get("link", "")
    if "guid" in nodes:
        entry["id"] = texts["guid"]
        permalink = (nodes["guid"].get("isPermaLink") or "true").strip().lower() != "false"
        if not link and permalink and entry["id"]:
            link = entry["id"]
    if link:
        entry["link"] = link
    _bodies(entry, bodies, content_seen)
    authors = [tag for tag in ("author", DC + "creator", ITUNES + "author") if tag in nodes]
    if len(authors) > 1:
        raise Refuse("several authors")  # feedparser keeps the later one
    author = texts[authors[0]] if authors else ""
    if author:
        entry["author"] = author
    set_date(entry, "published", texts.get("pubDate", ""))
    if "published" not in entry:
        set_date(entry, "updated", texts.get(DC + "date", ""))
    elif DC + "date" in nodes:
        raise Refuse("pubDate and dc:date")
    language = texts.get(DC + "language", "")
    if language:
        entry["language"] = language
    return entry


def _bodies(entry: dict, bodies: list[tuple[str, str]], seen: bool | None) -> None:
    """An RSS item's summary and content, as feedparser fills them.

    content:encoded is content (and the summary if there is none yet). A
    description or itunes:summary is the summary, unless a summary is there
    and no content was seen: then it becomes the content. ``seen`` is what
    feedparser's flag holds when the item starts (None: not known, and an
    item whose text depends on it is refused).
    """
    summary: str | None = None
    content: list[str] = []
    for tag, value in bodies:
        if tag == CONTENT:
            content.append(value)
            seen = True
            summary = value if summary is None else summary
        elif summary is not None and seen is None:
            raise Refuse("description and itunes:summary after channel content")
        elif summary is not None and not seen:
            content.append(value)
            seen = True
        else:
            summary = value
    if summary is not None:
        entry["summary"] = summary
    if content:
        entry["content"] = [{"value": value} for value in content]


def read_rdf(root: Any) -> tuple[dict, list[dict], str] | None:
    """``(feed, entries, "rss10")`` of an RSS 1.0 ``<rdf:RDF>`` root, or None without a channel.

    Raises:
        Refuse: the file holds something not read here as feedparser reads it.
    """
    channel = root.find(_RSS1 + "channel")
    if channel is None:
        return None
    feed: dict[str, Any] = {
        "title": element_text(channel.find(_RSS1 + "title")),
        "link": element_text(channel.find(_RSS1 + "link")),
    }
    language = element_text(channel.find(DC + "language"))
    if language:
        feed["language"] = language
    return feed, [_rdf_item(item) for item in root.findall(_RSS1 + "item")], "rss10"


def _rdf_item(item: Any) -> dict:
    check_mapped(item)
    texts: dict[str, str] = {}
    bodies: list[tuple[str, str]] = []  # description and content:encoded, in order
    for child in item:
        if child.tag in _RDF_READ:
            if child.tag in texts:
                raise Refuse("repeated element in an item")  # feedparser keeps the later
            texts[child.tag] = element_text(child)
            if child.tag == _RSS1 + "description" or child.tag == CONTENT:
                bodies.append((child.tag, texts[child.tag]))
    entry: dict[str, Any] = {}
    for name in ("title", "link"):
        if _RSS1 + name in texts:
            entry[name] = texts[_RSS1 + name]
    # With no element repeated, where the bodies go does not depend on what
    # the channel did (see _bodies).
    _bodies(entry, bodies, None)
    about = item.get(RDF + "about")
    if about:
        entry["id"] = about
    author = texts.get(DC + "creator", "")
    if author:
        entry["author"] = author
    set_date(entry, "updated", texts.get(DC + "date", ""))
    language = texts.get(DC + "language", "")
    if language:
        entry["language"] = language
    return entry


_RDF_READ = {
    _RSS1 + "title", _RSS1 + "link", _RSS1 + "description", CONTENT,
    DC + "creator", DC + "date", DC + "language",
}  # fmt: skip

