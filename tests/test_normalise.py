"""Normalisation: plain text from HTML, canonical URLs, identity."""

from __future__ import annotations

import re
import sys
import unicodedata

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import htmltext, urls
from transforms.item import item_id, to_json
from transforms.normalise import (
    canonical_url,
    html_to_text,
    normalise_item,
    normalise_or_reason,
    url_key,
)
from transforms.normalise_stage import DEAD_LETTER_TAG, Normalise, _NormaliseFn

# ---------------------------------------------------------------- html_to_text


def test_block_tags_become_line_breaks():
    markup = (
        "<h2>Title</h2><p>First para.</p><p>Second<br>line</p><ul><li>one</li><li>two</li></ul>"
    )
    assert html_to_text(markup) == "Title\n\nFirst para.\n\nSecond\nline\n\none\n\ntwo"


def test_inline_tags_do_not_break_words():
    assert (
        html_to_text("<p>war <b>cri</b><i>mes</i> and <a href='x'>more</a></p>")
        == "war crimes and more"
    )


def test_script_style_and_friends_are_removed():
    markup = (
        "<p>Before</p><script>var x = '<p>no</p>';</script><style>p { color: red }</style>"
        "<noscript>enable js</noscript><p>After</p>"
    )
    assert html_to_text(markup) == "Before\n\nAfter"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        (
            "Tom &amp; Jerry &quot;quoted&quot; &#233;t&eacute; &#x2014; end",
            'Tom & Jerry "quoted" été — end',
        ),
        # Escaped markup is still markup once decoded (double-escaped feeds): removed.
        ("<p>a &lt;b&gt; c &lt; d</p>", "a c < d"),
        ("<p>x&nbsp;&nbsp;y</p>", "x y"),
    ],
)
def test_entities_are_decoded(markup, text):
    assert html_to_text(markup) == text


def test_whitespace_is_collapsed():
    assert html_to_text("  a \t b\u00a0\u2003c  \r\n\r\n\r\n\n  d  ") == "a b c\n\nd"
    assert html_to_text("<div>\n   a   \n</div>\n\n\n<div> b </div>") == "a\n\nb"


def test_result_is_nfc():
    decomposed = "Le re\u0301sume\u0301"
    assert unicodedata.is_normalized("NFD", decomposed)
    text = html_to_text(decomposed)
    assert text == "Le r\u00e9sum\u00e9"
    assert unicodedata.is_normalized("NFC", text)
    assert html_to_text("<p>caf" + "e\u0301</p>") == "caf\u00e9"


def test_empty_markup_gives_empty_text():
    assert html_to_text("") == ""
    assert html_to_text("<b></b><p> </p>") == ""


# ---------------------------------------------------------------- html_to_text fast paths
# Each fast path must give what the general path gives. The general paths
# below are the code as it was before the fast paths (kept here as the
# reference), or the case-blind patterns the module still uses.


def _all_chars():
    return (chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp < 0xE000)


def test_case_blind_ascii_lists_every_character_that_matches_an_ascii_letter():
    # The exact-case tag patterns are used only when no tag name holds one
    # of these: every other character matches an ASCII letter or digit
    # case-blind only if it is one itself.
    blind = re.compile("[a-z0-9]", re.IGNORECASE)
    found = {char for char in _all_chars() if not char.isascii() and blind.fullmatch(char)}
    assert found == set(htmltext._CASE_BLIND_ASCII)


def test_nfc_makes_no_unusual_space_from_other_characters():
    # _tidy skips its scan for unusual whitespace when the text before NFC
    # held none: NFC's output characters come from the canonical
    # decompositions of its input's, or are composites (which decompose).
    unusual = htmltext._UNUSUAL_SPACE
    for char in _all_chars():
        decomposed = unicodedata.normalize("NFD", char)
        if unusual.fullmatch(char):
            assert len(decomposed) == 1, hex(ord(char))
        else:
            assert not unusual.search(decomposed), hex(ord(char))


