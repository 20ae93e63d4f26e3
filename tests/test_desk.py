"""The review desk over real review stores, through its HTTP interface (in process)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from connectors import store_queries as q
from connectors.store import ReviewStore, load_flagged_jsonl
from desk import DeskConfig, create_app
from tests.deskkit import HOSTILE_TITLE, ROOT, flagged, sample_store_file, synthetic_store
from transforms.item import Report, Source

BASE = "http://127.0.0.1"


def client(config: DeskConfig, **kwargs) -> TestClient:
    return TestClient(create_app(config), base_url=kwargs.pop("base_url", BASE), **kwargs)


def ids_on(html: str) -> list[str]:
    return re.findall(r'<article class="entry" id="e-[^"]*" data-id="([^"]*)"', html)


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)


@pytest.fixture
def items():
    state = Source("feed", "State TV", "https://tv.example/rss", "RU", "state media")
    return [
        flagged(1, day=10),
        flagged(2, day=11, language="uk", categories=("war_crime_allegation", "investigation")),
        flagged(3, day=12, source=state, title="Officials deny an inquiry into the strike"),
        flagged(4, day=13, language="fr", title="Une enquête sur le bombardement du marché"),
    ]


@pytest.fixture
def store_path(tmp_path, items):
    return synthetic_store(tmp_path / "review.db", items)


@pytest.fixture
def desk(store_path):
    with client(DeskConfig(store=store_path, reviewer="ana")) as c:
        yield c


def test_sample_replay_fills_the_store_and_the_first_page_lists_every_flagged_item(tmp_path):
    path, flagged_jsonl = sample_store_file(tmp_path / "review.db")
    expected = {json.loads(line)["id"] for line in flagged_jsonl.read_text().splitlines()}
    assert len(expected) >= 15
    with ReviewStore(path) as store:
        assert set(store.item_ids()) == expected
        # Loading the same file again (a second replay) changes nothing.
        assert load_flagged_jsonl(store, flagged_jsonl)["unchanged"] == len(expected)
    with client(DeskConfig(store=path)) as c:
        page = c.get("/")
    assert page.status_code == 200
    assert set(ids_on(page.text)) == expected
    assert len(ids_on(page.text)) == len(expected)


def test_queue_is_newest_first_and_filters_select(desk, items):
    assert ids_on(desk.get("/").text) == ["item0004", "item0003", "item0002", "item0001"]
    assert ids_on(desk.get("/?language=uk").text) == ["item0002"]
    assert ids_on(desk.get("/?category=war_crime_allegation").text) == ["item0002"]
    assert ids_on(desk.get("/?affiliation=state+media&country=RU").text) == ["item0003"]
    assert ids_on(desk.get("/?source=Example+Wire").text) == ["item0004", "item0002", "item0001"]
    # "to" is a day and includes it.
    assert ids_on(desk.get("/?since=2026-03-11&until=2026-03-12").text) == ["item0003", "item0002"]
    assert ids_on(desk.get("/?q=deny").text) == ["item0003"]


def test_search_matches_are_marked_and_search_syntax_is_only_text(desk):
    page = desk.get("/?q=shell*")
    assert '<mark class="term" title="search match" data-term="search">shelling</mark>' in page.text
    hostile = desk.get('/?q=x" OR 1=1; DROP TABLE flagged; --')
    assert hostile.status_code == 200 and ids_on(hostile.text) == []
    assert len(ids_on(desk.get("/").text)) == 4


def test_evidence_terms_are_highlighted_with_their_gloss(desk):
    page = desk.get("/?language=uk").text
    assert (
        '<mark class="term" title="shelling, artillery fire" data-term="shelling">shelling</mark>'
        in page
    )
    assert '<mark class="term" title="inquiry" data-term="inquiry">inquiry</mark>' in page
    assert "war_crime_allegation <b>0.90</b>" in page and "investigation <b>0.70</b>" in page


def test_paging_keeps_filters(tmp_path):
    path = synthetic_store(tmp_path / "r.db", [flagged(n, day=1 + n % 28) for n in range(1, 61)])
    with client(DeskConfig(store=path, page_size=25)) as c:
        first, third = c.get("/?language=en"), c.get("/?language=en&page=3")
        assert len(ids_on(first.text)) == 25 and len(ids_on(third.text)) == 10
        assert 'href="/?language=en&amp;page=2" rel="next"' in first.text
        assert not set(ids_on(first.text)) & set(ids_on(third.text))
        assert c.get("/?page=0").status_code == 400


def test_a_decision_needs_the_csrf_token_and_a_same_origin_request(desk, store_path):
    token = csrf_of(desk.get("/").text)
    form = {"item_id": "item0001", "decision": "confirmed", "note": ""}
    assert desk.post("/decide", data=form).status_code == 403
    assert desk.post("/decide", data={**form, "csrf": "wrong"}).status_code == 403
    assert desk.post("/decide", data={**form, "csrf": "ключ"}).status_code == 403
    cross = desk.post(
        "/decide", data={**form, "csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    with ReviewStore(store_path) as store:
        assert store.counts()["decisions"] == 0
    ok = desk.post("/decide", data={**form, "csrf": token}, headers={"Accept": "application/json"})
    assert ok.status_code == 200 and ok.json()["decision"] == "confirmed"


def test_decide_undo_and_latest_reviewer_shown(store_path):
    app = create_app(DeskConfig(store=store_path, identity_header="X-Remote-User"))
    ana = TestClient(app, base_url=BASE, headers={"X-Remote-User": "ana"})
    ben = TestClient(app, base_url=BASE, headers={"X-Remote-User": "ben"})
    with ana, ben:
        token = csrf_of(ana.get("/").text)
        json_ = {"Accept": "application/json"}
        form = {"item_id": "item0002", "csrf": token}
        r = ana.post(
            "/decide", data={**form, "decision": "confirmed", "note": "ICC case"}, headers=json_
        )
        assert r.json()["reviewer"] == "ana"
        r = ben.post("/decide", data={**form, "decision": "dismissed"}, headers=json_)
        assert (r.json()["decision"], r.json()["reviewer"]) == ("dismissed", "ben")
        page = ana.get("/?decision=dismissed").text
        assert ids_on(page) == ["item0002"]
        assert 'dismissed</b> by <span class="by">ben</span>' in page
        assert "item0002" not in ids_on(ana.get("/").text), "decided items leave the default queue"
        back = ana.post("/undo", data=form, headers=json_).json()
        assert (back["decision"], back["reviewer"], back["note"]) == (
            "confirmed",
            "ana",
            "ICC case",
        )
        # Without JavaScript the form posts and comes back to the page it was on.
        plain = ben.post("/undo", data={**form, "next": "/?language=uk"}, follow_redirects=False)
        assert plain.status_code == 303 and plain.headers["location"] == "/?language=uk"
        evil = ben.post("/undo", data={**form, "next": "//evil.example/"}, follow_redirects=False)
        assert evil.headers["location"] == "/"
    with ReviewStore(store_path) as store:
        history = q.decision_history(store, "item0002")
        assert [(d.decision, d.reviewer) for d in history] == [
            ("confirmed", "ana"), ("dismissed", "ben"), ("confirmed", "ana"), ("undecided", "ben"),
        ]  # fmt: skip
        assert store.item("item0002").decision is None


def test_bad_decisions_are_refused_with_the_reason(desk, store_path):
    token = csrf_of(desk.get("/").text)
    r = desk.post("/decide", data={"item_id": "item0001", "decision": "maybe", "csrf": token})
    assert r.status_code == 400 and "decision must be one of" in r.text
    r = desk.post("/decide", data={"item_id": "nope", "decision": "confirmed", "csrf": token})
    assert r.status_code == 400 and "no flagged item" in r.text


def test_hostile_fields_are_text_and_only_http_links_are_links(tmp_path):
    item = flagged(
        1,
        title=HOSTILE_TITLE.replace("PROBE", "http://127.0.0.1:9"),
        text="<script>alert(1)</script> shelling <b onmouseover=alert(2)>civilians</b>",
        url="javascript:alert(document.cookie)",
        links=("javascript:alert(3)", "https://ok.example/a", "data:text/html,<script>x</script>"),
        reports=(Report("r1", Source("feed", "<i>Copy</i>", "https://c.example"), "vbscript:x"),),
    )
    path = synthetic_store(tmp_path / "r.db", [item])
    with client(DeskConfig(store=path)) as c:
        html = c.get("/").text
    assert "<img" not in html and "<script>alert" not in html and "<b onmouseover" not in html
    assert "&lt;img src=x onerror=" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("/", "https://", "http://")) for h in hrefs), hrefs
    assert 'href="https://ok.example/a"' in html
    assert '<span class="unsafe-link">javascript:alert(document.cookie)</span>' in html
    assert '<span class="unsafe-link">&lt;i&gt;Copy&lt;/i&gt;</span>' in html


def test_every_answer_has_a_strict_policy_and_a_foreign_host_is_refused(desk):
    for path in ("/", "/overview", "/static/desk.js", "/export.csv"):
        r = desk.get(path)
        assert r.status_code == 200, path
        policy = r.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert "unsafe-inline" not in policy and r.headers["x-content-type-options"] == "nosniff"
    assert desk.get("/", headers={"Host": "attacker.example"}).status_code == 421


def test_token_guards_every_request(store_path):
    token = "s3cret-token-of-enough-length"
    config = DeskConfig(store=store_path, token=token, loopback_only=False)
    with client(config, base_url="http://desk.example") as c:
        assert c.get("/").status_code == 401
        assert c.get("/?token=%D0%BA%D0%BB%D1%8E%D1%87").status_code == 401
        assert (
            c.get("/", headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code
            == 401
        )
        first = c.get(f"/?token={token}&language=uk", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/?language=uk"
        assert "httponly" in first.headers["set-cookie"].lower()
        assert ids_on(c.get("/?language=uk").text) == ["item0002"]  # the cookie now
    with client(config, base_url="http://desk.example") as other:
        r = other.get("/export.jsonl", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and len(r.text.splitlines()) == 4


def test_identity_header_is_required_when_configured(store_path):
    with client(DeskConfig(store=store_path, identity_header="X-Remote-User")) as c:
        assert c.get("/").status_code == 401
        assert (
            'reviewing as <b id="reviewer">carla</b>'
            in c.get("/", headers={"X-Remote-User": "carla"}).text
        )


def test_exports_hold_the_filtered_rows_with_their_decisions(desk, store_path):
    with ReviewStore(store_path) as store:
        q.record_decision(store, "item0001", "confirmed", reviewer="ana", note="=HYPERLINK(x)")
        store.upsert_item(flagged(9, day=14, title="=cmd|' /C calc'!A0 inquiry"))
    rows = list(csv.DictReader(io.StringIO(desk.get("/export.csv?decision=any&language=en").text)))
    assert [r["item_id"] for r in rows] == ["item0009", "item0003", "item0001"]
    assert rows[0]["title"].startswith("'=cmd")
    assert rows[2]["decision"] == "confirmed" and rows[2]["decision_note"] == "'=HYPERLINK(x)"
    lines = desk.get("/export.jsonl?decision=confirmed").text.splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["item0001"]
    assert json.loads(lines[0])["review"]["reviewer"] == "ana"
    assert desk.get("/export.csv?since=yesterday").status_code == 400
    assert desk.get("/export.xlsx").status_code == 404


def test_overview_counts_and_charts(desk, store_path):
    with ReviewStore(store_path) as store:
        q.record_decision(store, "item0003", "dismissed", reviewer="ana")
    page = desk.get("/overview").text
    assert "<b>3</b> undecided" in page and "<b>1</b> dismissed" in page
    assert "2026-02-12 to 2026-03-13" in page  # the 30 days up to the newest item
    assert page.count("<rect x=") == 5 + 4  # category bars (item 2 has two), language bars
    assert "<title>2026-03-11: war_crime_allegation 1</title>" in page
    assert "State TV" in page and "Example Wire" in page


def test_desk_decisions_become_labels(desk, store_path, tmp_path):
    token = csrf_of(desk.get("/").text)
    for item_id, decision in (("item0001", "confirmed"), ("item0003", "dismissed")):
        form = {"item_id": item_id, "decision": decision, "csrf": token, "note": "desk"}
        assert desk.post("/decide", data=form, follow_redirects=False).status_code == 303
    output = tmp_path / "labels.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "labels", "export", "--store", str(store_path),
         "--output", str(output)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in map(json.loads, output.read_text().splitlines())}
    assert {k: (r["flag"], r["reviewer"], r["note"]) for k, r in rows.items()} == {
        "item0001": (True, "ana", "desk"),
        "item0003": (False, "ana", "desk"),
    }


def test_a_large_queue_is_counted_up_to_the_cap_and_still_pages(tmp_path, monkeypatch):
    import desk.app

    monkeypatch.setattr(desk.app, "COUNT_CAP", 30)
    path = synthetic_store(tmp_path / "r.db", [flagged(n, day=1 + n % 28) for n in range(1, 81)])
    with client(DeskConfig(store=path, page_size=25)) as c:
        first = c.get("/?category=investigation")
        assert '<b id="total">more than 30</b> items, page 1' in first.text
        last = c.get("/?category=investigation&page=4")
        assert len(ids_on(last.text)) == 5 and 'rel="next"' not in last.text
        assert 'rel="prev"' in last.text
        exact = c.get("/?language=en&since=2026-03-20")
        assert '<b id="total">24</b> items' in exact.text
