"""Saved feeds to items: every file ends parsed, empty or dead-lettered."""

from __future__ import annotations

import json

import pytest

from connectors.feeds import RAW_EXCERPT, entry_to_item, parse_feed
from connectors.jsonfeed import looks_like_json_feed, parse_json_feed
from transforms.item import Source

RSS20 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Caucasus Wire</title>
  <link>https://wire.example/</link>
  <atom:link rel="self" href="https://wire.example/rss.xml"/>
  <language>en-GB</language>
  <item>
    <title>Shelling reported near the border</title>
    <link>https://wire.example/news/1</link>
    <guid isPermaLink="false">wire-1</guid>
    <pubDate>Tue, 10 Mar 2026 10:30:00 +0200</pubDate>
    <author>desk@wire.example (Desk)</author>
    <description><![CDATA[<p>Witnesses <b>described</b> the shelling.</p>]]></description>
  </item>
  <item>
    <title>Second story</title>
    <link>https://wire.example/news/2</link>
    <pubDate>Wed, 11 Mar 2026 00:00:00 GMT</pubDate>
    <description>Entity-escaped &lt;p&gt;markup&lt;/p&gt;</description>
  </item>
</channel>
</rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="uk">
  <title>Prosecutor Office</title>
  <link href="https://prok.example/"/>
  <id>urn:uuid:feed</id>
  <updated>2026-03-10T12:00:00Z</updated>
  <entry>
    <title>Розслідування розпочато</title>
    <link rel="alternate" href="https://prok.example/a/1"/>
    <id>urn:uuid:entry-1</id>
    <published>2026-03-10T12:00:00+02:00</published>
    <updated>2026-03-10T13:00:00+02:00</updated>
    <author><name>Press Office</name></author>
    <summary>Short summary.</summary>
    <content type="html">&lt;p&gt;Full text of the entry.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Only updated</title>
    <link href="https://prok.example/a/2"/>
    <id>urn:uuid:entry-2</id>
    <updated>2026-03-09T23:30:00-01:00</updated>
  </entry>
</feed>""".encode()

RSS10 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://qafqaz.example/rss">
    <title>Qafqaz</title>
    <link>https://qafqaz.example/</link>
    <description>News</description>
    <dc:language>az</dc:language>
    <items><rdf:Seq><rdf:li rdf:resource="https://qafqaz.example/x/1"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://qafqaz.example/x/1">
    <title>Xəbər başlığı</title>
    <link>https://qafqaz.example/x/1</link>
    <description>Mətn.</description>
    <dc:date>2026-03-08T09:15:00+04:00</dc:date>
  </item>
</rdf:RDF>""".encode()

EMPTY_RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Quiet</title><link>https://quiet.example/</link></channel></rss>"""

CYRILLIC_RSS = """<?xml version="1.0" encoding="windows-1251"?>
<rss version="2.0"><channel><title>Новости</title><link>https://news.example.ru/</link>
<language>ru</language>
<item><title>Военные преступления в регионе</title><link>https://news.example.ru/1</link>
<guid>n-1</guid><description>Следователи собрали показания — «свидетели»</description></item>
</channel></rss>"""

JSON_FEED_11 = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Rights Monitor",
    "home_page_url": "https://rights.example/",
    "feed_url": "https://rights.example/feed.json",
    "language": "en-US",
    "authors": [{"name": "Feed Author"}],
    "items": [
        {
            "id": 4417,
            "url": "https://rights.example/?p=4417",
            "title": "Report on detention",
            "content_html": "<p>Detainees described <b>abuse</b>.</p>",
            "summary": "Summary.",
            "date_published": "2026-03-10T14:30:00+03:00",
            "authors": [{"name": "A. Writer"}, {"name": "B. Writer"}],
        },
        {
            "id": "4418",
            "external_url": "https://elsewhere.example/story",
            "content_text": "Plain text only.",
            "date_modified": "2026-03-11T08:00:00Z",
            "language": "ru",
        },
        {"id": "4419", "title": "No date", "content_text": "x", "date_published": "yesterday"},
    ],
}

