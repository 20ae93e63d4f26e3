"""Helpers for the social connector tests: one poll through the real HTTP layer."""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.base import PollResult, SourceConfig, connector_class
from connectors.http import Fetcher, HttpConfig, Response
from transforms.item import ArchiveRecord

__all__ = ["RecordingArchive", "fetch", "poll"]

# Loopback tests need no politeness delay between requests to one host.
FAST = HttpConfig(per_host_delay=0.0, total_timeout=20.0)


class RecordingArchive:
    """An archive that keeps every exchange in memory (what a WARC writer would get)."""

    def __init__(self) -> None:
        self.responses: list[Response] = []

    def record(self, response: Response) -> ArchiveRecord:
        self.responses.append(response)
        return ArchiveRecord(file="test.warc.gz", record_id=f"<urn:test:{len(self.responses)}>")


def poll(config: SourceConfig, cursor: str | None, archive: Any = None) -> PollResult:
    """One poll of a fresh connector for ``config`` (as the poller does each round)."""

    async def once() -> PollResult:
        async with Fetcher(FAST, archive=archive) as fetcher:
            return await connector_class(config.kind)(config, fetcher).poll(cursor)

    return asyncio.run(once())


def fetch(url: str, context: dict[str, Any] | None = None) -> Response:
    """One GET through the HTTP layer."""

    async def once() -> Response:
        async with Fetcher(FAST) as fetcher:
            return await fetcher.get(url, context=context or {})

    return asyncio.run(once())