def _tidy_reference(text):
    # _tidy as it was: every line collapsed and stripped by split-and-join.
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if re.search(r"[\r\x1c-\x1f\x85\u1680\u2028\u2029]", text):
        text = re.sub(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", text)
        lines = [line.strip() for line in text.split("\n")]
    else:
        lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n\s*\n\s*", "\n\n", "\n".join(lines)).strip()


_SPACEY = " \n\n\n\t\r\f\v\x1c\x1f\x85\u00a0\u1680\u2000\u2001\u2009\u2028\u2029\u202f\u3000"
spacey_text = st.text(st.sampled_from(list(_SPACEY + "ab\u0301e\u00e9\u200b")), max_size=40)


@pytest.mark.parametrize(
    "text",
    [
        "  a \t b\u00a0\u2003c  \r\n\r\n\r\n\n  d  ",
        "a \n \n b",
        "\n\n a\n\n\n\nb \n",
        "a\u2000\u2001b",  # NFC turns these into other spaces
        "a\x1c\n b\u2028c",
        "e\u0301 \n\u00a0",
        # More distinct characters than are replaced one by one.
        "a" + "b".join("\t\f\v\u00a0\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))),
    ],
)
def test_tidy_agrees_with_line_by_line_collapse(text):
    assert htmltext._tidy(text) == _tidy_reference(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(spacey_text)
def test_tidy_property(text):
    assert htmltext._tidy(text) == _tidy_reference(text)
    if not htmltext._SPECIAL.search(text):
        assert htmltext._tidy(text, plain=True) == _tidy_reference(text)


def _remove_invisible_reference(text):
    text = text.translate(htmltext._INVISIBLE)
    return htmltext._JOINER_AT_SPACE.sub("", text)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.text(
        st.sampled_from(
            list("ab \n\x00\x07\x85\u00ad\u200b\u200c\u200d\u2060\ufeff\u202e\ud800\udfff")
        )
    )
)
def test_remove_invisible_agrees_with_the_table(text):
    assert htmltext.remove_invisible(text) == _remove_invisible_reference(text)


def test_remove_invisible_with_many_distinct_characters():
    text = "w".join(chr(cp) for cp in [*range(0x20), *range(0x7F, 0xA0), 0x200B, 0xD800, 0x200C])
    assert htmltext.remove_invisible(text) == _remove_invisible_reference(text)
    assert htmltext.remove_invisible("a\x00\x01b") == "ab"


_TAG_NAMES = ["p", "P", "pre", "pRe", "div", "blockquote", "h1", "H6", "br", "li", "sCript"]
_TAG_NAMES += ["script", "style", "svg", "iframe", "noscript", "b", "a", "x", "h7", "p2"]
_TAG_NAMES += ["\u017fcript", "\u017fvg", "l\u0131", "L\u0130", "bloc\u212aquote", "pr\u00e9"]
tag_soup = st.lists(
    st.one_of(
        st.builds(
            lambda slash, name, rest: f"<{slash}{name}{rest}",
            st.sampled_from(["", "/"]),
            st.sampled_from(_TAG_NAMES),
            st.sampled_from([">", " a='b'>", "/>", "", " ", "\u00e9>", "<", "<!-- x -->"]),
        ),
        st.sampled_from(["war", " ", "\n", "crimes", "<", ">", "<!--", "-->", "]]>", "\u00e9"]),
    ),
    max_size=30,
).map("".join)


def _strip_tags_case_blind(markup):
    # The tag passes as they were: case-blind patterns only.
    if "<!" in markup or "]]>" in markup:
        markup = htmltext._COMMENT.sub(" ", markup)
    markup = htmltext._drop_skipped(markup, lower=False)
    markup = htmltext._BLOCK_TAG.sub("\n", markup)
    return htmltext._ANY_TAG.sub("", markup)


@pytest.mark.parametrize(
    "markup",
    [
        "<P>a</P><script>x</script>b",
        "<\u017fcript>x</script>b<p>c",
        "<script>x</\u017fcript>y</script>z",
        "<l\u0131>a<bloc\u212aquote>b",
        "<pre\u00e9>a<p>b",
        "<p>a<!-- <SCRIPT> -->b<script>c</SCRIPT>d</script>e",
    ],
)
def test_exact_case_tag_passes_agree_with_case_blind(markup):
    _assert_same_tag_passes(markup)


def test_case_check_is_needed():
    # Without the check, exact-case patterns would keep an upper-case
    # script's content and miss a block tag spelt with the Kelvin sign.
    for markup in ["<SCRIPT>x</SCRIPT>b", "a<bloc\u212aquote>b"]:
        assert htmltext._CASED_TAG.search(markup)
        lower = htmltext._BLOCK_TAG_LOWER.sub("\n", htmltext._drop_skipped(markup, lower=True))
        blind = htmltext._BLOCK_TAG.sub("\n", htmltext._drop_skipped(markup))
        assert lower != blind
        assert htmltext._strip_tags(markup) == _strip_tags_case_blind(markup)


def _assert_same_tag_passes(markup):
    assert htmltext._strip_tags(markup) == _strip_tags_case_blind(markup)


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>a</p><\u017fcript>alert(1)</\u017fcript>b", "a\nb"),
        ("<b>a</b><scr\u0130pt>alert(1)</SCRIPT>b", "a b"),
        ("<i>a</i><scr\u0131pt>alert(1)</script>b", "a b"),
        ("<em>a</em><\u017fTYLE>p {}</style>b", "a b"),
        ("<p>a</p><no\u017fcr\u0130pt>x</noscript>b<\u017fvg/>c", "a\nb c"),
        ("<p>a</p><\u017fcript>never closed", "a"),
    ],
)
def test_a_skipped_tag_spelt_with_a_case_blind_twin_of_an_ascii_letter_is_removed(
    markup, expected, make_item
):
    # The case-blind pass matches "<\u017fcript>" as a script tag; its closing
    # pattern is the script one (the name lower-cased is not "script").
    assert html_to_text(markup) == expected
    out = normalise_or_reason(make_item(text=markup))  # a dead letter before
    assert not isinstance(out, str) and out.text == expected


