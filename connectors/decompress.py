"""Content-Encoding decoding with the decoded size bounded while it streams.

httpx decodes a whole network chunk at once, so one 64 KB chunk of a gzip or
brotli bomb can expand to gigabytes before any size check sees it. Here the
raw bytes are fed in and output is pulled in bounded steps instead: zlib's
``max_length`` and brotli's ``output_buffer_limit`` stop each call at the
bytes still allowed, so no more than the cap plus one step is ever held.

Encodings are applied in the order the ``Content-Encoding`` header lists
them, so they are undone in reverse; each layer is bounded by the same cap.
"""

from __future__ import annotations

import zlib

import brotli

__all__ = ["BodyTooLarge", "BoundedDecoder", "DecodeError", "content_codings"]

# Output pulled per step from an inner layer of a stacked encoding.
_STEP = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class BodyTooLarge(Exception):
    """The decoded body passed the cap."""


class DecodeError(Exception):
    """The body is not valid in its declared encoding, or the encoding is unknown."""


def content_codings(header: str | None) -> list[str]:
    """The codings a ``Content-Encoding`` header lists, in the order they were applied.

    Raises:
        DecodeError: a coding other than gzip, deflate, br or identity.
    """
    out = []
    for token in (header or "").split(","):
        token = token.strip().lower()
        if token in ("", "identity"):
            continue
        if token == "x-gzip":
            token = "gzip"
        if token not in ("gzip", "deflate", "br"):
            raise DecodeError(f"unsupported Content-Encoding {token!r}")
        out.append(token)
    return out


class _Identity:
    def __init__(self) -> None:
        self._pending = bytearray()

    def push(self, data: bytes) -> None:
        self._pending += data

    def pull(self, n: int) -> bytes:
        out = bytes(self._pending[:n])
        del self._pending[:n]
        return out


class _Zlib:
    """gzip (multi-member) or deflate (zlib-wrapped or, as some servers send it, raw)."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._d: zlib._Decompress | None = None
        self._pending = b""
        self._done = False

    def push(self, data: bytes) -> None:
        if not self._done:
            self._pending += data

    def _start(self) -> bool:
        if self._coding == "gzip":
            wbits = 16 + zlib.MAX_WBITS
        else:
            if len(self._pending) < 2:
                return False  # need two bytes to tell a zlib header from raw deflate
            cmf, flg = self._pending[0], self._pending[1]
            wrapped = cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0
            wbits = zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
        self._d = zlib.decompressobj(wbits)
        return True

    def pull(self, n: int) -> bytes:
        if self._done:
            return b""
        if self._d is None and not self._start():
            return b""
        assert self._d is not None
        if self._d.eof:
            rest = self._d.unused_data + self._pending
            if self._coding == "gzip" and _GZIP_MAGIC.startswith(rest[:2]):
                if not rest:
                    return b""  # the next member may start in the next chunk
                self._pending = rest  # the next gzip member (or its first byte)
                self._start()
            else:
                # Trailing bytes after the stream (padding, garbage) are
                # ignored, as browsers do.
                self._done, self._pending = True, b""
                return b""
        try:
            out = self._d.decompress(self._pending, n)
        except zlib.error as exc:
            raise DecodeError(f"bad {self._coding} data: {exc}") from None
        self._pending = self._d.unconsumed_tail
        return out


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()
        self._pending = b""

    def push(self, data: bytes) -> None:
        self._pending += data

    def pull(self, n: int) -> bytes:
        data = b""
        if self._pending and self._d.can_accept_more_data():
            data, self._pending = self._pending, b""
        elif self._d.is_finished():
            self._pending = b""  # trailing bytes after the stream are ignored
            return b""
        try:
            return self._d.process(data, output_buffer_limit=n)
        except brotli.error as exc:
            raise DecodeError(f"bad br data: {exc}") from None


def _layer(coding: str) -> _Identity | _Zlib | _Brotli:
    if coding == "br":
        return _Brotli()
    return _Zlib(coding)


class BoundedDecoder:
    """Undo a body's Content-Encoding chunk by chunk, never exceeding ``limit``.

    Args:
        codings: from :func:`content_codings` (empty: the body is as sent).
        limit: the largest decoded size allowed, in bytes.
    """

    def __init__(self, codings: list[str], limit: int) -> None:
        self.limit = limit
        # Undo the last-applied coding first.
        self._layers = [_layer(c) for c in reversed(codings)] or [_Identity()]
        self._produced = [0] * len(self._layers)

    @property
    def size(self) -> int:
        """Bytes decoded so far (what the last layer produced)."""
        return self._produced[-1]

    def feed(self, data: bytes) -> list[bytes]:
        """Decode one raw chunk; returns the decoded pieces it completes.

        Raises:
            BodyTooLarge: the decoded body passed the limit.
            DecodeError: the data is not valid in its coding.
        """
        self._layers[0].push(data)
        return self._drain()

    def finish(self) -> list[bytes]:
        """Decode whatever the layers still hold at the end of the body (same errors)."""
        return self._drain()

    def _drain(self) -> list[bytes]:
        out: list[bytes] = []
        layers = self._layers
        while True:
            progressed = False
            for i, layer in enumerate(layers):
                last = i == len(layers) - 1
                room = self.limit - self._produced[i] + 1
                piece = layer.pull(min(room, _STEP))
                if not piece:
                    continue
                progressed = True
                self._produced[i] += len(piece)
                if self._produced[i] > self.limit:
                    raise BodyTooLarge(f"decoded body over the limit of {self.limit} bytes")
                if last:
                    out.append(piece)
                else:
                    layers[i + 1].push(piece)
            if not progressed:
                break
        return out
