"""The parse worker's child process started ahead of need (``prestart``)."""

from __future__ import annotations

import os

from connectors import parse_worker
from connectors.parse_worker import ParseWorker, discard_spares, prestart

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title>Shelling resumes</title><guid>g-1</guid></item></channel></rss>"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that ended but was not yet reaped is a zombie: not alive.
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_first_worker_takes_the_prestarted_child():
    prestart()
    try:
        [(spare, _, _)] = parse_worker._spares[parse_worker.DEFAULT_MEMORY_BYTES]
        with ParseWorker() as worker:
            outcome = worker.parse("feed.xml", FEED)
            assert worker._process is spare
        assert [item.guid for item in outcome.items] == ["g-1"]
        assert parse_worker._spares[parse_worker.DEFAULT_MEMORY_BYTES] == []
        assert not _alive(spare.pid)
    finally:
        discard_spares()


def test_a_spare_no_worker_took_is_ended():
    prestart()
    [(spare, _, _)] = parse_worker._spares[parse_worker.DEFAULT_MEMORY_BYTES]
    discard_spares()
    assert spare.poll() is not None
    assert parse_worker._spares == {}


def test_a_worker_with_another_memory_cap_starts_its_own_child():
    prestart()
    try:
        [(spare, _, _)] = parse_worker._spares[parse_worker.DEFAULT_MEMORY_BYTES]
        with ParseWorker(memory_bytes=parse_worker.DEFAULT_MEMORY_BYTES // 2) as worker:
            assert [i.guid for i in worker.parse("feed.xml", FEED).items] == ["g-1"]
            assert worker._process is not spare
        assert spare.poll() is None  # still waiting for a worker that fits it
    finally:
        discard_spares()
