"""What the HTTP layer is configured with and what it returns (see :mod:`connectors.http`).

Kept apart from the fetcher so that readers of archived responses (the WARC
replay) and the connectors' pure ``parse`` halves import these records
without the client.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Protocol

from transforms.item import ArchiveRecord

__all__ = [
    "DEFAULT_MAX_BYTES",
    "VERSION",
    "Archive",
    "HttpConfig",
    "Response",
    "parse_retry_after",
    "user_agent",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
VERSION = "0.2.0"


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
        max_connections: connections open at once over all hosts.

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
    max_connections: int = 100

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout", "max_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 (got {getattr(self, name)!r})")
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be >= 1 (got {self.max_connections!r})")
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
