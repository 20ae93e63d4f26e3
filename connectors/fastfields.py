"""What the fast RSS and Atom readers share: namespaces, element text, dates, refusals.

An element's text, date or presence is read here the way feedparser reads
it; where that is not sure, :class:`Refuse` leaves the file to feedparser
(:func:`connectors.fastfeed.fast_parse` catches it).
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from lxml import etree

from connectors.textrepair import as_feedparser

__all__ = [
    "ATOM",
    "CONTENT",
    "DC",
    "FEED_LINK_TYPES",
    "ITUNES",
    "ITUNES_READ",
    "RDF",
    "Refuse",
    "check_mapped",
    "element_text",
    "is_mapped",
    "nearest_lang",
    "parse_date",
    "set_date",
]

ATOM = "{http://www.w3.org/2005/Atom}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
# Elements of other vocabularies that feedparser reads into title, link, id,
# summary, content, author or dates (namespace URIs lower-cased, as
# feedparser compares them): an entry holding one is left to feedparser.
_MAPPED = {
    "{http://search.yahoo.com/mrss/}": {"title", "description"},
    "{http://search.yahoo.com/mrss}": {"title", "description"},
    # (itunes:subtitle only ever fills "subtitle", which no item field reads)
    "{http://www.itunes.com/dtds/podcast-1.0.dtd}": {"author", "summary", "name", "email", "title"},
    "{http://purl.org/dc/elements/1.1/}": {"description", "title", "author", "contributor"},
    "{http://purl.org/dc/terms/}": {"created", "issued", "modified", "valid", "alternative"},
    "{http://www.w3.org/1999/xhtml}": None,  # any: feedparser reads xhtml bodies as content
    "{http://www.w3.org/2005/atom}": None,  # any, inside an RSS item
}  # fmt: skip
# The RSS 2.0 item elements (others without a namespace, such as <fullitem>
# or <body>, feedparser may read as content).
_RSS_ITEM_TAGS = {
    "title", "link", "description", "author", "category", "comments", "enclosure", "guid",
    "pubDate", "source",
}  # fmt: skip
_MEDIA_TITLES = {"{http://search.yahoo.com/mrss/}title", "{http://search.yahoo.com/mrss}title"}
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
# Read in an RSS item when they are its own children: feedparser reads
# itunes:summary as <description> and itunes:author as <author>.
ITUNES_READ = {ITUNES + "summary", ITUNES + "author"}
# What feedparser makes of a text element with a type attribute of these
# (by its own names) is the text itself.
_PLAIN_TYPES = ("text/plain", "text", "plain", "text/html", "html")
# feedparser's names (lower-cased) for the HTML and XHTML types.
FEED_LINK_TYPES = ("text/html", "html", "application/xhtml+xml", "xhtml")


class Refuse(Exception):
    """Something the fast path does not read the way feedparser would."""


# The RSS date most feeds write ("Tue, 10 Mar 2026 08:00:00 GMT" or "+0200").
# feedparser's first parser (W3C) returns None for any text starting with a
# day name and a comma, and its second (RFC 822) reads this form as below;
# anything else, or a date this form cannot hold, goes to feedparser.
_RFC822_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) (GMT|[+-][0-9]{4})\Z"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def parse_date(value: str) -> Any:
    """The UTC ``struct_time`` feedparser's date parsers give ``value``, or None."""
    match = _RFC822_DATE.match(value)
    if match:
        day, month, year, hour, minute, second, zone = match.groups()
        try:
            stamp = datetime.datetime(
                int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second)
            )
            if zone != "GMT":
                hours, minutes = int(zone[1:3]), int(zone[3:])
                if zone[0] == "-":
                    hours, minutes = -hours, -minutes
                stamp -= datetime.timedelta(hours=hours, minutes=minutes)
            return stamp.utctimetuple()
        except (ValueError, OverflowError):
            pass  # feedparser's later parsers may still read it
    from feedparser.datetimes import _parse_date as parse

    return parse(value) if value else None


