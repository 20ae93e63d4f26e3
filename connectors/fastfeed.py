"""The fast path for well-formed RSS 2.0/0.9x, RSS 1.0 and Atom 1.0 files: lxml, no feedparser.

feedparser reads about 600 entries/s even with its sanitiser off; most real
feeds are well-formed XML that a strict parser reads two orders of magnitude
faster. :func:`fast_outcome` parses such a file with lxml (entities off, no
network, no huge trees, after :mod:`connectors.xmlguard` removed any
DOCTYPE), builds for each entry the same fields feedparser would, and hands
them to the same :func:`connectors.feeds.entry_to_item`. Text gets
feedparser's two repairs (UTF-8 read as Latin-1, Windows-1252 C1 controls),
scanned for only in documents whose bytes could need them. It returns None,
so that feedparser decides, for anything it is not sure to read the same
way: a file that is not well-formed (feedparser's loose parser recovers
from more), an unknown root, ``xml:base``, Atom ``xhtml`` text constructs,
elements that feedparser maps onto the fields we read (``dc:description``,
``media:description``, ``itunes:title``...) unless their effect is followed
here (an RSS item's ``itunes:summary``, ``itunes:author``, and ``media:title``
beside its own title), text fields with child elements, and dates only
feedparser's parsers can read. ``tests/test_fastfeed.py``
compares both paths over every file in ``../shared/corpora/feeds``.
"""

from __future__ import annotations

import datetime
import functools
import re
from contextvars import ContextVar
from typing import Any

from lxml import etree

from connectors.feeds import (
    _XML_DECLARATION,
    FeedOutcome,
    _entries_outcome,
    _feed_source,
    _language_hint,
)

__all__ = ["fast_outcome", "fast_parse"]

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
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
_RSS_TEXT = {"title", "link", "guid", "description", "author", "pubDate", "comments", "category"}
_DC_TEXT = {"creator", "date", "language", "subject", "title", "rights", "publisher"}
_MEDIA_TITLES = {"{http://search.yahoo.com/mrss/}title", "{http://search.yahoo.com/mrss}title"}
_ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
# Read in an RSS item when they are its own children: feedparser reads
# itunes:summary as <description> and itunes:author as <author>.
_ITUNES_READ = {_ITUNES + "summary", _ITUNES + "author"}
# What feedparser makes of a text element with a type attribute of these
# (by its own names) is the text itself.
_PLAIN_TYPES = ("text/plain", "text", "plain", "text/html", "html")
# The item elements whose value is read: feedparser keeps the later of two,
# so a repeated one is left to it. Others (media:content in several sizes,
# enclosures) may repeat: their values go to keys no item field reads.
_RSS_READ = {
    "title", "link", "guid", "description", "author", "pubDate", _CONTENT,
    _DC + "creator", _DC + "date", _DC + "language", _DC + "title",
    "{http://www.itunes.com/dtds/podcast-1.0.dtd}summary",
    "{http://www.itunes.com/dtds/podcast-1.0.dtd}author",
}  # fmt: skip
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Atom text types read as they are; others are base64 or XML (feedparser's call).
_ATOM_TEXT_TYPES = ("text", "html", "text/plain", "text/html")
_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    recover=False,
    remove_comments=True,
    remove_pis=True,
    strip_cdata=True,
)