JSON_FEED_10 = {
    "version": "https://jsonfeed.org/version/1",
    "title": "Old Style",
    "home_page_url": "https://old.example/",
    "items": [
        {
            "id": "1",
            "url": "https://old.example/1",
            "title": "One",
            "content_text": "Text.",
            "date_published": "2026-03-10T10:00:00",
            "author": {"name": "Solo Author"},
        }
    ],
}


def by_guid(outcome):
    return {item.guid: item for item in outcome.items}


# ---------------------------------------------------------------- XML feeds


def test_rss20():
    outcome = parse_feed("feeds/wire.xml", RSS20, fetched="2026-03-10T12:00:00Z")
    assert (outcome.status, outcome.feed_version, outcome.dead_letters) == ("parsed", "rss20", ())
    first, second = outcome.items
    assert first.source == Source(
        kind="feed", name="Caucasus Wire", url="https://wire.example/rss.xml"
    )
    assert (first.guid, first.url, first.title) == (
        "wire-1",
        "https://wire.example/news/1",
        "Shelling reported near the border",
    )
    assert first.published == "2026-03-10T08:30:00Z"
    assert first.fetched == "2026-03-10T12:00:00Z"
    assert first.origin == "feeds/wire.xml"
    assert "<b>described</b>" in first.text  # markup is kept for the normalise stage
    assert first.language_hint == "en"
    assert len(first.raw_sha256) == 64
    # An RSS item without <guid> has no guid, not a made-up one.
    assert (second.guid, second.url, second.published) == (
        None,
        "https://wire.example/news/2",
        "2026-03-11T00:00:00Z",
    )
    assert second.text == "Entity-escaped <p>markup</p>"


def test_atom():
    outcome = parse_feed("feeds/prok.xml", ATOM)
    assert (outcome.status, outcome.feed_version) == ("parsed", "atom10")
    items = by_guid(outcome)
    one = items["urn:uuid:entry-1"]
    assert (one.title, one.url, one.author) == (
        "Розслідування розпочато",
        "https://prok.example/a/1",
        "Press Office",
    )
    assert one.published == "2026-03-10T10:00:00Z"  # published wins over updated, in UTC
    assert one.text == "<p>Full text of the entry.</p>"  # content wins over summary
    assert one.language_hint == "uk"
    assert one.source.url == "https://prok.example/"
    assert (
        items["urn:uuid:entry-2"].published == "2026-03-10T00:30:00Z"
    )  # updated when no published


def test_rss10():
    outcome = parse_feed("feeds/qafqaz.xml", RSS10)
    assert (outcome.status, outcome.feed_version) == ("parsed", "rss10")
    [item] = outcome.items
    assert (item.title, item.url, item.text) == (
        "Xəbər başlığı",
        "https://qafqaz.example/x/1",
        "Mətn.",
    )
    assert item.published == "2026-03-08T05:15:00Z"
    assert item.language_hint == "az"


def test_same_bytes_give_same_items():
    assert parse_feed("a.xml", RSS20) == parse_feed("a.xml", RSS20)


def test_valid_feed_without_entries_is_empty():
    outcome = parse_feed("quiet.xml", EMPTY_RSS)
    assert (outcome.status, outcome.items, outcome.dead_letters) == ("empty", (), ())
    assert outcome.feed_version == "rss20"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is not a feed at all", "not a feed: "),
        (b"<html><body><p>Hello</p></body></html>", "not a feed: no feed elements found"),
        (b"\x00\x01garbage<<<>>>", "not a feed: "),
        (b"", "not a feed: file is empty"),
        (b"  \n\t", "not a feed: file is empty"),
    ],
)
def test_not_a_feed_is_a_dead_letter_file(data, reason):
    outcome = parse_feed("junk.txt", data)
    assert (outcome.status, outcome.items) == ("dead_letter", ())
    [letter] = outcome.dead_letters
    assert (letter.stage, letter.kind, letter.path) == ("parse", "file", "junk.txt")
    assert letter.reason.startswith(reason)
    assert letter.raw == data.decode("utf-8", "replace")


