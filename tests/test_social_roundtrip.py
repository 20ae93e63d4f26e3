"""Live social polls -> WARC -> replay: the same items, with the same ids."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from connectors.base import SourceConfig
from connectors.warc import WarcArchive
from connectors.warcreplay import replay_warc
from tests.localserver import Reply
from tests.socialkit import poll
from transforms.item import to_json
from transforms.normalise import normalise_item


def _replay(directory: Path) -> list:
    items = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as stream:
            outcome = replay_warc(stream, path.name)
        assert outcome.dead_letters == ()
        items.extend(normalise_item(i) for i in outcome.items)
    return items


def test_telegram_and_mastodon_polls_replay_to_identical_items(server, corpora, tmp_path):
    social = corpora / "social"
    server.route(
        "/s/topwar_official", lambda r: Reply(200, (social / "telegram/full.html").read_bytes())
    )
    entity = json.loads(
        (social / "mastodon/api_v1_statuses_ID__test_entity_status.json").read_text()
    )
    server.route(
        "/api/v1/accounts/lookup",
        lambda r: Reply(200, json.dumps(entity["body"]["account"]).encode()),
    )
    server.route(
        "/api/v1/accounts/43/statuses", lambda r: Reply(200, json.dumps([entity["body"]]).encode())
    )
    telegram = SourceConfig(
        name="topwar",
        kind="telegram",
        country="RU",
        language="ru",
        options={"channel": "topwar_official", "base_url": server.url("")},
    )
    mastodon = SourceConfig(
        name="halcy",
        kind="mastodon",
        url=server.url(""),
        affiliation="individual",
        options={"account": "halcy"},
    )
    archive = WarcArchive(tmp_path)
    live = list(poll(telegram, None, archive=archive).items)
    live += poll(mastodon, None, archive=archive).items
    assert len(live) == 13 and all(i.archive and i.archive.file.endswith(".warc.gz") for i in live)

    replayed = _replay(tmp_path)
    assert sorted(to_json(i) for i in replayed) == sorted(to_json(i) for i in live)


def test_bluesky_reddit_and_youtube_polls_replay_to_identical_items(
    server, corpora, tmp_path, monkeypatch
):
    from tests.test_social_youtube import CHANNEL, VIDEOS, _feed

    monkeypatch.setenv("NEWSWATCH_REDDIT_TOKEN", "token-not-for-the-archive")
    social = corpora / "social"
    posts = json.loads((social / "bluesky/bluesky-posts.json").read_text())[:40]
    feed = {"feed": [p if "post" in p else {"post": p} for p in posts], "cursor": "40"}
    server.route(
        "/xrpc/app.bsky.feed.getAuthorFeed", lambda r: Reply(200, json.dumps(feed).encode())
    )
    listing = json.loads((social / "reddit/TestFront.test_hot__1.listing.json").read_text())
    server.route(
        "/r/worldnews/new.json", lambda r: Reply(200, json.dumps(listing["listing"]).encode())
    )
    server.route("/feeds/videos.xml", lambda r: Reply(200, _feed(VIDEOS)))
    sources = [
        SourceConfig(
            name="b", kind="bluesky", options={"actor": "a.bsky.social", "base_url": server.url("")}
        ),
        SourceConfig(
            name="r",
            kind="reddit",
            country="GB",
            options={"subreddit": "worldnews", "oauth_url": server.url("")},
        ),
        SourceConfig(
            name="y",
            kind="youtube",
            language="en",
            options={"channel_id": CHANNEL, "base_url": server.url("")},
        ),
    ]
    archive = WarcArchive(tmp_path)
    live = [item for config in sources for item in poll(config, None, archive=archive).items]
    assert len(live) == 40 + 100 + 3

    replayed = _replay(tmp_path)
    assert sorted(to_json(i) for i in replayed) == sorted(to_json(i) for i in live)
    for path in tmp_path.glob("*.warc.gz"):
        assert b"token-not-for-the-archive" not in gzip.decompress(path.read_bytes())