# feedparser's last two steps on every text it reads, in its order: text
# that is all Latin-1 and whose Latin-1 bytes are valid UTF-8 was UTF-8 read
# as Latin-1 ("Ã©" becomes "é"), and C1 controls are Windows-1252 code
# points (U+0092 becomes U+2019). The fast path takes the same two steps.
_C1 = re.compile("[\u0080-\u009f]")
_CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # undefined in Windows-1252
}
# A text can change in those steps only if it holds a C1 control, or a UTF-8
# lead character (U+00C2-U+00F4) right before another character. These
# patterns find every place in the bytes lxml reads where either can come
# from: the UTF-8 of the characters themselves, a lead character before a
# continuation character (U+0080-U+00BF), a character reference, or the
# boundaries lxml joins text across (CDATA, comments, processing
# instructions). A document with no match has no text to repair, and
# none is scanned. Patterns that start with a rare literal byte are scanned
# fastest ("#" is rarer than "&" in escaped markup).
_HIGH_REFERENCE = re.compile(  # to U+0080-U+00FF, and more
    rb"#(?<=&#)(?:0*(?:1[2-9][0-9]|2[0-5][0-9])|[xX]0*[89a-fA-F][0-9a-fA-F]);"
)
_C1_REFERENCE = re.compile(rb"#(?<=&#)(?:0*(?:12[89]|1[3-5][0-9])|[xX]0*[89][0-9a-fA-F]);")
_LEAD_BEFORE = re.compile(rb"\xc3[\x82-\xb4](?:\xc2[\x80-\xbf]|<[!?]|\]\]>|&#)")
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
# For the document being read: (may hold UTF-8 read as Latin-1, may hold C1 controls).
_REPAIRS: ContextVar[tuple[bool, bool]] = ContextVar("_REPAIRS", default=(True, True))


