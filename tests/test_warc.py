"""Evidence capture: live fetches archived to WARC, read back, and replayed into the same items."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from connectors.base import SourceConfig, connector_class
from connectors.http import Fetcher, HttpConfig, Response
from connectors.warc import WarcArchive, is_warc_path, read_warc
from connectors.warcreplay import replay_warc, source_config
from tests.localserver import Reply
from transforms.item import Item, from_json
from transforms.normalise import normalise_item

FEEDS = "feeds/real"
# Real feeds of different shapes: RSS 2.0 with HTML bodies, Atom, RSS with non-ASCII text.
REAL = (
    "rss-parser/guardian.rss",
    "rss-parser/heise.atom",
    "multilingual/thedeep_reliefweb_ukraine_2020-09-17.en.xml",
)
CONFIG = HttpConfig(per_host_delay=0.0)
# Fields the normalise stage sets or the connector reads; the replay must give them all back.
COMPARED = (
    "id",
    "source",
    "guid",
    "url",
    "canonical_url",
    "title",
    "text",
    "summary",
    "author",
    "published",
    "fetched",
    "archive",
    "raw_sha256",
    "language_hint",
    "media",
    "links",
)


def serve_feeds(server, corpora: Path, names=REAL, gzipped=False) -> list[SourceConfig]:
    sources = []
    for index, name in enumerate(names):
        data = (corpora / FEEDS / name).read_bytes()
        headers = {"Content-Type": "application/xml"}
        if gzipped:
            data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
        path = f"/feed/{index}"
        server.route(path, lambda _req, d=data, h=headers: Reply(200, d, h))
        sources.append(
            SourceConfig(name=f"feed {index}", kind="feed", url=server.url(path), country="UA")
        )
    return sources


async def live_poll(sources, archive) -> list[Item]:
    """What the poller delivers: each connector's poll, stamped as the poller stamps."""
    from connectors.poller import stamp

    items: list[Item] = []
    async with Fetcher(CONFIG, archive=archive) as fetcher:
        for config in sources:
            result = await connector_class(config.kind)(config, fetcher).poll(None)
            items.extend(stamp(result.items, config))
    return items


def fields(item: Item) -> tuple:
    return tuple(getattr(item, name) for name in COMPARED)


# ---------------------------------------------------------------- writing


def test_live_fetch_archived_with_request_digest_time_and_source(server, corpora, tmp_path):
    [config] = serve_feeds(server, corpora, REAL[:1], gzipped=True)
    context = config.to_dict()

    async def fetch() -> Response:
        with WarcArchive(tmp_path) as archive:
            async with Fetcher(CONFIG, archive=archive) as fetcher:
                return await fetcher.get(config.url, context=context)

    live = asyncio.run(fetch())
    assert live.archive is not None
    path = tmp_path / live.archive.file
    assert path.name.startswith("newswatch-") and is_warc_path(path.name)
    served = (corpora / FEEDS / REAL[0]).read_bytes()
    with open(path, "rb") as handle:
        records = {r.rec_headers.get_header("WARC-Record-ID"): r for r in _records(handle)}
    types = sorted(r.rec_headers.get_header("WARC-Type") for r in records.values())
    assert types == ["request", "response", "warcinfo"]
    response = records[f"<{live.archive.record_id}>"]
    headers = response.rec_headers
    # The capture time is the response's, verbatim; the digest is SHA-256 of the stored payload.
    assert headers.get_header("WARC-Date") == live.captured_at
    digest = base64.b32encode(hashlib.sha256(served).digest()).decode()
    assert headers.get_header("WARC-Payload-Digest") == f"sha256:{digest}"
    assert json.loads(headers.get_header("Newswatch-Source")) == context
    # The payload is stored decompressed, and the stored HTTP headers say so.
    http_headers = dict(response.http_headers.headers)
    assert http_headers["content-length"] == str(len(served))
    assert "content-encoding" not in http_headers
    assert http_headers["newswatch-original-content-encoding"] == "gzip"
    request = records[headers.get_header("WARC-Concurrent-To")]
    assert request.rec_headers.get_header("WARC-Concurrent-To") == f"<{live.archive.record_id}>"
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.get_header("user-agent").startswith("newswatch/")
    assert request.rec_headers.get_header("WARC-Target-URI") == config.url
    # warcio's own checker agrees on every digest.
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # Read back, it is the response the HTTP layer made, headers as received included.
    with open(path, "rb") as handle:
        [(back, error)] = list(read_warc(handle, live.archive.file))
    assert error is None
    assert back == live


