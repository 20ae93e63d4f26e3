"""Reddit: a subreddit's newest posts from ``/r/<sub>/new.json``.

Sources file keys (``kind: reddit``)::

    subreddit: worldnews          # without the r/
    base_url: https://www.reddit.com     # (default; or url) for anonymous reads
    oauth_url: https://oauth.reddit.com  # the API host used with OAuth
    auth_url: https://www.reddit.com     # where the OAuth token is requested
    limit: 100                    # posts per request, 1-100
    max_pages: 3                  # requests per poll when catching up

OAuth is used when the environment holds ``NEWSWATCH_REDDIT_CLIENT_ID`` and
``NEWSWATCH_REDDIT_CLIENT_SECRET`` (an application-only token, requested
outside the archive) or a ready ``NEWSWATCH_REDDIT_TOKEN``. Credentials come
only from the environment; the HTTP layer strips ``Authorization`` from the
archive.

A listing is newest first; ``after=<fullname>`` pages back. Fullnames
(``t3_<base-36 id>``) grow with time, so the cursor is the newest fullname
emitted, and a poll pages back while every post on the page is newer than
it, up to ``max_pages``. The first poll takes the newest page only. When
``x-ratelimit-remaining`` reaches zero the poll asks to come back after
``x-ratelimit-reset`` seconds.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connectors.base import Connector, Page, PollResult, SourceConfig, register
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

__all__ = ["CLIENT_ID_ENV", "CLIENT_SECRET_ENV", "TOKEN_ENV", "RedditConnector", "fullname_key"]

CLIENT_ID_ENV = "NEWSWATCH_REDDIT_CLIENT_ID"
CLIENT_SECRET_ENV = "NEWSWATCH_REDDIT_CLIENT_SECRET"
TOKEN_ENV = "NEWSWATCH_REDDIT_TOKEN"


def fullname_key(fullname: str) -> int:
    """The order of a fullname: its base-36 id (``t3_48f0th`` -> 257...).

    Raises:
        ValueError: not a ``t<n>_<base-36>`` fullname.
    """
    prefix, sep, ident = fullname.partition("_")
    if not (sep and prefix.startswith("t") and ident):
        raise ValueError(f"not a reddit fullname: {fullname!r}")
    return int(ident, 36)


def _media(post: dict[str, Any]) -> tuple[Media, ...]:
    out: list[Media] = []
    video = (post.get("secure_media") or post.get("media") or {}).get("reddit_video") or {}
    if video.get("fallback_url"):
        out.append(Media("video", video["fallback_url"]))
    if post.get("post_hint") == "image" and post.get("url"):
        out.append(Media("photo", post["url"]))
    for image in (post.get("preview") or {}).get("images") or ():
        source = image.get("source") or {}
        if source.get("url"):
            out.append(Media("photo", source["url"]))
    return tuple(dict.fromkeys(out))


@register
class RedditConnector(Connector):
    """See the module docstring."""

    kind = "reddit"

    def __init__(self, config: SourceConfig, fetcher: Fetcher) -> None:
        self.check(config)
        super().__init__(config, fetcher)
        self.base = base_url(config, "https://www.reddit.com")
        self.oauth_base = str(config.options.get("oauth_url") or "https://oauth.reddit.com")
        self.auth_base = str(config.options.get("auth_url") or "https://www.reddit.com")
        self.subreddit = require_str(config, "subreddit").removeprefix("r/")
        self.limit = bounded_int(config, "limit", 100, 1, 100)
        self.max_pages = bounded_int(config, "max_pages", 3, 1, 100)
        self._token: str | None = None
        self._token_expires = 0.0

    @classmethod
    def check(cls, config: SourceConfig) -> None:
        """A subreddit name; usable URLs; bounds.

        Raises:
            ValueError: a key is missing or malformed; the message names it.
        """
        base_url(config, "https://www.reddit.com")
        require_str(config, "subreddit", r"(r/)?[A-Za-z0-9][A-Za-z0-9_]{1,20}")
        for key in ("oauth_url", "auth_url"):
            value = config.options.get(key)
            if value is not None and not (
                isinstance(value, str) and value.startswith(("http://", "https://"))
            ):
                raise ValueError(f"{key} must be an http(s) URL (got {value!r})")
        bounded_int(config, "limit", 100, 1, 100)
        bounded_int(config, "max_pages", 3, 1, 100)

    @property
    def channel_url(self) -> str:
        """The subreddit's public address, used as the items' source URL."""
        return f"https://www.reddit.com/r/{self.subreddit}/"

    # -- the pure half

    def read(self, response: Response) -> Entries:
        """Posts of one listing as ``(base-36 id, raw item)`` entries."""
        try:
            body = json_body(response)
        except ValueError as exc:
            return dead_response(response, str(exc))
        data = body.get("data") if isinstance(body, dict) else None
        if not (isinstance(data, dict) and isinstance(data.get("children"), list)):
            return dead_response(response, "expected a reddit Listing")
        after = data.get("after")
        out = Entries(next_page=after if isinstance(after, str) and after else None)
        for child in data["children"]:
            out.add(response.url, child, lambda c=child: self._entry(c, response))
        return out

    def parse(self, response: Response) -> Page:
        return self.read(response).page()

    def _entry(self, child: dict[str, Any], response: Response) -> tuple[int, Item]:
        post = child["data"]
        name = post["name"]
        permalink = "https://www.reddit.com" + post["permalink"]
        outbound = post.get("url") or ""
        links = () if post.get("is_self") or not outbound.startswith("http") else (outbound,)
        item = Item(
            source=self.config.source(url=self.channel_url),
            guid=name,
            url=permalink,
            title=post.get("title") or "",
            text=post.get("selftext_html") or post.get("selftext") or "",
            author=post.get("author") or None,
            published=iso_utc(post.get("created_utc")),
            fetched=response.captured_at,
            origin=response.url,
            raw_sha256=sha256_hex(raw_json(child)),
            language_hint=language_hint(self.config.language),
            archive=response.archive,
            media=_media(post),
            links=links,
            views=post.get("view_count") if isinstance(post.get("view_count"), int) else None,
        )
        return fullname_key(name), item

    # -- polling

    async def _auth(self) -> tuple[str, dict[str, str]]:
        """The API host and headers: OAuth when the environment configures it."""
        token = env_secret(TOKEN_ENV)
        client_id, secret = env_secret(CLIENT_ID_ENV), env_secret(CLIENT_SECRET_ENV)
        if not token and client_id and secret:
            if self._token is None or time.monotonic() >= self._token_expires:
                grant = await post_for_token(
                    self.fetcher,
                    f"{self.auth_base.rstrip('/')}/api/v1/access_token",
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, secret),
                )
                self._token = str(grant.get("access_token") or "") or None
                lifetime = grant.get("expires_in")
                lifetime = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
                self._token_expires = time.monotonic() + max(60.0, lifetime - 60.0)
            token = self._token
        if not token:
            return self.base, {}
        return self.oauth_base.rstrip("/"), {"Authorization": f"bearer {token}"}

    async def poll(self, cursor: str | None) -> PollResult:
        after_key = fullname_key(cursor) if cursor else None
        host, headers = await self._auth()
        entries: list[tuple[int, Item]] = []
        letters = []
        fetches = 0
        retry_after = None
        page_after: str | None = None
        for _ in range(self.max_pages):
            params = {"limit": str(self.limit), "raw_json": "1"}
            if page_after:
                params["after"] = page_after
            url = f"{host}/r/{self.subreddit}/new.json?{urlencode(params)}"
            response = await self.fetcher.get(url, headers=headers, context=self.config.to_dict())
            fetches += 1
            page = self.read(response)
            letters.extend(page.dead_letters)
            fresh = [(k, i) for k, i in page.entries if after_key is None or k > after_key]
            entries.extend(fresh)
            retry_after = _rate_limit_wait(response)
            if after_key is None or not fresh or len(fresh) < len(page.entries):
                break
            if retry_after is not None or not page.next_page:
                break
            page_after = page.next_page
        by_key = {k: i.guid for k, i in entries}
        return to_poll_result(
            entries,
            cursor,
            encode=lambda k: by_key[k],
            dead_letters=letters,
            retry_after=retry_after,
            fetches=fetches,
        )


def _rate_limit_wait(response: Response) -> float | None:
    """``x-ratelimit-reset`` seconds when no requests remain, else None."""
    try:
        remaining = float(response.header("x-ratelimit-remaining") or "nan")
        reset = float(response.header("x-ratelimit-reset") or "nan")
    except ValueError:
        return None
    if math.isnan(remaining) or math.isnan(reset) or remaining >= 1:
        return None
    return max(0.0, reset)