def _as_feedparser(value: str) -> str:
    """A non-ASCII text as feedparser's two repairs leave it."""
    latin1, c1 = _REPAIRS.get()
    if latin1:
        try:
            value = value.encode("iso-8859-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    if c1 and _C1.search(value):
        value = value.translate(_CP1252)
    return value


# Why the last file was left to feedparser (for the differential test's report).
_last_refusal = [""]


class _Refuse(Exception):
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


def _parse_date(value: str) -> Any:
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
_HAS_BASE = etree.XPath("boolean(//@xml:base)")
_HAS_LANG = etree.XPath("boolean(//@xml:lang)")


def _lang(element: Any) -> str | None:
    found = _NEAREST_LANG(element)
    return str(found[0]) if found else None


def _text(element: Any) -> str:
    if element is None:
        return ""
    if len(element):
        raise _Refuse(f"<{etree.QName(element).localname}> has child elements")
    if element.get("mode") is not None:
        raise _Refuse("mode attribute (base64, escaped)")
    kind = element.get("type")
    if kind is not None and kind.lower() not in _PLAIN_TYPES:
        # feedparser decodes base64 for any other type, "" included.
        raise _Refuse("type attribute (base64 or markup)")
    value = (element.text or "").strip()
    return value if value.isascii() else _as_feedparser(value)


def fast_parse(text: str, data: bytes | None = None) -> tuple[dict, list[dict], str] | None:
    """``(feed, entries, version)`` as feedparser would give them, or None to let feedparser decide.

    Args:
        text: the decoded document, DOCTYPE already removed.
        data: ``text`` encoded as UTF-8 when the caller holds those bytes
            already (the file as read, when it was valid UTF-8 and nothing
            was removed from it), so that they are not encoded again.
    """
    # The text is decoded already: its declaration must not name another encoding.
    declaration = _XML_DECLARATION.match(text)
    try:
        if data is not None and (declaration is None or declaration.group().isascii()):
            # An ASCII declaration is as many bytes as characters.
            body = data[declaration.end() :] if declaration else data
        else:
            body = (text[declaration.end() :] if declaration else text).encode("utf-8")
        root = etree.fromstring(body, etree.XMLParser(**_PARSER_OPTIONS))
    except (etree.XMLSyntaxError, ValueError, UnicodeEncodeError) as exc:
        _last_refusal[0] = f"not well-formed: {type(exc).__name__}"
        return None
    high = _HIGH_REFERENCE.search(body) is not None
    latin1 = high or _LEAD_BEFORE.search(body) is not None
    c1 = _C1_UTF8.search(body) is not None or (high and _C1_REFERENCE.search(body) is not None)
    token = _REPAIRS.set((latin1, c1))
    try:
        if _HAS_BASE(root) and not all(
            _ABSOLUTE.match(str(href)) for href in root.xpath("//@href")
        ):
            raise _Refuse("xml:base with relative links")
        if root.tag == "rss" and _HAS_LANG(root):
            raise _Refuse("xml:lang in RSS")
        if root.tag == "rss":
            return _rss(root)
        if root.tag == _ATOM + "feed":
            return _atom(root)
        if root.tag == _RDF + "RDF":
            return _rdf(root)
    except _Refuse as refusal:
        _last_refusal[0] = str(refusal)
        return None
    finally:
        _REPAIRS.reset(token)
    _last_refusal[0] = f"root {root.tag}"
    return None


def _mapped(tag: Any, atom_allowed: bool = False) -> bool:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return False
    namespace, _, local = tag.lower().partition("}")
    if atom_allowed and namespace == "{http://www.w3.org/2005/atom":
        return False
    names = _MAPPED.get(namespace + "}", ())
    return names is None or local in names


def _check_mapped(entry: Any, atom: bool = False, rss: bool = False) -> bool:
    """Refuse an entry holding an element feedparser reads into a field.

    With ``rss`` (an RSS 2.0 item), ``media:title`` elements are let through
    (for the caller to decide; the answer says whether there were any), and
    so are itunes:summary and itunes:author that are the item's children.
    """
    seen = False
    for child in entry.iter():
        tag = child.tag if isinstance(child.tag, str) else ""
        if rss:
            if tag in _MEDIA_TITLES:
                seen = True
                continue
            if tag in _ITUNES_READ and child.getparent() is entry:
                continue
        is_entry = child is entry
        if len(tag) <= _CACHED_TAG:
            refusal = _cached_tag_refusal(tag, atom, is_entry)
        else:
            refusal = _tag_refusal(tag, atom, is_entry)
        if refusal:
            raise _Refuse(refusal)
    return seen


def _tag_refusal(tag: str, atom: bool, is_entry: bool) -> str:
    """Why an element with this tag in an entry is left to feedparser ("" if it is not)."""
    if _mapped(tag, atom_allowed=atom):
        return f"{tag} is read by feedparser"
    if not tag.startswith("{") and not is_entry and (atom or tag not in _RSS_ITEM_TAGS):
        return f"<{tag}> is read by feedparser"
    # A near-miss namespace URI: feedparser goes by its prefix, we would not.
    if ("purl.org/dc/" in tag and not tag.startswith((_DC, "{http://purl.org/dc/terms/}"))) or (
        "modules/content" in tag and tag != _CONTENT
    ):
        return f"{tag}: nonstandard namespace"
    return ""


# A feed uses a few dozen tags over and over: each one's verdict is kept,
# for tags short enough that the cache stays small whatever a file holds.
_CACHED_TAG = 200
_cached_tag_refusal = functools.lru_cache(maxsize=4096)(_tag_refusal)


def _dated(entry: dict, key: str, value: str) -> None:
    if not value:
        return
    parsed = _parse_date(value)
    if parsed is None:
        raise _Refuse(f"date {value!r}")
    entry[key] = value
    entry[key + "_parsed"] = parsed


# 0.91 is left to feedparser (Userland or Netscape, told apart by the DOCTYPE).
_RSS_VERSIONS = {"2.0": "rss20", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}


def _rss(root: Any) -> tuple[dict, list[dict], str] | None:
    version = _RSS_VERSIONS.get((root.get("version") or "").strip())
    channel = root.find("channel")
    if version is None or channel is None or len(root) != 1:
        return None
    if len(channel.findall("title")) > 1 or any(
        _mapped(element.tag) and element.tag.lower().endswith("}title")
        for child in channel
        if child.tag != "item"
        for element in child.iter()
    ):
        # feedparser's channel title then depends on order and depth, and on
        # what came between: <image>, and every item, reset what it remembers.
        raise _Refuse("several channel titles (media:title, dc:title...)")
    feed: dict[str, Any] = {
        "title": _text(channel.find("title")),
        "link": _rss_channel_link(channel),
    }
    links = [
        {"rel": link.get("rel"), "href": link.get("href")}
        for link in channel.findall(_ATOM + "link")
        if link.get("href")
    ]
    if links:
        feed["links"] = links
    language = _text(channel.find("language")) or _text(channel.find(_DC + "language"))
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
            if tag == _CONTENT:
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
        if child.tag != "link" and child.tag != _ATOM + "link":
            continue
        if child.get("url") is not None or child.get("uri") is not None:
            raise _Refuse("channel link with url or uri")  # feedparser reads them as href
        href = child.get("href")
        if href is None:
            # feedparser takes "&name;" left in a link's text for a mangled query.
            link = _ENTITY_LIKE.sub(r"&\1", _text(child))
            continue
        rel = child.get("rel", "alternate")
        kind = child.get("type", "application/atom+xml" if rel == "self" else "text/html")
        if rel == "alternate" and kind.lower() in _FEED_LINK_TYPES:
            link = href
    return link


_ENTITY_LIKE = re.compile("&([A-Za-z0-9_]+);")


def _starts_content(tag: Any) -> bool:
    # Elements whose feedparser handlers may mark "content seen", which lasts
    # until the next item ends (by local name, whatever the namespace).
    return isinstance(tag, str) and tag.rpartition("}")[2].lower() in _CONTENT_MARKERS


_CONTENT_MARKERS = {"content", "encoded", "fullitem", "description", "summary"}
_CHANNEL_BODIES = {"description", _ITUNES + "summary", _CONTENT}


def _rss_item(item: Any, content_seen: bool | None = False) -> dict:
    media_title = _check_mapped(item, rss=True)
    # One pass over the children: each text element is read (and checked)
    # once, and no element is looked up again.
    nodes: dict[str, Any] = {}
    texts: dict[str, str] = {}
    bodies: list[tuple[str, str]] = []  # description, itunes:summary, content:encoded in order
    for child in item:
        tag = child.tag
        if tag in nodes and tag in _RSS_READ:
            raise _Refuse("repeated element in an item")
        nodes.setdefault(tag, child)
        if tag in _RSS_TEXT or tag in _ITUNES_READ or (
            tag.startswith(_DC) and tag[len(_DC) :] in _DC_TEXT
        ):
            texts.setdefault(tag, _text(child))
        if tag == "description" or tag == _CONTENT or tag == _ITUNES + "summary":
            bodies.append((tag, texts[tag] if tag in texts else _text(child)))
    entry: dict[str, Any] = {}
    if "title" in nodes:
        entry["title"] = texts["title"]
    elif _DC + "title" in nodes:
        raise _Refuse("dc:title")
    if media_title and not entry.get("title"):
        # feedparser reads media:title as the title; once the item's own
        # title (not empty) is read, a media:title anywhere in the item,
        # before or after it, at its depth or deeper, changes nothing.
        raise _Refuse("media:title in an item without a title")
    link = texts.get("link", "")
    if "guid" in nodes:
        entry["id"] = texts["guid"]
        permalink = (nodes["guid"].get("isPermaLink") or "true").strip().lower() != "false"
        if not link and permalink and entry["id"]:
            link = entry["id"]
    if link:
        entry["link"] = link
    _bodies(entry, bodies, content_seen)
    authors = [tag for tag in ("author", _DC + "creator", _ITUNES + "author") if tag in nodes]
    if len(authors) > 1:
        raise _Refuse("several authors")  # feedparser keeps the later one
    author = texts[authors[0]] if authors else ""
    if author:
        entry["author"] = author
    _dated(entry, "published", texts.get("pubDate", ""))
    if "published" not in entry:
        _dated(entry, "updated", texts.get(_DC + "date", ""))
    elif _DC + "date" in nodes:
        raise _Refuse("pubDate and dc:date")
    language = texts.get(_DC + "language", "")
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
        if tag == _CONTENT:
            content.append(value)
            seen = True
            summary = value if summary is None else summary
        elif summary is not None and seen is None:
            raise _Refuse("description and itunes:summary after channel content")
        elif summary is not None and not seen:
            content.append(value)
            seen = True
        else:
            summary = value
    if summary is not None:
        entry["summary"] = summary
    if content:
        entry["content"] = [{"value": value} for value in content]


def _rdf(root: Any) -> tuple[dict, list[dict], str] | None:
    channel = root.find(_RSS1 + "channel")
    if channel is None:
        return None
    feed: dict[str, Any] = {
        "title": _text(channel.find(_RSS1 + "title")),
        "link": _text(channel.find(_RSS1 + "link")),
    }
    language = _text(channel.find(_DC + "language"))
    if language:
        feed["language"] = language
    return feed, [_rdf_item(item) for item in root.findall(_RSS1 + "item")], "rss10"


def _rdf_item(item: Any) -> dict:
    _check_mapped(item)
    texts: dict[str, str] = {}
    bodies: list[tuple[str, str]] = []  # description and content:encoded, in order
    for child in item:
        if child.tag in _RDF_READ:
            if child.tag in texts:
                raise _Refuse("repeated element in an item")  # feedparser keeps the later
            texts[child.tag] = _text(child)
            if child.tag == _RSS1 + "description" or child.tag == _CONTENT:
                bodies.append((child.tag, texts[child.tag]))
    entry: dict[str, Any] = {}
    for name in ("title", "link"):
        if _RSS1 + name in texts:
            entry[name] = texts[_RSS1 + name]
    # With no element repeated, where the bodies go does not depend on what
    # the channel did (see _bodies).
    _bodies(entry, bodies, None)
    about = item.get(_RDF + "about")
    if about:
        entry["id"] = about
    author = texts.get(_DC + "creator", "")
    if author:
        entry["author"] = author
    _dated(entry, "updated", texts.get(_DC + "date", ""))
    language = texts.get(_DC + "language", "")
    if language:
        entry["language"] = language
    return entry


_RDF_READ = {
    _RSS1 + "title", _RSS1 + "link", _RSS1 + "description", _CONTENT,
    _DC + "creator", _DC + "date", _DC + "language",
}  # fmt: skip


def _atom_text(node: Any) -> str:
    if node is None:
        return ""
    if (node.get("type") or "text").strip().lower() not in _ATOM_TEXT_TYPES:
        raise _Refuse("xhtml, XML or base64 text construct")
    return _text(node)


def _atom(root: Any) -> tuple[dict, list[dict], str] | None:
    feed: dict[str, Any] = {"title": _atom_text(root.find(_ATOM + "title"))}
    links = [
        {"rel": link.get("rel") or "alternate", "href": link.get("href")}
        for link in root.findall(_ATOM + "link")
        if link.get("href")
    ]
    if links:
        feed["links"] = links
    link = _atom_feed_link(root)
    if link is not None:
        feed["link"] = link
    if root.get(_XML_LANG):
        feed["language"] = root.get(_XML_LANG)
    entries = [_atom_entry(entry) for entry in root.findall(_ATOM + "entry")]
    return feed, entries, "atom10"


def _atom_feed_link(root: Any) -> str | None:
    """The feed's link as feedparser sets it: the last alternate HTML link, else the first id."""
    link = None
    for child in root:
        if child.tag == _ATOM + "link":
            href = child.get("href")
            if not href:
                raise _Refuse("feed link without href")
            rel = child.get("rel", "alternate")
            kind = child.get("type", "application/atom+xml" if rel == "self" else "text/html")
            if rel == "alternate" and kind.lower() in _FEED_LINK_TYPES:
                link = href
        elif child.tag == _ATOM + "id" and link is None:
            link = _text(child)  # an id with no link before it stands for one
    return link


# feedparser's names (lower-cased) for the HTML and XHTML types.
_FEED_LINK_TYPES = ("text/html", "html", "application/xhtml+xml", "xhtml")


def _atom_entry(node: Any) -> dict:
    _check_mapped(node, atom=True)
    for child in node.iter(_ATOM + "*"):
        parent = child.getparent()
        if child is not node and parent is not node and parent.tag != _ATOM + "author":
            raise _Refuse("nested Atom elements")
        if child.tag == _ATOM + "link" and not child.get("href"):
            raise _Refuse("link without href")
    if node.find(_ATOM + "source") is not None or node.find(".//" + _DC + "*") is not None:
        raise _Refuse("atom:source or Dublin Core in an Atom entry")
    entry: dict[str, Any] = {}
    title = node.find(_ATOM + "title")
    if title is not None:
        entry["title"] = _atom_text(title)
        language = _lang(title)
        if language:
            entry["title_detail"] = {"language": language}
    alternates = []
    for link in node.findall(_ATOM + "link"):
        if (link.get("rel") or "alternate") == "alternate" and link.get("href"):
            if (link.get("type") or "text/html").strip().lower() not in _HTML_TYPES:
                raise _Refuse("alternate link of another type")
            alternates.append(link.get("href"))
    identifier = node.find(_ATOM + "id")
    if identifier is not None:
        entry["id"] = _text(identifier)
    # feedparser takes an entry's id as its link when it has no alternate link.
    link = alternates[0] if alternates else entry.get("id", "")
    if link:
        entry["link"] = link
    summary = node.find(_ATOM + "summary")
    content = node.findall(_ATOM + "content")
    if len(content) > 1 or (content and content[0].get("src")):
        raise _Refuse("several or external contents")
    if summary is not None:
        entry["summary"] = _atom_text(summary)
        language = _lang(summary)
        if language:
            entry["summary_detail"] = {"language": language}
    if content:
        entry["content"] = [{"value": _atom_text(content[0])}]
        if "summary" not in entry:
            if node.get(_XML_LANG):
                # feedparser's language for this summary is then not the entry's.
                raise _Refuse("xml:lang on an entry whose summary is its content")
            entry["summary"] = entry["content"][0]["value"]
            language = _lang(node)  # the entry's language, not the content's own
            if language:
                entry["summary_detail"] = {"language": language}
    authors = node.findall(_ATOM + "author")
    if len(authors) > 1:
        raise _Refuse("several authors")
    if authors:
        name = _text(authors[0].find(_ATOM + "name"))
        email = _text(authors[0].find(_ATOM + "email"))
        author = f"{name} ({email})" if name and email else name or email
        if author:
            entry["author"] = author
    _dated(entry, "published", _text(node.find(_ATOM + "published")))
    _dated(entry, "updated", _text(node.find(_ATOM + "updated")))
    return entry


def fast_outcome(
    path: str, text: str, fetched: str | None, data: bytes | None = None
) -> FeedOutcome | None:
    """The file's outcome read by the fast path, or None for feedparser to read it.

    Args:
        path: the file's name, as for :func:`connectors.feeds.parse_feed`.
        text: the decoded text, DOCTYPE already removed.
        fetched: capture time, as for :func:`connectors.feeds.parse_feed`.
        data: ``text`` as UTF-8 bytes, when the caller has them (see
            :func:`fast_parse`).
    """
    parsed = fast_parse(text, data)
    if parsed is None:
        return None
    feed, entries, version = parsed
    if not entries:
        return None  # "empty" or "not a feed" is feedparser's call
    fields = ("id", "link", "title", "summary", "content")
    if not all(any(entry.get(f) for f in fields) for entry in entries):
        return None  # feedparser may find more in an entry than we do
    source = _feed_source(feed, path)
    return _entries_outcome(
        path, entries, source, fetched, _language_hint(feed.get("language")), version
    )