def test_over_max_bytes_is_dead_lettered_unparsed():
    outcome = parse_feed("big.xml", RSS20, max_bytes=100)
    assert outcome.status == "dead_letter"
    [letter] = outcome.dead_letters
    assert (letter.stage, letter.kind) == ("read", "file")
    assert letter.reason == f"file is {len(RSS20)} bytes, over the limit of 100"
    assert parse_feed("big.xml", RSS20, max_bytes=len(RSS20)).status == "parsed"


def test_dead_letter_raw_is_truncated():
    data = b"x" * (RAW_EXCERPT * 3)
    [letter] = parse_feed("junk", data).dead_letters
    assert len(letter.raw) == RAW_EXCERPT


def test_windows_1251_feed_comes_out_as_unicode():
    outcome = parse_feed("ru.xml", CYRILLIC_RSS.encode("cp1251"))
    [item] = outcome.items
    assert item.title == "Военные преступления в регионе"
    assert item.text == "Следователи собрали показания — «свидетели»"
    assert item.source.name == "Новости"
    assert item.language_hint == "ru"


def test_wrong_declared_encoding_that_can_be_recovered():
    # Declared UTF-8, really Latin-1: feedparser falls back to windows-1252.
    feed = (
        CYRILLIC_RSS.replace("windows-1251", "utf-8")
        .replace("Военные преступления в регионе", "Über Müllers Straße")
        .replace("Следователи собрали показания — «свидетели»", "Zeugen berichten")
    )
    outcome = parse_feed("de.xml", feed.replace("Новости", "Nachrichten").encode("latin-1"))
    [item] = outcome.items
    assert item.title == "Über Müllers Straße"


def test_wrong_declared_encoding_loses_no_entry():
    # Declared UTF-8, really windows-1251: chardet (a dependency for this reason)
    # lets feedparser recover the real encoding, and the entry is kept whole.
    outcome = parse_feed("ru.xml", CYRILLIC_RSS.replace("windows-1251", "utf-8").encode("cp1251"))
    assert outcome.status == "parsed"
    [item] = outcome.items
    assert (item.guid, item.url) == ("n-1", "https://news.example.ru/1")
    assert "\ufffd" not in item.title + item.text
    title = "Военные преступления в регионе"
    assert item.title == title


def test_entry_with_nothing_is_an_entry_dead_letter():
    data = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><category>x</category></item><item><title>Kept</title></item></channel></rss>"
    )
    outcome = parse_feed("f.xml", data)
    assert outcome.status == "parsed"
    assert [i.title for i in outcome.items] == ["Kept"]
    [letter] = outcome.dead_letters
    assert (letter.stage, letter.kind, letter.path) == ("parse", "entry", "f.xml")
    assert letter.reason == "entry has no id, link, title or text"


def test_entry_to_item_directly():
    source = Source(kind="feed", name="", url="x.xml")
    item = entry_to_item({"id": " g ", "title": "T", "language": "ru_RU"}, source, None)
    assert (item.guid, item.url, item.title, item.language_hint) == ("g", None, "T", "ru")
    # The feed's language fills in only for an entry that names none.
    own = entry_to_item({"title": "T", "language": "ru"}, source, None, None, "uk")
    assert own.language_hint == "ru"
    assert entry_to_item({"title": "T"}, source, None, None, "uk").language_hint == "uk"
    assert (
        entry_to_item({"title": "   ", "summary": ""}, source, None)
        == "entry has no id, link, title or text"
    )


