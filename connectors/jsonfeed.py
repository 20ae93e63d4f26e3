"""A small reader for JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1).

Entries come out shaped like feedparser's entries (``id``, ``link``,
``title``, ``summary``, ``content``, ``author``, ``published_parsed``) so that
one function turns both into items.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFeed", "looks_like_json_feed", "parse_json_feed"]

_VERSION_PREFIX = "https://jsonfeed.org/version/"


@dataclass(frozen=True, slots=True)
class JsonFeed:
    version: str
    title: str
    home_page_url: str | None
    feed_url: str | None
    language: str | None
    entries: tuple[dict[str, Any], ...]


def looks_like_json_feed(data: bytes) -> bool:
    """True when the bytes are JSON, not XML: a JSON object at the start."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def _struct(value: Any) -> time.struct_time | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).timetuple()


def _author(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        return authors[0].get("name")
    author = obj.get("author")  # JSON Feed 1.0
    if isinstance(author, dict):
        return author.get("name")
    return None


def _clean(value: Any) -> Any:
    """JSON may carry lone surrogates (``"\\ud800"``), which no UTF-8 sink can write."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _entry(obj: dict[str, Any], feed_language: str | None) -> dict[str, Any]:
    content = []
    if isinstance(obj.get("content_html"), str):
        content.append({"value": obj["content_html"], "type": "text/html"})
    elif isinstance(obj.get("content_text"), str):
        content.append({"value": obj["content_text"], "type": "text/plain"})
    ident = obj.get("id")
    return {
        "id": str(ident) if ident is not None else "",
        "link": obj.get("url") or obj.get("external_url") or "",
        "title": obj.get("title") or "",
        "summary": obj.get("summary") or "",
        "content": content,
        "author": _author(obj),
        "published_parsed": _struct(obj.get("date_published")),
        "updated_parsed": _struct(obj.get("date_modified")),
        "language": obj.get("language") or feed_language,
    }


def parse_json_feed(data: bytes) -> JsonFeed:
    """Parse JSON Feed bytes.

    Raises:
        ValueError: not JSON, not a JSON Feed, or ``items`` is not a list.
    """
    try:
        doc = _clean(json.loads(data.decode("utf-8-sig")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"top level must be an object (got {type(doc).__name__})")
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith(_VERSION_PREFIX):
        raise ValueError(f"version must start with {_VERSION_PREFIX} (got {version!r})")
    items = doc.get("items", [])
    if not isinstance(items, list):
        raise ValueError(f"items must be a list (got {type(items).__name__})")
    language = doc.get("language") if isinstance(doc.get("language"), str) else None
    # A non-object item still becomes an entry, which is then dead-lettered
    # as empty: nothing in the file is dropped silently.
    entries = tuple(_entry(o if isinstance(o, dict) else {}, language) for o in items)
    return JsonFeed(
        version="json" + version[len(_VERSION_PREFIX) :].replace(".", ""),
        title=str(doc.get("title") or ""),
        home_page_url=doc.get("home_page_url"),
        feed_url=doc.get("feed_url"),
        language=language,
        entries=entries,
    )