def _records(handle):
    for record in ArchiveIterator(handle):
        record.content_stream().read()
        yield record


def test_secrets_never_reach_the_archive(server, tmp_path):
    server.route("/private", lambda _req: Reply(200, b"ok", {"Content-Type": "text/plain"}))

    async def fetch():
        with WarcArchive(tmp_path) as archive:
            async with Fetcher(CONFIG, archive=archive) as fetcher:
                await fetcher.get(
                    server.url("/private"),
                    headers={"Authorization": "Bearer s3cret-token", "Cookie": "sid=s3cret"},
                )

    asyncio.run(fetch())
    assert server.hits("/private")[0].headers["authorization"] == "Bearer s3cret-token"
    [path] = tmp_path.iterdir()
    assert b"s3cret" not in gzip.decompress(path.read_bytes())


def _response(n: int, **changes) -> Response:
    base = Response(
        url=f"https://wire.example/feed/{n}",
        requested_url=f"https://wire.example/feed/{n}",
        status=200,
        headers=(("content-type", "application/xml"),),
        body=b"<rss version='2.0'><channel><title>t</title></channel></rss>" * 20,
        captured_at="2026-03-10T09:00:00.000001Z",
        context={"kind": "feed", "name": f"feed {n}", "url": f"https://wire.example/feed/{n}"},
    )
    return replace(base, **changes)


def test_files_rotate_only_between_rounds(tmp_path):
    archive = WarcArchive(tmp_path, file_bytes=1)
    first = {archive.record(_response(n)).file for n in range(5)}
    assert len(first) == 1  # over the size, but still inside the round
    archive.end_round()
    second = archive.record(_response(9)).file
    assert second not in first
    archive.close()
    big = WarcArchive(tmp_path / "big")
    one = big.record(_response(1)).file
    big.end_round()  # far below the default size: keeps its file
    assert big.record(_response(2)).file == one
    big.end_round(force=True)
    assert big.record(_response(3)).file != one
    big.close()
    with pytest.raises(ValueError, match="file_bytes must be positive"):
        WarcArchive(tmp_path, file_bytes=0)


def test_threads_share_one_writer_without_interleaving(tmp_path):
    archive = WarcArchive(tmp_path)
    ids: list[str] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for n in range(25):
            ref = archive.record(_response(t * 100 + n))
            with lock:
                ids.append(ref.record_id)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    archive.close()
    [path] = tmp_path.iterdir()
    with open(path, "rb") as handle:
        back = list(read_warc(handle, path.name))
    assert all(error is None for _, error in back)
    assert sorted(r.archive.record_id for r, _ in back) == sorted(ids)
    assert len(set(ids)) == 200


WRITER = """
import os
import sys
sys.path.insert(0, {root!r})
from connectors.http import Response
from connectors.warc import WarcArchive
archive = WarcArchive({directory!r})
n = 0
while True:
    body = os.urandom(1 << 20) + str(n).encode()
    archive.record(Response("https://wire.example/", "https://wire.example/", 200, (), body, "t"))
    n += 1
    print(n, flush=True)
"""


def test_sigkill_loses_at_most_the_record_in_flight(tmp_path):
    root = str(Path(__file__).resolve().parents[1])
    for attempt in range(3):
        directory = tmp_path / f"run{attempt}"
        code = WRITER.format(root=root, directory=str(directory))
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        try:
            written = 0
            for line in proc.stdout:  # the writer is killed at a different record each time
                written = int(line)
                if written >= 2 + 3 * attempt:
                    break
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        [path] = directory.iterdir()
        with open(path, "rb") as handle:
            back = list(read_warc(handle, path.name))
        good = [r for r, error in back if error is None]
        errors = [error for _, error in back if error is not None]
        # Every record reported written is there, in order with no gap; only
        # the record in flight may be lost, and if part of it is there it is
        # reported, last. (Cut records are read in the tests below.)
        assert len(good) >= written
        assert [r.body.endswith(str(n).encode()) for n, r in enumerate(good)] == [True] * len(good)
        assert len(errors) <= 1 and (not errors or back[-1][0] is None)


