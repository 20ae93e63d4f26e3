"""The review desk's parts: archived copies, the serve command, and its pure helpers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest
from starlette.testclient import TestClient

from connectors.http import Response
from connectors.store import ReviewStore, load_flagged_jsonl
from connectors.warc import WarcArchive
from desk import DeskConfig, create_app
from desk.charts import day_window, stacked_chart
from desk.config import check_bind, check_header_name, check_port, default_reviewer
from desk.export import csv_safe
from desk.render import highlight, safe_url, search_segments
from tests.deskkit import ROOT, flagged, synthetic_store
from transforms.item import ArchiveRecord, to_json

HOSTILE_PAGE = (
    "<html><body><script>document.title='ran'</script><p>Шелинг ринку</p></body></html>"
).encode("windows-1251", errors="replace")


@pytest.fixture
def archived(tmp_path):
    """A store whose item points to a real WARC response record with a hostile page."""
    directory = tmp_path / "warc"
    with WarcArchive(directory) as archive:
        record = archive.record(
            Response(
                url="https://wire.example/news/1",
                requested_url="https://wire.example/news/1",
                status=200,
                headers=(("content-type", "text/html; charset=windows-1251"),),
                body=HOSTILE_PAGE,
                captured_at="2026-03-10T09:00:00.000001Z",
            )
        )
    items = [flagged(1, archive=record), flagged(2, archive=ArchiveRecord("../../etc/passwd", "x")),
             flagged(3, archive=ArchiveRecord(record.file, "urn:uuid:not-there"))]  # fmt: skip
    return synthetic_store(tmp_path / "r.db", items), directory


def test_archived_copy_is_served_as_sandboxed_text(archived):
    store, directory = archived
    with TestClient(
        create_app(DeskConfig(store=store, archive=directory)), base_url="http://127.0.0.1"
    ) as c:
        page = c.get("/")
        assert 'href="/archive/item0001"' in page.text
        copy = c.get("/archive/item0001")
        assert copy.status_code == 200
        assert copy.headers["content-type"] == "text/plain; charset=utf-8"
        assert copy.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert copy.headers["x-content-type-options"] == "nosniff"
        assert "Archived copy of https://wire.example/news/1" in copy.text
        assert "<script>document.title='ran'</script><p>Шелинг ринку</p>" in copy.text
        outside = c.get("/archive/item0002")
        assert outside.status_code == 404 and "outside the archive directory" in outside.text
        assert "is not in" in c.get("/archive/item0003").text
        assert c.get("/archive/item9999").status_code == 404
    with TestClient(create_app(DeskConfig(store=store)), base_url="http://127.0.0.1") as c:
        assert "without --archive" in c.get("/archive/item0001").text


def test_load_flagged_jsonl_upserts_and_keeps_bad_lines_as_dead_letters(tmp_path):
    path = tmp_path / "flagged.jsonl"
    path.write_text(to_json(flagged(1)) + "\n" + "{not json\n" + "\n" + to_json(flagged(2)) + "\n")
    with ReviewStore(tmp_path / "r.db") as store:
        assert load_flagged_jsonl(store, path) == {
            "new": 2,
            "changed": 0,
            "unchanged": 0,
            "dead_letters": 1,
        }
        [dead] = store.dead_letters()
        assert dead["stage"] == "replay" and f"{path}:2: not a flagged item" in dead["reason"]
        assert load_flagged_jsonl(store, path)["unchanged"] == 2
        assert store.counts()["flagged"] == 2


def serve(*args: str, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "review", "serve", *args],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_serve_command_starts_on_loopback_says_so_and_stops_on_ctrl_c(tmp_path):
    store = synthetic_store(tmp_path / "r.db", [flagged(1)])
    env = {**os.environ, "NEWSWATCH_REVIEWER": "dana"}
    process = serve("--store", str(store), "--port", "0", env=env)
    try:
        line = process.stderr.readline()
        found = re.search(
            r"on http://127\.0\.0\.1:(\d+)/ \(reviewer dana; this machine only\)", line
        )
        assert found, line
        page = httpx.get(f"http://127.0.0.1:{found.group(1)}/", timeout=10)
        assert page.status_code == 200 and 'data-id="item0001"' in page.text
        assert '<b id="reviewer">dana</b>' in page.text
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert "newswatch review: stopped" in process.stderr.read()
        process.stderr.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "--host '0.0.0.0' is reachable from other machines: give --token"),
        (["--host", "0.0.0.0", "--token", "short"], "--token must be at least 16 characters"),
        (["--port", "99999"], "--port must be an integer from 0 to 65535 (got '99999')"),
        (["--identity_header", "X Bad"], "--identity_header must be an HTTP header name"),
        (["--archive", "/nonexistent/warc"], "--archive must be a directory"),
    ],
)
def test_serve_refuses_bad_options_with_one_line(tmp_path, args, message):
    store = synthetic_store(tmp_path / "r.db", [flagged(1)])
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "review", "serve", "--store", str(store), *args],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_serve_refuses_a_missing_store_instead_of_creating_one(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "review", "serve", "--store", str(tmp_path / "x.db")],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "no review store at" in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_serve_on_all_interfaces_with_a_token_says_what_guards_it_and_stops_on_sigterm(tmp_path):
    store = synthetic_store(tmp_path / "r.db", [flagged(1)])
    token = "a-long-enough-shared-token"
    process = serve("--store", str(store), "--host", "0.0.0.0", "--port", "0", "--token", token)
    try:
        line = process.stderr.readline()
        assert "reachable from other machines: every request needs the token" in line, line
        port = re.search(r":(\d+)/", line).group(1)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 401
        ok = httpx.get(f"http://127.0.0.1:{port}/", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        process.stderr.close()


def test_option_checks():
    check_bind("127.0.0.1", None, None)
    check_bind("::1", None, None)
    check_bind("localhost", None, None)
    check_bind("0.0.0.0", None, "X-Forwarded-User")
    with pytest.raises(ValueError, match="'192.168.1.5' is reachable"):
        check_bind("192.168.1.5", None, None)
    assert check_port("0") == 0
    with pytest.raises(ValueError, match="got 'http'"):
        check_port("http")
    assert check_header_name("X-Remote-User") == "X-Remote-User"
    with pytest.raises(ValueError, match="got ' '"):
        default_reviewer(" ")
    assert default_reviewer(" ana ") == "ana"


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://a.example/x?y=1", "https://a.example/x?y=1"),
        ("HTTP://a.example", "HTTP://a.example"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("/relative", None),
        ("https:///nohost", None),
        ("http://[bad", None),
        (None, None),
    ],
)
def test_only_absolute_http_urls_become_links(url, link):
    assert safe_url(url) == link


def test_highlight_merges_overlaps_and_keeps_every_character():
    text = "shelling of civilian homes"
    spans = [(0, 8, "shelling", "t1"), (4, 11, "overlap", "t2"), (12, 20, "civilians", "t3")]
    parts = highlight(text, spans)
    assert "".join(p.text for p in parts) == text
    assert [(p.text, p.gloss) for p in parts if p.marked] == [
        ("shelling", "shelling"), (" of", "overlap"), ("civilian", "civilians"),
    ]  # fmt: skip
    found = search_segments("a \x02b\x03 c")
    assert [(s.text, s.marked) for s in found] == [("a ", False), ("b", True), (" c", False)]


def test_chart_stacks_per_day_and_keeps_totals():
    days = day_window(__import__("datetime").date(2026, 3, 30), 30)
    assert days[0] == "2026-03-01" and days[-1] == "2026-03-30" and len(days) == 30
    rows = [("2026-03-01", "en", 3), ("2026-03-01", "uk", 1), ("2026-03-30", "en", 2),
            ("2026-02-01", "en", 50)]  # fmt: skip
    chart = stacked_chart(rows, days)
    assert chart.legend == (("en", "#0072b2", 5), ("uk", "#e69f00", 1))
    assert [b.label for b in chart.bars] == [
        "2026-03-01: en 3",
        "2026-03-01: uk 1",
        "2026-03-30: en 2",
    ]
    first, second = chart.bars[0], chart.bars[1]
    assert first.y + first.height == chart.baseline and second.y + second.height == first.y
    many = stacked_chart([("2026-03-02", f"l{i}", 1) for i in range(14)], days)
    assert len(many.legend) == 10 and many.legend[-1][0] == "other" and many.legend[-1][2] == 5


def test_csv_cells_that_spreadsheets_would_run_are_defused():
    assert [csv_safe(v) for v in ("=1+1", "+x", "-x", "@x", "plain", None, 3)] == [
        "'=1+1", "'+x", "'-x", "'@x", "plain", "", "3",
    ]  # fmt: skip


def test_the_page_answers_while_a_writer_holds_the_store(tmp_path):
    # WAL: the desk reads the last commit while a consumer's transaction is open.
    path = synthetic_store(tmp_path / "r.db", [flagged(1)])
    writer = ReviewStore(path)
    try:
        with TestClient(create_app(DeskConfig(store=path)), base_url="http://127.0.0.1") as c:
            with writer.transaction():
                writer.upsert_item(flagged(2))
                page = c.get("/")
                assert page.status_code == 200 and 'data-id="item0002"' not in page.text
            assert 'data-id="item0002"' in c.get("/").text
    finally:
        writer.close()


def test_store_counts_up_to_a_cap_and_exports_every_filtered_row(tmp_path):
    from connectors import store_queries as q

    path = synthetic_store(
        tmp_path / "r.db", [flagged(n, language="uk" if n % 3 else "en") for n in range(1, 31)]
    )
    with ReviewStore(path) as store:
        assert q.count_queue(store) == 30
        assert q.count_queue(store, at_most=7) == 7
        assert q.count_queue(store, q.QueueFilter(language="en"), at_most=100) == 10
        exported = [s.item.id for s in q.export_rows(store, q.QueueFilter(language="en"))]
        assert exported == [
            s.item.id for s in q.queue(store, q.QueueFilter(language="en"), limit=100)
        ]
        assert len(exported) == 10
        facets = q.facets(store)
        assert facets["language"] == [("uk", 20), ("en", 10)]
        assert facets["category"] == [("investigation", 30)]
        assert facets["affiliation"] == [("wire", 30)] and facets["country"] == [("GB", 30)]


def test_the_desk_imports_without_beam_and_exports_what_it_lists():
    code = (
        "import sys, importlib, pkgutil, desk\n"
        "for info in pkgutil.iter_modules(desk.__path__):\n"
        "    module = importlib.import_module('desk.' + info.name)\n"
        "    assert [n for n in module.__all__ if not hasattr(module, n)] == [], info.name\n"
        "import pipelines.commands.review\n"
        "print('apache_beam' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
