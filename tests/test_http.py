"""The HTTP layer (connectors/http.py) against a real server on 127.0.0.1.

Each fault has its own test and asserts the exact error type, status and
retry hint. The only waiting is inside the server's deliberately slow
answers; bounds are set small so the whole file stays fast.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import brotli
import pytest

from connectors.decompress import BodyTooLarge, BoundedDecoder, DecodeError, content_codings
from connectors.errors import PermanentError, TransientError
from connectors.http import Fetcher, HttpConfig, Response, parse_retry_after, user_agent
from connectors.netguard import is_public_address, is_secret_header, redact_url
from tests.localserver import LocalServer, Reply
from transforms.item import ArchiveRecord

FAST = HttpConfig(
    connect_timeout=2, read_timeout=2, total_timeout=5, per_host_delay=0, max_bytes=1 << 20
)


def fetch(url: str, config: HttpConfig = FAST, **kwargs) -> Response:
    async def go() -> Response:
        async with Fetcher(config, archive=kwargs.pop("archive", None)) as fetcher:
            return await fetcher.get(url, **kwargs)

    return asyncio.run(go())


@pytest.fixture
def feed_bytes(corpora: Path) -> bytes:
    path = corpora / "feeds/real/multilingual/lemonde_international_2024-03-27.fr.xml"
    return path.read_bytes()


class Recorder:
    """An in-memory archive: keeps what the Fetcher hands over."""

    def __init__(self) -> None:
        self.records: list[Response] = []

    def record(self, response: Response) -> ArchiveRecord:
        self.records.append(response)
        return ArchiveRecord(file="mem.warc.gz", record_id=f"<urn:test:{len(self.records)}>")


# --- success paths ---------------------------------------------------------


def test_serves_a_real_feed_with_user_agent_and_archive(server, feed_bytes):
    server.route("/feed.xml", lambda req: Reply(200, feed_bytes, {"ETag": '"v1"'}))
    archive = Recorder()
    config = HttpConfig(per_host_delay=0, contact="https://desk.example/contact")
    response = fetch(server.url("/feed.xml"), config, archive=archive, context={"name": "lm"})
    assert response.status == 200 and response.body == feed_bytes
    assert response.header("ETag") == '"v1"'
    assert response.archive == ArchiveRecord("mem.warc.gz", "<urn:test:1>")
    assert archive.records[0].context == {"name": "lm"}
    sent = server.hits("/feed.xml")[0].headers
    assert sent["user-agent"] == user_agent("https://desk.example/contact")
    assert sent["user-agent"].startswith("newswatch/")
    assert "+https://desk.example/contact" in sent["user-agent"]
    assert sent["accept-encoding"] == "gzip, deflate, br"


@pytest.mark.parametrize(
    "coding, encode",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
        ("br", brotli.compress),
        ("gzip, br", lambda b: brotli.compress(gzip.compress(b))),
    ],
)
def test_decodes_content_encodings(server, feed_bytes, coding, encode):
    server.route("/feed", lambda req: Reply(200, encode(feed_bytes), {"Content-Encoding": coding}))
    assert fetch(server.url("/feed")).body == feed_bytes


def test_not_modified_is_a_response(server):
    server.route("/feed", lambda req: Reply(304, b"", {"ETag": '"v1"'}))
    response = fetch(server.url("/feed"), headers={"If-None-Match": '"v1"'})
    assert response.status == 304 and response.body == b""
    assert server.hits("/feed")[0].headers["if-none-match"] == '"v1"'


def test_credentials_reach_the_server_but_never_the_archive(server):
    server.route("/api", lambda req: Reply(200, b"{}"))
    archive = Recorder()
    secrets = {"Authorization": "Bearer s3cret", "X-Auth-Token": "t0k", "Cookie": "sid=1"}
    plain = fetch(server.url("/api"), headers=secrets, archive=archive)
    in_url = fetch(server.url("/api").replace("http://", "http://reader:hunter2@"), archive=archive)
    first, second = (hit.headers for hit in server.hits("/api"))
    assert first["authorization"] == "Bearer s3cret" and first["x-auth-token"] == "t0k"
    assert second["authorization"].startswith("Basic ")
    for recorded in (plain, in_url, *archive.records):
        text = repr(recorded)
        for secret in ("s3cret", "t0k", "sid=1", "hunter2", second["authorization"]):
            assert secret not in text
        assert recorded.url == server.url("/api") == recorded.requested_url
        assert ("user-agent", user_agent()) in recorded.request_headers


# --- faults ------------------------------------------------------------------


def test_429_with_retry_after_seconds(server):
    server.route("/feed", lambda req: Reply(429, b"slow down", {"Retry-After": "120"}))
    with pytest.raises(TransientError, match="HTTP 429") as info:
        fetch(server.url("/feed"))
    assert info.value.status == 429 and info.value.retry_after == 120.0


def test_503_with_retry_after_http_date(server):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=600), usegmt=True)
    server.route("/feed", lambda req: Reply(503, b"", {"Retry-After": when}))
    with pytest.raises(TransientError, match="HTTP 503") as info:
        fetch(server.url("/feed"))
    assert info.value.status == 503 and 590 <= info.value.retry_after <= 600


def test_a_large_or_broken_error_page_keeps_the_status_and_hint(server):
    huge = ((b"e" * 65536, 0) for _ in range(64))  # 4 MB, over max_bytes of 1 MB
    server.route("/big", lambda req: Reply(503, huge, {"Retry-After": "30"}))
    server.route("/bad", lambda req: Reply(500, b"not gzip", {"Content-Encoding": "gzip"}))
    with pytest.raises(TransientError, match="HTTP 503") as info:
        fetch(server.url("/big"))
    assert info.value.retry_after == 30.0
    with pytest.raises(TransientError, match="HTTP 500"):
        fetch(server.url("/bad"))


def test_a_redirect_without_location_is_permanent(server):
    server.route("/r", lambda req: Reply(302, b""))
    with pytest.raises(PermanentError, match="HTTP 302 .* cannot be followed") as info:
        fetch(server.url("/r"))
    assert info.value.status == 302


def test_repeated_500s_are_transient_without_hint_and_not_retried_here(server):
    server.route("/feed", lambda req: Reply(500, b"oops"))

    async def three() -> list[TransientError]:
        errors = []
        async with Fetcher(FAST) as fetcher:
            for _ in range(3):
                with pytest.raises(TransientError) as info:
                    await fetcher.get(server.url("/feed"))
                errors.append(info.value)
        return errors

    errors = asyncio.run(three())
    assert [(e.status, e.retry_after) for e in errors] == [(500, None)] * 3
    assert len(server.hits("/feed")) == 3  # backoff belongs to the poller, not to the fetch


def test_404_is_permanent(server):
    with pytest.raises(PermanentError, match="HTTP 404") as info:
        fetch(server.url("/missing"))
    assert info.value.status == 404


def test_timeout_waiting_for_an_answer(server):
    server.route("/slow", lambda req: Reply(200, b"late", delay=1.5))
    config = HttpConfig(read_timeout=0.3, total_timeout=5, per_host_delay=0)
    with pytest.raises(TransientError, match="timed out: ReadTimeout") as info:
        fetch(server.url("/slow"), config)
    assert info.value.retry_after is None and info.value.url == server.url("/slow")


def test_connect_timeout():
    # A listener that never accepts, with its one-place queue already taken:
    # the kernel drops the next handshake, so connecting hangs.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            config = HttpConfig(connect_timeout=0.3, total_timeout=5, per_host_delay=0)
            with pytest.raises(TransientError, match="timed out: ConnectTimeout") as info:
                fetch(f"http://127.0.0.1:{port}/feed", config)
    assert info.value.retry_after is None


def test_trickling_body_ends_at_the_total_deadline(server):
    # Each piece arrives well within the read timeout; only the total bound stops it.
    server.route("/trickle", lambda req: Reply(200, ((b"<", 0.1) for _ in range(60))))
    config = HttpConfig(read_timeout=1, total_timeout=0.8, per_host_delay=0)
    started = asyncio.run(_clock())
    with pytest.raises(TransientError, match=r"timed out after 0\.8 s in total"):
        fetch(server.url("/trickle"), config)
    assert asyncio.run(_clock()) - started < 3


async def _clock() -> float:
    return asyncio.get_running_loop().time()


def test_body_over_the_limit_announced(server):
    server.route("/big", lambda req: Reply(200, b"x" * 5000))
    with pytest.raises(PermanentError, match=r"over the limit of 4096 bytes \(Content-Length 5000"):
        fetch(server.url("/big"), HttpConfig(max_bytes=4096, per_host_delay=0))


def test_body_over_the_limit_while_streaming(server):
    server.route("/big", lambda req: Reply(200, ((b"x" * 1024, 0) for _ in range(100))))
    with pytest.raises(PermanentError, match=r"body over the limit of 4096 bytes") as info:
        fetch(server.url("/big"), HttpConfig(max_bytes=4096, per_host_delay=0))
    assert info.value.status == 200


@pytest.mark.parametrize(
    "coding, bomb",
    [
        ("gzip", lambda: gzip.compress(b"\0" * (16 << 20), 9)),
        ("br", lambda: brotli.compress(b"\0" * (16 << 20), quality=5)),
    ],
)
def test_compression_bomb_stops_at_the_decoded_limit(server, coding, bomb):
    payload = bomb()
    assert len(payload) < 1 << 20  # small on the wire: only the decoded cap can stop it
    server.route("/bomb", lambda req: Reply(200, payload, {"Content-Encoding": coding}))
    with pytest.raises(PermanentError, match=r"decoded body over the limit of 1048576 bytes"):
        fetch(server.url("/bomb"))


def test_redirect_loop(server):
    server.route("/a", lambda req: Reply(302, b"", {"Location": "/b"}))
    server.route("/b", lambda req: Reply(301, b"", {"Location": "/a"}))
    archive = Recorder()
    config = HttpConfig(per_host_delay=0, allow_private_addresses=True)
    with pytest.raises(PermanentError, match="more than 5 redirects"):
        fetch(server.url("/a"), config, archive=archive)
    assert len(server.hits("/a")) + len(server.hits("/b")) == 6
    assert [r.status for r in archive.records] == [302, 301] * 3  # every hop is evidence


def test_redirects_followed_and_archived(server, feed_bytes):
    server.route("/old", lambda req: Reply(301, b"", {"Location": "/new"}))
    server.route("/new", lambda req: Reply(200, feed_bytes))
    archive = Recorder()
    config = HttpConfig(per_host_delay=0, allow_private_addresses=True)
    response = fetch(server.url("/old"), config, archive=archive)
    assert response.url == server.url("/new") and response.requested_url == server.url("/old")
    assert [r.status for r in archive.records] == [301, 200]


def test_redirect_to_a_private_address_is_refused(server):
    # The configured URL is trusted (the operator chose it); its redirect target is not.
    server.route("/feed", lambda req: Reply(302, b"", {"Location": server.url("/inner")}))
    server.route("/inner", lambda req: Reply(200, b"secret"))
    with pytest.raises(PermanentError, match="non-public address 127.0.0.1") as info:
        fetch(server.url("/feed"))
    assert "--allow_private_addresses" in str(info.value)
    assert server.hits("/inner") == []


def test_redirect_to_a_name_resolving_to_loopback_is_refused(server):
    target = f"http://localhost:{server.port}/x"
    server.route("/feed", lambda req: Reply(302, b"", {"Location": target}))
    with pytest.raises(PermanentError, match=r"localhost resolves to a non-public address"):
        fetch(server.url("/feed"))


def test_redirect_to_a_private_address_allowed_when_configured(server):
    server.route("/feed", lambda req: Reply(302, b"", {"Location": "/inner"}))
    server.route("/inner", lambda req: Reply(200, b"ok"))
    config = HttpConfig(per_host_delay=0, allow_private_addresses=True)
    assert fetch(server.url("/feed"), config).body == b"ok"


def test_untrusted_private_url_refused_without_a_request(server):
    with pytest.raises(PermanentError, match="non-public address 127.0.0.1"):
        fetch(server.url("/x"), trusted=False)
    with pytest.raises(PermanentError, match=r"::ffff:127.0.0.1 resolves to a non-public address"):
        fetch("http://[::ffff:127.0.0.1]:9/x", trusted=False)
    assert server.requests == []


def test_rebinding_caught_at_the_connected_address(server, monkeypatch):
    # As if the name had resolved to a public address when checked and to
    # loopback when connecting: the connected peer is checked too.
    class CheckedEarlier(Fetcher):
        async def _guard(self, url: str, trusted: bool) -> None:
            return None

    monkeypatch.setattr("connectors.http_guard._PROXIES", False)
    server.route("/inner", lambda req: Reply(200, b"internal"))
    archive = Recorder()

    async def go() -> Response:
        async with CheckedEarlier(FAST, archive=archive) as fetcher:
            return await fetcher.get(server.url("/inner"), trusted=False)

    with pytest.raises(PermanentError, match="connected to a non-public address 127.0.0.1"):
        asyncio.run(go())
    assert archive.records == []


@pytest.mark.parametrize(
    "answers, refused",
    [
        (["93.184.215.14", "10.0.0.5"], "10.0.0.5"),
        (["2606:4700::1111", "::1"], "::1"),
        (["93.184.215.14", "::ffff:169.254.169.254"], "::ffff:169.254.169.254"),
    ],
)
def test_a_name_with_several_addresses_is_refused_if_any_is_private(answers, refused):
    # The resolver's answer is faked (no DNS here); everything else is the real guard.
    async def go() -> None:
        loop = asyncio.get_running_loop()

        async def getaddrinfo(host, port, **kwargs):
            assert host == "mixed.example"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers]

        loop.getaddrinfo = getaddrinfo  # type: ignore[method-assign]
        async with Fetcher(FAST) as fetcher:
            await fetcher.get("http://mixed.example/feed", trusted=False)

    with pytest.raises(PermanentError, match=f"non-public address {re.escape(refused)} "):
        asyncio.run(go())


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens
    with pytest.raises(TransientError, match="cannot connect") as info:
        fetch(f"http://127.0.0.1:{port}/feed")
    assert info.value.retry_after is None and info.value.status is None


def test_name_that_does_not_resolve():
    with pytest.raises(TransientError, match="cannot connect"):
        fetch("http://no-such-feed.invalid/rss")
    with pytest.raises(TransientError, match="cannot resolve no-such-feed.invalid"):
        fetch("http://no-such-feed.invalid/rss", trusted=False)


def test_not_http_is_permanent():
    with pytest.raises(PermanentError, match="not an http"):
        fetch("file:///etc/passwd")


# --- politeness ----------------------------------------------------------------


def test_slow_host_does_not_hold_another(server):
    server.route("/slow", lambda req: Reply(200, ((b"s", 0.1) for _ in range(4))))
    with LocalServer() as other:
        other.route("/fast", lambda req: Reply(200, b"f"))
        config = HttpConfig(per_host_concurrency=1, per_host_delay=0, total_timeout=5)

        async def both() -> list[str]:
            done: list[str] = []
            async with Fetcher(config) as fetcher:

                async def one(url: str, name: str) -> None:
                    await fetcher.get(url)
                    done.append(name)

                await asyncio.gather(
                    one(server.url("/slow"), "slow"),
                    one(server.url("/slow"), "slow"),
                    one(other.url("/fast"), "fast"),
                )
            return done

        assert asyncio.run(both()) == ["fast", "slow", "slow"]
    starts = [r.at for r in server.hits("/slow")]
    assert starts[1] - starts[0] >= 0.35  # one at a time to the slow host


def test_minimum_delay_between_requests_to_a_host(server):
    server.route("/p", lambda req: Reply(200, b"p"))
    config = HttpConfig(per_host_concurrency=4, per_host_delay=0.2)

    async def three() -> None:
        async with Fetcher(config) as fetcher:
            await asyncio.gather(*(fetcher.get(server.url("/p")) for _ in range(3)))

    asyncio.run(three())
    starts = sorted(r.at for r in server.hits("/p"))
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.18


# --- pure parts ------------------------------------------------------------------


def test_parse_retry_after():
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412460) == 20.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412500) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_retry_after("-5") is None


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("::1", False),
        ("::", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:169.254.169.254", False),
        ("2002:c0a8:0101::1", False),  # 6to4 of 192.168.1.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(address) is public


def test_secret_headers_and_urls():
    for name in ("Authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "Proxy-Authorization"):
        assert is_secret_header(name)
    assert not is_secret_header("If-None-Match") and not is_secret_header("User-Agent")
    assert redact_url("https://u:p@example.org:8443/a?b=1") == "https://example.org:8443/a?b=1"
    assert redact_url("https://example.org/a") == "https://example.org/a"


def test_config_validation():
    with pytest.raises(ValueError, match=r"total_timeout must be > 0 \(got 0\)"):
        HttpConfig(total_timeout=0)
    with pytest.raises(ValueError, match=r"per_host_concurrency must be >= 1 \(got 0\)"):
        HttpConfig(per_host_concurrency=0)
    with pytest.raises(ValueError, match=r"max_connections must be >= 1 \(got 0\)"):
        HttpConfig(max_connections=0)
    assert HttpConfig(max_bytes=10).decoded_limit == 10
    assert HttpConfig(max_bytes=10, max_decoded_bytes=99).decoded_limit == 99


def test_bounded_decoder_never_holds_more_than_the_cap_plus_a_step():
    bomb = gzip.compress(b"\0" * (16 << 20), 9)
    decoder = BoundedDecoder(["gzip"], 1 << 20)
    with pytest.raises(BodyTooLarge):
        for i in range(0, len(bomb), 65536):
            decoder.feed(bomb[i : i + 65536])
    assert decoder.size <= (1 << 20) + 65536


def test_bounded_decoder_errors():
    with pytest.raises(DecodeError, match="unsupported Content-Encoding 'zstd'"):
        content_codings("zstd")
    assert content_codings("x-gzip, identity, br") == ["gzip", "br"]
    with pytest.raises(DecodeError, match="bad gzip data"):
        BoundedDecoder(["gzip"], 100).feed(b"\x1f\x8bnot gzip at all")
    with pytest.raises(DecodeError, match="bad br data"):
        BoundedDecoder(["br"], 100).feed(b"\xff" * 20)
    one, two = gzip.compress(b"one "), gzip.compress(b"two")
    assert b"".join(BoundedDecoder(["gzip"], 100).feed(one + two + b"\0\0")) == b"one two"
    for cut in (len(one), len(one) + 1):  # a member boundary, half a magic, in separate chunks
        decoder = BoundedDecoder(["gzip"], 100)
        body = one + two
        pieces = decoder.feed(body[:cut]) + decoder.feed(body[cut:]) + decoder.finish()
        assert b"".join(pieces) == b"one two"


@pytest.mark.parametrize("codings", [["gzip"], ["deflate"], ["br"], ["gzip", "br"], []])
def test_bounded_decoder_byte_by_byte(codings):
    data = b"".join(b"line %d of the feed\n" % i for i in range(300))
    encode = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}
    body = data
    for coding in codings:
        body = encode[coding](body)
    decoder = BoundedDecoder(codings, len(data))
    pieces = [piece for i in range(len(body)) for piece in decoder.feed(body[i : i + 1])]
    assert b"".join(pieces + decoder.finish()) == data
    with pytest.raises(BodyTooLarge):
        small = BoundedDecoder(codings, len(data) - 1)
        for i in range(0, len(body), 7):
            small.feed(body[i : i + 7])
        small.finish()
