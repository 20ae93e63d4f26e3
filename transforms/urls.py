"""Canonical URLs, the URL dedup key, and URLs that must never be followed.

Pure functions, free of Beam, used by :func:`transforms.normalise.normalise_item`,
the feed reader and the dedup keys.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = ["TRACKING_PARAMS", "UNSAFE_SCHEMES", "canonical_url", "is_unsafe_url", "url_key"]

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

def _is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in TRACKING_PARAMS or lower.startswith(_TRACKING_PREFIXES)


# A URL that canonicalisation can only lower-case, sort and trim: no port,
# user, percent sign, ";" or dot segment, and a query of plain "name=value"
# pairs. Every character kept is one that urllib and w3lib leave as it is,
# so the result is built directly (the general path costs about 20 us a URL,
# and nearly every feed URL is of this kind). tests/test_normalise.py checks
# the two paths agree.
_PLAIN_URL = re.compile(
    r"([hH][tT][tT][pP][sS]?)://([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*)\.?"
    r"(/[a-zA-Z0-9\-._~!$&'()*+,=:@/]*)?(?:\?([a-zA-Z0-9\-._~=&]*))?(?:#[^\t\n\r]*)?"
)


def _plain_canonical_url(url: str) -> str | None:
    # None: not a plain URL, take the general path.
    match = _PLAIN_URL.fullmatch(url)
    if not match:
        return None
    scheme, host, path, query = match.groups()
    if not path:
        path = "/"
    elif "/." in path:  # maybe a dot segment, which w3lib resolves
        return None
    canonical = scheme.lower() + "://" + host.lower() + path
    if not query:
        return canonical
    pairs = []
    for field in query.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "=" in value:  # urlencode would escape it
            return None
        if not _is_tracking(name):
            pairs.append((name, value))
    if not pairs:
        return canonical
    pairs.sort()  # w3lib's order: by name, then value (ASCII, so bytes and str agree)
    return canonical + "?" + "&".join([name + "=" + value for name, value in pairs])


def canonical_url(url: str | None) -> str | None:
    """The canonical form of an absolute http(s) URL, or None.

    Lower-cases scheme and host, drops default ports, the fragment and
    tracking parameters (``utm_*``, ``fbclid``, ``gclid`` ...), sorts the
    remaining query and normalises percent-encoding.
    """
    if not url:
        return None
    url = url.strip()
    return _plain_canonical_url(url) or _general_canonical_url(url)


def _general_canonical_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
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


UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")
# Browsers ignore ASCII whitespace and controls inside a scheme: "java\tscript:".
_URL_IGNORED = dict.fromkeys(range(0x21))


def is_unsafe_url(url: str | None) -> bool:
    """True for a URL that would run code or carry a document when followed.

    ``javascript:``, ``vbscript:`` and ``data:``, in any case, with any
    whitespace, control characters or character references a browser would
    ignore or decode.
    """
    if not url or not isinstance(url, str):
        return False
    if url.startswith("http"):
        # Nearly every URL: nothing before its first "&" or space changes in
        # the probe below, so the probe starts with "http" too.
        return False
    probe = html.unescape(url[:64]).translate(_URL_IGNORED).lower()
    return probe.startswith(UNSAFE_SCHEMES)


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
