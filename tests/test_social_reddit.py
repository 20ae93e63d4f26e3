"""Reddit connector against a loopback API serving the real recorded listings."""

from __future__ import annotations

import base64
import json

import pytest

from connectors.base import SourceConfig
from connectors.reddit import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    TOKEN_ENV,
    RedditConnector,
    fullname_key,
)
from tests.localserver import Reply
from tests.socialkit import RecordingArchive, fetch, poll
from transforms.normalise import normalise_item

NEW = "/r/worldnews/new.json"


def _listing(corpora, name: str) -> dict:
    # Each cassette file wraps the listing with the request that fetched it.
    return json.loads((corpora / "social" / "reddit" / name).read_text())["listing"]


class Subreddit:
    """/r/<sub>/new.json: newest first, ``limit`` per page, ``after=<fullname>`` to older
    posts; posts become visible over time."""

    def __init__(self, listing: dict) -> None:
        self.posts = listing["data"]["children"]
        self.hidden = 0
        self.headers = {"Content-Type": "application/json; charset=UTF-8"}

    def __call__(self, request) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        limit = int(q.get("limit", "25"))
        shown = self.posts[self.hidden :]
        start = 0
        if "after" in q:
            start = [p["data"]["name"] for p in shown].index(q["after"]) + 1
        page = shown[start : start + limit]
        more = start + limit < len(shown)
        body = {
            "kind": "Listing",
            "data": {
                "children": page,
                "after": page[-1]["data"]["name"] if page and more else None,
                "before": None,
                "modhash": "",
            },
        }
        return Reply(200, json.dumps(body).encode(), self.headers)


def _config(server, **options) -> SourceConfig:
    return SourceConfig(
        name="r/worldnews",
        kind="reddit",
        language="en",
        options={"subreddit": "worldnews", "base_url": server.url(""), **options},
    )


def test_real_listing_becomes_items(server, corpora):
    server.route(NEW, Subreddit(_listing(corpora, "TestFront.test_new__1.listing.json")))
    result = poll(_config(server, limit=100), None)

    items = result.items
    assert len(items) == 100 and result.dead_letters == ()
    assert result.cursor == "t3_48f0th"  # the newest post
    assert items[0].guid == "t3_48ezfg" and items[-1].guid == "t3_48f0th"  # oldest first
    query = server.hits(NEW)[0].query
    assert query["raw_json"] == ["1"] and query["limit"] == ["100"]

    by_guid = {i.guid: i for i in items}
    news = by_guid["t3_48f0q4"]
    assert news.title.startswith("Google's Self-Driving Car in crash")
    assert news.author == "zeusdescartes"
    assert news.published == "2016-03-01T06:48:44Z"
    assert news.url == (
        "https://www.reddit.com/r/news/comments/48f0q4/"
        "googles_selfdriving_car_in_crash_possibly_the/"
    )
    assert news.links == (
        "http://time.com/4241998/google-self-driving-car-wreck/?xid=time_socialflow_facebook",
    )
    assert news.language_hint == "en"
    assert news.source.url == "https://www.reddit.com/r/worldnews/"

    selfpost = by_guid["t3_48f0th"]
    assert selfpost.links == ()
    assert selfpost.text.startswith("Pokémon would be shot by police regularly.")
    assert "<" not in selfpost.text
    image = by_guid["t3_48ezj9"]
    assert ("photo", "http://i.imgur.com/QWQZZjR.jpg") in [(m.type, m.url) for m in image.media]


@pytest.mark.parametrize(
    "name",
    [
        "TestDomainListing.test_hot__1.listing.json",
        "TestFront.test_best__1.listing.json",
        "TestFront.test_hot__1.listing.json",
        "TestFront.test_top__1.listing.json",
        "TestSubreddit.test_search__1.listing.json",
    ],
)
def test_every_recorded_listing_parses(server, corpora, name):
    listing = _listing(corpora, name)
    server.route("/listing", lambda r: Reply(200, json.dumps(listing).encode()))
    config = _config(server)
    page = RedditConnector(config, None).parse(fetch(server.url("/listing"), config.to_dict()))
    children = listing["data"]["children"]
    assert page.dead_letters == () and len(page.items) == len(children)
    assert [i.guid for i in page.items] == [c["data"]["name"] for c in children]
    assert page.next_page == listing["data"]["after"]
    for item, child in zip(page.items, children, strict=True):
        post = child["data"]
        assert (item.title, item.author) == (post["title"], post["author"])
        assert normalise_item(item).id
    videos = [m for i in page.items for m in i.media if m.type == "video"]
    if name == "TestFront.test_best__1.listing.json":
        assert len(videos) == 4 and all("v.redd.it" in m.url for m in videos)