def test_feed_without_a_link_is_identified_by_its_path():
    data = b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>A</title></item></channel></rss>'
    [item] = parse_feed("sub/feed.xml", data).items
    assert item.source == Source(kind="feed", name="", url="sub/feed.xml")


def test_entry_language_overrides_the_feed_language():
    data = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        b"<title>F</title><language>en-US</language>"
        b"<item><guid>1</guid><title>A</title><dc:language>ru</dc:language></item>"
        b"<item><guid>2</guid><title>B</title></item></channel></rss>"
    )
    hints = {i.guid: i.language_hint for i in parse_feed("f.xml", data).items}
    assert hints == {"1": "ru", "2": "en"}


# ---------------------------------------------------------------- JSON Feed


def test_looks_like_json_feed():
    assert looks_like_json_feed(b'\xef\xbb\xbf \n {"version": 1}')
    assert not looks_like_json_feed(RSS20)
    assert not looks_like_json_feed(b"[1, 2]")


def test_parse_json_feed_11():
    feed = parse_json_feed(json.dumps(JSON_FEED_11).encode())
    assert (feed.version, feed.title, feed.feed_url, feed.language) == (
        "json11",
        "Rights Monitor",
        "https://rights.example/feed.json",
        "en-US",
    )
    first, second, third = feed.entries
    assert first["id"] == "4417"
    assert first["author"] == "A. Writer"
    assert first["content"] == [
        {"value": "<p>Detainees described <b>abuse</b>.</p>", "type": "text/html"}
    ]
    assert second["link"] == "https://elsewhere.example/story"
    assert second["language"] == "ru"
    assert third["published_parsed"] is None


def test_parse_json_feed_10_author():
    feed = parse_json_feed(json.dumps(JSON_FEED_10).encode())
    assert feed.version == "json1"
    assert feed.entries[0]["author"] == "Solo Author"


def test_json_feed_through_parse_feed():
    outcome = parse_feed("rights.json", json.dumps(JSON_FEED_11, ensure_ascii=False).encode())
    assert (outcome.status, outcome.feed_version) == ("parsed", "json11")
    items = by_guid(outcome)
    first = items["4417"]
    assert first.source == Source(
        kind="feed", name="Rights Monitor", url="https://rights.example/feed.json"
    )
    assert (first.url, first.title, first.author) == (
        "https://rights.example/?p=4417",
        "Report on detention",
        "A. Writer",
    )
    assert first.text == "<p>Detainees described <b>abuse</b>.</p>"
    assert first.published == "2026-03-10T11:30:00Z"
    assert first.language_hint == "en"
    second = items["4418"]
    assert (second.text, second.published, second.language_hint) == (
        "Plain text only.",
        "2026-03-11T08:00:00Z",
        "ru",
    )
    assert items["4419"].published is None


def test_json_feed_10_through_parse_feed():
    [item] = parse_feed("old.json", json.dumps(JSON_FEED_10).encode()).items
    assert (item.author, item.published) == (
        "Solo Author",
        "2026-03-10T10:00:00Z",
    )  # naive dates are UTC
    assert item.source.url == "https://old.example/"


def test_json_feed_without_items_is_empty():
    doc = dict(JSON_FEED_11, items=[])
    assert parse_feed("e.json", json.dumps(doc).encode()).status == "empty"


def test_json_feed_non_object_item_is_an_entry_dead_letter():
    doc = dict(JSON_FEED_10, items=[JSON_FEED_10["items"][0], "junk"])
    outcome = parse_feed("j.json", json.dumps(doc).encode())
    assert len(outcome.items) == 1
    [letter] = outcome.dead_letters
    assert (letter.kind, letter.reason) == ("entry", "entry has no id, link, title or text")


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        (
            dict(JSON_FEED_11, version="1.1"),
            r"version must start with https://jsonfeed.org/version/ \(got '1.1'\)",
        ),
        ({k: v for k, v in JSON_FEED_11.items() if k != "version"}, r"\(got None\)"),
        (dict(JSON_FEED_11, items={"id": 1}), r"items must be a list \(got dict\)"),
    ],
)
def test_bad_json_feed_is_refused(doc, match):
    data = json.dumps(doc).encode()
    with pytest.raises(ValueError, match=match):
        parse_json_feed(data)
    outcome = parse_feed("bad.json", data)
    assert outcome.status == "dead_letter"
    [letter] = outcome.dead_letters
    assert (letter.stage, letter.kind) == ("parse", "file")
    assert letter.reason.startswith("unparseable JSON Feed: ")


