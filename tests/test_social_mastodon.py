"""Mastodon connector against a loopback instance serving real statuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import SourceConfig
from connectors.mastodon import MastodonConnector, status_key
from tests.localserver import Reply
from tests.socialkit import poll

TAG = "/api/v1/timelines/tag/news"


@pytest.fixture
def statuses(corpora) -> list[dict]:
    return json.loads(
        (corpora / "social" / "mastodon" / "public_timeline_2020-04-16.json").read_text()
    )


class Timeline:
    """A Mastodon timeline endpoint: newest first; ``max_id``/``since_id`` bound it,
    ``min_id`` gives the page right after it; statuses become visible over time."""

    def __init__(self, statuses: list[dict]) -> None:
        self.statuses = sorted(statuses, key=lambda s: status_key(s["id"]), reverse=True)
        self.visible = len(self.statuses)
        self.remaining = 299
        self.reset = "2026-12-01T13:00:00.000Z"

    def __call__(self, request) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        limit = int(q.get("limit", 20))
        shown = self.statuses[-self.visible :]
        if "max_id" in q:
            shown = [s for s in shown if status_key(s["id"]) < status_key(q["max_id"])]
        for bound in ("since_id", "min_id"):
            if bound in q:
                shown = [s for s in shown if status_key(s["id"]) > status_key(q[bound])]
        page = shown[-limit:] if "min_id" in q else shown[:limit]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": self.reset,
        }
        return Reply(200, json.dumps(page).encode(), headers)


def _config(server, **options) -> SourceConfig:
    return SourceConfig(
        name="news tag",
        kind="mastodon",
        url=server.url(""),
        language="ja",  # the fallback hint, for statuses without a language
        options={"hashtag": "news", **options},
    )


def test_real_statuses_become_items(server, statuses):
    server.route(TAG, Timeline(statuses))
    result = poll(_config(server, limit=40), None)

    items = result.items
    assert len(items) == 20 and result.dead_letters == ()
    # Oldest first; the cursor is the newest status id.
    assert result.cursor == "104009345973121628"
    by_guid = {i.guid: i for i in items}
    assert (
        items[-1].guid
        == "https://friendica.chilemasto.casa/objects/e7f1d4da94e7709966bfc900101aebf181299505"
    )
    assert items[0].guid == "https://loma.ml/objects/373ebf56-155e-9890-0e13-0bd795210214"
    assert items[0].url == "https://loma.ml/display/373ebf56-155e-9890-0e13-0bd795210214"

    first = items[-1]
    assert first.author == "elmostrador@friendica.chilemasto.casa"
    assert first.published == "2020-04-16T16:45:08Z"
    assert first.language_hint == "es"
    assert first.text.startswith("“Léanlo completo”: la respuesta de Mañalich")
    assert "https://tinyurl.com/y7ku9teg" in first.links
    assert first.source.url == server.url("/tags/news")

    languages = sorted({i.language_hint for i in items})
    assert languages == ["ca", "da", "de", "en", "es", "fr", "ja", "nl", "zh"]
    # No language of its own: the source's language is the hint.
    yuri = by_guid["https://pawoo.net/users/Heibonn_hiroro/statuses/104009345448989482"]
    assert yuri.language_hint == "ja" and yuri.text == "百合"
    assert [m.type for m in yuri.media] == ["unknown", "unknown"]
    # A content warning is the title; hashtag links are not article links.
    karen = by_guid["https://cybre.space/users/rick_777/statuses/104009344123431312"]
    assert karen.title == "Karen meme explained" and karen.author == "rick_777@cybre.space"
    inkscape = items[0]
    assert inkscape.language_hint == "de" and inkscape.title == ""
    assert not any("/tags/" in link for link in inkscape.links)
    assert len({i.id for i in items}) == 20


def test_second_poll_walks_forward_with_min_id(server, statuses):
    timeline = Timeline(statuses)
    timeline.visible = 8
    server.route(TAG, timeline)
    config = _config(server, limit=5)

    first = poll(config, None)
    oldest_eight = timeline.statuses[-8:]
    assert [i.guid for i in first.items] == [s["uri"] for s in reversed(oldest_eight[:5])]
    assert first.cursor == oldest_eight[0]["id"]

    timeline.visible = 20
    second = poll(config, first.cursor)
    newer = list(reversed(timeline.statuses[:12]))
    assert [i.guid for i in second.items] == [s["uri"] for s in newer]
    assert second.cursor == "104009345973121628" and second.fetches == 3
    min_ids = [r.query["min_id"][0] for r in server.hits(TAG)[1:]]
    assert min_ids == [first.cursor, newer[4]["id"], newer[9]["id"]]

    third = poll(config, second.cursor)
    assert third.items == () and third.cursor == second.cursor and third.fetches == 1


def test_rate_limit_reset_is_the_retry_hint(server, statuses):
    timeline = Timeline(statuses)
    timeline.remaining = 0
    reset = datetime.now(UTC) + timedelta(seconds=120)
    timeline.reset = reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    server.route(TAG, timeline)

    result = poll(_config(server, limit=5), "104009345015110021")
    # Paging stops at the exhausted budget; the items got so far are kept.
    assert result.fetches == 1 and len(result.items) == 5
    assert 100 < result.retry_after <= 120


def test_account_statuses_by_acct_lookup(server, corpora):
    entity = json.loads(
        (
            corpora / "social" / "mastodon" / "api_v1_statuses_ID__test_entity_status.json"
        ).read_text()
    )["body"]
    server.route(
        "/api/v1/accounts/lookup", lambda r: Reply(200, json.dumps(entity["account"]).encode())
    )
    server.route(
        "/api/v1/accounts/43/statuses", lambda r: Reply(200, json.dumps([entity]).encode())
    )
    config = SourceConfig(
        name="halcy", kind="mastodon", url=server.url(""), options={"account": "@halcy"}
    )

    result = poll(config, None)
    assert server.hits("/api/v1/accounts/lookup")[0].query == {"acct": ["halcy"]}
    (item,) = result.items
    assert item.guid == "https://mastodon.social/users/halcy/statuses/110446183735368325"
    assert (item.author, item.language_hint, item.text) == ("halcy", "de", "test?")
    assert item.published == "2023-05-28T11:57:00Z"
    assert item.source.url == server.url("/@halcy")
    assert result.cursor == "110446183735368325"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "hashtag or account: set exactly one of them"),
        ({"hashtag": "a", "account": "b"}, "hashtag or account: set exactly one of them"),
        ({"hashtag": "two words"}, "hashtag must match .* \\(got 'two words'\\)"),
        ({"account": "x", "limit": 80}, "limit must be an integer from 1 to 40 \\(got 80\\)"),
    ],
)
def test_check_names_the_key_and_the_value(options, message):
    with pytest.raises(ValueError, match=message):
        MastodonConnector.check(SourceConfig(name="m", kind="mastodon", options=options))
