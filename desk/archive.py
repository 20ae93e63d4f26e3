"""The archived copy of an item: its response record, read back from the WARC archive.

The payload is whatever the source sent (HTML, feeds, JSON): the desk serves
it as text only (``text/plain``, sandboxed, no sniffing), so a page captured
from a hostile site can be read but never runs in the desk's origin.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from connectors.warc import read_warc
from transforms.item import ArchiveRecord

__all__ = ["ArchiveMissing", "ArchivedCopy", "find_record", "resolve_file"]

# Archived payloads shown beyond this are cut (the WARC file keeps them whole).
MAX_PAYLOAD = 8 * 1024 * 1024
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)


class ArchiveMissing(LookupError):
    """The record cannot be served; the message says why, for the reviewer."""


@dataclass(frozen=True, slots=True)
class ArchivedCopy:
    url: str
    status: int
    captured_at: str
    content_type: str
    text: str
    file: str
    record_id: str


def resolve_file(directory: Path, name: str) -> Path:
    """The archive file ``name`` inside ``directory``; never a path outside it.

    Raises:
        ArchiveMissing: the name leaves the directory, or no such file.
    """
    root = directory.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise ArchiveMissing(f"archive file {name!r} is outside the archive directory")
    if not path.is_file():
        raise ArchiveMissing(f"archive file {name!r} is not in {directory}")
    return path


def _decode(body: bytes, content_type: str) -> str:
    found = _CHARSET.search(content_type or "")
    encoding = "utf-8"
    if found:
        try:
            encoding = codecs.lookup(found.group(1)).name
        except LookupError:
            pass
    return body.decode(encoding, errors="replace")


def find_record(directory: Path, record: ArchiveRecord) -> ArchivedCopy:
    """The response record ``record`` points to, decoded to text.

    Raises:
        ArchiveMissing: no such file or record, or the file is damaged before it.
    """
    path = resolve_file(directory, record.file)
    with open(path, "rb") as handle:
        for response, problem in read_warc(handle, record.file):
            if response is None:
                raise ArchiveMissing(f"{record.file}: {problem}")
            if response.archive is not None and response.archive.record_id == record.record_id:
                content_type = response.header("content-type") or ""
                body = response.body[:MAX_PAYLOAD]
                return ArchivedCopy(
                    url=response.url,
                    status=response.status,
                    captured_at=response.captured_at,
                    content_type=content_type,
                    text=_decode(body, content_type),
                    file=record.file,
                    record_id=record.record_id,
                )
    raise ArchiveMissing(f"record {record.record_id} is not in {record.file}")