# ---------------------------------------------------------------- reading back


def test_truncated_file_keeps_what_came_before_and_dead_letters_the_rest(tmp_path):
    archive = WarcArchive(tmp_path)
    for n in range(3):
        archive.record(_response(n, body=os.urandom(20000)))
    archive.close()
    [path] = tmp_path.iterdir()
    data = path.read_bytes()
    with open(path, "rb") as handle:
        offsets = [record_offset for record_offset in _offsets(handle)]
    # Cut inside the last response record, as a killed writer would leave it.
    cut = offsets[-1] + (len(data) - offsets[-1]) // 2
    path.write_bytes(data[:cut])
    with open(path, "rb") as handle:
        back = list(read_warc(handle, path.name))
    assert [r.url for r, _ in back if r is not None] == [_response(n).url for n in range(2)]
    assert back[-1][0] is None and back[-1][1].startswith("record ")
    # Cut inside the first record: nothing readable, the whole file is the dead letter.
    path.write_bytes(data[:40])
    with open(path, "rb") as handle:
        outcome = replay_warc(handle, path.name)
    assert outcome.status == "dead_letter"
    [letter] = outcome.dead_letters
    assert letter.kind == "file" and letter.stage == "read"


def _offsets(handle):
    iterator = ArchiveIterator(handle)
    for record in iterator:
        record.content_stream().read()
        yield iterator.get_record_offset()


def test_replay_skips_and_counts_what_holds_no_items(tmp_path):
    archive = WarcArchive(tmp_path)
    archive.record(_response(1, status=304, body=b""))
    archive.record(_response(2, status=404, body=b"gone"))
    archive.record(_response(3, context={"role": "robots"}))
    archive.record(_response(4, context={}))
    archive.close()
    [path] = tmp_path.iterdir()
    with open(path, "rb") as handle:
        outcome = replay_warc(handle, path.name)
    assert outcome.status == "empty"
    assert outcome.items == () and outcome.dead_letters == ()
    assert outcome.skipped == {"not_modified": 1, "status_404": 1, "robots": 1, "no_source": 1}


def test_a_response_that_is_no_feed_is_one_entry_dead_letter(tmp_path):
    archive = WarcArchive(tmp_path)
    login = b"<html><body><form>Please log in</form></body></html>"
    archive.record(_response(1, body=login, headers=(("content-type", "text/html"),)))
    archive.record(_response(2, context={"kind": "nosuchkind", "name": "x"}))
    archive.close()
    [path] = tmp_path.iterdir()
    with open(path, "rb") as handle:
        outcome = replay_warc(handle, path.name)
    # Counted as entries of the WARC file, so the run's file counts stay consistent.
    assert outcome.status == "parsed" and outcome.items == ()
    assert [(d.kind, d.stage) for d in outcome.dead_letters] == [("entry", "parse")] * 2
    assert "not a feed" in outcome.dead_letters[0].reason
    assert "kind must be one of" in outcome.dead_letters[1].reason
    assert "Please log in" in outcome.dead_letters[0].raw


def test_source_config_is_the_inverse_of_to_dict():
    config = SourceConfig(
        name="n", kind="mastodon", url="https://m.example", country="AM", options={"hashtag": "x"}
    )
    assert source_config(config.to_dict()) == config
    with pytest.raises(ValueError, match="no kind or name"):
        source_config({"url": "https://x.example"})


# ---------------------------------------------------------------- round trip


def test_replay_of_the_archive_gives_the_live_items(server, corpora, tmp_path):
    from pipelines.cli import main

    sources = serve_feeds(server, corpora)
    warc = tmp_path / "archive" / "2026-12"
    with WarcArchive(warc) as archive:
        live = asyncio.run(live_poll(sources, archive))
    assert len(live) > 50
    assert all(item.archive is not None for item in live)
    [path] = warc.iterdir()
    with open(path, "rb") as handle:
        records = [r for r, _ in read_warc(handle, path.name)]
    by_id = {r.archive.record_id: r for r in records}
    for item in live:
        # Each item names the response it came from, and its fetched time is that capture time.
        assert item.archive.file == path.name
        assert item.fetched == by_id[item.archive.record_id].captured_at
        assert item.source.country == "UA"
    # A feed file beside the archive: both kinds of input in one replay.
    extra = corpora / FEEDS / "miniflux/small_atom.xml"
    (warc / "saved.xml").write_bytes(extra.read_bytes())
    out = tmp_path / "out"
    # Replayed from the folder above: items still name their file as the live run did.
    args = ["replay", str(warc.parent), "--output", str(out), "--quiet"]
    assert main([*args, "--language_backend", "cld2"]) == 0  # the summary identities hold
    replayed = [from_json(line) for line in (out / "items.jsonl").read_text().splitlines()]
    from_warc = {i.id: fields(i) for i in replayed if i.archive is not None}
    assert from_warc == {i.id: fields(i) for i in live}
    assert len(replayed) > len(from_warc)  # the feed file's items came too
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files.parsed"] == 2


