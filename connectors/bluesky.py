"""Bluesky: an author's feed from the public AppView, or a search with an app password.

Sources file keys (``kind: bluesky``)::

    actor: example.bsky.social    # app.bsky.feed.getAuthorFeed (no login needed), or
    query: "war crimes"           # app.bsky.feed.searchPosts (needs an app password)
    base_url: https://public.api.bsky.app   # the AppView (default; or url)
    auth_url: https://bsky.social           # where a session is created, for search
    filter: posts_no_replies      # getAuthorFeed filter (optional)
    limit: 50                     # posts per request, 1-100
    max_pages: 5                  # requests per poll when catching up

Search credentials come only from the environment,
``NEWSWATCH_BLUESKY_HANDLE`` and ``NEWSWATCH_BLUESKY_APP_PASSWORD``. The
session is created without touching the archive; the HTTP layer strips the
``Authorization`` header from what it archives.

Both endpoints list newest first and page backwards with an opaque
``cursor``. The poll cursor is ``<time> <at-uri>`` of the newest entry
emitted (time: the repost's time for a repost, else the post's indexing
time); a poll follows the page cursor while every entry on the page is
newer, up to ``max_pages``. The first poll takes the newest page only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connectors.base import Connector, Page, PollResult, SourceConfig, register
from connectors.errors import PermanentError
from connectors.social import (
    Entries,
    base_url,
    bounded_int,
    dead_response,
    env_secret,
    iso_utc,
    json_body,
    language_hint,
    post_for_token,
    raw_json,
    require_str,
    to_poll_result,
)
from transforms.item import Item, Media, sha256_hex

if TYPE_CHECKING:
    from connectors.http import Fetcher, Response

__all__ = ["HANDLE_ENV", "PASSWORD_ENV", "BlueskyConnector", "post_web_url"]

HANDLE_ENV = "NEWSWATCH_BLUESKY_HANDLE"
PASSWORD_ENV = "NEWSWATCH_BLUESKY_APP_PASSWORD"
_DEFAULT_BASE = "https://public.api.bsky.app"
_FILTERS = (
    "posts_with_replies",
    "posts_no_replies",
    "posts_with_media",
    "posts_and_author_threads",
)


def post_web_url(uri: str, handle: str | None) -> str:
    """``at://did/app.bsky.feed.post/rkey`` -> ``https://bsky.app/profile/<handle>/post/<rkey>``."""
    match = re.fullmatch(r"at://([^/]+)/app\.bsky\.feed\.post/([^/]+)", uri)
    if not match:
        raise ValueError(f"not a post at-uri: {uri!r}")
    return f"https://bsky.app/profile/{handle or match.group(1)}/post/{match.group(2)}"


def _embed(view: Any, media: list[Media], links: list[str]) -> None:
    # Embedded views (what the AppView hydrated): images, video, link cards,
    # and a quote that carries its own media.
    if not isinstance(view, dict):
        return
    kind = str(view.get("$type", ""))
    if kind.startswith("app.bsky.embed.images"):
        for image in view.get("images") or ():
            if image.get("fullsize") or image.get("thumb"):
                media.append(Media("photo", image.get("fullsize") or image["thumb"]))
    elif kind.startswith("app.bsky.embed.video"):
        if view.get("playlist"):
            media.append(Media("video", view["playlist"]))
    elif kind.startswith("app.bsky.embed.external"):
        uri = (view.get("external") or {}).get("uri")
        if uri:
            links.append(uri)
            media.append(Media("link_preview", uri))
    elif kind.startswith("app.bsky.embed.recordWithMedia"):
        _embed(view.get("media"), media, links)


def _facet_links(record: dict[str, Any]) -> list[str]:
    out = []
    for facet in record.get("facets") or ():
        for feature in facet.get("features") or ():
            if str(feature.get("$type", "")).endswith("facet#link") and feature.get("uri"):
                out.append(feature["uri"])
    return out


