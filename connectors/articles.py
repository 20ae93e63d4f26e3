"""Article pages: fetch the page an item links to and put its main text on the item.

With ``--fetch_articles`` the poller calls :func:`enrich_all` on each new
item. The page is fetched through the same :class:`connectors.http.Fetcher`
with ``trusted=False``: a link found in an item is not the operator's choice,
so the private-address guard applies. robots.txt is honoured (user-agent
token ``newswatch``), fetched once per host and kept for at most 24 hours,
as RFC 9309 asks. Its outcomes, per RFC 9309 section 2.3.1:

* 2xx: its rules apply;
* 4xx other than 429 ("unavailable"): everything is allowed;
* 429, 5xx, a timeout, a refused connection or address ("unreachable"):
  everything on the host is disallowed until the entry expires.

The article exchange is archived like every other (the fetcher does it),
with context ``{"role": "article", "for_url": <the link>}``; a replay of the
WARC file finds the record by that link and applies :func:`apply_article` to
the same items, so the replay gives the items the live run gave.

:func:`apply_article` is the pure half: the item with ``text`` = the page's
main text (trafilatura) and ``summary`` = the feed's own text. Any failure
leaves the item as it was and says why (:class:`Enriched`); an item is never
lost because its article could not be had.

This module does not import Beam.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.errors import ConnectorError, PermanentError
from connectors.http import Fetcher, Response
from transforms.item import Item
from transforms.normalise import html_to_text

__all__ = [
    "ARTICLE_ROLE",
    "ROBOTS_AGENT",
    "Enriched",
    "Robots",
    "apply_article",
    "article_url",
    "enrich",
    "enrich_all",
]

ARTICLE_ROLE = "article"
ROBOTS_ROLE = "robots"
ROBOTS_AGENT = "newswatch"
# RFC 9309: a cached robots.txt should not be used for more than 24 hours,
# and at least 500 KiB of it must be parsed.
ROBOTS_TTL = 24 * 3600.0
ROBOTS_PARSE_BYTES = 500 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class Enriched:
    """An item after its article was sought.

    Attributes:
        item: the item: with the article's text when ``reason`` is None,
            otherwise exactly as it came in.
        reason: why the article text is not on the item (one line), or None.
    """

    item: Item
    reason: str | None = None


def article_url(item: Item) -> str | None:
    """The article page an item points to, or None.

    A feed entry's link is the article. A post's own URL is the post, so for
    the social kinds the article is the first http(s) link the post carries.
    """
    if item.source.kind == "feed":
        candidates: Iterable[str | None] = (item.url,)
    else:
        candidates = item.links
    for url in candidates:
        if url and urlsplit(url).scheme in ("http", "https"):
            return url
    return None


def apply_article(item: Item, response: Response) -> Item | str:
    """The item with the article page's main text, or the reason it cannot have it.

    Pure: the live poller and the WARC replay call it on the same response.
    ``text`` becomes the page's main text and ``summary`` the feed's text,
    both as plain text that :func:`transforms.normalise.html_to_text` leaves
    unchanged, so it makes no difference whether the item was normalised
    before (live) or is normalised after (replay).
    """
    if not 200 <= response.status < 300:
        return f"article page answered HTTP {response.status}"
    kind = (response.header("content-type") or "").split(";")[0].strip().lower()
    if kind and kind not in _HTML_TYPES:
        return f"article page is not HTML (content-type {kind})"
    if not response.body.strip():
        return "article page is empty"
    import trafilatura  # loaded on first use: only --fetch_articles and WARC replays need it

    try:
        extracted = trafilatura.extract(
            response.body, url=response.url, include_comments=False, deduplicate=False
        )
    except Exception as exc:  # noqa: BLE001 - the extractor's failure modes are not a closed set
        return f"article text extraction failed: {type(exc).__name__}: {exc}"
    text = _plain(extracted or "")
    if not text:
        return "no main text found on the article page"
    return item.replace(text=text, summary=_plain(item.text) or None)


def _plain(markup: str) -> str:
    # Plain text that normalising again leaves as it is. The poller's items
    # are normalised once and a replay's raw items later, so only a fixed
    # point of html_to_text makes both give the same text and summary (text
    # such as "&amp;lt;" loses one level of escaping per pass).
    text = html_to_text(markup)
    for _ in range(8):
        again = html_to_text(text)
        if again == text:
            break
        text = again
    return text


class Robots:
    """robots.txt per host, fetched through the fetcher and cached (see the module docstring).

    Args:
        fetcher: the HTTP layer; robots.txt is fetched with ``trusted=False``.
        agent: the user-agent token matched against the rules.
        ttl: seconds an entry is kept.
    """

    def __init__(self, fetcher: Fetcher, agent: str = ROBOTS_AGENT, ttl: float = ROBOTS_TTL):
        self.fetcher = fetcher
        self.agent = agent
        self.ttl = ttl
        self._cache: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None, str]] = {}
        self._pending: dict[str, asyncio.Future[None]] = {}

    async def check(self, url: str) -> str | None:
        """None if ``url`` may be fetched, otherwise the reason it may not."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        entry = self._cache.get(origin)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            await self._load(origin)
            entry = self._cache.get(origin)
            if entry is None:  # the fetch failed in a way it does not report
                return f"robots.txt of {origin} could not be read"
        _, parser, why = entry
        if parser is None:
            return why
        if not parser.can_fetch(self.agent, url):
            return f"disallowed by {origin}/robots.txt"
        return None

    async def _load(self, origin: str) -> None:
        # One fetch per host even when many of its items arrive at once.
        pending = self._pending.get(origin)
        if pending is not None:
            await asyncio.shield(pending)
            return
        future = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            self._cache[origin] = (time.monotonic(), *await self._fetch(origin))
        finally:
            del self._pending[origin]
            future.set_result(None)

    async def _fetch(self, origin: str) -> tuple[urllib.robotparser.RobotFileParser | None, str]:
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            response = await self.fetcher.get(
                origin + "/robots.txt", trusted=False, context={"role": ROBOTS_ROLE}
            )
        except PermanentError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                parser.parse([])  # unavailable: no rules, everything allowed
                return parser, ""
            return None, f"robots.txt not usable, so nothing is fetched from the host: {exc}"
        except ConnectorError as exc:
            return None, f"robots.txt unreachable, so nothing is fetched from the host: {exc}"
        if response.status == 304 or not 200 <= response.status < 300:
            return None, f"robots.txt answered HTTP {response.status}"
        text = response.body[:ROBOTS_PARSE_BYTES].decode("utf-8", "replace")
        parser.parse(text.splitlines())
        return parser, ""


