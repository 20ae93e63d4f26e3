"""is_unsafe_url's shortcut for URLs starting with "http" gives the general answer."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import urls
from transforms.urls import is_unsafe_url


def _is_unsafe_reference(url):
    if not url or not isinstance(url, str):
        return False
    probe = html.unescape(url[:64]).translate(urls._URL_IGNORED).lower()
    return probe.startswith(urls.UNSAFE_SCHEMES)


_PIECES = ["http", "https:", "javascript:", "JavaScript:", "data:", "vbscript:", "&#58;", "&colon;",
           "&", "#", ":", " ", "\t", "\x00", "s", "a", "h", "/", "&#x6A;", "&Tab;", "java"]


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_PIECES), max_size=8).map("".join))
def test_shortcut_agrees_with_the_general_answer(url):
    assert is_unsafe_url(url) == _is_unsafe_reference(url)


def test_http_urls_are_safe_and_tricks_are_not():
    assert not is_unsafe_url("https://example.org/a?b=1&c=2")
    assert is_unsafe_url("java\tscript:alert(1)") and is_unsafe_url("&#106;avascript:x")
    assert is_unsafe_url(" data:text/html,x") and not is_unsafe_url("httpjavascript:x")
