"""The one HTTP layer every connector uses: polite, bounded, and archived.

:class:`Fetcher` wraps an ``httpx.AsyncClient`` (given from outside, or made
from :class:`HttpConfig`). Each call to :meth:`Fetcher.get` is one logical
request: it follows at most ``max_redirects`` redirects itself, checking each
hop against the private-address guard; streams the body and stops at
``max_bytes``; and returns one small :class:`Response`, or raises a
:mod:`connectors.errors` error. A 304 is a response, not an error.

URLs from the operator's configuration are trusted (``trusted=True``); every
other URL (redirect targets, article links found in items) is refused when
its host resolves to a private, loopback, link-local or reserved address,
unless ``allow_private_addresses`` is set.

When an archive is attached, every response received (redirects and errors
included) is handed to it with its request, and the response carries the
archive record it was written to.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from connectors.errors import PermanentError, TransientError
from transforms.item import ArchiveRecord

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Archive",
    "Fetcher",
    "HttpConfig",
    "Response",
    "parse_retry_after",
    "user_agent",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
VERSION = "0.2.0"


def user_agent(contact: str | None = None) -> str:
    """``newswatch/<version>`` with the operator's contact URL, if given."""
    base = f"newswatch/{VERSION} (news monitoring"
    return base + (f"; +{contact})" if contact else ")")


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """Settings of the HTTP layer; every bound has a default a desk can live with."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    contact: str | None = None
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    allow_private_addresses: bool = False


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP exchange as the connectors see it.

    Attributes:
        url: the final URL, after redirects.
        requested_url: the URL asked for.
        status: the HTTP status.
        headers: response headers as received, in order (names lower-cased).
        body: the payload, decompressed.
        captured_at: when the response arrived, RFC 3339 UTC with ``Z``.
        request_headers: the request headers sent (credentials removed).
        archive: where the exchange was archived, if an archive is attached.
        http_version: e.g. ``HTTP/1.1``.
    """

    url: str
    requested_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    captured_at: str
    request_headers: tuple[tuple[str, str], ...] = ()
    archive: ArchiveRecord | None = None
    http_version: str = "HTTP/1.1"
    context: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The last value of a header (case-insensitive), or None."""
        name = name.lower()
        found = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


class Archive(Protocol):
    """Where every exchange is recorded (:class:`connectors.warc.WarcArchive`)."""

    def record(self, response: Response) -> ArchiveRecord:
        """Write the request and the response; return the record's file and id."""
        ...


# Headers that must never reach an archive or a log.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


class Fetcher:
    """The HTTP layer. Use as ``async with Fetcher(config) as fetcher:``.

    Args:
        config: bounds and politeness settings.
        client: an ``httpx.AsyncClient`` to use instead of one built from
            ``config`` (tests pass one with ``httpx.MockTransport``).
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
                config.read_timeout, connect=config.connect_timeout, pool=config.total_timeout
            ),
            follow_redirects=False,
            headers={"User-Agent": user_agent(config.contact)},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._last_start: dict[str, float] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        trusted: bool = True,
        context: Mapping[str, str] | None = None,
    ) -> Response:
        """GET ``url``, following redirects; see the module docstring.

        Args:
            url: the URL.
            headers: extra request headers (conditional headers, credentials).
            trusted: the URL comes from the operator's configuration; redirect
                targets are never trusted.
            context: recorded with the exchange in the archive (the source's
                configuration), so a replay knows which connector reads it.

        Raises:
            TransientError: 429/5xx (with ``retry_after`` when the server gave one),
                timeouts, connection failures, names that do not resolve.
            PermanentError: other 4xx, a body over the limit, too many redirects,
                a refused address, a URL that is not http(s).
        """
        current = url
        for _hop in range(self.config.max_redirects + 1):
            await self._guard(current, trusted)
            response = await self._one(current, url, headers or {}, context or {})
            if response.status in _REDIRECTS and response.header("location"):
                current = urljoin(current, response.header("location"))
                trusted = False
                continue
            return self._check_status(response)
        raise PermanentError(
            f"more than {self.config.max_redirects} redirects", url=url, status=None
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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PermanentError(f"not an http(s) URL: {url!r}", url=url)
        if trusted or self.config.allow_private_addresses:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                parts.hostname, parts.port or 0, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise TransientError(f"cannot resolve {parts.hostname}: {exc}", url=url) from None
        for info in infos:
            if not _is_public(info[4][0]):
                raise PermanentError(
                    f"refused: {parts.hostname} resolves to a non-public address {info[4][0]}"
                    " (use --allow_private_addresses to permit)",
                    url=url,
                )

    async def _one(
        self, url: str, requested: str, headers: Mapping[str, str], context: Mapping[str, str]
    ) -> Response:
        host = urlsplit(url).netloc
        gate = self._hosts.setdefault(host, asyncio.Semaphore(self.config.per_host_concurrency))
        async with gate:
            await self._pace(host)
            try:
                return await asyncio.wait_for(
                    self._stream(url, requested, headers, context), self.config.total_timeout
                )
            except TimeoutError:
                raise TransientError(
                    f"timed out after {self.config.total_timeout:g} s in total", url=url
                ) from None
            except httpx.TimeoutException as exc:
                raise TransientError(f"timed out: {type(exc).__name__}", url=url) from None
            except httpx.ConnectError as exc:
                raise TransientError(f"cannot connect: {exc}", url=url) from None
            except httpx.DecodingError as exc:
                raise PermanentError(f"undecodable body: {exc}", url=url) from None
            except httpx.TransportError as exc:
                raise TransientError(f"{type(exc).__name__}: {exc}", url=url) from None

    async def _pace(self, host: str) -> None:
        # Politeness: requests to one host start at least per_host_delay apart.
        delay = self.config.per_host_delay
        loop = asyncio.get_running_loop()
        last = self._last_start.get(host)
        now = loop.time()
        start = now if last is None else max(now, last + delay)
        self._last_start[host] = start
        if start > now:
            await asyncio.sleep(start - now)

    async def _stream(
        self, url: str, requested: str, headers: Mapping[str, str], context: Mapping[str, str]
    ) -> Response:
        limit = self.config.max_bytes
        async with self._client.stream("GET", url, headers=dict(headers)) as resp:
            chunks: list[bytes] = []
            size = 0
            # aiter_bytes decompresses; the cap applies to what it yields, so a
            # gzip bomb stops at the limit, not at its expanded size.
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise PermanentError(
                        f"body over the limit of {limit} bytes", url=url, status=resp.status_code
                    )
                chunks.append(chunk)
            sent = tuple(
                (k.lower(), v)
                for k, v in resp.request.headers.items()
                if k.lower() not in _SECRET_HEADERS
            )
            response = Response(
                url=str(resp.url),
                requested_url=requested,
                status=resp.status_code,
                headers=tuple((k.lower(), v) for k, v in resp.headers.items()),
                body=b"".join(chunks),
                captured_at=_now_rfc3339(),
                request_headers=sent,
                http_version=resp.http_version,
                context=dict(context),
            )
        if self.archive is not None:
            from dataclasses import replace

            response = replace(response, archive=self.archive.record(response))
        return response