def test_every_skipped_name_with_any_case_blind_twin_letter_is_removed():
    twins = {"s": "\u017f", "i": "\u0130\u0131", "k": "\u212a"}
    for name in htmltext._SKIPPED_NAMES:
        for at, letter in enumerate(name):
            for twin in twins.get(letter, "") + letter.upper():
                spelt = name[:at] + twin + name[at + 1 :]
                assert html_to_text(f"<p>a</p><{spelt} x=1>y</{name}>b") == "a\nb", spelt


@settings(max_examples=400, deadline=None, derandomize=True)
@given(tag_soup)
def test_exact_case_tag_passes_property(markup):
    _assert_same_tag_passes(markup)


# ---------------------------------------------------------------- canonical_url


def test_scheme_and_host_case_default_port_and_fragment():
    assert (
        canonical_url("HTTP://Example.COM:80/News/Item#comments") == "http://example.com/News/Item"
    )
    assert canonical_url("https://Example.com:443/a") == "https://example.com/a"


def test_non_default_port_is_kept():
    assert canonical_url("https://example.com:8443/a") == "https://example.com:8443/a"


def test_tracking_params_removed_others_kept_and_sorted():
    url = "https://example.com/a?utm_source=rss&z=3&utm_medium=x&fbclid=abc&b=2&gclid=q&a=1&UTM_Campaign=c"
    assert canonical_url(url) == "https://example.com/a?a=1&b=2&z=3"


def test_only_tracking_params_leave_no_query():
    assert (
        canonical_url("https://example.com/a?utm_source=twitter&fbclid=abc123")
        == "https://example.com/a"
    )


