"""Reading WARC files back: each response record as the :class:`Response` the HTTP layer made.

The counterpart of :class:`connectors.warc.WarcArchive`. warcio reads a record
cut short, or text that is no WARC at all, without complaint; this reader
checks each record's length, its SHA-256 payload digest and, in a gzip
file, that the last gzip member ended, so a file left by a killed writer
reports its last record as unreadable instead of returning part of it.

This module does not import Beam.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Self

from warcio.archiveiterator import ArchiveIterator

from connectors.http import Response
from transforms.item import ArchiveRecord

__all__ = ["ORIGINAL_PREFIX", "REQUESTED_HEADER", "SOURCE_HEADER", "RecordError", "read_warc"]

# The source configuration a response was fetched for (a JSON object).
SOURCE_HEADER = "Newswatch-Source"
# The URL first asked for, when a redirect led elsewhere.
REQUESTED_HEADER = "Newswatch-Requested-URI"
# Wire headers (Content-Encoding ...) are stored renamed with this prefix.
ORIGINAL_PREFIX = "newswatch-original-"


def _received_headers(stored: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    headers = [(name.lower(), value) for name, value in stored]
    # The last content-length is the one the writer appended (see _stored_headers).
    for index in range(len(headers) - 1, -1, -1):
        if headers[index][0] == "content-length":
            del headers[index]
            break
    return tuple((name.removeprefix(ORIGINAL_PREFIX), value) for name, value in headers)


def _context(value: str | None) -> Mapping[str, Any]:
    if not value:
        return {}
    context = json.loads(value)
    if not isinstance(context, dict):
        raise TypeError(f"{SOURCE_HEADER} is not a JSON object")
    return context


class _MemberWatch:
    """Passes a gzip WARC through to warcio, noting whether its last gzip member ended.

    warcio reads a member cut short without complaint (it returns what
    inflates); a member with no end is the record a killed writer left.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.offset = 0
        self.gzip: bool | None = None
        self._member: Any = None

    def tell(self) -> int:
        return self.offset

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.offset += len(data)
        if self.gzip is None and data:
            self.gzip = data[:2] == b"\x1f\x8b"
        if self.gzip:
            self._feed(data)
        return data

    def _feed(self, data: bytes) -> None:
        while data:
            if self._member is None:
                self._member = zlib.decompressobj(16 + zlib.MAX_WBITS)
            # Output is discarded and bounded per call; only the member's end matters.
            self._member.decompress(data, 1 << 20)
            if self._member.eof:
                data = self._member.unused_data
                self._member = None
            else:
                data = self._member.unconsumed_tail

    @property
    def cut_short(self) -> bool:
        return self._member is not None


class RecordError(str):
    """Why a record could not be read: the reason, as a string, and where it was.

    Attributes:
        position: the record's place in the file, 1 for the first.
    """

    position: int

    def __new__(cls, position: int, reason: str) -> Self:
        error = super().__new__(cls, f"record {position}: {reason}")
        error.position = position
        return error


class _Unusable(ValueError):
    """A whole record that cannot be used (too large, altered): the next one can still be read."""