async def enrich(item: Item, fetcher: Fetcher, robots: Robots) -> Enriched:
    """Fetch an item's article page, archive it (the fetcher does) and put its text on the item.

    Never raises for a failure of the page: the item comes back unchanged
    with the reason.
    """
    url = article_url(item)
    if url is None:
        return Enriched(item, "item links to no article page")
    why = await robots.check(url)
    if why is not None:
        return Enriched(item, why)
    try:
        response = await fetcher.get(
            url, trusted=False, context={"role": ARTICLE_ROLE, "for_url": url}
        )
    except ConnectorError as exc:
        return Enriched(item, f"article not fetched: {exc}")
    result = apply_article(item, response)
    if isinstance(result, str):
        return Enriched(item, result)
    return Enriched(result)


async def enrich_all(
    items: Sequence[Item], fetcher: Fetcher, robots: Robots, concurrency: int = 8
) -> list[Enriched]:
    """:func:`enrich` over many items at once, at most ``concurrency`` in flight; order kept.

    Raises:
        ValueError: ``concurrency`` is not positive.
    """
    if concurrency <= 0:
        raise ValueError(f"concurrency must be positive (got {concurrency!r})")
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Item) -> Enriched:
        async with gate:
            return await enrich(item, fetcher, robots)

    return list(await asyncio.gather(*(one(item) for item in items)))
