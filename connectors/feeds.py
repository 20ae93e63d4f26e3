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
"""

from __future__ import annotations

import calendar
import codecs
import re
import time
import zlib
from dataclasses import dataclass, replace
from typing import Any

from connectors.jsonfeed import looks_like_json_feed, parse_json_feed
from connectors.textdecode import decode_bytes
from connectors.xmlguard import strip_doctype
from transforms.item import COLLISION_MARK, DeadLetter, Item, Source, sha256_hex
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
# Dead-letter records keep this much of the raw input: enough to see what it
# was, small enough that one broken 20 MB file does not bloat the output.
RAW_EXCERPT = 2000
_GZIP_MAGIC = b"\x1f\x8b"
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,500}\?>")


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What became of one file."""

    path: str
    status: str  # "parsed" | "empty" | "dead_letter"
    items: tuple[Item, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()
    feed_version: str = ""
    # One line each, "<kind>: <detail>", kind "decoding" or "entities".
    warnings: tuple[str, ...] = ()


def _iso(struct: time.struct_time | None) -> str | None:
    if struct is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(struct)))
    except (OverflowError, ValueError):
        return None


def _str(value: Any) -> str:
    # Parsers hand back str; anything else (None, a dict from a broken
    # feed) is treated as absent rather than trusted.
    return value if isinstance(value, str) else ""


def _contents(entry: Any) -> list[str]:
    contents = entry.get("content") or []
    if not isinstance(contents, list | tuple):
        return []
    return [_str(c.get("value")) for c in contents if isinstance(c, dict)]


def _entry_text(entry: Any) -> str:
    # Prefer full content over the summary; keep the markup, normalise strips it.
    parts = [value for value in _contents(entry) if value]
    if parts:
        return "\n\n".join(parts)
    return _str(entry.get("summary"))


def _entry_raw(entry: Any) -> str:
    # A canonical serialisation of what the parser gave us, for raw_sha256.
    keys = ("id", "link", "title", "summary", "author", "published", "updated")
    fields = [f"{k}={dict.get(entry, k, '')}" for k in keys]
    fields.append("content=" + "\x1e".join(_contents(entry)))
    return "\x1f".join(fields)


def entry_to_item(
    entry: Any,
    source: Source,
    fetched: str | None,
    origin: str | None = None,
    language: str | None = None,
) -> Item | str:
    """One feedparser entry to an :class:`Item`, or the reason it cannot be one.

    ``origin`` is the file (or archive record) the entry was read from;
    ``language`` the feed's language hint, for an entry that names none.
    """
    guid = _str(entry.get("id")).strip() or None
    link = _str(entry.get("link")).strip() or None
    title = _str(entry.get("title"))
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
        author=(_str(entry.get("author")) or None),
        published=published,
        fetched=fetched,
        origin=origin,
        language_hint=_language_hint(_entry_language(entry)) or language or None,
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
        if isinstance(link, dict) and link.get("rel") == "self" and _str(link.get("href")):
            url = link["href"]
            break
    url = url or _str(feed.get("link"))
    if is_unsafe_url(url):
        url = ""
    return Source(kind=kind, name=_str(feed.get("title")).strip(), url=url or path)


def _dead(path: str, stage: str, reason: str, data: bytes | str) -> FeedOutcome:
    raw = data[:RAW_EXCERPT]
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    letter = DeadLetter(stage=stage, reason=reason, path=path, kind="file", raw=raw)
    return FeedOutcome(path=path, status="dead_letter", dead_letters=(letter,))


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


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text.strip() else type(exc).__name__


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


def _entries_outcome(
    path: str,
    entries: Any,
    source: Source,
    fetched: str | None,
    hint: str | None,
    version: str,
) -> FeedOutcome:
    """A parsed file: each entry an item, or a dead letter with its reason.

    An entry that reuses an earlier entry's guid with different content is a
    different story: its raw item carries :data:`COLLISION_MARK` as its id,
    and normalisation gives it an id derived from its content.
    """
    items: list[Item] = []
    letters: list[DeadLetter] = []
    seen: dict[str, tuple[str | None, str, str]] = {}
    for entry in entries:
        try:
            result = entry_to_item(entry, source, fetched, path, hint)
        except Exception as exc:  # noqa: BLE001 - one odd entry must not end the file
            result = f"entry could not be read: {_one_line(exc)}"
        if isinstance(result, str):
            try:
                raw = _entry_raw(entry)[:RAW_EXCERPT]
            except Exception:  # noqa: BLE001 - the excerpt is best effort
                raw = repr(entry)[:RAW_EXCERPT]
            letters.append(DeadLetter(stage="parse", reason=result, path=path, raw=raw))
            continue
        if result.guid:
            content = (result.url, result.title, result.text)
            first = seen.setdefault(result.guid, content)
            if first != content:
                result = result.replace(id=COLLISION_MARK)
        items.append(result)
    return FeedOutcome(
        path=path,
        status="parsed",
        items=tuple(items),
        dead_letters=tuple(letters),
        feed_version=version,
    )
