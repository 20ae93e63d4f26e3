"""The one HTTP layer every connector uses: polite, bounded, and archived.

:class:`Fetcher` wraps an ``httpx.AsyncClient`` (given from outside, or made
from :class:`HttpConfig`). Each call to :meth:`Fetcher.get` is one logical
request: it follows at most ``max_redirects`` redirects itself, checking each
hop against the private-address guard; streams the body and stops at
``max_bytes`` as sent and at ``max_decoded_bytes`` once gzip, deflate or
brotli is undone (:mod:`connectors.decompress`, bounded while it streams);
and returns one small :class:`Response`, or raises a :mod:`connectors.errors`
error. A 304 is a response, not an error.

Time is bounded three ways: connecting (``connect_timeout``), each read
(``read_timeout``), and the whole exchange including redirects
(``total_timeout``), so a body that trickles a byte at a time still ends.
Waiting for a host's turn (``per_host_concurrency`` requests at once, started
at least ``per_host_delay`` apart) does not count: each host has its own
queue, so one slow host never holds requests to the others.

URLs from the operator's configuration are trusted (``trusted=True``); every
other URL (redirect targets, article links found in items) is refused when
any address its host resolves to is not globally routable (private,
loopback, link-local, CGNAT, multicast, reserved; IPv4 inside IPv6 mapped,
6to4, Teredo or NAT64 addresses is checked as IPv4), unless
``allow_private_addresses`` is set (:mod:`connectors.http_guard`).

When an archive is attached, every response received (redirects and errors
included) is handed to it with its request, and the response carries the
archive record it was written to. Credentials (``Authorization``, cookies,
API-key and token headers, passwords in URLs) never reach a
:class:`Response`, so neither the archive nor a log sees them.

Reading a body within the limits is in :mod:`connectors.http_body`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from connectors.errors import PermanentError, TransientError
from connectors.http_body import ACCEPT_ENCODING, BodyReader
from connectors.httptypes import (
    DEFAULT_MAX_BYTES,
    VERSION,
    Archive,
    HttpConfig,
    Response,
    parse_retry_after,
    user_agent,
)
from connectors.http_guard import check_peer, guard_url
from connectors.netguard import is_public_address, is_secret_header, redact_url

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Archive",
    "Fetcher",
    "HttpConfig",
    "VERSION",
    "Response",
    "is_public_address",
    "parse_retry_after",
    "redact_url",
    "user_agent",
]

_REDIRECTS = (301, 302, 303, 307, 308)


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Fetcher(BodyReader):
    """The HTTP layer. Use as ``async with Fetcher(config) as fetcher:``.

    Args:
        config: bounds and politeness settings.
        client: an ``httpx.AsyncClient`` to use instead of one built from
            ``config`` (tests pass one with ``httpx.MockTransport``); its own
            redirect following must be off.
        archive: where every exchange is recorded, if anywhere.
    """

    def __init__(
        self,
        config: HttpConfig = HttpConfig(),
        *,
        client: httpx.AsyncClient | None = None,
        archive: Archive | None = None,
    ) -> None:
        self.config = config
        self.archive = archive
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(
                config.read_timeout,
                connect=config.connect_timeout,
                pool=config.total_timeout,
            ),
            follow_redirects=False,
            headers={"User-Agent": user_agent(config.contact)},
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=min(20, config.max_connections),
            ),
        )
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._last_start: dict[str, float] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client if this fetcher made it."""
        if self._own_client:
            await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        trusted: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> Response:
        """GET ``url``, following redirects; see the module docstring.

        Args:
            url: the URL.
            headers: extra request headers (conditional headers, credentials).
            trusted: the URL comes from the operator's configuration; redirect
                targets are never trusted.
            context: recorded with the exchange in the archive (the source's
                configuration, JSON-able), so a replay knows which connector reads it.

        Raises:
            TransientError: 429/5xx (with ``retry_after`` when the server gave one),
                timeouts, connection failures, names that do not resolve.
            PermanentError: other 4xx, a body over a limit, an undecodable body,
                too many redirects, a refused address, a URL that is not http(s).
        """
        current = url
        budget = self.config.total_timeout
        for _hop in range(self.config.max_redirects + 1):
            await self._guard(current, trusted)
            guarded = not (trusted or self.config.allow_private_addresses)
            response, spent = await self._one(
                current, url, headers or {}, context or {}, budget, guarded
            )
            budget -= spent
            location = response.header("location")
            if response.status in _REDIRECTS and location:
                current = urljoin(current, location.strip()).split("#", 1)[0]
                trusted = False
                continue
            if 300 <= response.status < 400 and response.status != 304:
                raise PermanentError(
                    f"HTTP {response.status} from {response.url} cannot be followed"
                    " (no Location)",
                    url=response.url,
                    status=response.status,
                )
            return self._check_status(response)
        raise PermanentError(
            f"more than {self.config.max_redirects} redirects", url=redact_url(url), status=None
        )

    def _check_status(self, response: Response) -> Response:
        status = response.status
        if status < 400 or status == 304:
            return response
        hint = parse_retry_after(response.header("retry-after"))
        if status == 429 or status >= 500:
            raise TransientError(
                f"HTTP {status} from {response.url}",
                url=response.url,
                status=status,
                retry_after=hint,
            )
        raise PermanentError(f"HTTP {status} from {response.url}", url=response.url, status=status)

    async def _guard(self, url: str, trusted: bool) -> None:
        await guard_url(url, trusted or self.config.allow_private_addresses)

    async def _one(
        self,
        url: str,
        requested: str,
        headers: Mapping[str, str],
        context: Mapping[str, Any],
        budget: float,
        guarded: bool,
    ) -> tuple[Response, float]:
        shown = redact_url(url)
        total = self.config.total_timeout
        if budget <= 0:
            raise TransientError(f"timed out after {total:g} s in total", url=shown)
        host = urlsplit(url).netloc.rpartition("@")[2].lower()
        gate = self._hosts.setdefault(host, asyncio.Semaphore(self.config.per_host_concurrency))
        async with gate:
            await self._pace(host)
            loop = asyncio.get_running_loop()
            start = loop.time()
            try:
                response = await asyncio.wait_for(
                    self._stream(url, requested, headers, context, guarded), budget
                )
            except TimeoutError:
                raise TransientError(f"timed out after {total:g} s in total", url=shown) from None
            except httpx.TimeoutException as exc:
                raise TransientError(f"timed out: {type(exc).__name__}", url=shown) from None
            except httpx.ConnectError as exc:
                raise TransientError(f"cannot connect to {shown}: {exc}", url=shown) from None
            except httpx.TransportError as exc:
                raise TransientError(f"{type(exc).__name__}: {exc}", url=shown) from None
            except httpx.InvalidURL as exc:
                raise PermanentError(f"bad URL {shown!r}: {exc}", url=shown) from None
            return response, loop.time() - start

    async def _pace(self, host: str) -> None:
        # Politeness: requests to one host start at least per_host_delay apart.
        # The slot is reserved before sleeping, so concurrent callers queue.
        delay = self.config.per_host_delay
        loop = asyncio.get_running_loop()
        last = self._last_start.get(host)
        now = loop.time()
        start = now if last is None else max(now, last + delay)
        self._last_start[host] = start
        if start > now:
            await asyncio.sleep(start - now)

    async def _stream(
        self,
        url: str,
        requested: str,
        headers: Mapping[str, str],
        context: Mapping[str, Any],
        guarded: bool = False,
    ) -> Response:
        shown = redact_url(url)
        sent_headers = httpx.Headers({"Accept-Encoding": ACCEPT_ENCODING})
        sent_headers.update(headers)
        async with self._client.stream("GET", url, headers=sent_headers) as resp:
            status = resp.status_code
            if guarded:
                check_peer(resp, shown)
            chunks = await self._read_body(resp, shown)
            sent = tuple(
                (k.lower(), v) for k, v in resp.request.headers.items() if not is_secret_header(k)
            )
            response = Response(
                url=redact_url(str(resp.url)),
                requested_url=redact_url(requested),
                status=status,
                headers=tuple((k.lower(), v) for k, v in resp.headers.items()),
                body=b"".join(chunks),
                captured_at=_now_rfc3339(),
                request_headers=sent,
                http_version=resp.http_version,
                context=dict(context),
            )
        if self.archive is not None:
            response = replace(response, archive=self.archive.record(response))
        return response
