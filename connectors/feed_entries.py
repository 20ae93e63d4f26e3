"""A parsed feed's entries to items: what :func:`connectors.feeds.parse_feed` makes of them.

Each entry a parser gives (feedparser's, the fast readers' in
:mod:`connectors.fastfeed`, or JSON Feed's) becomes an :class:`Item` by
:func:`entry_to_item`, or a dead letter with its reason; a file's entries
together become its :class:`FeedOutcome`. The feed itself gives the source
(its self link, its link, or the file's path) and a language hint for
entries that name none.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from typing import Any

from transforms.item import COLLISION_MARK, DeadLetter, Item, Source, sha256_hex
from transforms.normalise import is_unsafe_url

__all__ = ["RAW_EXCERPT", "FeedOutcome", "entry_to_item"]

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


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text.strip() else type(exc).__name__

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