@register
class BlueskyConnector(Connector):
    """See the module docstring."""

    kind = "bluesky"

    def __init__(self, config: SourceConfig, fetcher: Fetcher) -> None:
        self.check(config)
        super().__init__(config, fetcher)
        self.base = base_url(config, _DEFAULT_BASE)
        self.auth_base = str(config.options.get("auth_url") or "https://bsky.social").rstrip("/")
        self.actor = config.options.get("actor")
        self.query = config.options.get("query")
        self.filter = config.options.get("filter")
        self.limit = bounded_int(config, "limit", 50, 1, 100)
        self.max_pages = bounded_int(config, "max_pages", 5, 1, 100)
        self._token: str | None = None

    @classmethod
    def check(cls, config: SourceConfig) -> None:
        """Exactly one of ``actor`` and ``query``; a known filter; bounds.

        Raises:
            ValueError: a key is missing or malformed; the message names it.
        """
        base_url(config, _DEFAULT_BASE)
        if ("actor" in config.options) == ("query" in config.options):
            raise ValueError(
                f"actor or query: set exactly one of them"
                f" (got actor={config.options.get('actor')!r},"
                f" query={config.options.get('query')!r})"
            )
        if "actor" in config.options:
            require_str(config, "actor", r"did:[a-z]+:[A-Za-z0-9._:%\-]+|@?[A-Za-z0-9.\-]+")
        else:
            require_str(config, "query")
        auth = config.options.get("auth_url")
        if auth is not None and not (isinstance(auth, str) and re.match(r"^https?://", auth)):
            raise ValueError(f"auth_url must be an http(s) URL (got {auth!r})")
        flt = config.options.get("filter")
        if flt is not None and flt not in _FILTERS:
            raise ValueError(f"filter must be one of {list(_FILTERS)} (got {flt!r})")
        bounded_int(config, "limit", 50, 1, 100)
        bounded_int(config, "max_pages", 5, 1, 100)

    @property
    def channel_url(self) -> str:
        """The profile (or search) page, used as the items' source URL."""
        if self.actor:
            return f"https://bsky.app/profile/{self.actor.lstrip('@')}"
        return "https://bsky.app/search?" + urlencode({"q": self.query})

    # -- the pure half

    def read(self, response: Response) -> Entries:
        """Posts of a getAuthorFeed or searchPosts page as ``((time, uri), raw item)``."""
        try:
            body = json_body(response)
        except ValueError as exc:
            return dead_response(response, str(exc))
        if not isinstance(body, dict):
            return dead_response(response, "expected a JSON object with feed or posts")
        if isinstance(body.get("feed"), list):
            views = body["feed"]
        elif isinstance(body.get("posts"), list):
            views = [{"post": p} for p in body["posts"]]
        elif "accessJwt" in body or "did" in body:
            return Entries(status="empty")  # never expected in an archive; no items in it
        else:
            return dead_response(response, "expected a JSON object with feed or posts")
        cursor = body.get("cursor")
        out = Entries(next_page=cursor if isinstance(cursor, str) and cursor else None)
        for view in views:
            out.add(response.url, view, lambda v=view: self._entry(v, response))
        return out

    def parse(self, response: Response) -> Page:
        return self.read(response).page()

    def _entry(self, view: dict[str, Any], response: Response) -> tuple[Any, Item]:
        post = view["post"]
        record = post["record"]
        author = post.get("author") or {}
        handle = author.get("handle") or author.get("did")
        media: list[Media] = []
        links = _facet_links(record)
        _embed(post.get("embed"), media, links)
        reason = view.get("reason") or {}
        # A createdAt is client-supplied and can be nonsense (year 0); the
        # AppView's indexing time is the fallback.
        published = iso_utc(record.get("createdAt")) or iso_utc(post.get("indexedAt"))
        when = (
            iso_utc(reason.get("indexedAt"), precise=True)
            or iso_utc(post.get("indexedAt"), precise=True)
            or iso_utc(record.get("createdAt"), precise=True)
            or ""
        )
        item = Item(
            source=self.config.source(url=self.channel_url),
            guid=post["uri"],
            url=post_web_url(post["uri"], handle),
            title="",
            text=str(record.get("text") or ""),
            author=handle,
            published=published,
            fetched=response.captured_at,
            origin=response.url,
            raw_sha256=sha256_hex(raw_json(view)),
            language_hint=language_hint(record.get("langs"), self.config.language),
            archive=response.archive,
            media=tuple(dict.fromkeys(media)),
            links=tuple(dict.fromkeys(links)),
        )
        return (when, post["uri"]), item

    # -- polling

    async def _session_headers(self) -> dict[str, str]:
        if self.actor:
            return {}
        if self._token is None:
            handle, password = env_secret(HANDLE_ENV), env_secret(PASSWORD_ENV)
            if not (handle and password):
                raise PermanentError(
                    f"bluesky search needs {HANDLE_ENV} and {PASSWORD_ENV} in the environment",
                    url=self.auth_base,
                )
            session = await post_for_token(
                self.fetcher,
                f"{self.auth_base}/xrpc/com.atproto.server.createSession",
                json_payload={"identifier": handle, "password": password},
            )
            token = session.get("accessJwt")
            if not isinstance(token, str) or not token:
                raise PermanentError("createSession gave no accessJwt", url=self.auth_base)
            self._token = token
        return {"Authorization": f"Bearer {self._token}"}

    def _page_url(self, page_cursor: str | None) -> str:
        params = {"limit": str(self.limit)}
        if self.actor:
            params["actor"] = self.actor.lstrip("@")
            if self.filter:
                params["filter"] = self.filter
            endpoint = f"{self.base}/xrpc/app.bsky.feed.getAuthorFeed"
        else:
            params.update(q=self.query, sort="latest")
            # Search is served to logged-in clients through their own host.
            base = self.config.options.get("base_url") or self.config.url or self.auth_base
            endpoint = f"{str(base).rstrip('/')}/xrpc/app.bsky.feed.searchPosts"
        if page_cursor:
            params["cursor"] = page_cursor
        return f"{endpoint}?{urlencode(params)}"

    async def _get(self, url: str) -> Response:
        headers = await self._session_headers()
        try:
            return await self.fetcher.get(url, headers=headers, context=self.config.to_dict())
        except PermanentError as exc:
            if not headers or exc.status not in (400, 401):
                raise
            self._token = None  # an expired session: make a new one, once
            headers = await self._session_headers()
            return await self.fetcher.get(url, headers=headers, context=self.config.to_dict())

    async def poll(self, cursor: str | None) -> PollResult:
        after = tuple(cursor.split(" ", 1)) if cursor else None
        entries: list[tuple[Any, Item]] = []
        letters = []
        fetches = 0
        page_cursor = None
        for _ in range(self.max_pages):
            response = await self._get(self._page_url(page_cursor))
            fetches += 1
            page = self.read(response)
            letters.extend(page.dead_letters)
            fresh = [(k, i) for k, i in page.entries if after is None or k > after]
            entries.extend(fresh)
            # Keep paging back only while the whole page is new.
            if after is None or not fresh or len(fresh) < len(page.entries) or not page.next_page:
                break
            page_cursor = page.next_page
        return to_poll_result(
            entries,
            cursor,
            encode=lambda k: f"{k[0]} {k[1]}",
            dead_letters=letters,
            fetches=fetches,
        )