def test_empty_path_becomes_root():
    assert canonical_url("http://example.com") == "http://example.com/"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "mailto:desk@example.com",
        "javascript:alert(1)",
        "/relative/path",
        "example.com/a",
    ],
)
def test_non_http_urls_give_none(url):
    assert canonical_url(url) is None


@pytest.mark.parametrize(
    "url", [None, "", "not a url", "http://", "http://[::1", "https://example.com:99999999/"]
)
def test_garbage_gives_none(url):
    assert canonical_url(url) is None


def test_ipv6_literal_host_is_canonicalised_not_raised():
    # A valid URL; the function promises a canonical form or None, never an exception
    # (an exception dead-letters the whole item in the Normalise stage).
    assert canonical_url("http://[2001:db8::1]:8080/a") == "http://[2001:db8::1]:8080/a"


# The plain-URL path builds the canonical form itself; it must give what the
# general path (urllib, then w3lib) gives, or decline.
_URL_CHARS = "aZ09-._~!$&'()*+,;=:@/?#%[]|\\ \t\u00e9\u0130\u212a"
_PLAIN_PATH = "aZ09-._~!$&'()*+,=:@/"
url_parts = st.builds(
    lambda scheme, host, port, path, query, fragment: (
        f"{scheme}://{host}{port}{path}{query}{fragment}"
    ),
    st.sampled_from(["http", "https", "HTTP", "hTtPs", "ftp", "http:"]),
    st.one_of(
        st.sampled_from(["example.com", "Example.COM.", "a-b.c0", "1.2.3.4", "xn--80ak6aa92e.com"]),
        st.text("aZ09-._:@[]%\u00e9", min_size=0, max_size=12),
    ),
    st.one_of(st.just(""), st.sampled_from([":80", ":443", ":8080", ":", ":x"])),
    st.one_of(
        st.sampled_from(["", "/", "//a", "/a/./b", "/a/../b", "/.well-known", "/a/b.", "/p;x"]),
        st.text(_PLAIN_PATH, max_size=16).map(lambda t: "/" + t),
        st.text(_URL_CHARS, max_size=16).map(lambda t: "/" + t),
    ),
    st.one_of(
        st.sampled_from(["", "?", "?b=2&a=1", "?utm_source=x", "?a=1&a=0&A=2", "?a&b=", "?=x&&"]),
        st.text("aZ09-._~=&", max_size=16).map(lambda t: "?" + t),
        st.text("aZ09-._~=&+%;/ ", max_size=16).map(lambda t: "?" + t),
    ),
    st.sampled_from(["", "#", "#top", "#a?b=1", "#\t"]),
)


@pytest.mark.parametrize(
    "url",
    [
        "https://Example.COM/a/b?z=1&utm_medium=x&b=&a=2#frag",
        "http://example.com./x?a=1&a=0",
        "http://example.com?b=1",
        "http://a.example/p!$&'()*+,=:@/x~y?_=-.~&-=_",
        "http://example.com/a?a=b=c",
        "http://example.com/a/./b",
        "http://example.com/a%2fb?q=%7e",
        "http://example.com/a;p?x=1",
        "http://example.com:80/a",
        "http://user@example.com/a",
        "http://exam_ple.com/a",
        "http://example.com/a?x=1+2",
        "http://ex\u0130mple.com/a",
        " http://example.com/a ",
    ],
)
def test_plain_url_path_agrees_with_the_general_path(url):
    plain = urls._plain_canonical_url(url.strip())
    general = urls._general_canonical_url(url.strip())
    assert plain is None or plain == general
    assert canonical_url(url) == general


def test_plain_url_path_takes_feed_urls():
    # The fast path must actually be taken for the URLs feeds publish.
    for url in [
        "https://www.bbc.co.uk/news/world-123?at_medium=RSS&at_campaign=rss",
        "https://example.com/2024/05/01/story-title/",
        "http://Example.com?id=7&page=2",
    ]:
        assert urls._plain_canonical_url(url) == urls._general_canonical_url(url)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(url_parts)
