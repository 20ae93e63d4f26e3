"""The review desk's settings and the checks on them (pure functions, no I/O but the clock).

Binding to anything but a loopback address exposes the desk to a network, so
it needs either a shared ``--token`` or an authenticating proxy that names the
reviewer in a header (``--identity_header``). Every check raises ValueError
naming the value it got.
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "REVIEWER_ENV",
    "DeskConfig",
    "check_bind",
    "check_header_name",
    "check_port",
    "default_reviewer",
    "is_loopback",
]

REVIEWER_ENV = "NEWSWATCH_REVIEWER"
DEFAULT_PAGE_SIZE = 50
# An HTTP field name (RFC 9110 token).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True, slots=True)
class DeskConfig:
    """What one desk serves and how it knows who is deciding.

    Attributes:
        store: the review store file.
        archive: directory holding the WARC files items point to, or None.
        reviewer: the name decisions are recorded under when no identity
            header is configured.
        identity_header: header an authenticating proxy sets to the
            reviewer's name; when set, every request must carry it.
        token: shared secret every request must present (cookie, bearer
            header, or ``?token=`` once), or None.
        loopback_only: the desk is bound to a loopback address: requests must
            name a loopback host (no DNS rebinding), unless a token or proxy
            guards the desk.
        page_size: queue entries per page.
    """

    store: Path
    archive: Path | None = None
    reviewer: str = "reviewer"
    identity_header: str | None = None
    token: str | None = None
    loopback_only: bool = True
    page_size: int = DEFAULT_PAGE_SIZE


def default_reviewer(given: str | None) -> str:
    """The reviewer's name: ``--reviewer``, else ``NEWSWATCH_REVIEWER``, else the login name.

    Raises:
        ValueError: the name given is blank.
    """
    if given is not None:
        if not given.strip():
            raise ValueError(f"--reviewer must be a name (got {given!r})")
        return given.strip()
    from_env = os.environ.get(REVIEWER_ENV, "").strip()
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid (containers)
        return "reviewer"


def is_loopback(host: str) -> bool:
    """Whether a bind address or Host name stays on this machine."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(value: str | int) -> int:
    """A TCP port, 0 (any free port) to 65535.

    Raises:
        ValueError: not an integer in range.
    """
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be an integer from 0 to 65535 (got {value!r})")
    return port


def check_header_name(value: str | None) -> str | None:
    """``--identity_header``: an HTTP header name, or None.

    Raises:
        ValueError: not a valid header name.
    """
    if value is None:
        return None
    if not _HEADER_NAME.match(value):
        raise ValueError(f"--identity_header must be an HTTP header name (got {value!r})")
    return value


def check_bind(host: str, token: str | None, identity_header: str | None) -> None:
    """Refuses to expose the desk to a network without a token or a proxy.

    Raises:
        ValueError: a non-loopback ``host`` with neither ``token`` nor
            ``identity_header``, or a token shorter than 16 characters.
    """
    if token is not None and len(token) < 16:
        raise ValueError(f"--token must be at least 16 characters (got {len(token)})")
    if not is_loopback(host) and not token and not identity_header:
        raise ValueError(
            f"--host {host!r} is reachable from other machines: give --token (or run behind "
            "an authenticating proxy and name its header with --identity_header)"
        )
