"""Normalise raw items: plain text from HTML, canonical URLs, identity.

Pure functions only, free of Beam, so that the poller normalises live items
with exactly the code a replay uses; the Beam stage is
:mod:`transforms.normalise_stage`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from transforms.item import Item, item_id

__all__ = [
    "TRACKING_PARAMS",
    "canonical_url",
    "html_to_text",
    "normalise_item",
    "normalise_or_reason",
    "url_key",
]

# Parameters that identify a campaign or a click, never the document.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "smid",
        "smtyp",
        "at_medium",
        "at_campaign",
        "rss",
        "feed",
        "xtor",
        "ito",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_")

_BLOCK = (
    "p|div|br|li|ul|ol|h[1-6]|tr|table|blockquote|section|article|header|footer|figure|"
    "figcaption|pre|hr|dd|dt|dl|aside|main|nav|td|th"
)
# Feed markup is fragments, not documents: a few C-speed regex passes do what
# an HTML parser does here, about ten times faster than html.parser.
_COMMENT = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>", re.DOTALL)
_SKIPPED = re.compile(
    r"<(script|style|noscript|template|svg|iframe)\b(?:[^>]*[^/>])?>.*?(?:</\1\s*>|$)",
    re.DOTALL | re.IGNORECASE,
)
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK})\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<![^>]*>|<\?[^>]*>")
_TAG_RE = re.compile(r"<[a-zA-Z/!?]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n\s*\n\s*")


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """Plain text from HTML or from text with entities.

    Block elements become line breaks, scripts and styles vanish, entities are
    decoded, whitespace is collapsed and the result is NFC-normalised, so that
    character spans computed on it are stable.
    """
    if not markup:
        return ""
    if _TAG_RE.search(markup):
        markup = _COMMENT.sub(" ", markup)
        markup = _SKIPPED.sub(" ", markup)
        markup = _BLOCK_TAG.sub("\n", markup)
        markup = _ANY_TAG.sub("", markup)
    return _tidy(html.unescape(markup))


def _is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in TRACKING_PARAMS or lower.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """The canonical form of an absolute http(s) URL, or None.

    Lower-cases scheme and host, drops default ports, the fragment and
    tracking parameters (``utm_*``, ``fbclid``, ``gclid`` ...), sorts the
    remaining query and normalises percent-encoding.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".")
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    )
    path = parts.path or "/"
    return canonicalize_url(urlunsplit((scheme, host, path, query, "")))


# AMP copies of a page: a cache's URL, then the publisher's own conventions.
_AMP_CACHE = re.compile(r"^(?:www\.google\.[a-z.]+/amp/s/|[^/]+\.cdn\.ampproject\.org/[cv]/s/)")
_AMP_PATH = re.compile(r"(?:/amp/?|\.amp)$")


def _without_amp_params(query: str) -> str:
    # Filter the already canonical query as text: re-encoding could change it.
    kept = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        name = name.lower()
        if name == "amp" or (name == "outputtype" and value.lower() == "amp"):
            continue
        kept.append(pair)
    return "&".join(kept)


def url_key(canonical: str | None) -> str | None:
    """The dedup key of a canonical URL: one key for every address of one page.

    Ignores the scheme, a leading ``www.``, a trailing slash, and the AMP
    variants of a page: an ``amp.`` host, a ``/amp`` or ``/amp/`` path end,
    ``.amp.html`` for ``.html``, an ``amp`` or ``outputType=amp`` parameter,
    and Google's and the AMP project's cache addresses. Tracking parameters
    are already gone (:func:`canonical_url`).
    """
    if not canonical:
        return None
    rest = _AMP_CACHE.sub("", canonical.split("://", 1)[1])
    rest, _, query = rest.partition("?")
    host, slash, path = rest.partition("/")
    for prefix in ("www.", "amp."):
        host = host.removeprefix(prefix)
    path = "/" + path if slash else "/"
    if path.endswith(".amp.html"):
        path = path[: -len(".amp.html")] + ".html"
    path = _AMP_PATH.sub("", path)
    path = path.rstrip("/") or "/"
    query = _without_amp_params(query) if query else ""
    return host + path + ("?" + query if query else "")


def normalise_item(item: Item) -> Item:
    """Plain text, canonical URL and id for a raw item."""
    title = html_to_text(item.title).replace("\n", " ")
    text = html_to_text(item.text)
    canonical = canonical_url(item.url)
    content = title + "\n" + text
    return item.replace(
        title=title,
        text=text,
        canonical_url=canonical,
        id=item_id(item.source, item.guid, canonical, content),
    )


def normalise_or_reason(item: Item) -> Item | str:
    """:func:`normalise_item`, or the reason the item cannot be one (for a dead letter)."""
    try:
        out = normalise_item(item)
    except ValueError as exc:  # e.g. a URL that urllib cannot split
        return f"{type(exc).__name__}: {exc}"
    if not (out.title or out.text or out.url or out.guid):
        return "entry is empty after removing markup"
    return out
