"""Article pages: robots.txt, the private-address guard, main-text extraction, and replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.articles import Robots, apply_article, article_url, enrich, enrich_all
from connectors.base import SourceConfig, connector_class
from connectors.http import Fetcher, HttpConfig, Response
from connectors.poller import stamp
from connectors.warc import WarcArchive
from connectors.warcreplay import replay_warc
from tests.localserver import LocalServer, Reply
from tests.test_warc import fields
from transforms.item import Item, Source
from transforms.normalise import html_to_text, normalise_item

FEED = "feeds/real/multilingual/thedeep_reliefweb_ukraine_2020-09-17.en.xml"
OPEN = HttpConfig(per_host_delay=0.0, allow_private_addresses=True)
GUARDED = HttpConfig(per_host_delay=0.0)
# The feed's five article links, by what the test server does with each.
SEED_0 = "/report/ukraine/ukraine-drc-ddg"
SEED_1 = "/report/ukraine/osce-special-monitoring"
DISALLOWED = "/report/ukraine/crossing-contact-line-august-2020-snapshot-enuk"
MISSING = "/report/ukraine/eu-and-undp-supply-protective-respirators-medical"
NOT_HTML = "/report/ukraine/osce-special-monitoring-mission-ukraine-smm-daily"
# Everyone else is kept out; newswatch is kept out of one page only.
ROBOTS = b"""User-agent: *
Disallow: /

User-agent: newswatch
Disallow: /report/ukraine/crossing-
"""
BOILERPLATE = "Subscribe to our newsletter for the day's top stories"


def seed_paragraphs(corpora: Path, index: int) -> list[str]:
    seeds = sorted((corpora.parent / "seeds").glob("*.txt"))
    lines = seeds[index].read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if len(line.strip()) > 80]


def article_page(title: str, paragraphs: list[str]) -> bytes:
    """A news page around real article text: navigation, teasers and a footer to strip."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/europe">Europe</a></li><li><a href="/opinion">Opinion</a></li></ul></nav></header>