def test_plain_url_path_property(url):
    plain = urls._plain_canonical_url(url.strip())
    if plain is not None:
        assert plain == urls._general_canonical_url(url.strip())
    assert canonical_url(url) == urls._general_canonical_url(url.strip())


def test_url_key_ignores_scheme_and_www():
    a = url_key(canonical_url("https://www.example.com/story?id=7"))
    b = url_key(canonical_url("http://example.com/story?id=7&utm_source=x"))
    assert a == b == "example.com/story?id=7"
    assert url_key(canonical_url("https://example.com/story?id=8")) != a
    assert url_key(None) is None


def test_url_key_keeps_other_subdomains():
    assert url_key("https://news.example.com/a") == "news.example.com/a"


# ---------------------------------------------------------------- normalise_item


def test_normalise_item_sets_text_canonical_url_and_id(make_item):
    raw = make_item(
        title="<b>Shelling</b> &amp; arrests",
        text="<p>One.</p><p>Two.</p>",
        url="https://WIRE.example/news/1?utm_source=rss",
    )
    item = normalise_item(raw)
    assert item.title == "Shelling & arrests"
    assert item.text == "One.\n\nTwo."
    assert item.canonical_url == "https://wire.example/news/1"
    assert item.id == item_id(
        raw.source, raw.guid, item.canonical_url, item.title + "\n" + item.text
    )
    assert item.url == raw.url  # the link as published is kept


def test_normalise_item_title_is_one_line(make_item):
    assert "\n" not in normalise_item(make_item(title="<p>One</p><p>Two</p>")).title


def test_normalise_item_id_falls_back_to_url_then_content(make_item):
    by_url = normalise_item(make_item(guid=None, url="https://wire.example/news/1#top"))
    same_url = normalise_item(
        make_item(guid=None, url="https://wire.example/news/1", title="Other")
    )
    assert by_url.id == same_url.id
    by_content = normalise_item(make_item(guid=None, url=None))
    assert by_content.canonical_url is None
    assert by_content.id not in (by_url.id, "")


def test_normalise_fn_called_directly(make_item):
    fn = _NormaliseFn()
    fn.setup()
    good = list(fn.process(make_item()))
    assert len(good) == 1 and good[0].id
    [dead] = list(fn.process(make_item(guid=None, url=None, title="<b></b>", text="<p> </p>")))
    assert dead.tag == DEAD_LETTER_TAG
    assert dead.value.stage == "normalise"
    assert "empty after removing markup" in dead.value.reason


def test_normalise_composite(pipeline, make_item):
    raw = [
        make_item(guid="g-1", title="<b>First</b>", text="<p>a &amp; b</p>"),
        make_item(guid=None, url="https://wire.example/2?fbclid=x", title="Second", text=""),
        make_item(guid=None, url=None, title="<b></b>", text=""),
    ]
    with pipeline as p:
        out = p | beam.Create(raw) | Normalise()
        assert_that(
            out["items"]
            | "Items" >> beam.Map(lambda i: (i.guid, i.title, i.text, i.canonical_url)),
            equal_to(
                [
                    ("g-1", "First", "a & b", "https://wire.example/news/1"),
                    (None, "Second", "", "https://wire.example/2"),
                ]
            ),
            label="items",
        )
        assert_that(
            out[DEAD_LETTER_TAG]
            | "Dead" >> beam.Map(lambda d: (d.stage, d.reason, d.path, d.kind)),
            equal_to(
                [
                    (
                        "normalise",
                        "entry is empty after removing markup",
                        "https://wire.example/rss",
                        "entry",
                    )
                ]
            ),
            label="dead_letter",
        )


def test_lone_surrogates_become_replacement_characters(make_item):
    # JSON from a social API may carry "\ud800"; no UTF-8 sink can write it.
    item = normalise_item(make_item(title="war \ud800 crimes", text="a\udfffb \U0001f600"))
    assert item.title == "war \ufffd crimes"
    assert item.text == "a\ufffdb \U0001f600"
    assert to_json(item).encode("utf-8")
