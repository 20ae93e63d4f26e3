"""html_to_text's fast paths give what its general path gives.

The reference below is html_to_text written with the general steps only:
case-blind tag patterns (the any-tag pattern in its four-branch form),
``html.unescape``, the table of invisible characters, and the line-by-line
whitespace collapse. The module's shortcuts (one scan deciding that the
exact-case tag passes are enough, ``isprintable`` and ``in`` tests instead
of the special-character scan, no NFC pass over ASCII) must not change one
character of the result, on generated markup and on every real feed text.
"""

from __future__ import annotations

import html
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.feeds import parse_feed
from transforms import htmltext
from tests.test_normalise import _tidy_reference
from transforms.htmltext import html_to_text

_ANY_TAG_BRANCHES = re.compile(
    r"</?[a-zA-Z][^<>]*+>|<![^<>]*+>|<\?[^<>]*+>|</(?![a-zA-Z])[^<>]*+>"
)


def _strip_tags_reference(markup: str) -> str:
    if "<!" in markup or "]]>" in markup:
        markup = htmltext._COMMENT.sub(" ", markup)
    markup = htmltext._drop_skipped(markup, lower=False)
    markup = htmltext._BLOCK_TAG.sub("\n", markup)
    return _ANY_TAG_BRANCHES.sub("", markup)


def _html_to_text_reference(markup: str) -> str:
    if not markup:
        return ""
    tagged = False
    for _ in range(htmltext._MAX_ROUNDS):
        if htmltext._TAG_RE.search(markup):
            markup = _strip_tags_reference(markup)
        decoded = html.unescape(markup).translate(htmltext._INVISIBLE)
        decoded = htmltext._JOINER_AT_SPACE.sub("", decoded)
        unchanged = decoded == markup
        markup = decoded
        tagged = htmltext._TAG_RE.search(markup) is not None
        if unchanged or not tagged:
            break
    if tagged:
        for _ in range(htmltext._MAX_ROUNDS):
            markup = htmltext._BROKEN_TAG.sub("", _strip_tags_reference(markup))
            if not htmltext._TAG_RE.search(markup):
                break
        else:
            markup = htmltext._TAG_RE.sub(lambda match: match.group(0)[1:], markup)
    return _tidy_reference(markup)


def test_the_one_branch_tag_pattern_is_the_four_branch_one():
    soup = "<a x><!d><?p?></><//x></ y>< b><1><a<b><!--<?>x</p<>"
    assert htmltext._ANY_TAG.findall(soup) == _ANY_TAG_BRANCHES.findall(soup)
    assert [m.span() for m in htmltext._ANY_TAG.finditer(soup)] == [
        m.span() for m in _ANY_TAG_BRANCHES.finditer(soup)
    ]


def test_every_special_character_is_not_printable():
    # _is_plain trusts str.isprintable to refuse each of them.
    for cp in range(sys.maxunicode + 1):
        char = chr(cp)
        if htmltext._SPECIAL.fullmatch(char):
            assert not char.isprintable(), hex(cp)
    assert "\n" not in htmltext._ASCII_SPECIAL and not htmltext._SPECIAL.fullmatch("\n")
    ascii_special = {chr(cp) for cp in range(128) if htmltext._SPECIAL.fullmatch(chr(cp))}
    assert ascii_special == set(htmltext._ASCII_SPECIAL)


@pytest.mark.parametrize(
    "text",
    ["plain text\nand more", "tab\there", "nbsp\u00a0x", "caf\u00e9 \u2019", "zw\u200bsp", "e\u0301",
     "lone \ud800", "joiner\u200d", "bell\x07", "\u2028", "", "\n\n"],
)
def test_is_plain_agrees_with_the_special_scan(text):
    assert htmltext._is_plain(text) == (htmltext._SPECIAL.search(text) is None)


@pytest.mark.parametrize(
    "markup",
    [
        "<p>a</p><p>b &amp; c</p>",
        "<P>a</P><script>x</script>b",
        "a<!-- c -->b]]>c",
        "<p>x</p><scr<b></b>ipt>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;<p>y",
        "<b>war</b>\u00adcrimes\u00a0\u00a0x",
        "<div>\n   a   \n</div>\n\n\n<div> b </div>",
        "caf\u0065\u0301 <i>ok</i>",
        "<sVg/>a<svg>b</svg>c",
        "]]><p>a",
        "x\t<p>y\r\nz",
    ],
)
def test_fast_paths_agree_with_the_reference(markup):
    assert html_to_text(markup) == _html_to_text_reference(markup)


_PIECES = [
    "<p>", "</p>", "<P>", "<br/>", "<b>", "</b>", "<a href='x'>", "<script>", "</script>",
    "<sCript>", "<style>", "<!--", "-->", "<![CDATA[", "]]>", "<?x?>", "<", ">", "</", "<!",
    "&amp;", "&lt;", "&gt;", "&lt;p&gt;", "&nbsp;", "&#8217;", "&#x2014;", "&amp;lt;", "&", ";",
    "war", "crimes", " ", "  ", "\n", "\n\n\n", "\t", "\r", "\u00a0", "\u00ad", "\u200b",
    "\u200d", "\u2028", "\x00", "\x1c", "\u00e9", "e\u0301", "\u2019", "\u017fcript", "\ud800",
]
markup_soup = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(markup_soup)
def test_fast_paths_agree_with_the_reference_property(markup):
    assert html_to_text(markup) == _html_to_text_reference(markup)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_fast_paths_agree_on_any_text(text):
    assert html_to_text(text) == _html_to_text_reference(text)


def test_fast_paths_agree_on_every_real_feed_text(corpora):
    texts = 0
    for path in sorted((corpora / "feeds").rglob("*")):
        if not path.is_file():
            continue
        for item in parse_feed(path.name, path.read_bytes()).items:
            for markup in (item.title, item.text, item.author or ""):
                assert html_to_text(markup) == _html_to_text_reference(markup), path.name
            texts += 1
    assert texts > 8000
