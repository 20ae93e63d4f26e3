"""The connectors' exception tree.

::

    ConnectorError                 anything a source or the HTTP layer raises on purpose
     ├── TransientError            worth retrying: 429/503, other 5xx, timeouts, refused or
     │                             reset connections, names that do not resolve (yet)
     └── PermanentError            retrying as configured will not help: 4xx other than 429,
                                   a body over the limit, a redirect loop, an address refused
                                   by the private-address guard, a payload that is not what the
                                   source kind returns

Every error carries the URL it concerns. ``TransientError.retry_after`` is
the server's own hint in seconds (``Retry-After``, rate-limit reset headers)
or None, in which case the caller's backoff decides.
"""

from __future__ import annotations

__all__ = ["ConnectorError", "PermanentError", "TransientError"]


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose.

    Args:
        message: one line a person can act on.
        url: the URL concerned, if any.
        status: the HTTP status, if a response was received.
    """

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class TransientError(ConnectorError):
    """Worth retrying later; ``retry_after`` (seconds) is the server's hint, if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Will not succeed as configured; the source stays in backoff until its config changes."""