def test_second_poll_pages_back_with_after(server, corpora):
    sub = Subreddit(_listing(corpora, "TestFront.test_new__1.listing.json"))
    sub.hidden = 60
    server.route(NEW, sub)
    config = _config(server, limit=25)

    first = poll(config, None)
    assert [i.guid for i in first.items] == [p["data"]["name"] for p in reversed(sub.posts[60:85])]
    assert first.cursor == sub.posts[60]["data"]["name"]

    sub.hidden = 0
    second = poll(config, first.cursor)
    assert [i.guid for i in second.items] == [p["data"]["name"] for p in reversed(sub.posts[:60])]
    assert second.cursor == "t3_48f0th" and second.fetches == 3
    afters = [r.query.get("after") for r in server.hits(NEW)[1:]]
    assert afters == [None, [sub.posts[24]["data"]["name"]], [sub.posts[49]["data"]["name"]]]

    third = poll(config, second.cursor)
    assert third.items == () and third.cursor == "t3_48f0th" and third.fetches == 1


def test_rate_limit_reset_is_the_retry_hint(server, corpora):
    sub = Subreddit(_listing(corpora, "TestFront.test_new__1.listing.json"))
    sub.headers.update(
        {"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "42", "x-ratelimit-used": "600"}
    )
    server.route(NEW, sub)
    result = poll(_config(server, limit=10), "t3_48ezfg")
    assert result.retry_after == 42.0 and result.fetches == 1 and len(result.items) == 10


def test_oauth_token_from_the_environment_is_sent_and_never_archived(server, corpora, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "secret-token-value")
    server.route(NEW, Subreddit(_listing(corpora, "TestFront.test_new__1.listing.json")))
    config = SourceConfig(
        name="r/worldnews",
        kind="reddit",
        options={"subreddit": "worldnews", "oauth_url": server.url(""), "limit": 5},
    )
    archive = RecordingArchive()
    result = poll(config, None, archive=archive)

    assert len(result.items) == 5
    assert server.hits(NEW)[0].headers["authorization"] == "bearer secret-token-value"
    (exchange,) = archive.responses
    assert "authorization" not in dict(exchange.request_headers)
    assert "secret-token-value" not in json.dumps([exchange.request_headers, exchange.context])


def test_fullname_order():
    assert fullname_key("t3_48f0th") > fullname_key("t3_48ezfg")
    with pytest.raises(ValueError, match="not a reddit fullname: '48f0th'"):
        fullname_key("48f0th")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "subreddit must be set"),
        ({"subreddit": "no/slashes"}, "subreddit must match .* \\(got 'no/slashes'\\)"),
        ({"subreddit": "news", "oauth_url": "oauth.reddit.com"}, "oauth_url must be an http"),
        ({"subreddit": "news", "limit": "100"}, "limit must be an integer .* \\(got '100'\\)"),
    ],
)
def test_check_names_the_key_and_the_value(options, message):
    with pytest.raises(ValueError, match=message):
        RedditConnector.check(SourceConfig(name="r", kind="reddit", options=options))


def test_oauth_client_credentials_from_the_environment(server, corpora, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(CLIENT_ID_ENV, "desk-app")
    monkeypatch.setenv(CLIENT_SECRET_ENV, "desk-app-secret")
    grants = []

    def access_token(request):
        grants.append((request.method, request.headers.get("authorization"), request.body))
        body = {"access_token": "app-token-1", "token_type": "bearer", "expires_in": 86400}
        return Reply(200, json.dumps(body).encode())

    server.route("/api/v1/access_token", access_token)
    server.route(NEW, Subreddit(_listing(corpora, "TestFront.test_new__1.listing.json")))
    config = SourceConfig(
        name="r/worldnews",
        kind="reddit",
        options={
            "subreddit": "worldnews",
            "auth_url": server.url(""),
            "oauth_url": server.url(""),
            "limit": 3,
        },
    )
    archive = RecordingArchive()
    result = poll(config, None, archive=archive)

    assert [i.guid for i in result.items] == ["t3_48f0qw", "t3_48f0ri", "t3_48f0th"]
    basic = "Basic " + base64.b64encode(b"desk-app:desk-app-secret").decode()
    assert grants == [("POST", basic, b"grant_type=client_credentials")]
    assert server.hits(NEW)[0].headers["authorization"] == "bearer app-token-1"
    archived = json.dumps([[r.request_headers, r.context, r.url] for r in archive.responses])
    assert len(archive.responses) == 1
    assert "app-token-1" not in archived and "desk-app-secret" not in archived
