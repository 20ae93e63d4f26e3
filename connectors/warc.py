"""Evidence capture: every HTTP exchange written to WARC 1.1 files, and read back.

:class:`WarcArchive` implements :class:`connectors.http.Archive`. Each
exchange becomes a ``request`` record and a ``response`` record, linked both
ways by ``WARC-Concurrent-To``; the response record carries the capture time
as ``WARC-Date``, SHA-256 block and payload digests, and the source
configuration that fetched it (``Newswatch-Source``, a JSON object), so a
replay knows which connector reads the payload.

The HTTP layer hands over bodies already decompressed, so that is what is
stored: ``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length`` as
received are kept under ``Newswatch-Original-<name>`` and a ``Content-Length``
matching the stored payload is appended, so the stored HTTP message is
consistent and any WARC tool reads it. :func:`read_warc` undoes the renaming,
giving back the headers as received.

Files are gzip WARC (one gzip member per record), named
``newswatch-<UTC time>-<seq>.warc.gz``, each starting with a ``warcinfo``
record. Every record is flushed to the operating system as soon as it is
written, so a killed process loses at most the record in flight; readers
report a truncated last record as a dead letter and keep what came before.
Files rotate only between rounds (:meth:`WarcArchive.end_round`), so the
article pages fetched for a round's items sit in the same file as the feed
response they were found in (see :mod:`connectors.warcreplay`).

This module does not import Beam: the poller imports it.
"""

from __future__ import annotations

import base64
import hashlib
import http
import io
import json
import os
import threading
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from connectors.http import VERSION, Response
from transforms.item import ArchiveRecord

__all__ = [
    "DEFAULT_FILE_BYTES",
    "SOURCE_HEADER",
    "WarcArchive",
    "is_warc_path",
    "read_warc",
]

# Rotate after a round once the current file is this large.
DEFAULT_FILE_BYTES = 100 * 1024 * 1024
SOURCE_HEADER = "Newswatch-Source"
REQUESTED_HEADER = "Newswatch-Requested-URI"
_ORIGINAL = "newswatch-original-"
# Headers that describe the bytes on the wire, not the payload as stored.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
_SUFFIXES = (".warc", ".warc.gz")


def is_warc_path(path: str) -> bool:
    """Whether a file name is a WARC file (``.warc`` or ``.warc.gz``)."""
    return path.lower().endswith(_SUFFIXES)


