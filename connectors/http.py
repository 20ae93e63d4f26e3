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
``allow_private_addresses`` is set.

When an archive is attached, every response received (redirects and errors
included) is handed to it with its request, and the response carries the
archive record it was written to. Credentials (``Authorization``, cookies,
API-key and token headers, passwords in URLs) never reach a
:class:`Response`, so neither the archive nor a log sees them.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import re
import socket
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from connectors.decompress import BodyTooLarge, BoundedDecoder, DecodeError, content_codings
from connectors.errors import PermanentError, TransientError
from connectors.netguard import is_public_address, is_secret_header, redact_url
from transforms.item import ArchiveRecord

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Archive",
    "Fetcher",
    "HttpConfig",
    "Response",
    "is_public_address",
    "parse_retry_after",
    "redact_url",
    "user_agent",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
VERSION = "0.2.0"
ACCEPT_ENCODING = "gzip, deflate, br"
# httpx honours the *_PROXY environment variables as urllib does.
_PROXIES = bool(urllib.request.getproxies())


def user_agent(contact: str | None = None) -> str:
    """``newswatch/<version>`` with the operator's contact URL, if given."""
    base = f"newswatch/{VERSION} (news monitoring"
    return base + (f"; +{contact})" if contact else ")")


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """Settings of the HTTP layer; every bound has a default a desk can live with.

    Attributes:
        connect_timeout: seconds to establish a connection.
        read_timeout: seconds to wait for any one read.
        total_timeout: seconds for a whole :meth:`Fetcher.get`, redirects included.
        max_bytes: largest body as sent (compressed), in bytes.
        max_redirects: redirects followed before giving up.
        contact: a URL or address for the User-Agent, so site owners can reach the operator.
        per_host_concurrency: requests in flight to one host (host:port) at once.
        per_host_delay: seconds between the starts of two requests to one host.
        allow_private_addresses: let untrusted URLs reach non-public addresses.
        max_decoded_bytes: largest body once decompressed; None means ``max_bytes``.

    Raises:
        ValueError: a bound that is not positive (delays may be 0).
    """

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    contact: str | None = None
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    allow_private_addresses: bool = False
    max_decoded_bytes: int | None = None

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout", "max_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 (got {getattr(self, name)!r})")
        if self.per_host_concurrency < 1:
            raise ValueError(
                f"per_host_concurrency must be >= 1 (got {self.per_host_concurrency!r})"
            )
        if self.max_redirects < 0 or self.per_host_delay < 0:
            raise ValueError(
                "max_redirects and per_host_delay must be >= 0 "
                f"(got {self.max_redirects!r}, {self.per_host_delay!r})"
            )
        if self.max_decoded_bytes is not None and self.max_decoded_bytes <= 0:
            raise ValueError(f"max_decoded_bytes must be > 0 (got {self.max_decoded_bytes!r})")

    @property
    def decoded_limit(self) -> int:
        return self.max_decoded_bytes if self.max_decoded_bytes is not None else self.max_bytes


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP exchange as the connectors see it.

    Attributes:
        url: the final URL, after redirects (any password removed).
        requested_url: the URL asked for (any password removed).
        status: the HTTP status.
        headers: response headers as received, in order (names lower-cased).
        body: the payload, decompressed.
        captured_at: when the response arrived, RFC 3339 UTC with ``Z``.
        request_headers: the request headers sent (credentials removed).
        archive: where the exchange was archived, if an archive is attached.
        http_version: e.g. ``HTTP/1.1``.
        context: what the caller said the exchange is for (the source's
            configuration), recorded with it in the archive.
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
    context: Mapping[str, Any] = field(default_factory=dict)

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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,12}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Fetcher:
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
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
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
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:  # a bad port or bracketed host
            raise PermanentError(f"bad URL {redact_url(url)!r}: {exc}", url=url) from None
        if parts.scheme not in ("http", "https") or not host:
            raise PermanentError(f"not an http(s) URL: {redact_url(url)!r}", url=redact_url(url))
        if trusted or self.config.allow_private_addresses:
            return
        try:
            addresses = [str(ipaddress.ip_address(host.split("%", 1)[0]))]
        except ValueError:
            # A name: every address it resolves to must be public, since the
            # connection may use any of them.
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port or 0, type=socket.SOCK_STREAM
                )
            except (socket.gaierror, UnicodeError) as exc:
                raise TransientError(
                    f"cannot resolve {host}: {exc}", url=redact_url(url)
                ) from None
            addresses = sorted({str(info[4][0]) for info in infos})
        for address in addresses:
            if not is_public_address(address):
                raise PermanentError(
                    f"refused: {host} resolves to a non-public address {address}"
                    " (use --allow_private_addresses to permit)",
                    url=redact_url(url),
                )

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

    @staticmethod
    def _check_peer(resp: httpx.Response, shown: str) -> None:
        # Second line of the guard: the address actually connected to. A name
        # can resolve to a public address when checked and a private one when
        # httpx connects (DNS rebinding); the response is then discarded
        # before anything reads or archives it. Behind a proxy the peer is
        # the proxy, so only the resolution check applies.
        if _PROXIES:
            return
        stream = resp.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and not is_public_address(str(peer[0])):
            raise PermanentError(
                f"refused: {shown} connected to a non-public address {peer[0]}"
                " (use --allow_private_addresses to permit)",
                url=shown,
            )

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
        limit = self.config.max_bytes
        shown = redact_url(url)
        sent_headers = {"Accept-Encoding": ACCEPT_ENCODING, **headers}
        async with self._client.stream("GET", url, headers=sent_headers) as resp:
            status = resp.status_code
            if guarded:
                self._check_peer(resp, shown)
            announced = resp.headers.get("content-length", "")
            if announced.isdigit() and int(announced) > limit:
                raise PermanentError(
                    f"body over the limit of {limit} bytes (Content-Length {announced})",
                    url=shown,
                    status=status,
                )
            try:
                decoder = BoundedDecoder(
                    content_codings(resp.headers.get("content-encoding")),
                    self.config.decoded_limit,
                )
                chunks: list[bytes] = []
                size = 0
                # Raw bytes, decoded here: httpx's own decoding would expand a
                # whole network chunk before any limit could be checked.
                async for raw in resp.aiter_raw():
                    size += len(raw)
                    if size > limit:
                        raise PermanentError(
                            f"body over the limit of {limit} bytes", url=shown, status=status
                        )
                    chunks.extend(decoder.feed(raw))
                chunks.extend(decoder.finish())
            except BodyTooLarge as exc:
                raise PermanentError(f"{exc} ({shown})", url=shown, status=status) from None
            except DecodeError as exc:
                raise PermanentError(
                    f"undecodable body from {shown}: {exc}", url=shown, status=status
                ) from None
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
