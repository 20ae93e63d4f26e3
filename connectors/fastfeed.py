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

The readers are :mod:`connectors.fastrss` (RSS 2.0/0.9x and RSS 1.0) and
:mod:`connectors.fastatom`, over what :mod:`connectors.fastfields` reads
for both; the text repairs are :mod:`connectors.textrepair`.
"""

from __future__ import annotations

import re

from lxml import etree

from connectors.fastatom import read_atom
from connectors.fastfields import ATOM, RDF, Refuse
from connectors.fastrss import read_rdf, read_rss
from connectors.feeds import (
    _XML_DECLARATION,
    FeedOutcome,
    _entries_outcome,
    _feed_source,
    _language_hint,
)
from connectors.textrepair import REPAIRS, repairs_for

__all__ = ["fast_outcome", "fast_parse"]

_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
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

# Why the last file was left to feedparser (for the differential test's report).
_last_refusal = [""]


# Compiled once: element.xpath() compiles its expression on every call.
_HAS_BASE = etree.XPath("boolean(//@xml:base)")
_HAS_LANG = etree.XPath("boolean(//@xml:lang)")


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
    token = REPAIRS.set(repairs_for(body))
    try:
        if _HAS_BASE(root) and not all(
            _ABSOLUTE.match(str(href)) for href in root.xpath("//@href")
        ):
            raise Refuse("xml:base with relative links")
        if root.tag == "rss" and _HAS_LANG(root):
            raise Refuse("xml:lang in RSS")
        if root.tag == "rss":
            return read_rss(root)
        if root.tag == ATOM + "feed":
            return read_atom(root)
        if root.tag == RDF + "RDF":
            return read_rdf(root)
    except Refuse as refusal:
        _last_refusal[0] = str(refusal)
        return None
    finally:
        REPAIRS.reset(token)
    _last_refusal[0] = f"root {root.tag}"
    return None


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