# Compiled once: element.xpath() compiles its expression on every call.
_NEAREST_LANG = etree.XPath("ancestor-or-self::*[@xml:lang][1]/@xml:lang")


def nearest_lang(element: Any) -> str | None:
    """The ``xml:lang`` in force at ``element``, or None."""
    found = _NEAREST_LANG(element)
    return str(found[0]) if found else None


def element_text(element: Any) -> str:
    """A text element's stripped text as feedparser reads it ("" for None).

    Raises:
        Refuse: the element has children, a ``mode``, or a type that is not text.
    """
    if element is None:
        return ""
    if len(element):
        raise Refuse(f"<{etree.QName(element).localname}> has child elements")
    if element.get("mode") is not None:
        raise Refuse("mode attribute (base64, escaped)")
    kind = element.get("type")
    if kind is not None and kind.lower() not in _PLAIN_TYPES:
        # feedparser decodes base64 for any other type, "" included.
        raise Refuse("type attribute (base64 or markup)")
    value = (element.text or "").strip()
    return value if value.isascii() else as_feedparser(value)


def is_mapped(tag: Any, atom_allowed: bool = False) -> bool:
    """Whether feedparser reads an element with this tag into a field we read."""
    if not isinstance(tag, str) or not tag.startswith("{"):
        return False
    namespace, _, local = tag.lower().partition("}")
    if atom_allowed and namespace == "{http://www.w3.org/2005/atom":
        return False
    names = _MAPPED.get(namespace + "}", ())
    return names is None or local in names


def check_mapped(entry: Any, atom: bool = False, rss: bool = False) -> bool:
    """Refuse an entry holding an element feedparser reads into a field.

    With ``rss`` (an RSS 2.0 item), ``media:title`` elements are let through
    (for the caller to decide; the answer says whether there were any), and
    so are itunes:summary and itunes:author that are the item's children.

    Raises:
        Refuse: the entry holds such an element, or one feedparser may read as content.
    """
    seen = False
    for child in entry.iter():
        tag = child.tag if isinstance(child.tag, str) else ""
        if rss:
            if tag in _MEDIA_TITLES:
                seen = True
                continue
            if tag in ITUNES_READ and child.getparent() is entry:
                continue
        is_entry = child is entry
        if len(tag) <= _CACHED_TAG:
            refusal = _cached_tag_refusal(tag, atom, is_entry)
        else:
            refusal = _tag_refusal(tag, atom, is_entry)
        if refusal:
            raise Refuse(refusal)
    return seen


def _tag_refusal(tag: str, atom: bool, is_entry: bool) -> str:
    """Why an element with this tag in an entry is left to feedparser ("" if it is not)."""
    if is_mapped(tag, atom_allowed=atom):
        return f"{tag} is read by feedparser"
    if not tag.startswith("{") and not is_entry and (atom or tag not in _RSS_ITEM_TAGS):
        return f"<{tag}> is read by feedparser"
    # A near-miss namespace URI: feedparser goes by its prefix, we would not.
    if ("purl.org/dc/" in tag and not tag.startswith((DC, "{http://purl.org/dc/terms/}"))) or (
        "modules/content" in tag and tag != CONTENT
    ):
        return f"{tag}: nonstandard namespace"
    return ""


# A feed uses a few dozen tags over and over: each one's verdict is kept,
# for tags short enough that the cache stays small whatever a file holds.
_CACHED_TAG = 200
_cached_tag_refusal = functools.lru_cache(maxsize=4096)(_tag_refusal)


def set_date(entry: dict, key: str, value: str) -> None:
    """Set ``entry[key]`` and ``entry[key + "_parsed"]`` from a date text (none if empty).

    Raises:
        Refuse: only feedparser's own parsers could read the date.
    """
    if not value:
        return
    parsed = parse_date(value)
    if parsed is None:
        raise Refuse(f"date {value!r}")
    entry[key] = value
    entry[key + "_parsed"] = parsed

