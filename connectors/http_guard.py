"""The HTTP layer's address guard: what a request may reach, checked before and after connecting.

A URL that is not the operator's own (a redirect target, a link found in a
feed) may only reach public addresses: :func:`guard_url` resolves its host
and refuses loopback, private, link-local and other non-public addresses
before connecting; :func:`check_peer` checks the address actually connected
to, which catches a name that resolves differently the second time (DNS
rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

import httpx

from connectors.errors import PermanentError, TransientError
from connectors.netguard import is_public_address, redact_url

__all__ = ["check_peer", "guard_url"]

# httpx honours the *_PROXY environment variables as urllib does.
_PROXIES = bool(urllib.request.getproxies())


async def guard_url(url: str, trusted: bool) -> None:
    """Refuse ``url`` unless it is http(s) and, when not ``trusted``, reaches only public addresses.

    Args:
        url: the URL about to be requested.
        trusted: the operator configured it (or allows private addresses):
            only its form is checked.

    Raises:
        PermanentError: a bad URL, not http(s), or a host with a non-public address.
        TransientError: the host name does not resolve now.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a bad port or bracketed host
        raise PermanentError(f"bad URL {redact_url(url)!r}: {exc}", url=url) from None
    if parts.scheme not in ("http", "https") or not host:
        raise PermanentError(f"not an http(s) URL: {redact_url(url)!r}", url=redact_url(url))
    if trusted:
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
            raise TransientError(f"cannot resolve {host}: {exc}", url=redact_url(url)) from None
        addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        if not is_public_address(address):
            raise PermanentError(
                f"refused: {host} resolves to a non-public address {address}"
                " (use --allow_private_addresses to permit)",
                url=redact_url(url),
            )


def check_peer(resp: httpx.Response, shown: str) -> None:
    """Refuse a response whose connection reached a non-public address.

    Raises:
        PermanentError: the connected peer is not public (the response is
            discarded before anything reads or archives it).
    """
    # Behind a proxy the peer is the proxy, so only the resolution check applies.
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