def test_warc_outcome_items_normalise_to_the_live_ones(server, corpora, tmp_path):
    sources = serve_feeds(server, corpora, REAL[1:2])
    with WarcArchive(tmp_path) as archive:
        live = asyncio.run(live_poll(sources, archive))
    [path] = tmp_path.iterdir()
    with open(path, "rb") as handle:
        outcome = replay_warc(handle, path.name)
    assert outcome.status == "parsed"
    replayed = {i.id: fields(i) for i in map(normalise_item, outcome.items)}
    assert replayed == {i.id: fields(i) for i in live}


def test_altered_or_oversized_records_are_reported_and_the_rest_read(tmp_path):
    archive = WarcArchive(tmp_path)
    archive.record(_response(1, body=b"<rss>original evidence</rss>"))
    archive.record(_response(2, body=b"x" * 5000))
    archive.record(_response(3))
    archive.close()
    [path] = tmp_path.iterdir()
    raw = gzip.decompress(path.read_bytes()).replace(b"original", b"doctored")
    altered = tmp_path / "altered.warc"  # uncompressed WARC is read too
    altered.write_bytes(raw)
    with open(altered, "rb") as handle:
        back = list(read_warc(handle, altered.name, max_bytes=4000))
    assert [r.url if r else None for r, _ in back] == [None, None, _response(3).url]
    assert "does not match its sha256 digest" in back[0][1] and back[0][1].position == 3
    assert "over the limit of 4000 bytes" in back[1][1]


def test_replay_dead_letters_damaged_archives_and_identities_hold(server, corpora, tmp_path):
    from pipelines.cli import main
    from pipelines.summary import check_identities

    sources = serve_feeds(server, corpora, REAL[1:])
    archived = tmp_path / "archived"
    with WarcArchive(archived) as archive:
        live = asyncio.run(live_poll(sources, archive))
    [path] = archived.iterdir()
    data = path.read_bytes()
    inputs = tmp_path / "in"
    inputs.mkdir()
    # Cut inside the last record, as a killed poller leaves its file; and a file that is no WARC.
    (inputs / "cut.warc.gz").write_bytes(data[: len(data) - 200])
    (inputs / "junk.warc.gz").write_bytes(b"this was never a WARC file\n" * 10)
    out = tmp_path / "out"
    code = main(
        ["replay", str(inputs), "--output", str(out), "--quiet", "--language_backend", "cld2"]
    )
    summary = json.loads((out / "summary.json").read_text())
    assert code == 0 and check_identities(summary) == []
    assert summary["files.parsed"] == 1 and summary["files.dead_letter"] == 1
    letters = [json.loads(line) for line in (out / "dead_letter.jsonl").read_text().splitlines()]
    assert sorted((d["path"], d["kind"], d["stage"]) for d in letters) == [
        ("cut.warc.gz", "entry", "read"),
        ("junk.warc.gz", "file", "read"),
    ]
    replayed = {from_json(line).id for line in (out / "items.jsonl").read_text().splitlines()}
    # The first feed's items all came back; the second feed's response was the record cut short.
    first = {i.id for i in live if i.source.name == "feed 0"}
    assert first and first <= replayed
    assert not ({i.id for i in live} - first) & replayed


@pytest.mark.parametrize(
    "module",
    ["connectors.warc", "connectors.warcread", "connectors.warcreplay", "connectors.articles"],
)
def test_capture_modules_import_without_beam(module):
    # The poller imports them; it must not pay for Beam.
    code = f"import sys, {module}; print('apache_beam' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
