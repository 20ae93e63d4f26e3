"""Saved feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to items.

Every file ends in exactly one :class:`FeedOutcome`:

* ``parsed`` — one or more entries (some may still be dead-lettered one by one);
* ``empty`` — a valid feed with no entries;
* ``dead_letter`` — not a feed, unparseable, or over the size limit.

feedparser is the parser for XML feeds. Its HTML sanitiser and relative-URI
resolver are turned off: the normalise stage reduces all markup to plain text
anyway, and the two passes cost about two thirds of parse time. feedparser
does not read JSON Feed, so :mod:`connectors.jsonfeed` does.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from typing import Any

import feedparser

from connectors.jsonfeed import looks_like_json_feed, parse_json_feed
from transforms.item import DeadLetter, Item, Source, sha256_hex

__all__ = ["DEFAULT_MAX_BYTES", "RAW_EXCERPT", "FeedOutcome", "entry_to_item", "parse_feed"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Dead-letter records keep this much of the raw input: enough to see what it
# was, small enough that one broken 20 MB file does not bloat the output.
RAW_EXCERPT = 2000


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What became of one file."""

    path: str
    status: str  # "parsed" | "empty" | "dead_letter"
    items: tuple[Item, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()
    feed_version: str = ""


def _iso(struct: time.struct_time | None) -> str | None:
    if struct is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(struct)))
    except (OverflowError, ValueError):
        return None


def _entry_text(entry: Any) -> str:
    # Prefer full content over the summary; keep the markup, normalise strips it.
    contents = entry.get("content") or []
    parts = [c.get("value", "") for c in contents if c.get("value")]
    if parts:
        return "\n\n".join(parts)
    return entry.get("summary", "") or ""


def _entry_raw(entry: Any) -> str:
    # A canonical serialisation of what the parser gave us, for raw_sha256.
    keys = ("id", "link", "title", "summary", "author", "published", "updated")
    fields = [f"{k}={dict.get(entry, k, '')}" for k in keys]
    fields.append("content=" + "\x1e".join(c.get("value", "") for c in entry.get("content") or []))
    return "\x1f".join(fields)


def entry_to_item(
    entry: Any, source: Source, fetched: str | None, origin: str | None = None
) -> Item | str:
    """One feedparser entry to an :class:`Item`, or the reason it cannot be one.

    ``origin`` is the file (or archive record) the entry was read from.
    """
    guid = (entry.get("id") or "").strip() or None
    link = (entry.get("link") or "").strip() or None
    title = entry.get("title", "") or ""
    text = _entry_text(entry)
    if not (guid or link or title.strip() or text.strip()):
        return "entry has no id, link, title or text"
    # dict.get skips FeedParserDict's deprecated updated→published key mapping.
    published = _iso(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))
    return Item(
        source=source,
        guid=guid,
        url=link,
        title=title,
        text=text,
        author=(entry.get("author") or None),
        published=published,
        fetched=fetched,
        origin=origin,
        language_hint=_language_hint(_entry_language(entry)),
        raw_sha256=sha256_hex(_entry_raw(entry)),
    )


def _entry_language(entry: Any) -> Any:
    # Per-entry language: RSS dc:language, or Atom xml:lang on the entry's
    # title or content (feedparser reports it in the detail dicts).
    if entry.get("language"):
        return entry["language"]
    for key in ("title_detail", "summary_detail"):
        detail = entry.get(key)
        if isinstance(detail, dict) and detail.get("language"):
            return detail["language"]
    return None


def _language_hint(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    return value.strip().split("-")[0].split("_")[0].lower() or None


def _feed_source(feed: Any, path: str, kind: str = "feed") -> Source:
    url = ""
    for link in feed.get("links") or []:
        if link.get("rel") == "self" and link.get("href"):
            url = link["href"]
            break
    url = url or feed.get("link") or path
    return Source(kind=kind, name=(feed.get("title") or "").strip(), url=url)


def _dead(path: str, stage: str, reason: str, data: bytes) -> FeedOutcome:
    raw = data[:RAW_EXCERPT].decode("utf-8", "replace")
    letter = DeadLetter(stage=stage, reason=reason, path=path, kind="file", raw=raw)
    return FeedOutcome(path=path, status="dead_letter", dead_letters=(letter,))


def parse_feed(
    path: str, data: bytes, fetched: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> FeedOutcome:
    """Parse one saved feed file.

    Args:
        path: where the bytes came from; used as the source URL when the feed
            declares none, and in dead-letter records.
        data: the raw bytes, undecoded: feedparser detects the encoding.
        fetched: capture time (UTC ISO 8601) when known from an archive.
            Never the wall clock, so that replays are deterministic.
        max_bytes: files larger than this are dead-lettered unparsed.

    Returns:
        The file's outcome. Never raises for bad input.
    """
    if len(data) > max_bytes:
        return _dead(
            path, "read", f"file is {len(data)} bytes, over the limit of {max_bytes}", data
        )
    if not data.strip():
        return _dead(path, "parse", "not a feed: file is empty", data)
    if looks_like_json_feed(data):
        return _from_json_feed(path, data, fetched)
    try:
        parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser's own failure modes are not a closed set
        return _dead(path, "parse", f"unparseable: {type(exc).__name__}: {exc}", data)
    feed = parsed.get("feed", {})
    source = _feed_source(feed, path)
    hint = _language_hint(feed.get("language"))
    version = parsed.get("version", "") or ""
    if not parsed.entries:
        # feedparser recovers from many malformations (undefined entities,
        # bad encodings) with its loose parser; if it still recognised a feed
        # and read feed-level elements, the file is a feed that has no entries.
        if version and (feed or not parsed.get("bozo")):
            return FeedOutcome(path=path, status="empty", feed_version=version)
        reason = _bozo_reason(parsed) if parsed.get("bozo") else "no feed elements found"
        return _dead(path, "parse", f"not a feed: {reason}", data)
    return _entries_outcome(path, parsed.entries, source, fetched, hint, version)


def _bozo_reason(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if exc else "malformed"


def _from_json_feed(path: str, data: bytes, fetched: str | None) -> FeedOutcome:
    try:
        feed = parse_json_feed(data)
    except ValueError as exc:
        return _dead(path, "parse", f"unparseable JSON Feed: {exc}", data)
    source = Source(kind="feed", name=feed.title, url=feed.feed_url or feed.home_page_url or path)
    if not feed.entries:
        return FeedOutcome(path=path, status="empty", feed_version=feed.version)
    # Each JSON Feed entry already carries the feed's language as its own.
    return _entries_outcome(path, feed.entries, source, fetched, None, feed.version)


def _entries_outcome(
    path: str,
    entries: Any,
    source: Source,
    fetched: str | None,
    hint: str | None,
    version: str,
) -> FeedOutcome:
    """A parsed file: each entry an item, or a dead letter with its reason."""
    items: list[Item] = []
    letters: list[DeadLetter] = []
    for entry in entries:
        result = entry_to_item(entry, source, fetched, path)
        if isinstance(result, str):
            raw = _entry_raw(entry)[:RAW_EXCERPT]
            letters.append(DeadLetter(stage="parse", reason=result, path=path, raw=raw))
            continue
        if result.language_hint is None and hint:
            result = result.replace(language_hint=hint)
        items.append(result)
    return FeedOutcome(
        path=path,
        status="parsed",
        items=tuple(items),
        dead_letters=tuple(letters),
        feed_version=version,
    )
