"""Mastodon: a hashtag timeline or one account's statuses, from any instance's public API.

Sources file keys (``kind: mastodon``)::

    url: https://mastodon.social      # the instance (or base_url)
    hashtag: Ukraine                  # /api/v1/timelines/tag/<hashtag>, or
    account: ukraine@mastodon.social  # an acct (looked up) or a numeric account id
    limit: 40                         # statuses per request, 1-40
    max_pages: 5                      # requests per poll when catching up

The cursor is the largest status id emitted. The next poll asks for
``min_id=<cursor>`` (the page right after it) and walks forward page by page,
so nothing between two polls is skipped, up to ``max_pages``. The first poll
takes the newest page only. When the instance's ``X-RateLimit-Remaining``
reaches zero the poll stops and asks to come back at ``X-RateLimit-Reset``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from connectors.base import Connector, Page, PollResult, SourceConfig, register
from connectors.errors import PermanentError
from connectors.social import (
    Entries,
    base_url,
    bounded_int,
    dead_response,
    iso_utc,
    json_body,
    language_hint,
    raw_json,
    require_str,
    seconds_until,
    to_poll_result,
)
from transforms.item import Item, Media, sha256_hex

if TYPE_CHECKING:
    from connectors.http import Fetcher, Response

__all__ = ["MastodonConnector", "status_key"]

_HREF = re.compile(r"<a\s([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'(href|class)\s*=\s*"([^"]*)"', re.IGNORECASE)


def status_key(status_id: str) -> tuple[int, str]:
    """Order of status ids: numeric ids by value (Mastodon), others as text (Pleroma flakes)."""
    return (len(status_id), status_id) if status_id.isdigit() else (0, status_id)


def _links(content: str, card: Any) -> tuple[str, ...]:
    # Links a reader would follow: not the mention and hashtag links Mastodon adds.
    out: list[str] = []
    for match in _HREF.finditer(content or ""):
        attrs = {k.lower(): v for k, v in _ATTR.findall(match.group(1))}
        href = attrs.get("href", "")
        classes = attrs.get("class", "")
        if href.startswith(("http://", "https://")) and not re.search(
            r"\b(mention|hashtag)\b", classes
        ):
            out.append(href)
    if isinstance(card, dict) and card.get("url"):
        out.append(card["url"])
    return tuple(dict.fromkeys(out))


@register
class MastodonConnector(Connector):
    """See the module docstring."""

    kind = "mastodon"

    def __init__(self, config: SourceConfig, fetcher: Fetcher) -> None:
        self.check(config)
        super().__init__(config, fetcher)
        self.base = base_url(config, "https://mastodon.social")
        self.hashtag = config.options.get("hashtag")
        self.account = config.options.get("account")
        self.limit = bounded_int(config, "limit", 40, 1, 40)
        self.max_pages = bounded_int(config, "max_pages", 5, 1, 100)
        self._account_id: str | None = None

    @classmethod
    def check(cls, config: SourceConfig) -> None:
        """Exactly one of ``hashtag`` and ``account``; a usable base URL and bounds.

        Raises:
            ValueError: a key is missing or malformed; the message names it.
        """
        base_url(config, "https://mastodon.social")
        has_tag = "hashtag" in config.options
        has_account = "account" in config.options
        if has_tag == has_account:
            raise ValueError(
                f"hashtag or account: set exactly one of them"
                f" (got hashtag={config.options.get('hashtag')!r},"
                f" account={config.options.get('account')!r})"
            )
        if has_tag:
            require_str(config, "hashtag", r"#?[^\s#/?&]+")
        else:
            require_str(config, "account", r"@?[A-Za-z0-9_.\-]+(@[A-Za-z0-9.\-]+)?")
        bounded_int(config, "limit", 40, 1, 40)
        bounded_int(config, "max_pages", 5, 1, 100)

    # -- where things are

    @property
    def channel_url(self) -> str:
        """The public page of the timeline, used as the items' source URL."""
        if self.hashtag:
            return f"{self.base}/tags/{quote(self.hashtag.lstrip('#'))}"
        account = self.account.lstrip("@")
        if account.isdigit():
            return f"{self.base}/web/accounts/{account}"
        return f"{self.base}/@{account}"

    async def _statuses_url(self) -> str:
        if self.hashtag:
            return f"{self.base}/api/v1/timelines/tag/{quote(self.hashtag.lstrip('#'), safe='')}"
        if self._account_id is None:
            account = self.account.lstrip("@")
            if account.isdigit():
                self._account_id = account
            else:
                url = f"{self.base}/api/v1/accounts/lookup?{urlencode({'acct': account})}"
                try:
                    found = json_body(await self._get(url))
                except ValueError as exc:
                    raise PermanentError(f"account lookup: {exc}", url=url) from None
                if not isinstance(found, dict) or not str(found.get("id", "")).strip():
                    raise PermanentError(f"account {account!r} not found on {self.base}", url=url)
                self._account_id = str(found["id"])
        return f"{self.base}/api/v1/accounts/{self._account_id}/statuses"

    async def _get(self, url: str) -> Response:
        return await self.fetcher.get(url, context=self.config.to_dict())

    # -- the pure half

    def read(self, response: Response) -> Entries:
        """Statuses of one response as ``(status_key, raw item)`` entries."""
        try:
            body = json_body(response)
        except ValueError as exc:
            return dead_response(response, str(exc))
        if isinstance(body, dict) and "acct" in body:
            return Entries(status="empty")  # the account lookup, archived beside the timeline
        if not isinstance(body, list):
            return dead_response(response, "expected a JSON list of statuses")
        out = Entries(next_page=_link(response.header("link"), "next"))
        for status in body:
            out.add(response.url, status, lambda s=status: self._entry(s, response))
        return out

    def parse(self, response: Response) -> Page:
        return self.read(response).page()

    def _entry(self, status: dict[str, Any], response: Response) -> tuple[Any, Item]:
        key = status_key(str(status["id"]))
        shown = status.get("reblog") or status  # a boost carries the original post
        account = shown.get("account") or {}
        content = shown.get("content") or ""
        media = tuple(
            Media(type=str(m.get("type") or "unknown"), url=m.get("url") or m.get("remote_url"))
            for m in shown.get("media_attachments") or ()
            if m.get("url") or m.get("remote_url")
        )
        item = Item(
            source=self.config.source(url=self.channel_url),
            guid=shown["uri"],
            url=shown.get("url") or shown["uri"],
            title=shown.get("spoiler_text") or "",
            text=content,
            author=account.get("acct") or None,
            published=iso_utc(shown.get("created_at")),
            fetched=response.captured_at,
            origin=response.url,
            raw_sha256=sha256_hex(raw_json(status)),
            language_hint=language_hint(shown.get("language"), self.config.language),
            archive=response.archive,
            media=media,
            links=_links(content, shown.get("card")),
        )
        return key, item

    # -- polling

    async def poll(self, cursor: str | None) -> PollResult:
        url = await self._statuses_url()
        after = status_key(cursor) if cursor else None
        entries: list[tuple[Any, Item]] = []
        letters = []
        fetches = 0
        retry_after = None
        min_id = cursor
        for _ in range(self.max_pages):
            params = {"limit": str(self.limit)}
            if min_id:
                params["min_id"] = min_id
            response = await self._get(f"{url}?{urlencode(params)}")
            fetches += 1
            page = self.read(response)
            letters.extend(page.dead_letters)
            fresh = [(k, i) for k, i in page.entries if after is None or k > after]
            entries.extend(fresh)
            retry_after = _rate_limit_wait(response)
            # The first poll takes the newest page; later polls walk forward
            # until a page is not full (nothing newer is left).
            if min_id is None or len(page.entries) < self.limit or not fresh:
                break
            if retry_after is not None:
                break
            min_id = max(k for k, _ in fresh)[1]
        return to_poll_result(
            entries,
            cursor,
            encode=lambda k: k[1],
            dead_letters=letters,
            retry_after=retry_after,
            fetches=fetches,
        )


def _rate_limit_wait(response: Response) -> float | None:
    """Seconds to the reset when the instance says no requests remain, else None."""
    remaining = response.header("x-ratelimit-remaining")
    if remaining is None or not remaining.strip().isdigit() or int(remaining) > 0:
        return None
    return seconds_until(response.header("x-ratelimit-reset"))


def _link(header: str | None, rel: str) -> str | None:
    for part in (header or "").split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?([^";]+)"?', part)
        if match and match.group(2) == rel:
            return match.group(1)
    return None
