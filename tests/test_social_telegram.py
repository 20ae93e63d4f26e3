"""Telegram connector against a loopback t.me serving the real channel preview (full.html)."""

from __future__ import annotations

import copy

import lxml.html
import pytest

from connectors.base import SourceConfig
from connectors.telegram import TelegramConnector, parse_views
from tests.localserver import Reply
from tests.socialkit import RecordingArchive, fetch, poll
from transforms.normalise import normalise_item

IDS = [70989, 70990, 70992, 70995, 70996, 70997, 70998, 70999, 71000, 71006, 71007, 71008]
WRAP = '//div[contains(concat(" ", normalize-space(@class), " "), " tgme_widget_message_wrap ")]'


def _config(server, **options) -> SourceConfig:
    return SourceConfig(
        name="Военное обозрение",
        kind="telegram",
        country="RU",
        language="ru",
        affiliation="party to a conflict",
        options={"channel": "topwar_official", "base_url": server.url(""), **options},
    )


@pytest.fixture
def full_html(corpora) -> bytes:
    return (corpora / "social" / "telegram" / "full.html").read_bytes()


class Channel:
    """t.me/s/<channel> as Telegram serves it: the latest ``size`` visible messages,
    oldest first, ``?before=<id>`` for older ones; messages become visible over time."""

    def __init__(self, html: bytes, size: int) -> None:
        self.doc = lxml.html.document_fromstring(html)
        self.size = size
        self.visible = max(IDS)

    def __call__(self, request) -> Reply:
        before = int(request.query["before"][0]) if "before" in request.query else None
        doc = copy.deepcopy(self.doc)
        wraps = doc.xpath(WRAP)
        shown = [
            w
            for w in wraps
            if int(w.xpath(".//@data-post")[0].split("/")[1]) <= self.visible
            and (before is None or int(w.xpath(".//@data-post")[0].split("/")[1]) < before)
        ][-self.size :]
        for wrap in wraps:
            if wrap not in shown:
                wrap.getparent().remove(wrap)
        oldest = shown[0].xpath(".//@data-post")[0].split("/")[1] if shown else "1"
        for link in doc.xpath("//link[@rel='prev']"):
            link.set("href", f"/s/topwar_official?before={oldest}")
        return Reply(200, lxml.html.tostring(doc), {"Content-Type": "text/html; charset=utf-8"})


def test_twelve_real_posts_become_items(server, full_html):
    server.route(
        "/s/topwar_official", lambda r: Reply(200, full_html, {"Content-Type": "text/html"})
    )
    archive = RecordingArchive()
    result = poll(_config(server), None, archive=archive)

    items = result.items
    assert [i.guid for i in items] == [f"https://t.me/topwar_official/{n}" for n in IDS]
    assert result.cursor == "71008" and result.dead_letters == () and result.fetches == 1
    assert len({i.id for i in items}) == 12 and all(len(i.id) == 32 for i in items)

    first = items[0]
    assert first.url == "https://t.me/topwar_official/70989"
    assert first.published == "2023-02-28T07:47:53Z"
    assert first.author == "Военное обозрение"
    assert first.views == 37200
    assert first.language_hint == "ru"
    # Normalised: markup gone, the <br/> a line break.
    assert first.text.startswith("В Санкт-Петербурге в небо над городом подняли истребители")
    assert "Судя по сервису Flightradar" in first.text and "<" not in first.text
    assert [m.type for m in first.media] == ["photo"]
    assert first.media[0].url.startswith("https://cdn4.telegram-cdn.org/file/J1iJAZDc")
    assert first.source.url == "https://t.me/topwar_official"
    assert (first.source.country, first.source.affiliation) == ("RU", "party to a conflict")
    assert first.fetched == archive.responses[0].captured_at
    assert first.archive is not None and first.archive.record_id == "<urn:test:1>"

    by_id = {int(i.guid.rsplit("/", 1)[1]): i for i in items}
    # An album: two photos and a video of the group, one text.
    album = by_id[70992]
    assert [m.type for m in album.media] == ["photo", "photo", "video"]
    assert album.media[2].url.startswith("https://cdn4.telegram-cdn.org/file/ee2e53dc9f.mp4")
    assert album.text.startswith("Сегодня ночью в Республике Адыгея упал")
    assert album.text.count("Сегодня ночью") == 1
    # A forward with a link in the text and a link preview.
    forward = by_id[70996]
    assert forward.links == (
        "https://t.me/infantmilitario/93419",
        "https://t.me/yaremshooter",
        "http://t.me/infantmilitario/93419",
    )
    assert forward.media == (forward.media[0],) and forward.media[0].type == "link_preview"
    assert forward.views == 32900 and forward.published == "2023-02-28T09:06:02Z"
    # A video too big for the preview: its message link is the reference.
    assert [(m.type, m.url) for m in by_id[71006].media] == [
        ("video", "https://t.me/topwar_official/71006")
    ]
    assert by_id[71008].views == 14900 and by_id[71008].published == "2023-02-28T13:14:03Z"


def test_parse_is_pure_and_matches_the_poll(server, full_html):
    server.route("/s/topwar_official", lambda r: Reply(200, full_html))
    config = _config(server)
    response = fetch(server.url("/s/topwar_official"), context=config.to_dict())
    connector = TelegramConnector(config, fetcher=None)
    page = connector.parse(response)
    assert page == connector.parse(response)
    assert page.next_page == server.url("/s/topwar_official?before=70989")
    replayed = [normalise_item(i).id for i in page.items]
    assert replayed == [i.id for i in poll(config, None).items]


def test_second_poll_gets_only_newer_messages_paging_back_with_before(server, full_html):
    channel = Channel(full_html, size=4)
    channel.visible = 70996
    server.route("/s/topwar_official", channel)
    config = _config(server)

    first = poll(config, None)
    assert [i.guid.rsplit("/", 1)[1] for i in first.items] == ["70990", "70992", "70995", "70996"]
    assert first.cursor == "70996"

    channel.visible = max(IDS)
    second = poll(config, first.cursor)
    got = [int(i.guid.rsplit("/", 1)[1]) for i in second.items]
    assert got == [70997, 70998, 70999, 71000, 71006, 71007, 71008]
    assert second.cursor == "71008" and second.fetches == 2
    assert [r.query.get("before") for r in server.hits("/s/topwar_official")[-2:]] == [
        None,
        ["71000"],
    ]

    third = poll(config, second.cursor)
    assert third.items == () and third.cursor == "71008" and third.fetches == 1


@pytest.mark.parametrize(
    ("text", "views"),
    [("37.2K", 37200), ("1.1M", 1100000), ("815", 815), ("", None), ("n/a", None)],
)
def test_view_counts(text, views):
    assert parse_views(text) == views


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "channel must be set"),
        ({"channel": "no spaces please"}, "channel must match .* \\(got 'no spaces please'\\)"),
        ({"channel": "ok_name", "max_pages": 0}, "max_pages must be an integer .* \\(got 0\\)"),
        ({"channel": "ok_name", "base_url": "t.me"}, "base_url must be an http\\(s\\) URL"),
    ],
)
def test_check_names_the_key_and_the_value(options, message):
    with pytest.raises(ValueError, match=message):
        TelegramConnector.check(SourceConfig(name="x", kind="telegram", options=options))
