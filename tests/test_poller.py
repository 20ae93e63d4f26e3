"""The poller against a real loopback server serving real feeds: rounds, 304s, faults, outputs.

Each fault test runs a round over one good feed and one misbehaving source,
and checks at the poller's level: the failure and its backoff are in the
source's health, the round finished, and the good feed was polled and
delivered as if nothing happened.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.base import SourceConfig
from connectors.http import Fetcher, HttpConfig
from connectors.poller import Poller, PollerConfig, RoundReport
from connectors.rawsinks import JsonlOutput, RawOutputs
from connectors.state import State
from tests.localserver import Reply

# Real feeds, from ../shared/corpora/feeds/real.
FEEDS = {
    "lemonde": "multilingual/lemonde_international_2024-03-27.fr.xml",
    "reliefweb": "multilingual/thedeep_reliefweb_ukraine_2020-09-17.en.xml",
    "guardian": "rss-parser/guardian.rss",
}
BOUNDS = (300.0, 21600.0)
# Loopback tests put every source on one host; politeness delays would only slow them.
FAST = dict(per_host_delay=0.0, per_host_concurrency=8)


def serve_feed(server, path: str, data: bytes) -> None:
    """A route that answers like a well-run feed server: ETag, Last-Modified, 304s."""
    etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'

    def handler(request):
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        headers = {
            "Content-Type": "application/rss+xml",
            "ETag": etag,
            "Last-Modified": "Wed, 27 Mar 2024 10:00:00 GMT",
        }
        return Reply(200, data, headers)

    server.route(path, handler)


@pytest.fixture
def feeds(server, corpora):
    """The real feeds on the server: name -> (url, bytes)."""
    real = corpora / "feeds" / "real"
    out = {}
    for name, rel in FEEDS.items():
        data = (real / rel).read_bytes()
        serve_feed(server, f"/{name}.xml", data)
        out[name] = (server.url(f"/{name}.xml"), data)
    return out


def source(name: str, url: str, **kw) -> SourceConfig:
    return SourceConfig(name=name, kind="feed", url=url, **kw)


def poll_rounds(
    tmp_path: Path,
    sources: list[SourceConfig],
    rounds: int = 1,
    http: HttpConfig | None = None,
    force: bool = True,
) -> tuple[list[RoundReport], dict, list[dict]]:
    """Run rounds; return the reports, the final health rows and the items written."""

    async def go():
        reports = []
        with State(tmp_path / "state.sqlite") as state:
            outputs = RawOutputs(JsonlOutput(tmp_path / "out"))
            async with Fetcher(http or HttpConfig(**FAST)) as fetcher:
                poller = Poller(
                    sources, state, fetcher, outputs, PollerConfig(bounds=BOUNDS),
                    rng=random.Random(7),
                )  # fmt: skip
                for _ in range(rounds):
                    reports.append(await poller.run_round(force=force))
            outputs.close()
            health = {row.name: row for row in state.all()}
        return reports, health

    reports, health = asyncio.run(go())
    return reports, health, written(tmp_path / "out")


def written(out: Path, stem: str = "items") -> list[dict]:
    """The records in the day files of one kind under an output directory (complete lines only:
    a test may read while the poller writes)."""
    return [
        json.loads(line)
        for path in sorted(out.glob(f"{stem}-*.jsonl"))
        for line in path.read_bytes().splitlines(keepends=True)
        if line.endswith(b"\n")
    ]


def test_second_round_over_unchanged_feeds_is_all_304_and_emits_nothing(tmp_path, feeds, server):
    sources = [source(name, url) for name, (url, _) in feeds.items()]
    (first, second), health, items = poll_rounds(tmp_path, sources, rounds=2)
    assert first.polled == 3 and first.errors == 0 and first.not_modified == 0
    assert first.new_items == len(items) > 30
    assert {i["source"]["name"] for i in items} == set(FEEDS)
    assert second.polled == 3 and second.not_modified == 3 and second.new_items == 0
    assert "3 sources polled, 3 not modified (304), 0 new items" in second.line()
    # the second request of each feed was conditional
    for name in FEEDS:
        hits = server.hits(f"/{name}.xml")
        assert len(hits) == 2 and "if-none-match" in hits[1].headers
    for row in health.values():
        assert row.last_status == "not_modified" and row.not_modified == 1
        assert row.consecutive_failures == 0 and row.cursor
        # two quiet polls: the interval grew from the lower bound
        assert BOUNDS[0] < row.interval <= BOUNDS[1]
    assert len({i["id"] for i in items}) == len(items)


def test_only_due_sources_are_polled(tmp_path, feeds, server):
    sources = [source(name, url) for name, (url, _) in feeds.items()]
    (first, second), _, _ = poll_rounds(tmp_path, sources, rounds=2, force=False)
    assert first.polled == 3
    assert second.polled == 0 and second.next_wake >= first.started + BOUNDS[0]


def test_configured_country_language_affiliation_land_on_every_item(tmp_path, feeds):
    url, _ = feeds["reliefweb"]
    config = source("ReliefWeb", url, country="ua", language="en", affiliation="un agency")
    config = SourceConfig(**{**{f: getattr(config, f) for f in config.__slots__}, "country": "UA"})
    _, _, items = poll_rounds(tmp_path, [config])
    assert items
    for item in items:
        assert item["source"]["country"] == "UA"
        assert item["source"]["affiliation"] == "un agency"
        assert item["language_hint"]
        assert item["fetched"] and item["schema_version"] == 2


def run_fault(tmp_path, feeds, bad_url: str, rounds: int = 1, **http):
    """One good feed and one bad source; the good one must not notice."""
    good_url, _ = feeds["reliefweb"]
    sources = [source("good", good_url), source("bad", bad_url)]
    config = HttpConfig(**{**FAST, **http})
    started = time.time()
    reports, health, items = poll_rounds(tmp_path, sources, rounds=rounds, http=config)
    last = reports[-1]
    assert last.polled == 2 and last.errors == 1 and last.failed == ["bad"]
    good, bad = health["good"], health["bad"]
    assert good.consecutive_failures == 0 and good.last_error is None and good.items > 0
    assert {i["source"]["name"] for i in items} == {"good"}
    assert bad.consecutive_failures == rounds and bad.errors == rounds
    assert bad.last_status == "error" and bad.cursor is None and bad.last_success is None
    # the backoff is recorded as the next poll: later than now, at most the longest interval
    assert started + 1.0 <= bad.next_poll <= time.time() + BOUNDS[1]
    return bad


def test_429_retry_after_is_the_floor_of_the_backoff(tmp_path, feeds, server):
    server.route("/busy", lambda r: Reply(429, b"slow down", {"Retry-After": "900"}))
    bad = run_fault(tmp_path, feeds, server.url("/busy"))
    assert bad.last_error.startswith("transient: HTTP 429")
    assert bad.next_poll >= bad.last_attempt + 900


def test_repeated_500s_back_off_further_each_time(tmp_path, feeds, server):
    server.route("/broken", lambda r: Reply(500, b"oops"))
    bad = run_fault(tmp_path, feeds, server.url("/broken"), rounds=3)
    assert bad.last_error.startswith("transient: HTTP 500")
    assert len(server.hits("/broken")) == 3
    # third failure: full jitter below base * 2**2 (base 60 s)
    assert bad.next_poll - bad.last_attempt <= 240 + 5


def test_a_server_that_does_not_answer_times_out(tmp_path, feeds, server):
    def silent(request):
        time.sleep(2.0)  # the misbehaviour under test: no response within the read timeout
        return Reply(200, b"late")

    server.route("/silent", silent)
    bad = run_fault(tmp_path, feeds, server.url("/silent"), read_timeout=0.3, total_timeout=5)
    assert bad.last_error.startswith("transient:") and "time" in bad.last_error


def test_a_trickling_body_is_cut_by_the_total_timeout(tmp_path, feeds, server):
    pieces = [(b"<rss><channel>", 0.0)] + [(b" ", 0.1)] * 40
    server.route("/trickle", lambda r: Reply(200, pieces, {"Content-Type": "application/rss+xml"}))
    bad = run_fault(tmp_path, feeds, server.url("/trickle"), read_timeout=1.0, total_timeout=0.8)
    assert bad.last_error.startswith("transient:") and "time" in bad.last_error


def test_a_body_over_the_size_limit_is_refused(tmp_path, feeds, server):
    _, big = feeds["guardian"]  # 151 kB, the good feed is 19 kB
    server.route("/big", lambda r: Reply(200, big))
    bad = run_fault(tmp_path, feeds, server.url("/big"), max_bytes=len(big) // 2)
    assert bad.last_error.startswith("permanent:") and "limit" in bad.last_error
    # a permanent error waits the longest interval
    assert bad.next_poll == pytest.approx(bad.last_attempt + BOUNDS[1], abs=30)


def test_a_gzip_bomb_stops_at_the_limit(tmp_path, feeds, server):
    bomb = gzip.compress(b"<rss>" + b"\0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 200_000
    server.route("/bomb", lambda r: Reply(200, bomb, {"Content-Encoding": "gzip"}))
    bad = run_fault(tmp_path, feeds, server.url("/bomb"), max_bytes=1024 * 1024)
    assert bad.last_error.startswith("permanent:") and "limit" in bad.last_error


def test_a_redirect_loop_is_refused(tmp_path, feeds, server):
    server.route("/loop", lambda r: Reply(302, b"", {"Location": "/loop"}))
    # private addresses allowed, so that the loop itself is what stops it
    bad = run_fault(tmp_path, feeds, server.url("/loop"), allow_private_addresses=True)
    assert bad.last_error.startswith("permanent:") and "redirect" in bad.last_error
    assert len(server.hits("/loop")) == 6  # the request and five redirects


def test_a_redirect_to_a_private_address_is_refused(tmp_path, feeds, server):
    # The configured URL is trusted; where it redirects is not, even to a live server.
    good_url, _ = feeds["lemonde"]
    server.route("/moved", lambda r: Reply(302, b"", {"Location": good_url}))
    bad = run_fault(tmp_path, feeds, server.url("/moved"))
    assert bad.last_error.startswith("permanent:") and "127.0.0.1" in bad.last_error
    assert server.hits("/lemonde.xml") == []


def test_connection_refused(tmp_path, feeds):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bad = run_fault(tmp_path, feeds, f"http://127.0.0.1:{port}/feed.xml")
    assert bad.last_error.startswith("transient:")


def test_a_name_that_does_not_resolve(tmp_path, feeds):
    bad = run_fault(tmp_path, feeds, "http://no-such-host.invalid/feed.xml")
    assert bad.last_error.startswith("transient:")


def test_a_feed_that_recovers_is_healthy_again(tmp_path, feeds, server):
    _, data = feeds["lemonde"]
    calls = []

    def flaky(request):
        calls.append(1)
        return Reply(503, b"down") if len(calls) == 1 else Reply(200, data)

    server.route("/flaky", flaky)
    (first, second), health, items = poll_rounds(
        tmp_path, [source("flaky", server.url("/flaky"))], rounds=2
    )
    assert first.errors == 1 and second.errors == 0 and second.new_items == len(items) > 0
    row = health["flaky"]
    assert row.consecutive_failures == 0 and row.last_status == "new"
    assert row.last_error.startswith("transient: HTTP 503")  # kept for the record


def test_the_poller_does_not_import_beam():
    code = (
        "import sys, connectors.poller, connectors.sources, connectors.state, "
        "connectors.rawsinks, pipelines.commands.poll, pipelines.commands.sources; "
        "print('apache_beam' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def write_sources(path: Path, feeds: dict, **extra) -> Path:
    lines = []
    for name, (url, _) in feeds.items():
        lines += [f"- name: {name}", "  kind: feed", f"  url: {url}"]
        lines += [f"  {k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def newswatch(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipelines.cli", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_poll_once_prints_the_round_line_and_status_shows_health(tmp_path, feeds):
    sources = write_sources(tmp_path / "sources.yaml", feeds, country="FR")
    state, out = tmp_path / "state.sqlite", tmp_path / "out"
    base = ["--sources", str(sources), "--state", str(state), "--per_host_delay", "0"]
    first = newswatch("poll", *base, "--once", "--output", str(out))
    assert "round 1: 3 sources polled, 0 not modified (304)" in first.stdout
    items = written(out)
    assert f"{len(items)} new items" in first.stdout and items
    assert {i["source"]["country"] for i in items} == {"FR"}
    # not due yet: --once polls nothing; --force polls all, conditionally
    second = newswatch("poll", *base, "--once", "--output", str(out)).stdout
    assert "round 2: 0 sources polled" in second
    third = newswatch("poll", *base, "--once", "--force", "--output", str(out))
    assert "round 3: 3 sources polled, 3 not modified (304), 0 new items" in third.stdout
    status = newswatch("sources", "status", "--state", str(state)).stdout
    for name in FEEDS:
        row = next(line for line in status.splitlines() if line.startswith(name))
        assert "not_modified" in row and row.split()[2] == "not_modified"
    assert "3 sources, 0 failing, 3 rounds" in status


def test_sources_check_fetches_each_once_and_reports_failures(tmp_path, feeds, server):
    server.route("/gone", lambda r: Reply(404, b"gone"))
    path = write_sources(tmp_path / "s.yaml", {**feeds, "gone": (server.url("/gone"), b"")})
    out = newswatch("sources", "check", "--sources", str(path), "--per_host_delay=0", check=False)
    assert out.returncode == 1, out.stderr
    rows = {line.split()[0]: line for line in out.stdout.splitlines()[1:] if line}
    assert " ok " in rows["lemonde"] and " error " in rows["gone"] and "HTTP 404" in rows["gone"]
    assert "3 ok, 1 failed" in out.stdout
    assert [len(server.hits(f"/{n}.xml")) for n in FEEDS] == [1, 1, 1]


def test_a_sources_file_with_a_mistake_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("- name: a\n  kind: rss\n  url: https://a.example/\n")
    for args in (["poll", "--once", "--output", str(tmp_path)], ["sources", "check"]):
        out = newswatch(*args, "--sources", str(path), "--state", str(tmp_path / "s"), check=False)
        assert out.returncode == 2
        assert out.stderr.strip().endswith("sources.yaml:2: kind must be one of ['feed', "
                                           "'mastodon', 'bluesky', 'telegram', 'reddit', "
                                           "'youtube'] (got 'rss')")  # fmt: skip


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--min_interval", "soon", "a duration must be a positive number"),
        ("--max_interval", "-5m", "a duration must be a positive number"),
        ("--concurrency", "0", "--concurrency must be a positive whole number (got '0')"),
        ("--publish", "my-topic", "topic must look like projects/<p>/topics/<t>"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path, feeds, option, value, message):
    sources = write_sources(tmp_path / "sources.yaml", feeds)
    out = newswatch("poll", "--sources", str(sources), f"{option}={value}", check=False)
    assert out.returncode == 2 and message in out.stderr


def test_publish_sends_raw_items_with_their_attributes(tmp_path, feeds, pubsub_emulator):
    from tests.streamkit import Topics

    topics = Topics(pubsub_emulator)
    subscriber = topics.subscriber
    try:
        topic, subscription = topics.pair("raw")
        sources = write_sources(tmp_path / "sources.yaml", {"reliefweb": feeds["reliefweb"]})
        args = ["--sources", str(sources), "--state", str(tmp_path / "s.sqlite")]
        run = newswatch("poll", *args, "--once", "--publish", topic, "--output", str(tmp_path))
        items = {item["id"]: item for item in written(tmp_path)}
        assert f"{len(items)} new items" in run.stdout and items
        got = {}
        deadline = time.monotonic() + 60
        while len(got) < len(items) and time.monotonic() < deadline:
            response = subscriber.pull(subscription=subscription, max_messages=100, timeout=10)
            for received in response.received_messages:
                got[received.message.attributes["item_id"]] = received.message
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=subscription,
                    ack_ids=[r.ack_id for r in response.received_messages],
                )
        assert set(got) == set(items)
        for item_id, message in got.items():
            attributes = dict(message.attributes)
            assert attributes["source_kind"] == "feed" and attributes["source_name"] == "reliefweb"
            assert attributes["schema_version"] == "2"
            assert attributes["fetched"].endswith("Z") and "T" in attributes["fetched"]
            assert json.loads(message.data)["id"] == item_id
    finally:
        topics.close()


def test_a_response_that_is_not_a_feed_is_a_dead_letter_with_its_reason(
    tmp_path, feeds, corpora, server
):
    # A real API answer (Mastodon statuses JSON) where a feed was expected.
    payload = (corpora / "social" / "mastodon" / "public_timeline_2020-04-16.json").read_bytes()
    server.route("/api.json", lambda r: Reply(200, payload, {"Content-Type": "text/plain"}))
    sources = [source("good", feeds["lemonde"][0]), source("odd", server.url("/api.json"))]
    (report,), health, items = poll_rounds(tmp_path, sources)
    assert report.errors == 0 and report.dead_letters == 1
    assert "1 dead letters" in report.line()
    letters = written(tmp_path / "out", "dead_letter")
    assert len(letters) == 1 and letters[0]["reason"] and letters[0]["raw"]
    assert health["odd"].dead_letters == 1 and health["odd"].items == 0
    assert {i["source"]["name"] for i in items} == {"good"}


ARTICLE = """<!doctype html><html lang="en"><head><title>{title}</title></head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<article><h1>{title}</h1>
<p>Monitors recorded the situation along the contact line in detail, village by village,
and spoke with residents who described the damage to their homes and the school.</p>
<p>The report, number {n}, lists each incident with its date, place and the sources that
confirmed it, so that investigators can follow every claim back to its witnesses.</p>
</article><footer>Copyright the test desk</footer></body></html>"""


@pytest.mark.parametrize("allowed", [True, False])
def test_fetch_articles_puts_the_page_text_on_each_new_item(tmp_path, server, corpora, allowed):
    rel = FEEDS["reliefweb"]
    data = (corpora / "feeds" / "real" / rel).read_bytes()
    data = data.replace(b"https://reliefweb.int", server.url("").rstrip("/").encode())
    serve_feed(server, "/feed.xml", data)
    paths = sorted({p.split("<")[0] for p in data.decode().split(server.url("/report/"))[1:]})
    html = {"Content-Type": "text/html"}
    for n, path in enumerate(paths):
        page = ARTICLE.format(title=f"Report {path}", n=n).encode()
        server.route(f"/report/{path}", lambda r, page=page: Reply(200, page, html))

    async def go():
        with State(tmp_path / "state.sqlite") as state:
            outputs = RawOutputs(JsonlOutput(tmp_path / "out"))
            http = HttpConfig(**FAST, allow_private_addresses=allowed)
            async with Fetcher(http) as fetcher:
                poller = Poller(
                    [source("rw", server.url("/feed.xml"))], state, fetcher, outputs,
                    PollerConfig(bounds=BOUNDS), fetch_articles=True,
                )  # fmt: skip
                report = await poller.run_round(force=True)
            outputs.close()
        return report

    report = asyncio.run(go())
    items = written(tmp_path / "out")
    assert report.errors == 0 and report.new_items == len(items) == 5
    with_page = [i for i in items if "village by village" in i["text"]]
    if allowed:
        # every item that links to a report got the page's main text; the feed's text is the summary
        linked = [i for i in items if "/report/" in (i["url"] or "")]
        assert linked and len(with_page) == len(linked)
        assert all(i["summary"] is not None and "Home | About" not in i["text"] for i in with_page)
        assert sum(len(server.hits(f"/report/{p}")) for p in paths) == len(linked)
    else:
        # links on loopback are refused: the items come through as the feed gave them
        assert with_page == [] and all(len(server.hits(f"/report/{p}")) == 0 for p in paths)


def test_archive_records_every_exchange_and_items_name_their_record(tmp_path, feeds):
    from warcio.archiveiterator import ArchiveIterator

    sources = write_sources(tmp_path / "sources.yaml", feeds)
    archive, out = tmp_path / "warc", tmp_path / "out"
    base = ["--sources", str(sources), "--state", str(tmp_path / "s.sqlite"), "--once"]
    base += ["--archive", str(archive), "--output", str(out), "--per_host_delay", "0"]
    newswatch("poll", *base)
    newswatch("poll", *base, "--force")  # three 304s, archived too
    records = {}
    for path in archive.glob("*.warc.gz"):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    status = record.http_headers.get_statuscode()
                    record_id = record.rec_headers.get_header("WARC-Record-ID").strip("<>")
                    records[record_id] = (path.name, status)
    statuses = sorted(status for _, status in records.values())
    assert statuses == ["200"] * 3 + ["304"] * 3
    items = written(out)
    assert items
    for item in items:
        name, status = records[item["archive"]["record_id"]]
        assert status == "200" and Path(item["archive"]["file"]).name == name


def test_social_sources_share_the_round_with_feeds(tmp_path, feeds, server, corpora):
    # A Telegram channel preview (the real page, 12 posts) beside the feeds, in one round.
    page = (corpora / "social" / "telegram" / "full.html").read_bytes()
    server.route("/s/topwar_official", lambda r: Reply(200, page, {"Content-Type": "text/html"}))
    channel = SourceConfig(
        name="topwar", kind="telegram", url=server.url("/"), country="RU",
        affiliation="pro-government media", options={"channel": "topwar_official"},
    )  # fmt: skip
    sources = [source(name, url) for name, (url, _) in feeds.items()] + [channel]
    (first, second), health, items = poll_rounds(tmp_path, sources, rounds=2)
    posts = [i for i in items if i["source"]["kind"] == "telegram"]
    assert first.errors == 0 and len(posts) == 12
    assert {p["source"]["country"] for p in posts} == {"RU"}
    assert {p["source"]["affiliation"] for p in posts} == {"pro-government media"}
    # second round: nothing new on the channel page, nothing emitted again
    assert second.errors == 0 and second.new_items == 0
    assert health["topwar"].items == 12 and health["topwar"].cursor


def test_unusable_state_or_output_paths_are_one_line_and_exit_2(tmp_path, feeds):
    sources = write_sources(tmp_path / "sources.yaml", feeds)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    state = ["--state", str(tmp_path / "s.sqlite")]
    for args, message in (
        (["--state", str(blocker / "s.sqlite"), "--output", str(tmp_path)], "cannot use state"),
        (state, "give --output DIR, --publish TOPIC or --archive DIR: where new items go"),
        ([*state, "--output", str(blocker / "out")], "cannot write outputs"),
        ([*state, "--archive", str(blocker / "warc")], "cannot write outputs"),
    ):
        out = newswatch("poll", "--sources", str(sources), "--once", *args, check=False)
        assert out.returncode == 2 and message in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_a_slow_host_does_not_hold_the_other_feeds_delivery(tmp_path, feeds):
    import threading

    from tests.localserver import LocalServer

    release = threading.Event()
    _, data = feeds["lemonde"]

    def held(request):
        release.wait(30)  # this host answers only when the test lets it
        return Reply(200, data)

    fast = [source(name, url) for name, (url, _) in feeds.items()]
    with LocalServer() as slow_host:
        slow_host.route("/feed.xml", held)
        sources = [*fast, source("slow", slow_host.url("/feed.xml"))]
        result = {}
        worker = threading.Thread(
            target=lambda: result.update(run=poll_rounds(tmp_path, sources)), daemon=True
        )
        worker.start()
        try:
            # While the slow host holds its request, the other feeds' items are already on disk.
            deadline = time.monotonic() + 30
            names: set[str] = set()
            while names != set(FEEDS) and time.monotonic() < deadline:
                names = {item["source"]["name"] for item in written(tmp_path / "out")}
                time.sleep(0.02)
            assert names == set(FEEDS) and not release.is_set()
        finally:
            release.set()
            worker.join(timeout=60)
    (report,), health, items = result["run"]
    assert report.polled == 4 and report.errors == 0
    assert {i["source"]["name"] for i in items} == {*FEEDS, "slow"}
