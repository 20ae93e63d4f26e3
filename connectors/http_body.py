"""Reading a response's body within the HTTP layer's limits (:mod:`connectors.http`).

The body is streamed as sent and decoded here (gzip, deflate or brotli,
:mod:`connectors.decompress`, bounded while it streams), so that it stops at
``max_bytes`` as sent and at ``max_decoded_bytes`` once decoded. A success
over a limit is an error; any other status keeps a bounded part of its body.
:class:`BodyReader` is the part of :class:`connectors.http.Fetcher` that does
this; it reads the fetcher's ``config``.
"""

from __future__ import annotations

import httpx

from connectors.decompress import BodyTooLarge, BoundedDecoder, DecodeError, content_codings
from connectors.errors import PermanentError
from connectors.httptypes import HttpConfig

__all__ = ["ACCEPT_ENCODING", "BodyReader"]

ACCEPT_ENCODING = "gzip, deflate, br"


# What is kept of the body of a response that is not a success.
_ERROR_BODY = 64 * 1024


def _truncate(chunks: list[bytes], limit: int) -> list[bytes]:
    data = b"".join(chunks)
    return [data[:limit]]


class BodyReader:
    """Reads a streamed response's body within the limits of ``self.config``."""

    config: HttpConfig

    async def _read_body(self, resp: httpx.Response, shown: str) -> list[bytes]:
        """The decoded body in pieces, within both limits.

        A success over a limit is an error. Any other status keeps at most
        the first :data:`_ERROR_BODY` bytes, so an error page never turns a
        503 with its Retry-After into a size error.
        """
        status = resp.status_code
        success = 200 <= status < 300
        limit = self.config.max_bytes if success else min(self.config.max_bytes, _ERROR_BODY)
        announced = resp.headers.get("content-length", "")
        if success and announced.isdigit() and int(announced) > limit:
            raise PermanentError(
                f"body over the limit of {limit} bytes (Content-Length {announced})",
                url=shown,
                status=status,
            )
        decoded = self.config.decoded_limit if success else limit
        chunks: list[bytes] = []
        size = 0
        try:
            decoder = BoundedDecoder(content_codings(resp.headers.get("content-encoding")), decoded)
            # Raw bytes, decoded here: httpx's own decoding would expand a
            # whole network chunk before any limit could be checked.
            async for raw in resp.aiter_raw():
                size += len(raw)
                if size > limit:
                    raise BodyTooLarge(f"body over the limit of {limit} bytes")
                chunks.extend(decoder.feed(raw))
            chunks.extend(decoder.finish())
        except BodyTooLarge as exc:
            if success:
                raise PermanentError(f"{exc} ({shown})", url=shown, status=status) from None
            return _truncate(chunks, limit)
        except DecodeError as exc:
            if success:
                raise PermanentError(
                    f"undecodable body from {shown}: {exc}", url=shown, status=status
                ) from None
            return []
        return chunks
