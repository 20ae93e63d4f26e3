"""Guards of the HTTP layer: where untrusted URLs may go, and which secrets never leave.

Pure functions, used by :mod:`connectors.http` on every request.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["is_public_address", "is_secret_header", "redact_url"]


# Request headers that must never reach an archive or a log: the usual
# names, and anything that looks like a key, token, secret or session.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
_SECRET_HINT = re.compile(r"auth|token|secret|api[-_]?key|session|password|cookie", re.IGNORECASE)


def is_secret_header(name: str) -> bool:
    """Whether a request header carries a credential (never archived or logged)."""
    return name.lower() in _SECRET_HEADERS or bool(_SECRET_HINT.search(name))


def redact_url(url: str) -> str:
    """``url`` without a ``user:password@`` part, for archives, errors and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Deprecated IPv4-compatible addresses (::a.b.c.d); :: and ::1 are judged as they are.
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public_address(address: str) -> bool:
    """Whether an IP address is globally routable (the private-address guard's test).

    IPv4 carried inside IPv6 (mapped ``::ffff:a.b.c.d``, compatible
    ``::a.b.c.d``, 6to4, Teredo, NAT64) is judged as the IPv4 address it
    reaches. A zone (``%eth0``) is ignored.

    Raises:
        ValueError: not an IP address.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and (ip in _NAT64 or ip in _V4_COMPATIBLE):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and int(ip) > 1:
            ip = embedded
    return ip.is_global and not ip.is_multicast
