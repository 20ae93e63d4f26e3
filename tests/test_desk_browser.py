"""The review desk in a real headless Chromium (Debian's ``chromium``, driven by playwright).

``make test`` installs the browser when it is missing (``make chromium``).
Screenshots of the queue and the overview go to ``$NEWSWATCH_SCREENSHOTS``
(``make screenshots`` sets it to docs/img) or to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from connectors import store_queries as q
from connectors.store import ReviewStore
from desk import DeskConfig
from tests.deskkit import HOSTILE_TITLE, flagged, sample_store_file, served, synthetic_store
from tests.localserver import Reply
from tests.waiting import wait_for
from transforms.item import Report, Source

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)"
    )
    with sync_playwright() as p:
        opened = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield opened
        opened.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


@pytest.fixture
def sample_store(tmp_path):
    path, _ = sample_store_file(tmp_path / "review.db")
    return path


def stored(path: Path, item_id: str):
    with ReviewStore(path) as store:
        return store.item(item_id)


def count(path: Path, **filters) -> int:
    with ReviewStore(path) as store:
        return q.count_queue(store, q.QueueFilter(**filters))


def languages_shown(page: Page) -> list[str]:
    return page.locator("article.entry .tag.lang").all_inner_texts()


def test_filter_by_language_confirm_with_c_and_undo_with_u(page, sample_store):
    ukrainian = count(sample_store, language="uk")
    assert ukrainian >= 2
    with served(DeskConfig(store=sample_store, reviewer="tester")) as url:
        page.goto(url + "/")
        assert page.locator("article.entry").count() == count(sample_store)
        page.select_option("#f-language", "uk")  # the form submits on change
        page.wait_for_url("**language=uk**")
        assert languages_shown(page) == ["uk"] * ukrainian
        first = page.locator("article.entry").first
        item_id = first.get_attribute("data-id")
        expect(first).to_have_class(re.compile(r"\bcurrent\b"))

        page.keyboard.press("c")
        row = wait_for(lambda: stored(sample_store, item_id).decision, "the confirm in the store")
        assert row == "confirmed"
        assert stored(sample_store, item_id).decision_reviewer == "tester"
        state = first.locator('[data-role="state"]')
        expect(state).to_have_text(re.compile(r"^confirmed by tester at "))
        expect(page.locator("article.entry").nth(1)).to_have_class(re.compile(r"\bcurrent\b"))

        page.keyboard.press("k")  # back to the confirmed item
        page.keyboard.press("u")
        wait_for(lambda: stored(sample_store, item_id).decision is None, "the undo in the store")
        expect(state).to_have_text(re.compile(r"^undecided \(undone by tester at "))
        with ReviewStore(sample_store) as store:
            history = q.decision_history(store, item_id)
        assert [(d.decision, d.reviewer) for d in history] == [
            ("confirmed", "tester"),
            ("undecided", "tester"),
        ]

        # n: a note, then d dismisses the next item with it.
        second = page.locator("article.entry").nth(1)
        page.keyboard.press("j")
        page.keyboard.press("n")
        page.keyboard.type("sports report, not an atrocity")
        page.keyboard.press("Enter")  # leaves the note field; does not submit
        page.keyboard.press("d")
        other = second.get_attribute("data-id")
        wait_for(lambda: stored(sample_store, other).decision == "dismissed", "the dismiss")
        assert stored(sample_store, other).decision_note == "sports report, not an atrocity"
        expect(second.locator('[data-role="state"]')).to_have_text(
            re.compile(r"^dismissed by tester at .* — note: sports report, not an atrocity$")
        )

        page.keyboard.press("/")
        page.keyboard.type("xyzzy-nothing")
        page.keyboard.press("Enter")
        page.wait_for_url("**q=xyzzy-nothing**")
        assert page.locator("article.entry").count() == 0


def test_hostile_title_and_links_are_shown_as_text_and_nothing_runs(page, tmp_path, server):
    server.route("/img", lambda request: Reply(200, b"gotcha"))
    probe = server.url("").rstrip("/")
    item = flagged(
        1,
        title=HOSTILE_TITLE.replace("PROBE", probe),
        text="<img src=x onerror=\"fetch('" + probe + "/img')\"> shelling of civilians",
        url="javascript:fetch('" + probe + "/img')",
        links=("javascript:window.__pwned=3", "https://ok.example/a"),
        reports=(Report("r", Source("feed", "Copy", "https://c.example"), "javascript:alert(1)"),),
    )
    path = synthetic_store(tmp_path / "r.db", [item, flagged(2)])
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e => "
        "window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    with served(DeskConfig(store=path)) as url:
        page.goto(url + "/")
        title = page.locator(f"#e-{item.id} h2")
        assert title.inner_text().startswith('<img src=x onerror="window.__pwned=1;fetch(')
        assert "<script>window.__pwned=2</script>" in title.inner_text()
        assert page.locator("#queue img, #queue script").count() == 0
        assert page.locator('a[href^="javascript:"]').count() == 0
        unsafe = page.locator(f"#e-{item.id} .unsafe-link")
        assert unsafe.all_inner_texts() == ["Copy", item.url, "javascript:window.__pwned=3"]
        for n in range(3):
            unsafe.nth(n).click()  # text, not links: nothing happens
        page.locator(f"#e-{item.id} a", has_text="https://ok.example/a").wait_for()
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("window.__violations") == []
    assert server.requests == [], "the onerror handler or a javascript: link ran"
    assert not [u for u in requested if u.endswith("/x") or probe in u]
    assert errors == []


def test_screenshots_of_the_queue_and_the_overview(page, sample_store, tmp_path):
    target = Path(os.environ.get("NEWSWATCH_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    with ReviewStore(sample_store) as store:
        some = store.item_ids()[:3]
        q.record_decision(store, some[0], "confirmed", reviewer="ana", note="ICC referral")
        q.record_decision(store, some[1], "dismissed", reviewer="ben")
    with served(DeskConfig(store=sample_store, reviewer="ana")) as url:
        page.goto(url + "/?decision=any")
        page.locator("article.entry mark.term").first.hover()
        page.screenshot(path=str(target / "desk-queue.png"))
        page.goto(url + "/overview")
        assert page.locator("#decision-counts").inner_text().split() == [
            str(count(sample_store)), "undecided", "1", "confirmed", "1",
            "dismissed",
        ]  # fmt: skip
        assert page.locator("figure.chart svg rect").count() > 0
        page.screenshot(path=str(target / "desk-overview.png"), full_page=True)
    for name in ("desk-queue.png", "desk-overview.png"):
        data = (target / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


@pytest.mark.parametrize("javascript", [True, False])
def test_buttons_decide_with_and_without_javascript(browser, tmp_path, javascript):
    path = synthetic_store(tmp_path / "r.db", [flagged(1), flagged(2, day=11)])
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        with served(DeskConfig(store=path, reviewer="mouse")) as url:
            page.goto(url + "/?language=en")
            entry = page.locator("#e-item0001")
            entry.locator("input.note").fill("checked the source")
            entry.get_by_role("button", name="Dismiss").click()
            wait_for(lambda: stored(path, "item0001").decision == "dismissed", "the dismiss")
            assert stored(path, "item0001").decision_note == "checked the source"
            if not javascript:  # the form posted and the desk sent the page back
                page.wait_for_url("**/?language=en")
                assert page.locator("#e-item0001").count() == 0  # no longer undecided
            else:
                expect(entry.locator('[data-role="state"]')).to_have_text(
                    re.compile(r"^dismissed by mouse at ")
                )
                entry.get_by_role("button", name="Undo").click()
                wait_for(lambda: stored(path, "item0001").decision is None, "the undo")
    finally:
        context.close()
