"""The feed connector (connectors/feedpoll.py) against a real server on 127.0.0.1
serving real feeds from ../shared/corpora/feeds/real."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from connectors.base import Page, PollResult, SourceConfig, connector_class
from connectors.errors import PermanentError, TransientError
from connectors.feedpoll import SEEN_LIMIT, FeedConnector, FeedCursor, _merge_seen, feed_hint
from connectors.http import Fetcher, HttpConfig, Response
from tests.localserver import Reply
from transforms.item import ArchiveRecord
from transforms.normalise import normalise_or_reason

FAST = HttpConfig(connect_timeout=2, read_timeout=2, total_timeout=5, per_host_delay=0)
BBC = "feeds/real/fastfeedparser-benchmark/1796df62c4a287cc"  # BBC News World, 33 items, <ttl>15
UNDATED_LANGUAGE = "feeds/real/fastfeedparser-benchmark/fe5e3223a1003774"  # no <language>
_ITEM = re.compile(rb"<item[ >].*?</item>\s*", re.DOTALL)


class CountingFeed(FeedConnector):
    """The real connector, counting how often it parses."""

    parses = 0

    def parse(self, response: Response) -> Page:
        type(self).parses += 1
        return super().parse(response)


class Recorder:
    def __init__(self) -> None:
        self.records: list[Response] = []

    def record(self, response: Response) -> ArchiveRecord:
        self.records.append(response)
        return ArchiveRecord("live.warc.gz", f"<urn:uuid:{len(self.records)}>")


def config_for(url: str, **extra) -> SourceConfig:
    fields = {"name": "BBC World", "kind": "feed", "url": url, "country": "GB"}
    fields.update(extra)
    fields.setdefault("affiliation", "public broadcaster")
    return SourceConfig(**fields)


def poll(config: SourceConfig, cursors: list[str | None], archive=None) -> list[PollResult]:
    """Poll once per cursor given; None entries mean 'the cursor the last poll returned'."""

    async def go() -> list[PollResult]:
        out: list[PollResult] = []
        async with Fetcher(FAST, archive=archive) as fetcher:
            connector = CountingFeed(config, fetcher)
            cursor = cursors[0]
            for given in cursors:
                cursor = given if given is not None else cursor
                out.append(await connector.poll(cursor))
                cursor = out[-1].cursor
        return out

    return asyncio.run(go())


def conditional(body: bytes, etag: str, extra: dict[str, str] | None = None):
    """A route honouring If-None-Match, as a well-behaved feed server does."""

    def handler(request) -> Reply:
        headers = {"ETag": etag, "Content-Type": "application/rss+xml", **(extra or {})}
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", headers)
        return Reply(200, body, headers)

    return handler


@pytest.fixture
def bbc(corpora: Path) -> bytes:
    return (corpora / BBC).read_bytes()


@pytest.fixture(autouse=True)
def _reset_counter():
    CountingFeed.parses = 0


def test_registered_for_kind_feed():
    assert connector_class("feed") is FeedConnector


def test_check_names_the_url():
    message = r"feed source 'x': url must be an http\(s\) URL \(got None\)"
    with pytest.raises(ValueError, match=message):
        FeedConnector.check(SourceConfig(name="x", kind="feed"))
    with pytest.raises(ValueError, match="got 'ftp://a/b'"):
        FeedConnector.check(SourceConfig(name="x", kind="feed", url="ftp://a/b"))
    with pytest.raises(ValueError, match="got 'https://a/b c'"):
        FeedConnector.check(SourceConfig(name="x", kind="feed", url="https://a/b c"))
    FeedConnector.check(SourceConfig(name="x", kind="feed", url="https://a.example/rss?x=1"))


def test_first_poll_emits_every_entry_with_the_configured_source(server, bbc):
    server.route("/bbc.xml", conditional(bbc, '"v1"'))
    config = config_for(server.url("/bbc.xml"))
    archive = Recorder()
    [result] = poll(config, [None], archive)
    assert len(result.items) == 33 and result.dead_letters == () and not result.not_modified
    assert len({item.id for item in result.items}) == 33
    first = result.items[0]
    assert first.source.name == "BBC World" and first.source.url == config.url
    assert (first.source.country, first.source.affiliation) == ("GB", "public broadcaster")
    assert first.origin == config.url and first.language_hint == "en"
    assert first.archive == ArchiveRecord("live.warc.gz", "<urn:uuid:1>")
    assert first.fetched == archive.records[0].captured_at
    dates = [item.published for item in result.items]
    assert dates == sorted(dates)  # oldest first
    assert archive.records[0].context == config.to_dict()
    assert result.retry_after == 15 * 60  # <ttl>15</ttl>
    cursor = json.loads(result.cursor)
    assert cursor["e"] == '"v1"' and len(cursor["s"]) == 33


def test_second_poll_of_an_unchanged_feed_is_a_304_parsing_nothing(server, bbc):
    server.route("/bbc.xml", conditional(bbc, '"v1"', {"Cache-Control": "max-age=600"}))
    first, second = poll(config_for(server.url("/bbc.xml")), [None, None])
    assert len(first.items) == 33
    assert second.not_modified and second.items == () and second.dead_letters == ()
    assert second.cursor == first.cursor and second.retry_after == 600
    assert CountingFeed.parses == 1
    requests = server.hits("/bbc.xml")
    assert "if-none-match" not in requests[0].headers
    assert requests[1].headers["if-none-match"] == '"v1"'


def test_a_304_with_new_validators_updates_the_cursor(server, bbc):
    def handler(request) -> Reply:
        if request.headers.get("if-none-match") in ('"v1"', '"v2"'):
            return Reply(304, b"", {"ETag": '"v2"'})
        return Reply(200, bbc, {"ETag": '"v1"'})

    server.route("/bbc.xml", handler)
    first, second, third = poll(config_for(server.url("/bbc.xml")), [None, None, None])
    assert second.not_modified and json.loads(second.cursor)["e"] == '"v2"'
    assert third.not_modified and third.cursor == second.cursor
    assert json.loads(second.cursor)["s"] == json.loads(first.cursor)["s"]
    assert [r.headers.get("if-none-match") for r in server.hits("/bbc.xml")] == [
        None,
        '"v1"',
        '"v2"',
    ]


def test_last_modified_is_sent_back(server, bbc):
    stamp = "Tue, 01 Dec 2026 10:00:00 GMT"

    def handler(request) -> Reply:
        if request.headers.get("if-modified-since") == stamp:
            return Reply(304)
        return Reply(200, bbc, {"Last-Modified": stamp})

    server.route("/bbc.xml", handler)
    first, second = poll(config_for(server.url("/bbc.xml")), [None, None])
    assert len(first.items) == 33 and second.not_modified and CountingFeed.parses == 1


def test_a_changed_feed_emits_only_the_new_entries(server, bbc):
    items = _ITEM.findall(bbc)
    older = bbc.replace(b"".join(items[:3]), b"", 1)  # the feed before its 3 newest stories
    assert older.count(b"<item") == 30
    versions = {"body": older, "etag": '"old"'}
    server.route("/bbc.xml", lambda req: conditional(versions["body"], versions["etag"])(req))
    config = config_for(server.url("/bbc.xml"))

    async def go() -> tuple[PollResult, PollResult, PollResult]:
        async with Fetcher(FAST) as fetcher:
            connector = FeedConnector(config, fetcher)
            before = await connector.poll(None)
            versions.update(body=bbc, etag='"new"')
            after = await connector.poll(before.cursor)
            again = await connector.poll(after.cursor)
            return before, after, again

    before, after, again = asyncio.run(go())
    assert len(before.items) == 30
    page = FeedConnector(config, None).parse(_response(config, bbc))  # type: ignore[arg-type]
    full = [normalise_or_reason(item) for item in page.items]
    expected = {item.id for item in full} - {item.id for item in before.items}
    assert len(expected) == 3 and {item.id for item in after.items} == expected
    assert not after.not_modified and again.not_modified and again.items == ()


def test_server_ignoring_conditional_requests_costs_no_parse(server, bbc):
    server.route("/bbc.xml", lambda req: Reply(200, bbc))  # no validators at all
    first, second = poll(config_for(server.url("/bbc.xml")), [None, None])
    assert len(first.items) == 33
    assert second.items == () and not second.not_modified and CountingFeed.parses == 1


def test_entries_seen_before_are_not_emitted_after_a_cursor_reset_of_validators(server, bbc):
    server.route("/bbc.xml", lambda req: Reply(200, bbc, {"ETag": '"v1"'}))
    [first] = poll(config_for(server.url("/bbc.xml")), [None])
    data = json.loads(first.cursor)
    stale = json.dumps({"s": data["s"]})  # same seen ids, no validators, no body hash
    [second] = poll(config_for(server.url("/bbc.xml")), [stale])
    assert second.items == () and CountingFeed.parses == 2


def test_language_hint_from_the_configuration(server, corpora):
    body = (corpora / UNDATED_LANGUAGE).read_bytes()
    server.route("/f.xml", lambda req: Reply(200, body))
    config = config_for(server.url("/f.xml"), name="Speaking Body", language="en-US")
    [result] = poll(config, [None])
    assert len(result.items) == 15
    assert {item.language_hint for item in result.items} == {"en"}


def test_not_a_feed_is_a_dead_letter_and_validators_are_dropped(server):
    page = b"<!doctype html><html><body><h1>Please log in</h1></body></html>"
    server.route("/feed", lambda req: Reply(200, page, {"ETag": '"login"'}))
    [result] = poll(config_for(server.url("/feed")), [None])
    assert result.items == () and not result.not_modified
    [letter] = result.dead_letters
    assert letter.kind == "file" and letter.reason.startswith("not a feed")
    assert "Please log in" in letter.raw
    assert "e" not in json.loads(result.cursor)


def test_parse_is_pure_and_matches_the_live_items(server, bbc):
    server.route("/bbc.xml", lambda req: Reply(200, bbc))
    config = config_for(server.url("/bbc.xml"))
    [live] = poll(config, [None])
    response = _response(config, bbc, captured=live.items[0].fetched)
    page = FeedConnector(config, None).parse(response)  # type: ignore[arg-type]  # as replay
    assert page.status == "parsed" and len(page.items) == 33
    replayed = sorted(normalise_or_reason(i).id for i in page.items)
    assert replayed == sorted(item.id for item in live.items)


@pytest.mark.parametrize(
    "reply, error, retry_after",
    [
        (Reply(429, b"", {"Retry-After": "90"}), TransientError, 90.0),
        (Reply(500, b"oops"), TransientError, None),
        (Reply(410, b"gone"), PermanentError, None),
    ],
)
def test_http_faults_reach_the_poller_as_errors(server, reply, error, retry_after):
    server.route("/feed", lambda req: reply)
    with pytest.raises(error) as info:
        poll(config_for(server.url("/feed")), [None])
    assert type(info.value) is error and getattr(info.value, "retry_after", None) == retry_after


def test_feed_hint_takes_the_largest_freshness_signal():
    def response(headers: dict[str, str], body: bytes = b"", status: int = 200) -> Response:
        return Response("u", "u", status, tuple(headers.items()), body, "2026-12-01T12:00:00Z")

    assert feed_hint(response({})) is None
    assert feed_hint(response({"cache-control": "max-age=120"})) == 120
    assert feed_hint(response({"cache-control": "max-age=120"}, b"<ttl>5</ttl>")) == 300
    assert feed_hint(response({"retry-after": "900"}, b"<ttl>5</ttl>")) == 900
    assert feed_hint(response({"cache-control": "no-cache"})) is None


def test_cursor_round_trip_and_bounds():
    cursor = FeedCursor('"e"', "Tue, 01 Dec 2026 10:00:00 GMT", "ab", ("1", "2"))
    assert FeedCursor.decode(cursor.encode()) == cursor
    assert FeedCursor.decode("not json") == FeedCursor() == FeedCursor.decode(None)
    assert FeedCursor.decode('["a"]') == FeedCursor()
    old = tuple(f"old{i}" for i in range(SEEN_LIMIT))
    merged = _merge_seen(["new1", "old3"], old)
    assert len(merged) == SEEN_LIMIT and merged[:3] == ("new1", "old3", "old0")
    long_feed = [f"n{i}" for i in range(SEEN_LIMIT + 50)]
    assert _merge_seen(long_feed, old) == tuple(long_feed)  # the whole current feed stays


def _response(
    config: SourceConfig, body: bytes, captured: str = "2026-12-01T12:00:00Z"
) -> Response:
    return Response(config.url, config.url, 200, (), body, captured)
