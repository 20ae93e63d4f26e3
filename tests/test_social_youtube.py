"""YouTube connector against a loopback channel feed (a sample written for this test)."""

from __future__ import annotations

import pytest

from connectors.base import SourceConfig
from connectors.youtube import YoutubeConnector
from tests.localserver import Reply
from tests.socialkit import fetch, poll

CHANNEL = "UCa1b2c3d4e5f6g7h8i9j0kL"

ENTRY = """
 <entry>
  <id>yt:video:{vid}</id>
  <yt:videoId>{vid}</yt:videoId>
  <yt:channelId>{channel}</yt:channelId>
  <title>{title}</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v={vid}"/>
  <author>
   <name>Harbour Monitoring Group</name>
   <uri>https://www.youtube.com/channel/{channel}</uri>
  </author>
  <published>{published}</published>
  <updated>2026-11-30T18:00:00+00:00</updated>
  <media:group>
   <media:title>{title}</media:title>
   <media:content url="https://www.youtube.com/v/{vid}?version=3"
     type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i3.ytimg.com/vi/{vid}/hqdefault.jpg" width="480" height="360"/>
   <media:description>{description}</media:description>
   <media:community>
    <media:starRating count="88" average="5.00" min="1" max="5"/>
    <media:statistics views="{views}"/>
   </media:community>
  </media:group>
 </entry>"""

VIDEOS = [
    (
        "Qw3rTy12345",
        "Briefing: shelling of the grain terminal",
        "2026-11-27T09:15:00+00:00",
        1520,
        "Eyewitnesses describe the night of 26 November.\nSatellite images: see the links below.",
    ),
    (
        "As-dF_67890",
        "Interview with the port's medical staff",
        "2026-11-28T14:02:31+00:00",
        884,
        "The head nurse on the evacuation of the wounded &amp; what is still needed.",
    ),
    (
        "Zx9cV8bN7m6",
        "Weekly summary, 23-29 November",
        "2026-11-29T20:45:00+00:00",
        97,
        "All reports from the week in one place.",
    ),
]


def _feed(videos) -> bytes:
    entries = "".join(
        ENTRY.format(vid=v, channel=CHANNEL, title=t, published=p, views=n, description=d)
        for v, t, p, n, d in sorted(videos, key=lambda v: v[2], reverse=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015"'
        ' xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">\n'
        f' <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"/>\n'
        f" <id>yt:channel:{CHANNEL[2:]}</id>\n <yt:channelId>{CHANNEL}</yt:channelId>\n"
        " <title>Harbour Monitoring Group</title>\n"
        f' <link rel="alternate" href="https://www.youtube.com/channel/{CHANNEL}"/>\n'
        f" <published>2019-05-02T10:00:00+00:00</published>{entries}\n</feed>\n"
    ).encode()


def _config(server) -> SourceConfig:
    return SourceConfig(
        name="Harbour Monitoring Group",
        kind="youtube",
        language="en",
        affiliation="ngo",
        options={"channel_id": CHANNEL, "base_url": server.url("")},
    )


def test_feed_entries_become_items_and_only_new_videos_follow(server):
    body = {"feed": _feed(VIDEOS[:2])}
    server.route(
        "/feeds/videos.xml",
        lambda r: Reply(200, body["feed"], {"Content-Type": "application/atom+xml"}),
    )
    config = _config(server)

    first = poll(config, None)
    assert server.hits("/feeds/videos.xml")[0].query == {"channel_id": [CHANNEL]}
    assert [i.guid for i in first.items] == ["yt:video:Qw3rTy12345", "yt:video:As-dF_67890"]
    briefing = first.items[0]
    assert briefing.url == "https://www.youtube.com/watch?v=Qw3rTy12345"
    assert briefing.title == "Briefing: shelling of the grain terminal"
    assert briefing.text == (
        "Eyewitnesses describe the night of 26 November.\nSatellite images: see the links below."
    )
    assert briefing.author == "Harbour Monitoring Group"
    assert briefing.published == "2026-11-27T09:15:00Z"
    assert briefing.views == 1520 and briefing.language_hint == "en"
    assert briefing.media[0].url == "https://i3.ytimg.com/vi/Qw3rTy12345/hqdefault.jpg"
    assert briefing.source.url == f"https://www.youtube.com/channel/{CHANNEL}"
    assert briefing.source.affiliation == "ngo"
    assert first.items[1].text.startswith("The head nurse on the evacuation of the wounded & what")
    assert first.cursor == "2026-11-28T14:02:31Z As-dF_67890"

    body["feed"] = _feed(VIDEOS)
    second = poll(config, first.cursor)
    assert [i.guid for i in second.items] == ["yt:video:Zx9cV8bN7m6"]
    assert second.cursor == "2026-11-29T20:45:00Z Zx9cV8bN7m6"
    assert poll(config, second.cursor).items == ()


def test_a_page_that_is_not_a_feed_is_a_dead_letter(server):
    server.route("/feeds/videos.xml", lambda r: Reply(200, b"<html><body>consent</body></html>"))
    config = _config(server)
    page = YoutubeConnector(config, None).parse(fetch(server.url("/feeds/videos.xml"), {}))
    assert page.status == "dead_letter" and page.items == ()
    assert "expected an Atom feed" in page.dead_letters[0].reason


def test_entities_are_not_expanded(server):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&b;</title></entry></feed>'
    )
    server.route("/feeds/videos.xml", lambda r: Reply(200, bomb))
    config = _config(server)
    page = YoutubeConnector(config, None).parse(fetch(server.url("/feeds/videos.xml"), {}))
    # The entry has no video id: a dead letter, and no expanded text anywhere.
    assert page.items == () and "yt:videoId" in page.dead_letters[0].reason
    assert "aaaaaaaaaa" not in page.dead_letters[0].raw


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "channel_id must be set"),
        ({"channel_id": "harbourgroup"}, "channel_id must match .* \\(got 'harbourgroup'\\)"),
    ],
)
def test_check_names_the_key_and_the_value(options, message):
    with pytest.raises(ValueError, match=message):
        YoutubeConnector.check(SourceConfig(name="y", kind="youtube", options=options))
