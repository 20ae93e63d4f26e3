"""A small reader for JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1).

Entries come out shaped like feedparser's entries (``id``, ``link``,
``title``, ``summary``, ``content``, ``author``, ``published_parsed``) so that
one function turns both into items.

A JSON Feed is untrusted input: any member may have any JSON type, so every
value is taken only when it has the type the specification gives it (a
number where a string belongs is read as its text; anything else counts as
absent), and nesting deeper than :data:`MAX_DEPTH` is refused before
``json.loads`` can recurse into it.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["MAX_DEPTH", "JsonFeed", "json_depth", "looks_like_json_feed", "parse_json_feed"]

_VERSION_PREFIX = "https://jsonfeed.org/version/"
# A feed needs four levels (feed, items, item, authors); 64 leaves room for
# extensions and stays far below Python's recursion limit.
MAX_DEPTH = 64
# Possessive: a string literal is consumed once, never re-tried.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


@dataclass(frozen=True, slots=True)
class JsonFeed:
    version: str
    title: str
    home_page_url: str | None
    feed_url: str | None
    language: str | None
    entries: tuple[dict[str, Any], ...]


def looks_like_json_feed(data: bytes | str) -> bool:
    """True when the bytes (or text) are JSON, not XML: a JSON object at the start."""
    if isinstance(data, str):
        return data[:512].lstrip("\ufeff \t\r\n").startswith("{")
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text, strings ignored.

    Linear in the text and free of recursion, so it can run before a parser
    that recurses.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(itertools.accumulate(map(_DELTA.__getitem__, brackets))))


def _text(value: Any) -> str:
    """A string member, or a number's text; anything else is absent."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _struct(value: Any) -> time.struct_time | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)  # 3.11 reads a trailing "Z"
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).timetuple()


def _author(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        return _text(authors[0].get("name")) or None
    author = obj.get("author")  # JSON Feed 1.0
    if isinstance(author, dict):
        return _text(author.get("name")) or None
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
    language = obj.get("language")
    return {
        "id": _text(obj.get("id")),
        "link": _url(obj.get("url")) or _url(obj.get("external_url")) or "",
        "title": _text(obj.get("title")),
        "summary": _text(obj.get("summary")),
        "content": content,
        "author": _author(obj),
        "published_parsed": _struct(obj.get("date_published")),
        "updated_parsed": _struct(obj.get("date_modified")),
        "language": language if isinstance(language, str) else feed_language,
    }


def parse_json_feed(data: bytes | str) -> JsonFeed:
    """Parse JSON Feed bytes (UTF-8) or text already decoded.

    Raises:
        ValueError: not JSON, nested deeper than :data:`MAX_DEPTH`, not a
            JSON Feed, or ``items`` is not a list.
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 JSON: {exc}") from exc
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise ValueError(f"nested {depth} deep, over the limit of {MAX_DEPTH}")
    try:
        doc = _clean(json.loads(text))
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        raise ValueError(f"not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"top level must be an object (got {type(doc).__name__})")  # noqa: TRY004 - a bad document, not a bad call
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith(_VERSION_PREFIX):
        raise ValueError(f"version must start with {_VERSION_PREFIX} (got {version!r})")
    items = doc.get("items", [])
    if not isinstance(items, list):
        raise ValueError(f"items must be a list (got {type(items).__name__})")  # noqa: TRY004
    language = doc.get("language") if isinstance(doc.get("language"), str) else None
    # A non-object item still becomes an entry, which is then dead-lettered
    # as empty: nothing in the file is dropped silently.
    entries = tuple(_entry(o if isinstance(o, dict) else {}, language) for o in items)
    return JsonFeed(
        version="json" + version[len(_VERSION_PREFIX) :].replace(".", ""),
        title=_text(doc.get("title")),
        home_page_url=_url(doc.get("home_page_url")),
        feed_url=_url(doc.get("feed_url")),
        language=language,
        entries=entries,
    )
