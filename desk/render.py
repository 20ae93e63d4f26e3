"""What a queue entry shows, computed from a stored item; the templates only print it.

Item content comes from hostile sources. Nothing here builds HTML: text is
cut into segments the template escapes (Jinja autoescape), and a URL becomes
a link only when it is absolute http or https (:func:`safe_url`), so a
``javascript:`` or ``data:`` URL is shown as text and never made clickable.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.store import StoredItem
from connectors.store_queries import MATCH_END, MATCH_START
from transforms.item import Item

__all__ = [
    "Entry",
    "Segment",
    "entry",
    "highlight",
    "safe_url",
    "search_segments",
    "snippet_window",
]

# Characters of text shown around the first matched term of the text.
SNIPPET_CHARS = 360


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text; ``gloss`` is set on a matched term (shown on hover)."""

    text: str
    gloss: str | None = None
    term: str | None = None

    @property
    def marked(self) -> bool:
        return self.gloss is not None


@dataclass(frozen=True, slots=True)
class Entry:
    """One queue entry, ready to print."""

    stored: StoredItem
    title: tuple[Segment, ...]
    snippet: tuple[Segment, ...]
    search: tuple[Segment, ...]
    categories: tuple[tuple[str, float], ...]
    url: str | None
    source_url: str | None
    reports: tuple[tuple[str, str | None, str], ...]
    links: tuple[tuple[str, str | None], ...]
    glosses: tuple[tuple[str, str], ...]

    @property
    def item(self) -> Item:
        return self.stored.item


def safe_url(value: str | None) -> str | None:
    """The URL if it may be a link (absolute http or https with a host), else None."""
    if not value or any(c in value for c in "\x00\r\n\t"):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value.strip()


def _spans(item: Item, field: str) -> list[tuple[int, int, str, str]]:
    """Matched-term spans of one field, checked against the text they claim to cover."""
    value = getattr(item, field)
    spans = {}
    for flag in item.flags:
        for term in flag.terms:
            if term.field != field or not 0 <= term.start < term.end <= len(value):
                continue
            if value[term.start : term.end] != term.text:  # evidence from another text version
                continue
            spans.setdefault((term.start, term.end), (term.gloss, term.term_id))
    return sorted((s, e, g, t) for (s, e), (g, t) in spans.items())


def highlight(
    value: str, spans: list[tuple[int, int, str, str]], start: int = 0, end: int | None = None
) -> tuple[Segment, ...]:
    """``value[start:end]`` cut into plain and matched segments (overlaps merged into the first)."""
    end = len(value) if end is None else end
    out: list[Segment] = []
    cursor = start
    for s, e, gloss, term in spans:
        if e <= cursor or s >= end:
            continue
        s = max(s, cursor)
        e = min(e, end)
        if s > cursor:
            out.append(Segment(value[cursor:s]))
        out.append(Segment(value[s:e], gloss or term, term))
        cursor = e
    if cursor < end:
        out.append(Segment(value[cursor:end]))
    return tuple(out)


def snippet_window(length: int, spans: list[tuple[int, int, str, str]]) -> tuple[int, int]:
    """Where the snippet starts and ends: around the first matched term of the text."""
    if length <= SNIPPET_CHARS:
        return 0, length
    first = spans[0][0] if spans else 0
    start = max(0, min(first - SNIPPET_CHARS // 3, length - SNIPPET_CHARS))
    return start, min(length, start + SNIPPET_CHARS)


def search_segments(snippet: str | None) -> tuple[Segment, ...]:
    """An FTS snippet (matches between the store's markers) as segments."""
    if not snippet:
        return ()
    out = []
    for i, part in enumerate(snippet.split(MATCH_START)):
        if i == 0:
            out.append(Segment(part))
            continue
        matched, _, rest = part.partition(MATCH_END)
        out.append(Segment(matched, "search match", "search"))
        out.append(Segment(rest))
    return tuple(s for s in out if s.text)


def entry(stored: StoredItem) -> Entry:
    """The queue entry of a stored item."""
    item = stored.item
    title_spans = _spans(item, "title")
    text_spans = _spans(item, "text")
    start, end = snippet_window(len(item.text), text_spans)
    snippet = highlight(item.text, text_spans, start, end)
    if start > 0:
        snippet = (Segment("…"), *snippet)
    if end < len(item.text):
        snippet = (*snippet, Segment("…"))
    glosses = {}
    for _, _, gloss, term in title_spans + text_spans:
        glosses.setdefault(term, gloss)
    return Entry(
        stored=stored,
        title=highlight(item.title, title_spans) if item.title else (Segment("(no title)"),),
        snippet=snippet,
        search=search_segments(stored.snippet),
        categories=tuple(sorted(((f.category, f.score) for f in item.flags), key=lambda c: -c[1])),
        url=safe_url(item.url),
        source_url=safe_url(item.source.url),
        reports=tuple(
            (r.source.name or r.source.url, safe_url(r.url), r.url or "")
            for r in item.also_reported_by
        ),
        links=tuple((link, safe_url(link)) for link in item.links),
        glosses=tuple(sorted(glosses.items())),
    )
