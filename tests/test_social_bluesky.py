"""Bluesky connector against a loopback AppView serving the 123 real post views."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from connectors.base import SourceConfig
from connectors.bluesky import HANDLE_ENV, PASSWORD_ENV, BlueskyConnector
from connectors.errors import PermanentError
from tests.localserver import Reply
from tests.socialkit import RecordingArchive, fetch, poll
from transforms.normalise import normalise_item

FEED = "/xrpc/app.bsky.feed.getAuthorFeed"


@pytest.fixture
def views(corpora) -> list[dict]:
    """The file's entries as getAuthorFeed items: bare post views get wrapped."""
    posts = json.loads((corpora / "social" / "bluesky" / "bluesky-posts.json").read_text())
    return [p if "post" in p else {"post": p} for p in posts]


def _when(view: dict) -> datetime:
    stamp = (view.get("reason") or {}).get("indexedAt") or view["post"]["indexedAt"]
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:  # a year-0 timestamp: oldest
        return datetime.fromisoformat("0001-01-01T00:00:00+00:00")


class AuthorFeed:
    """getAuthorFeed: newest first, ``limit`` per page, an opaque ``cursor`` to older ones;
    entries become visible over time."""

    def __init__(self, views: list[dict]) -> None:
        unique = {(v["post"]["uri"], (v.get("reason") or {}).get("indexedAt")): v for v in views}
        self.views = sorted(unique.values(), key=_when, reverse=True)
        self.hidden = 0

    def __call__(self, request) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        start = int(q.get("cursor", "0"))
        limit = int(q.get("limit", "50"))
        shown = self.views[self.hidden :]
        page = shown[start : start + limit]
        body = {"feed": page}
        if start + limit < len(shown):
            body["cursor"] = str(start + limit)
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _config(server, **options) -> SourceConfig:
    return SourceConfig(
        name="chercheurs",
        kind="bluesky",
        country="FR",
        options={"actor": "yomguithereal.bsky.social", "base_url": server.url(""), **options},
    )


def test_123_real_posts_become_items(server, views):
    body = json.dumps({"feed": views, "cursor": "3lkizm6uvhc2b"}).encode()
    server.route(FEED, lambda r: Reply(200, body, {"Content-Type": "application/json"}))
    config = _config(server)
    response = fetch(server.url(FEED + "?actor=yomguithereal.bsky.social"), config.to_dict())
    page = BlueskyConnector(config, fetcher=None).parse(response)

    assert len(page.items) == 123 and page.dead_letters == ()
    assert page.next_page == "3lkizm6uvhc2b"
    items = [normalise_item(i) for i in page.items]
    assert len({i.guid for i in items}) == 119  # the file lists four posts twice
    assert len({i.id for i in items}) == 119

    first = items[0]
    assert first.guid == "at://did:plc:crmrddqmbqzyqd24yjlpibz2/app.bsky.feed.post/3lkizm6uvhc2b"
    assert first.url == "https://bsky.app/profile/pecqueuxanthony.bsky.social/post/3lkizm6uvhc2b"
    assert first.author == "pecqueuxanthony.bsky.social"
    assert first.published == "2025-03-16T16:09:09Z"
    assert first.language_hint == "fr"
    assert first.text.startswith("Autre extrait de cet article, ce passage d'un rapport Hcéres")
    assert [m.type for m in first.media] == ["photo"]
    assert first.source.url == "https://bsky.app/profile/yomguithereal.bsky.social"
    assert first.source.country == "FR"

    by_guid = {i.guid: i for i in items}
    korben = by_guid["at://did:plc:aru6i7k6wo43msubk6km5td3/app.bsky.feed.post/3lloj4ipqqh27"]
    assert korben.language_hint == "fr"  # langs ["fr-FR"]
    assert korben.published == "2025-03-31T13:55:10Z"  # microseconds in createdAt
    assert korben.links == (
        "https://korben.info/xan-couteau-suisse-manipulation-csv-ligne-commande.html",
    )
    offset = by_guid["at://did:plc:u5d54hkw4ysuqtuvcj6cmsin/app.bsky.feed.post/3lqotmopayr23"]
    assert offset.published == "2025-06-03T08:09:12Z"  # "+00:00" offset form
    assert offset.language_hint is None  # no langs, and the source declares none
    # A client-made time of year 0 (and an index time to match) reads as unknown.
    year0 = by_guid["at://did:plc:jhzoul6h437y2g5xsnsr2qr5/app.bsky.feed.post/3kbpuogc6fz2o"]
    assert (year0.published, year0.text) == (None, "le post il daaaaaaate")
    video = by_guid["at://did:plc:jqs453ktxco5ho5z46wardhp/app.bsky.feed.post/3lk7xgxguf22k"]
    assert video.media[0].type == "video" and video.media[0].url.endswith("/playlist.m3u8")
    linked = by_guid["at://did:plc:gf474l4mkf7icwpvesuejesr/app.bsky.feed.post/3lkdnb2gtzk2c"]
    assert "https://laviedesidees.fr/L-HCERES-et-l-evaluation-des-universites" in linked.links
    langs = {i.language_hint for i in items}
    assert {"fr", "en", "pt", "ko", "ja", "es"} <= langs


