"""Saved feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to items.

Every file ends in exactly one :class:`FeedOutcome`:

* ``parsed`` — one or more entries (some may still be dead-lettered one by one);
* ``empty`` — a valid feed with no entries;
* ``dead_letter`` — not a feed, unparseable, or over the size limit.

feedparser is the parser for XML feeds. Its HTML sanitiser and relative-URI
resolver are turned off: the normalise stage reduces all markup to plain text
anyway, and the two passes cost about two thirds of parse time. feedparser
does not read JSON Feed, so :mod:`connectors.jsonfeed` does.

Every file is untrusted. Before a parser sees it, it is decompressed if it
is gzip (by its magic bytes, whatever its name) with the decompressed size
capped, decoded by :func:`connectors.textdecode.decode_bytes` (so feedparser
never guesses), and stripped of its DOCTYPE by
:func:`connectors.xmlguard.strip_doctype` (so no parser expands or fetches
an entity). Any exception a parser raises, of any type, becomes a dead
letter; so does any exception while turning one entry into an item, for that
entry alone. CPU time and memory per file are bounded one level up, by
:mod:`connectors.parse_worker`.

Turning a parser's entries into items is in :mod:`connectors.feed_entries`;
every name below is importable from here.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import replace
from typing import Any

from connectors.feed_entries import (
    RAW_EXCERPT,
    FeedOutcome,
    _dead,
    _entries_outcome,
    _feed_source,
    _language_hint,
    _one_line,
    entry_to_item,
)
from connectors.jsonfeed import looks_like_json_feed, parse_json_feed
from connectors.textdecode import decode_bytes
from connectors.xmlguard import strip_doctype
from transforms.item import Source
from transforms.normalise import is_unsafe_url

__all__ = [
    "DEFAULT_MAX_BYTES",
    "RAW_EXCERPT",
    "FeedOutcome",
    "entry_to_item",
    "gunzip_capped",
    "parse_feed",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,500}\?>")


def gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    """Decompress gzip bytes (every member), holding at most ``max_bytes`` + 1 of output.

    Raises:
        ValueError: the output would pass ``max_bytes``, or the data is not
            valid gzip.
    """
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        try:
            out += inflater.decompress(rest, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise ValueError(f"corrupt gzip: {exc}") from None
        if len(out) > max_bytes:
            raise ValueError(f"decompresses to more than the limit of {max_bytes} bytes")
        if not inflater.eof:
            if inflater.unconsumed_tail:  # output stopped exactly at the cap
                raise ValueError(f"decompresses to more than the limit of {max_bytes} bytes")
            raise ValueError("corrupt gzip: truncated")
        rest = inflater.unused_data.lstrip(b"\x00")  # members may be padded
        if rest and not rest.startswith(_GZIP_MAGIC):
            raise ValueError("corrupt gzip: trailing garbage")
    return bytes(out)


def parse_feed(
    path: str, data: bytes, fetched: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> FeedOutcome:
    """Parse one saved feed file.

    Args:
        path: where the bytes came from; used as the source URL when the feed
            declares none, and in dead-letter records.
        data: the raw bytes, undecoded (gzip is recognised by its magic).
        fetched: capture time (UTC ISO 8601) when known from an archive.
            Never the wall clock, so that replays are deterministic.
        max_bytes: files larger than this, compressed or decompressed, are
            dead-lettered unparsed.

    Returns:
        The file's outcome. Never raises for bad input: an exception of any
        type inside the parsers becomes a dead letter with its type.
    """
    try:
        return _parse(path, data, fetched, max_bytes)
    except Exception as exc:  # noqa: BLE001 - any type, RecursionError and MemoryError included
        return _dead(path, "parse", f"parser failed: {_one_line(exc)}", data)


def _parse(path: str, data: bytes, fetched: str | None, max_bytes: int) -> FeedOutcome:
    if len(data) > max_bytes:
        return _dead(
            path, "read", f"file is {len(data)} bytes, over the limit of {max_bytes}", data
        )
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gunzip_capped(data, max_bytes)
        except ValueError as exc:
            return _dead(path, "read", f"gzip: {exc}", data)
    if not data.strip():
        return _dead(path, "parse", "not a feed: file is empty", data)
    decoded = decode_bytes(data)
    warnings = (f"decoding: {decoded.warning}",) if decoded.warning else ()
    if looks_like_json_feed(decoded.text):
        outcome = _from_json_feed(path, decoded.text, fetched)
        return _with_warnings(outcome, warnings)
    guarded = strip_doctype(decoded.text)
    if guarded.warning:
        warnings += (f"entities: {guarded.warning}",)
    from connectors.fastfeed import fast_outcome  # it imports this module

    # When the text is exactly the file's bytes decoded as UTF-8 (no BOM,
    # nothing replaced, nothing removed), lxml reads those bytes: encoding the
    # text again would only copy them.
    exact = (
        guarded.text is decoded.text
        and decoded.encoding == "utf-8"
        and not decoded.replaced
        and not data.startswith(codecs.BOM_UTF8)
    )
    fast = fast_outcome(path, guarded.text, fetched, data if exact else None)
    if fast is not None:  # None: feedparser reads it
        return _with_warnings(fast, warnings)
    # The text is UTF-8 now and says so: feedparser must not guess again.
    body = _XML_DECLARATION.sub("", guarded.text, count=1)
    utf8 = ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8", "replace")
    import feedparser  # only for what the fast path leaves: its import costs 30-40 ms

    parsed = feedparser.parse(utf8, sanitize_html=False, resolve_relative_uris=False)
    feed = parsed.get("feed", {})
    source = _feed_source(feed, path)
    hint = _language_hint(feed.get("language"))
    version = parsed.get("version", "") or ""
    if guarded.netscape and version == "rss091u":
        version = "rss091n"
    if not parsed.entries:
        # feedparser recovers from many malformations (undefined entities,
        # bad encodings) with its loose parser; if it still recognised a feed
        # and read feed-level elements, the file is a feed that has no entries.
        if version and (feed or not parsed.get("bozo")):
            return FeedOutcome(path=path, status="empty", feed_version=version, warnings=warnings)
        reason = _bozo_reason(parsed) if parsed.get("bozo") else "no feed elements found"
        return _dead(path, "parse", f"not a feed: {reason}", data)
    outcome = _entries_outcome(path, parsed.entries, source, fetched, hint, version)
    return _with_warnings(outcome, warnings)


def _with_warnings(outcome: FeedOutcome, warnings: tuple[str, ...]) -> FeedOutcome:
    if not warnings or outcome.status == "dead_letter":
        return outcome
    return replace(outcome, warnings=warnings + outcome.warnings)


def _bozo_reason(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    return _one_line(exc) if exc else "malformed"


def _from_json_feed(path: str, data: str, fetched: str | None) -> FeedOutcome:
    try:
        feed = parse_json_feed(data)
    except ValueError as exc:
        return _dead(path, "parse", f"unparseable JSON Feed: {exc}", data)
    url = feed.feed_url or feed.home_page_url or ""
    source = Source(kind="feed", name=feed.title, url="" if is_unsafe_url(url) else url or path)
    if not feed.entries:
        return FeedOutcome(path=path, status="empty", feed_version=feed.version)
    # Each JSON Feed entry already carries the feed's language as its own.
    return _entries_outcome(path, feed.entries, source, fetched, None, feed.version)
