"""Property-based tests (hypothesis) for what hostile sources can reach.

Canonical URLs, HTML to text, the feed readers (mutations of the real feeds
in ``../shared/corpora/feeds/real``: byte flips, truncation, deleted tags,
JSON values of the wrong type) and the rule engine. Each property says that
no exception escapes and that what comes out is well formed: no markup in
text, spans that slice the text they claim. Time per call is bounded by
hypothesis's per-example ``deadline``, including on inputs of 1 MB; wall
times are measured in benchmarks/hostile_bench.py, never asserted.

``make test`` runs few examples; ``NEWSWATCH_HYPOTHESIS=bench`` (used by
the benchmark) runs many more.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from connectors.feeds import parse_feed
from connectors.jsonfeed import MAX_DEPTH
from transforms.normalise import canonical_url, html_to_text, normalise_or_reason, url_key

_BENCH = os.environ.get("NEWSWATCH_HYPOTHESIS") == "bench"
# Generous: the machine is shared, and feedparser's loose parser reads a
# broken 700 KB feed in about a second; the deadline is there to catch
# minutes (what catastrophic backtracking or chardet on junk cost).
_COMMON = {
    "deadline": timedelta(seconds=30),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": not _BENCH,  # make test: the same examples every run
}
FAST = settings(max_examples=400 if _BENCH else 40, **_COMMON)
SLOW = settings(max_examples=60 if _BENCH else 6, **_COMMON)
MARKUP = re.compile(r"<[a-zA-Z/!?]")
INVISIBLE = "\u200b\u00ad\u2060\ufeff\x00\u202e\u202d\u2066\u200e\u200f\x07\x1b"
ONE_MB = 1024 * 1024

# ---------------------------------------------------------------- strategies

invisible = st.sampled_from(list(INVISIBLE) + ["\u200c", "\u200d"])
tag_names = st.sampled_from(
    ["script", "style", "iframe", "p", "b", "a", "div", "svg", "scr", "noscript", "br", "img", "x"]
)
tags = st.builds(
    lambda slash, name, attrs, close: f"<{slash}{name}{attrs}{close}",
    st.sampled_from(["", "/"]),
    tag_names,
    st.sampled_from(["", " ", " src='javascript:x'", ' a="<b>"', " onerror=alert(1)", "\n"]),
    st.sampled_from([">", "/>", "", " "]),
)
entities = st.sampled_from(
    [
        "&lt;",
        "&gt;",
        "&amp;",
        "&lt;script&gt;",
        "&amp;lt;b&amp;gt;",
        "&#0;",
        "&#x200b;",
        "&nbsp;",
        "&",
        "&#",
    ]
)
words = st.sampled_from(
    [
        "war crimes",
        "war",
        "crimes",
        "genocide",
        "военные преступления",
        "воєнні злочини",
        "alert(1)",
        " ",
        "\n",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
    ]
)
soup = st.lists(st.one_of(tags, entities, words, invisible, st.text(max_size=8)), max_size=40).map(
    "".join
)

url_hosts = st.one_of(
    st.sampled_from(
        [
            "example.org",
            "WWW.Example.ORG.",
            "xn--d1acufc.xn--p1ai",
            "[::1]",
            "127.0.0.1",
            "пример.рф",
            "a..b",
            "",
        ]
    ),
    st.text(max_size=12),
)
urls = st.builds(
    lambda scheme, host, port, path, query, fragment: (
        f"{scheme}{host}{port}{path}{query}{fragment}"
    ),
    st.sampled_from(
        ["http://", "https://", "HTTPS://", "javascript:", "ftp://", "//", "", " http://"]
    ),
    url_hosts,
    st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":x"]),
    st.one_of(st.sampled_from(["", "/", "/a/../b", "/amp", "/%zz", "/ü ñ"]), st.text(max_size=10)),
    st.one_of(
        st.sampled_from(["", "?utm_source=x&b=2&a=1", "?a=%20&a=1", "?fbclid=1", "?=&&"]),
        st.text(max_size=10).map(lambda t: "?" + t),
    ),
    st.sampled_from(["", "#frag", "#"]),
)

json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
item_fields = [
    "id",
    "url",
    "external_url",
    "title",
    "summary",
    "content_html",
    "content_text",
    "date_published",
    "date_modified",
    "authors",
    "author",
    "language",
    "tags",
    "image",
]
json_items = st.one_of(
    st.dictionaries(st.sampled_from(item_fields), json_values, max_size=8),
    json_values,
)


def _real_feeds() -> list[Path]:
    from tests.conftest import CORPORA

    root = CORPORA / "feeds" / "real"
    if not root.is_dir():
        return []
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.stat().st_size < ONE_MB)
    return [p for p in files if p.suffix not in (".tsv", ".md")]


REAL_FEEDS = _real_feeds()


def _mutate(data: bytes, ops: list[tuple[str, float, bytes]]) -> bytes:
    for op, where, payload in ops:
        if not data:
            break
        at = int(where * (len(data) - 1))
        if op == "flip":
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        elif op == "truncate":
            data = data[:at]
        elif op == "delete_tag":
            start = data.find(b"<", at)
            end = data.find(b">", start)
            if start != -1 and end != -1:
                data = data[:start] + data[end + 1 :]
        elif op == "insert":
            data = data[:at] + payload + data[at:]
        elif op == "duplicate":
            data = data[:at] + data[at : at + 4096] + data[at:]
    return data


mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "truncate", "delete_tag", "insert", "duplicate"]),
        st.floats(0, 1),
        st.sampled_from(
            [
                b"\xff\xfe",
                b"\xef\xbb\xbf",
                b"\x00",
                b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
                b"&a;",
                b"<![CDATA[",
                b"<item>",
                b"\x1f\x8b",
                b"]]>",
                b"&#0;",
            ]
        ),
    ),
    min_size=1,
    max_size=6,
)

# ---------------------------------------------------------------- helpers


def assert_outcome_well_formed(outcome) -> None:
    assert outcome.status in ("parsed", "empty", "dead_letter")
    if outcome.status == "dead_letter":
        assert [d.kind for d in outcome.dead_letters] == ["file"]
        assert all(d.reason for d in outcome.dead_letters)
    if outcome.status == "parsed":
        assert outcome.items or outcome.dead_letters
    for raw in outcome.items:
        out = normalise_or_reason(raw)
        if isinstance(out, str):
            assert out  # a reason, for the dead letter
            continue
        assert not MARKUP.search(out.text) and not MARKUP.search(out.title)
        assert not set(INVISIBLE) & set(out.text + out.title)
        assert out.id


# ---------------------------------------------------------------- properties


@FAST
@given(st.one_of(urls, st.text()))
def test_canonical_url_never_raises_and_is_idempotent(url):
    canonical = canonical_url(url)
    if canonical is None:
        return
    assert canonical.startswith(("http://", "https://"))
    assert not re.search(r"[?&](utm_[a-z]+|fbclid)=", canonical)
    assert canonical_url(canonical) == canonical
    url_key(canonical)


@FAST
@given(soup)
def test_html_to_text_leaves_no_markup_or_invisible_characters(markup):
    text = html_to_text(markup)
    assert not MARKUP.search(text)
    assert not set(INVISIBLE) & set(text)
    assert "alert(1)" not in text or "alert(1)" in html_to_text(markup.replace("<", " "))
    assert unicodedata.is_normalized("NFC", text)


@SLOW
@given(soup.filter(bool))
def test_html_to_text_on_a_megabyte_is_bounded(chunk):
    html_to_text(chunk * (ONE_MB // len(chunk) + 1))


@pytest.mark.skipif(not REAL_FEEDS, reason="real corpora not found (../shared/corpora)")
@SLOW
@given(st.sampled_from(REAL_FEEDS or [Path("/")]), mutations)
def test_mutated_real_feeds_end_as_items_or_dead_letters(path, ops):
    data = _mutate(path.read_bytes(), ops)
    assert_outcome_well_formed(parse_feed(path.name, data))


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["version", "title", "home_page_url", "feed_url", "language", "items"]),
        json_values,
    ),
    st.lists(json_items, max_size=5),
)
def test_json_feeds_with_values_of_any_type_never_raise(top, entries):
    doc = {"version": "https://jsonfeed.org/version/1.1", **top}
    if "items" not in top:
        doc["items"] = entries
    data = json.dumps(doc, allow_nan=True).encode()
    assert_outcome_well_formed(parse_feed("any.json", data))


@FAST
@given(st.integers(1, 3000), st.sampled_from(["[", '{"a":']))
def test_json_nesting_of_any_depth_never_raises(depth, opener):
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth
    data = f'{{"version": "https://jsonfeed.org/version/1.1", "x": {body}, "items": []}}'.encode()
    outcome = parse_feed("deep.json", data)
    # The feed object itself is one level.
    assert outcome.status == ("empty" if depth + 1 <= MAX_DEPTH else "dead_letter")


@SLOW
@given(st.binary(min_size=1, max_size=64))
def test_a_megabyte_of_any_bytes_is_bounded(chunk):
    outcome = parse_feed("junk.xml", chunk * (ONE_MB // len(chunk)))
    assert outcome.status in ("parsed", "empty", "dead_letter")


rule_text = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "war crimes",
                "war crime",
                "warcrimes",
                "genocide",
                "investigation",
                "prosecutor",
                "военные преступления",
                "расстрел",
                "пленных",
                "воєнні злочини",
                "جرائم حرب",
                "ICC",
                "Bucha",
                "massacre",
                "tribunal",
                " ",
                "  ",
                "\n",
                "-",
                "'",
                "’",
                "\u0301",
            ]
        ),
        invisible,
        st.text(max_size=6),
    ),
    max_size=30,
).map("".join)


@FAST
@given(
    rule_text,
    rule_text,
    st.sampled_from(["en", "ru", "uk", "ar", "fr", None, "xx", "zz"]),
    st.booleans(),
)
def test_rule_engine_spans_slice_the_text_they_claim(engine, title, text, language, clean):
    if clean:  # as the pipeline does; unclean: the engine on raw text
        title, text = html_to_text(title).replace("\n", " "), html_to_text(text)
    fields = {"title": title, "text": text}
    result = engine.evaluate(fields, language)
    for flag in result.flags:
        assert 0 <= flag.score <= 1
        for term in flag.terms:
            assert fields[term.field][term.start : term.end] == term.text


@SLOW
@given(rule_text.filter(bool))
def test_rule_engine_on_a_megabyte_is_bounded(engine, chunk):
    text = chunk * (ONE_MB // len(chunk) + 1)
    assume(len(text) <= 2 * ONE_MB)
    result = engine.evaluate({"title": "", "text": text}, "en")
    for flag in result.flags:
        for term in flag.terms:
            assert text[term.start : term.end] == term.text