def test_source_language_is_the_fallback_hint(server, views):
    body = json.dumps({"feed": views}).encode()
    server.route(FEED, lambda r: Reply(200, body))
    config = SourceConfig(
        name="x",
        kind="bluesky",
        language="fr",
        options={"actor": "a.bsky.social", "base_url": server.url("")},
    )
    page = BlueskyConnector(config, None).parse(fetch(server.url(FEED), config.to_dict()))
    hints = {i.guid: i.language_hint for i in page.items}
    assert hints["at://did:plc:u5d54hkw4ysuqtuvcj6cmsin/app.bsky.feed.post/3lqotmopayr23"] == "fr"
    assert hints["at://did:plc:crmrddqmbqzyqd24yjlpibz2/app.bsky.feed.post/3lkizm6uvhc2b"] == "fr"
    assert None not in hints.values()


def test_second_poll_follows_the_cursor_to_older_pages(server, views):
    feed = AuthorFeed(views)
    feed.hidden = 30
    server.route(FEED, feed)
    config = _config(server, limit=20)

    first = poll(config, None)
    assert first.fetches == 1
    assert {i.guid for i in first.items} == {v["post"]["uri"] for v in feed.views[30:50]}
    newest = feed.views[30]
    assert first.cursor.endswith(" " + newest["post"]["uri"])

    feed.hidden = 0
    second = poll(config, first.cursor)
    assert second.fetches == 2
    assert server.hits(FEED)[-1].query["cursor"] == ["20"]
    assert sorted(i.guid for i in second.items) == sorted(v["post"]["uri"] for v in feed.views[:30])
    assert server.hits(FEED)[-1].query["actor"] == ["yomguithereal.bsky.social"]

    third = poll(config, second.cursor)
    assert third.items == () and third.cursor == second.cursor and third.fetches == 1


def test_search_needs_credentials_from_the_environment(server, monkeypatch):
    monkeypatch.delenv(HANDLE_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    config = SourceConfig(
        name="s", kind="bluesky", options={"query": "war crimes", "auth_url": server.url("")}
    )
    with pytest.raises(PermanentError, match=f"{HANDLE_ENV} and {PASSWORD_ENV}"):
        poll(config, None)
    assert server.requests == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "actor or query: set exactly one of them"),
        ({"actor": "a.bsky.social", "query": "q"}, "actor or query: set exactly one of them"),
        ({"actor": "a b"}, "actor must match .* \\(got 'a b'\\)"),
        ({"actor": "a.bsky.social", "filter": "all"}, "filter must be one of .* \\(got 'all'\\)"),
        ({"query": "q", "limit": 101}, "limit must be an integer from 1 to 100 \\(got 101\\)"),
    ],
)
def test_check_names_the_key_and_the_value(options, message):
    with pytest.raises(ValueError, match=message):
        BlueskyConnector.check(SourceConfig(name="b", kind="bluesky", options=options))


def test_search_with_an_app_password_keeps_the_session_out_of_the_archive(
    server, views, monkeypatch
):
    monkeypatch.setenv(HANDLE_ENV, "desk.example.org")
    monkeypatch.setenv(PASSWORD_ENV, "abcd-efgh-ijkl-mnop")
    sessions = []

    def create_session(request):
        sessions.append(json.loads(request.body))
        token = f"jwt-{len(sessions)}"
        return Reply(200, json.dumps({"accessJwt": token, "did": "did:plc:desk"}).encode())

    def search(request):
        if request.headers.get("authorization") == "Bearer jwt-1":  # expired meanwhile
            return Reply(400, b'{"error":"ExpiredToken","message":"Token has expired"}')
        assert request.headers.get("authorization") == "Bearer jwt-2"
        body = {"posts": [v["post"] for v in views[:10]], "cursor": "10"}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    server.route("/xrpc/com.atproto.server.createSession", create_session)
    server.route("/xrpc/app.bsky.feed.searchPosts", search)
    config = SourceConfig(
        name="search", kind="bluesky", options={"query": "HCERES", "auth_url": server.url("")}
    )
    archive = RecordingArchive()
    result = poll(config, None, archive=archive)

    assert len(result.items) == 10
    assert {i.guid for i in result.items} == {v["post"]["uri"] for v in views[:10]}
    assert sessions == [{"identifier": "desk.example.org", "password": "abcd-efgh-ijkl-mnop"}] * 2
    query = server.hits("/xrpc/app.bsky.feed.searchPosts")[-1].query
    assert query["q"] == ["HCERES"] and query["sort"] == ["latest"]
    # Only the searches were archived (the refused one included), never the session
    # exchanges, and no credential is in what was archived.
    assert [r.status for r in archive.responses] == [400, 200]
    archived = json.dumps(
        [[r.request_headers, r.context, r.url, r.body.decode()] for r in archive.responses]
    )
    for secret in ("jwt-1", "jwt-2", "abcd-efgh-ijkl-mnop"):
        assert secret not in archived
    assert result.items[0].source.url == "https://bsky.app/search?q=HCERES"