class _Sha256Writer(WARCWriter):
    """warcio's writer with SHA-256 block and payload digests (its default is SHA-1)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _warc_date(captured_at: str) -> str:
    # The HTTP layer's RFC 3339 time is already the W3C profile WARC 1.1 wants;
    # it is kept verbatim so that item.fetched and WARC-Date are one string.
    return captured_at


def _stored_headers(response: Response) -> list[tuple[str, str]]:
    headers = [
        (_ORIGINAL + name if name in _WIRE_HEADERS else name, value)
        for name, value in response.headers
    ]
    headers.append(("content-length", str(len(response.body))))
    return headers


def _received_headers(stored: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    headers = [(name.lower(), value) for name, value in stored]
    # The last content-length is the one the writer appended (see _stored_headers).
    for index in range(len(headers) - 1, -1, -1):
        if headers[index][0] == "content-length":
            del headers[index]
            break
    return tuple(
        (name[len(_ORIGINAL) :] if name.startswith(_ORIGINAL) else name, value)
        for name, value in headers
    )


class WarcArchive:
    """Writes every exchange to gzip WARC 1.1 files under ``directory``.

    One writer per process: calls are serialised by a lock, so the HTTP
    layer may call :meth:`record` from any thread or task. Writes are small
    and buffered; ``fsync=True`` also forces each record to disk (slower,
    survives a power cut, not only a killed process).

    Args:
        directory: where the files go; created if missing.
        file_bytes: after a round, start a new file once the current one is
            this large.
        prefix: file name prefix.
        fsync: force each record to disk, not only to the operating system.

    Raises:
        ValueError: ``file_bytes`` is not positive.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        file_bytes: int = DEFAULT_FILE_BYTES,
        prefix: str = "newswatch",
        fsync: bool = False,
    ) -> None:
        if file_bytes <= 0:
            raise ValueError(f"file_bytes must be positive (got {file_bytes!r})")
        self.directory = os.fspath(directory)
        self.file_bytes = file_bytes
        self.prefix = prefix
        self.fsync = fsync
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._name = ""
        self._warcinfo_id = ""
        self._seq = 0
        self._writer = _Sha256Writer(None, gzip=True, warc_version="1.1")
        os.makedirs(self.directory, exist_ok=True)

    @property
    def current_file(self) -> str | None:
        """Name (within ``directory``) of the file being written, if one is open."""
        return self._name or None

    def record(self, response: Response) -> ArchiveRecord:
        """Write the request and response records of one exchange.

        Returns:
            The response record: file name (relative to ``directory``) and
            ``WARC-Record-ID`` without its angle brackets.
        """
        request_id, response_id = _record_id(), _record_id()
        date = _warc_date(response.captured_at)
        with self._lock:
            handle = self._open()
            request = self._request_record(response, request_id, response_id, date)
            reply = self._response_record(response, request_id, response_id, date)
            self._writer.out = handle
            self._writer.write_record(request)
            self._writer.write_record(reply)
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())
            return ArchiveRecord(file=self._name, record_id=response_id[1:-1])

    def end_round(self, force: bool = False) -> None:
        """Between rounds: close the current file if it is over ``file_bytes`` (or ``force``)."""
        with self._lock:
            if self._handle is not None and (force or self._handle.tell() >= self.file_bytes):
                self._close()

    def close(self) -> None:
        with self._lock:
            self._close()

    def __enter__(self) -> WarcArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self._name = ""

    def _open(self) -> IO[bytes]:
        if self._handle is not None:
            return self._handle
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        while True:
            self._seq += 1
            name = f"{self.prefix}-{stamp}-{self._seq:05d}.warc.gz"
            try:
                # Exclusive create: two pollers sharing a directory never share a file.
                handle = open(os.path.join(self.directory, name), "xb")  # noqa: SIM115
                break
            except FileExistsError:
                continue
        self._handle, self._name = handle, name
        self._writer.out = handle
        info = self._writer.create_warcinfo_record(
            name,
            {
                "software": f"newswatch/{VERSION}",
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            },
        )
        self._warcinfo_id = info.rec_headers.get_header("WARC-Record-ID")
        self._writer.write_record(info)
        handle.flush()
        return handle

    def _request_record(self, response: Response, request_id: str, response_id: str, date: str):
        parts = urlsplit(response.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = StatusAndHeaders(
            f"GET {target} {response.http_version}",
            [(name, value) for name, value in response.request_headers],
            is_http_request=True,
        )
        return self._writer.create_warc_record(
            response.url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=headers,
            warc_headers_dict={
                "WARC-Record-ID": request_id,
                "WARC-Date": date,
                "WARC-Concurrent-To": response_id,
            },
        )

    def _response_record(self, response: Response, request_id: str, response_id: str, date: str):
        try:
            reason = http.HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = StatusAndHeaders(
            f"{response.status} {reason}", _stored_headers(response), protocol=response.http_version
        )
        extra = {
            "WARC-Record-ID": response_id,
            "WARC-Date": date,
            "WARC-Concurrent-To": request_id,
            SOURCE_HEADER: json.dumps(dict(response.context), sort_keys=True, ensure_ascii=True),
        }
        if self._warcinfo_id:
            extra["WARC-Warcinfo-ID"] = self._warcinfo_id
        if response.requested_url != response.url:
            extra[REQUESTED_HEADER] = response.requested_url
        return self._writer.create_warc_record(
            response.url,
            "response",
            payload=io.BytesIO(response.body),
            length=len(response.body),
            http_headers=headers,
            warc_headers_dict=extra,
        )


def _context(value: str | None) -> Mapping[str, Any]:
    if not value:
        return {}
    context = json.loads(value)
    if not isinstance(context, dict):
        raise ValueError(f"{SOURCE_HEADER} is not a JSON object")
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


def read_warc(
    stream: IO[bytes], name: str, max_bytes: int | None = None
) -> Iterator[tuple[Response | None, str | None]]:
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
        ``(response, None)`` per response record, or ``(None, reason)`` for a
        record that cannot be read. Reading stops after an unreadable record:
        a damaged or truncated stream cannot be resynchronised.
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
                yield None, f"record {position}: cut short (the file ends inside it)"
            return
        except Exception as exc:  # warcio and zlib raise several types for a damaged file
            yield None, f"record {position}: unreadable WARC record: {type(exc).__name__}: {exc}"
            return
        try:
            response = _to_response(record, name, max_bytes, requests)
        except Exception as exc:  # a truncated payload surfaces here, from zlib or warcio
            yield None, f"record {position}: {type(exc).__name__}: {exc}"
            return
        if response is not None:
            yield response, None


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
        record.content_stream().read()
        _check_complete(record)
        if record.rec_type == "request" and record.http_headers is not None:
            sent = tuple((k.lower(), v) for k, v in record.http_headers.headers)
            for target in (headers.get_header("WARC-Concurrent-To") or "").split():
                requests[target] = sent
        return None
    stream = record.content_stream()
    # warcio's readers take no -1: read() for all, read(n) for a bound.
    body = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    if max_bytes is not None and len(body) > max_bytes:
        raise ValueError(f"payload over the limit of {max_bytes} bytes")
    record.raw_stream.read()
    _check_complete(record)
    # A record cut short by a killed writer reads without error but fails its digest.
    problem = _digest_problem(headers.get_header("WARC-Payload-Digest"), body)
    if problem:
        raise ValueError(problem)
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