def read_warc(
    stream: IO[bytes], name: str, max_bytes: int | None = None
) -> Iterator[tuple[Response | None, RecordError | None]]:
    """Every response record of a WARC file, as the :class:`Response` the HTTP layer made.

    ``captured_at`` is the record's ``WARC-Date``, ``archive`` is
    ``(name, record id)``, ``context`` the ``Newswatch-Source`` object, and
    the headers and request headers are as received (see the module
    docstring). Request, warcinfo and other records are not yielded. A
    response whose payload does not match its ``WARC-Payload-Digest`` is
    reported, not returned.

    Args:
        stream: the file, opened in binary mode (gzip or not: detected).
        name: the file's name as items should record it.
        max_bytes: a response payload larger than this is reported, not read.

    Yields:
        ``(response, None)`` per response record, or ``(None, error)`` for a
        record that cannot be used. Reading goes on after a whole record that
        is too large or fails its digest, and stops after a damaged or cut
        one: such a stream cannot be resynchronised.
    """
    requests: dict[str, tuple[tuple[str, str], ...]] = {}
    watch = _MemberWatch(stream)
    records = iter(ArchiveIterator(watch))
    position = 0
    while True:
        position += 1
        try:
            record = next(records)
        except StopIteration:
            if watch.cut_short:
                yield None, RecordError(position, "cut short (the file ends inside it)")
            return
        except Exception as exc:  # noqa: BLE001 - warcio and zlib raise many types on damage
            reason = f"unreadable WARC record: {type(exc).__name__}: {exc}"
            yield None, RecordError(position, reason)
            return
        try:
            response = _to_response(record, name, max_bytes, requests)
        except _Unusable as exc:
            yield None, RecordError(position, str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - a cut payload surfaces here, from zlib or warcio
            yield None, RecordError(position, f"{type(exc).__name__}: {exc}")
            return
        if response is not None:
            yield response, None


def _drain(stream: Any) -> None:
    # Read to the record's end in pieces: a record is not held whole just to be skipped.
    while stream.read(1 << 16):
        pass


def _check_complete(record: Any) -> None:
    # warcio's record reader counts down what Content-Length promised.
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise ValueError("record cut short (fewer bytes than its Content-Length)")


def _digest_problem(declared: str | None, body: bytes) -> str | None:
    if not declared or ":" not in declared:
        return None
    algorithm, _, value = declared.partition(":")
    try:
        digest = hashlib.new(algorithm.lower().replace("-", ""), body).digest()
    except ValueError:
        return None  # an algorithm this Python lacks: nothing to check against
    if value.strip().upper() in (base64.b32encode(digest).decode(), digest.hex().upper()):
        return None
    return f"payload does not match its {algorithm} digest (cut short or altered)"


def _to_response(
    record: Any,
    name: str,
    max_bytes: int | None,
    requests: dict[str, tuple[tuple[str, str], ...]],
) -> Response | None:
    headers = record.rec_headers
    if record.format != "warc":  # warcio falls back to reading ARC, and reads any text so
        raise ValueError("not a WARC record")
    if record.rec_type is None or record.length is None:
        raise ValueError("record headers are incomplete (cut short)")
    record_id = headers.get_header("WARC-Record-ID") or ""
    if record.rec_type != "response" or record.http_headers is None:
        _drain(record.raw_stream)
        _check_complete(record)
        if record.rec_type == "request" and record.http_headers is not None:
            sent = tuple((k.lower(), v) for k, v in record.http_headers.headers)
            for target in (headers.get_header("WARC-Concurrent-To") or "").split():
                requests[target] = sent
        return None
    stream = record.content_stream()
    # warcio's readers take no -1: read() for all, read(n) for a bound.
    body = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    _drain(record.raw_stream)
    _check_complete(record)
    if max_bytes is not None and len(body) > max_bytes:
        raise _Unusable(f"payload over the limit of {max_bytes} bytes")
    # A record cut short inside its payload may still read to its length; its digest tells.
    problem = _digest_problem(headers.get_header("WARC-Payload-Digest"), body)
    if problem:
        raise _Unusable(problem)
    status_line = record.http_headers.get_statuscode()
    url = headers.get_header("WARC-Target-URI") or ""
    return Response(
        url=url,
        requested_url=headers.get_header(REQUESTED_HEADER) or url,
        status=int(status_line),
        headers=_received_headers(record.http_headers.headers),
        body=body,
        captured_at=headers.get_header("WARC-Date") or "",
        request_headers=requests.pop(record_id, ()),
        archive=ArchiveRecord(file=name, record_id=record_id.strip("<>")),
        http_version=record.http_headers.protocol or "HTTP/1.1",
        context=_context(headers.get_header(SOURCE_HEADER)),
    )