<main><article><h1>{title}</h1><p class="byline">By a staff reporter</p>
{body}</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Markets close higher</a></li>
<li><a href="/b">Weather warning for the weekend</a></li></ul></aside></main>
<footer><p>{BOILERPLATE}.</p><p>Cookie settings. Terms of use. Contact us.</p></footer>
</body></html>"""
    return page.encode("utf-8")


@pytest.fixture
def site(server, corpora):
    """The real ReliefWeb feed, its links pointing at the test server's article pages."""
    feed = (corpora / FEED).read_bytes().replace(b"https://reliefweb.int", server.url("").encode())
    server.route("/rss.xml", lambda _r: Reply(200, feed, {"Content-Type": "application/rss+xml"}))
    server.route("/robots.txt", lambda _r: Reply(200, ROBOTS, {"Content-Type": "text/plain"}))
    html = {"Content-Type": "text/html; charset=utf-8"}
    for path, index in ((SEED_0, 0), (SEED_1, 1)):
        page = article_page("Report", seed_paragraphs(corpora, index))
        server.route(path, lambda _r, p=page: Reply(200, p, html))
    server.route(DISALLOWED, lambda _r: Reply(200, article_page("Never", ["x" * 100]), html))
    server.route(MISSING, lambda _r: Reply(404, b"not found", {"Content-Type": "text/plain"}))
    server.route(
        NOT_HTML, lambda _r: Reply(200, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"})
    )
    return server


async def poll_and_enrich(server, archive) -> tuple[list[Item], list]:
    config = SourceConfig(name="ReliefWeb Ukraine", kind="feed", url=server.url("/rss.xml"))
    async with Fetcher(OPEN, archive=archive) as fetcher:
        result = await connector_class("feed")(config, fetcher).poll(None)
        items = list(stamp(result.items, config))
        return items, await enrich_all(items, fetcher, Robots(fetcher))


def by_path(results, server) -> dict:
    """Items or enrichment results by their link's path on the test server."""
    out = {}
    for result in results:
        item = result if isinstance(result, Item) else result.item
        out[item.url.removeprefix(server.url(""))] = result
    return out


def test_article_text_replaces_the_feed_text_and_replays_from_the_archive(site, corpora, tmp_path):
    with WarcArchive(tmp_path) as archive:
        items, enriched = asyncio.run(poll_and_enrich(site, archive))
    assert len(items) == len(enriched) == 5
    got = by_path(enriched, site)
    for path in (SEED_0, SEED_1):
        result = got[path]
        assert result.reason is None
        # The article's own paragraphs are the text; the page's furniture is not.
        for paragraph in seed_paragraphs(corpora, 0 if path == SEED_0 else 1)[:3]:
            assert html_to_text(paragraph) in result.item.text
        assert BOILERPLATE not in result.item.text and "Most read" not in result.item.text
    original = by_path(items, site)[SEED_0]
    assert got[SEED_0].item.summary == html_to_text(original.text)
    assert "COVID-19 Legislative Measures" in got[SEED_0].item.summary
    assert "disallowed by" in got[DISALLOWED].reason and "robots.txt" in got[DISALLOWED].reason
    assert "HTTP 404" in got[MISSING].reason
    assert "not HTML" in got[NOT_HTML].reason
    for path in (DISALLOWED, MISSING, NOT_HTML):  # kept, unchanged
        assert got[path].item == by_path(items, site)[path]
    assert [e.item.id for e in enriched] == [i.id for i in items]
    assert site.hits(DISALLOWED) == [] and len(site.hits("/robots.txt")) == 1
    # The archive alone gives the same items, article text included.
    [path] = tmp_path.iterdir()
    with open(path, "rb") as handle:
        outcome = replay_warc(handle, path.name)
    assert outcome.articles_applied == 2
    assert outcome.skipped == {
        "robots": 1
    }  # the 404 and the PDF are article records: applied, refused
    replayed = {i.id: fields(i) for i in map(normalise_item, outcome.items)}
    # What the poller delivers is not normalised again downstream: compare it as is.
    assert replayed == {e.item.id: fields(e.item) for e in enriched}


def test_links_to_private_addresses_are_refused(server):
    server.route("/story", lambda _r: Reply(200, article_page("t", ["y" * 200]), {}))
    item = feed_item(server.url("/story"))

    async def run():
        async with Fetcher(GUARDED) as fetcher:
            return await enrich(item, fetcher, Robots(fetcher))

    result = asyncio.run(run())
    assert result.item == item
    assert "non-public address 127.0.0.1" in result.reason
    assert server.requests == []  # neither robots.txt nor the page was asked for


def feed_item(url: str | None, kind: str = "feed", links: tuple[str, ...] = ()) -> Item:
    source = Source(kind=kind, name="Wire", url="https://wire.example/rss")
    return Item(
        source=source, guid="g1", url=url, title="A title", text="<p>Feed text.</p>", links=links
    )


def test_robots_unavailable_allows_and_unreachable_disallows(server, corpora):
    page = article_page("t", seed_paragraphs(corpora, 0))
    html = {"Content-Type": "text/html"}
    server.route("/robots.txt", lambda _r: Reply(404, b"no robots here"))
    server.route("/story", lambda _r: Reply(200, page, html))
    with LocalServer() as failing:
        failing.route("/robots.txt", lambda _r: Reply(503, b"busy", {"Retry-After": "5"}))
        failing.route("/story", lambda _r: Reply(200, page, html))

        async def run():
            async with Fetcher(OPEN) as fetcher:
                robots = Robots(fetcher)
                return [
                    await enrich(feed_item(url), fetcher, robots)
                    for url in (server.url("/story"), failing.url("/story"), "http://127.0.0.1:9/x")
                ]

        allowed, busy, refused = asyncio.run(run())
        assert failing.hits("/story") == []
    assert allowed.reason is None and "Toivo Klaar" in allowed.item.text
    assert "robots.txt unreachable" in busy.reason and "503" in busy.reason
    assert "robots.txt unreachable" in refused.reason


def test_robots_fetched_once_per_host_while_fresh(server):
    server.route("/robots.txt", lambda _r: Reply(200, b"User-agent: *\nDisallow: /private/\n"))

    urls = [server.url(f"/news/{n}") for n in range(6)] + [server.url("/private/x")]

    async def at_once():
        async with Fetcher(OPEN) as fetcher:
            robots = Robots(fetcher)
            return await asyncio.gather(*(robots.check(url) for url in urls))

    async def one_by_one_expired():
        async with Fetcher(OPEN) as fetcher:
            robots = Robots(fetcher, ttl=0)
            return [await robots.check(url) for url in urls[:3]]

    verdicts = asyncio.run(at_once())
    assert verdicts[:6] == [None] * 6 and "disallowed" in verdicts[6]
    assert len(server.hits("/robots.txt")) == 1  # seven checks at once, one fetch
    asyncio.run(one_by_one_expired())
    assert len(server.hits("/robots.txt")) == 4  # each entry expired at once: fetched again


def test_article_url_is_the_entry_link_or_the_posts_first_link():
    assert article_url(feed_item("https://wire.example/a")) == "https://wire.example/a"
    assert article_url(feed_item(None)) is None
    assert article_url(feed_item("ftp://wire.example/a")) is None
    post = feed_item(
        "https://t.me/s/chan/5", kind="telegram", links=("tg://x", "https://news.example/story")
    )
    assert article_url(post) == "https://news.example/story"
    assert article_url(feed_item("https://t.me/s/chan/5", kind="telegram")) is None


def _page(body: bytes, kind: str = "text/html", status: int = 200) -> Response:
    return Response(
        url="https://news.example/a",
        requested_url="https://news.example/a",
        status=status,
        headers=(("content-type", kind),),
        body=body,
        captured_at="2026-03-10T09:00:00Z",
    )


def test_apply_article_says_why_it_cannot(corpora):
    item = feed_item("https://news.example/a")
    assert "HTTP 500" in apply_article(item, _page(b"x", status=500))
    assert "empty" in apply_article(item, _page(b"  \n"))
    assert "not HTML" in apply_article(item, _page(b"{}", kind="application/json"))
    assert "no main text" in apply_article(
        item, _page(b"<html><body><script>x()</script></body></html>")
    )
    page = article_page("t", seed_paragraphs(corpora, 1))
    done = apply_article(item, _page(page, kind=""))  # no content type: tried as HTML
    assert isinstance(done, Item) and "Amnesty" in done.text and done.summary == "Feed text."
    with pytest.raises(ValueError, match="concurrency must be positive"):
        asyncio.run(enrich_all([item], None, None, concurrency=0))  # type: ignore[arg-type]


def test_rounds_in_separate_files_replay_to_the_live_items(site, corpora, tmp_path):
    """A later round re-archives the feed: its old entries come back without their articles.

    Each id's earliest capture is the one the live run delivered (the dedup
    stage keeps the earliest ``(published, fetched)`` as the representative).
    """
    fresh = SEED_0 + "-september"
    feed = (corpora / FEED).read_bytes().replace(b"https://reliefweb.int", site.url("").encode())
    changed = feed.replace(SEED_0.encode(), fresh.encode())
    page = article_page("Report", seed_paragraphs(corpora, 1))
    site.route(fresh, lambda _r: Reply(200, page, {"Content-Type": "text/html"}))
    bodies = iter([feed, changed])
    site.route("/rss.xml", lambda _r: Reply(200, next(bodies), {"Content-Type": "text/xml"}))
    config = SourceConfig(name="ReliefWeb Ukraine", kind="feed", url=site.url("/rss.xml"))

    async def two_rounds(archive) -> list[Item]:
        delivered: list[Item] = []
        cursor = None
        async with Fetcher(OPEN, archive=archive) as fetcher:
            robots = Robots(fetcher)
            for _round in range(2):
                result = await connector_class("feed")(config, fetcher).poll(cursor)
                enriched = await enrich_all(stamp(result.items, config), fetcher, robots)
                delivered.extend(e.item for e in enriched)
                cursor = result.cursor
                archive.end_round(force=True)
        return delivered

    with WarcArchive(tmp_path) as archive:
        live = asyncio.run(two_rounds(archive))
    assert len(live) == 6 and live[-1].url.endswith(fresh)  # five, then the one new entry
    assert live[-1].summary and "Amnesty" in live[-1].text
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2
    earliest: dict[str, Item] = {}
    for path in files:
        with open(path, "rb") as handle:
            for item in map(normalise_item, replay_warc(handle, path.name).items):
                if item.id not in earliest or item.fetched < earliest[item.id].fetched:
                    earliest[item.id] = item
    assert {i: fields(item) for i, item in earliest.items()} == {
        item.id: fields(item) for item in live
    }


def test_enriched_text_is_the_same_whether_normalised_before_or_after(corpora):
    # Escaped markup loses one level of escaping each time it is normalised.
    raw = "<p>Tom &amp;amp; Jerry &amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; and more</p>"
    paragraphs = [*seed_paragraphs(corpora, 0)[:3], "Fish &amp;amp;lt;b&amp;amp;gt; and chips"]
    page = _page(article_page("t", paragraphs))
    live = apply_article(
        normalise_item(feed_item("https://news.example/a").replace(text=raw)), page
    )
    replayed = apply_article(feed_item("https://news.example/a").replace(text=raw), page)
    assert isinstance(live, Item) and isinstance(replayed, Item)
    assert normalise_item(replayed).text == live.text and replayed.summary == live.summary
    assert html_to_text(live.text) == live.text and html_to_text(live.summary) == live.summary
    assert "Fish" in live.text and "Tom & Jerry" in live.summary


def test_newswatch_poll_archive_then_replay_gives_the_delivered_items(site, corpora, tmp_path):
    """The commands end to end: poll with --archive and --fetch_articles, then replay the archive."""
    import json
    import subprocess
    import sys

    from transforms.item import from_json

    # Two real feeds: ReliefWeb with its articles on the test server, and Le Monde.
    lemonde = (
        corpora / "feeds/real/multilingual/lemonde_international_2024-03-27.fr.xml"
    ).read_bytes()
    # Its article links lead to the test server too (where they are missing): never off the machine.
    lemonde = lemonde.replace(b"https://www.lemonde.fr", site.url("").encode())
    site.route("/lemonde.xml", lambda _r: Reply(200, lemonde, {"Content-Type": "text/xml"}))
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"- name: ReliefWeb Ukraine\n  kind: feed\n  url: {site.url('/rss.xml')}\n"
        "  country: UA\n  affiliation: un\n"
        f"- name: Le Monde International\n  kind: feed\n  url: {site.url('/lemonde.xml')}\n"
        "  country: FR\n  language: fr\n",
        encoding="utf-8",
    )
    archive, delivered, replayed = tmp_path / "warc", tmp_path / "raw", tmp_path / "replay"
    poll = [
        *("poll", "--sources", str(sources), "--state", str(tmp_path / "state.sqlite")),
        *("--once", "--archive", str(archive), "--output", str(delivered), "--fetch_articles"),
        *("--allow_private_addresses", "--per_host_delay", "0", "--quiet"),
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *poll],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    live = [
        from_json(x) for p in delivered.glob("items-*.jsonl") for x in p.read_text().splitlines()
    ]
    reliefweb = [i for i in live if i.source.name == "ReliefWeb Ukraine"]
    assert len(reliefweb) == 5 and len(live) > 5
    assert sum(bool(i.summary) for i in reliefweb) == 2  # the two articles it may have
    assert any("/article/" in r.path for r in site.requests)  # Le Monde's were sought: 404
    replay = [
        *("replay", str(archive), "--output", str(replayed), "--quiet"),
        *("--language_backend", "cld2"),
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *replay],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    back = [from_json(x) for x in (replayed / "items.jsonl").read_text().splitlines()]
    assert {i.id: fields(i) for i in back} == {i.id: fields(i) for i in live}
    summary = json.loads((replayed / "summary.json").read_text())
    assert summary["files.parsed"] == 1 and "files.dead_letter" not in summary