def test_invalid_json_is_a_dead_letter():
    outcome = parse_feed("bad.json", b'{"version": "https://jsonfeed.org/version/1.1", ')
    assert outcome.status == "dead_letter"
    assert "not valid UTF-8 JSON" in outcome.dead_letters[0].reason


def test_json_feed_with_a_lone_surrogate_does_not_raise():
    # "\ud800" is legal JSON syntax; parse_feed promises never to raise for bad input,
    # but hashing the entry's raw form (UTF-8) raises UnicodeEncodeError.
    data = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "content_text": "a \\ud800 b"}]}'
    outcome = parse_feed("s.json", data)
    assert outcome.status in ("parsed", "dead_letter")


# ---------------------------------------------------------------- real corpus


def test_feedparser_encoding_corpus_never_crashes(corpora):
    files = sorted(
        p for p in (corpora / "feeds/feedparser-tests/encoding").iterdir() if p.is_file()
    )
    assert len(files) > 50
    statuses = {}
    for path in files:
        outcome = parse_feed(path.name, path.read_bytes())
        statuses[path.name] = outcome.status
        if outcome.status == "dead_letter":
            assert [d.kind for d in outcome.dead_letters] == ["file"] and outcome.dead_letters[
                0
            ].reason
        if outcome.status == "parsed":
            assert outcome.items or outcome.dead_letters
    assert set(statuses.values()) <= {"parsed", "empty", "dead_letter"}
    assert {"parsed", "empty"} <= set(statuses.values())


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("euc-kr-item.xml", "\ub144"),  # EUC-KR, itself stored as UTF-16
        ("demoronize-1.xml", "don\u2019t"),  # windows-1252 code points in a UTF-8 feed
        ("demoronize-2.xml", "don\u2019t"),
    ],
)
def test_feedparser_encoding_corpus_expected_text(corpora, name, text):
    # The values are the files' own "Expect:" lines (entries[0]['description']).
    path = corpora / "feeds/feedparser-tests/encoding" / name
    [item] = parse_feed(name, path.read_bytes()).items
    assert item.text == text


@pytest.mark.parametrize(
    ("name", "script", "sample"),
    [
        ("encoding_WINDOWS-1251.xml", "cyrillic", "Цитата #17703"),
        ("koi8r.xml", "cyrillic", "Первая новость"),
        (
            "encoding_ISO-8859-1.xml",
            "umlaut",
            "Wochenrückblick: Wilder Westen, buntes Handy, nutzloses Siegel",
        ),
        ("no_encoding_ISO-8859-1.xml", "accent", "La criminalité liée surtout à... l'ennui ?"),
    ],
)
def test_miniflux_legacy_encodings(corpora, name, script, sample):
    path = corpora / "feeds/real/miniflux" / name
    outcome = parse_feed(name, path.read_bytes())
    titles = [item.title for item in outcome.items]
    assert titles and outcome.status == "parsed"
    assert not any("\ufffd" in item.title + item.text for item in outcome.items)
    assert sample in titles
    if script == "cyrillic":
        assert all(any("\u0400" <= ch <= "\u04ff" for ch in t) for t in titles)
    elif script == "umlaut":
        assert sum(any(ch in "äöüÄÖÜß" for ch in t) for t in titles) >= 10
    else:
        assert sum(any(ch in "éèàçêôù" for ch in t) for t in titles) >= 3
