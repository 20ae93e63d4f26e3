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

from transforms.item import COLLISION_MARK, Item, collision_id, item_id

__all__ = [
    "TRACKING_PARAMS",
    "UNSAFE_SCHEMES",
    "canonical_url",
    "html_to_text",
    "is_unsafe_url",
    "normalise_item",
    "normalise_or_reason",
    "remove_invisible",
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
_SKIPPED_NAMES = ("script", "style", "noscript", "template", "svg", "iframe", "object", "math")


def _by_first_letter(names: str) -> str:
    # "p|pre|div" -> "d(?:iv)|p(?:re|)": the regex engine tries the
    # alternatives of a group one by one at every "<"; grouped by first
    # letter, a tag's first letter rules out all groups but one (a quarter
    # less time over real feeds). The same tags match: "\b" after the name
    # leaves exactly one name possible at a position, whatever the order.
    groups: dict[str, list[str]] = {}
    for name in names.split("|"):
        groups.setdefault(name[0], []).append(name[1:])
    return "|".join(
        first + "(?:" + "|".join(sorted(rests, key=len, reverse=True)) + ")"
        for first, rests in sorted(groups.items())
    )


# Feed markup is fragments, not documents: a few C-speed regex passes do what
# an HTML parser does here, about ten times faster than html.parser. Every
# pattern is linear: a tag ends at the first ">" but never runs past a "<"
# (possessive, so nothing is re-tried), which is what made 160 KB of
# "<script " cost minutes when a tag could run to the end of the text.
_COMMENT = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>", re.DOTALL)
_SKIPPED = _by_first_letter("|".join(_SKIPPED_NAMES))
_SKIPPED_OPEN = re.compile(rf"<({_SKIPPED})\b[^<>]*+>", re.IGNORECASE)
_SKIPPED_CLOSE = {
    name: re.compile(rf"</{name}\b[^<>]*+>", re.IGNORECASE) for name in _SKIPPED_NAMES
}
_BLOCK_TAG = re.compile(rf"</?(?:{_by_first_letter(_BLOCK)})\b[^<>]*+>", re.IGNORECASE)
# Case-blind matching costs about twice the time of exact matching, and feed
# tags are nearly always lower case. The exact twins below find the same tags
# in a text where no tag name holds an upper-case letter or one of the four
# other characters that match an ASCII letter case-blind (dotted and dotless
# i, long s, Kelvin sign; the test suite checks the list against every code
# point). _CASED_TAG finds such a name, and more ("<a/B", which only costs
# the case-blind pass); _COMMENT_OR_CASED also finds the "<!" that most
# _COMMENT matches start with (the two cannot overlap).
_CASE_BLIND_ASCII = "\u0130\u0131\u017f\u212a"
_CASED_NAME = rf"[/a-z0-9]*+[A-Z{_CASE_BLIND_ASCII}]"
_CASED_TAG = re.compile(f"<{_CASED_NAME}")
_COMMENT_OR_CASED = re.compile(f"<(?:(!)|{_CASED_NAME})")
_SKIPPED_OPEN_LOWER = re.compile(rf"<({_SKIPPED})\b[^<>]*+>")
_SKIPPED_CLOSE_LOWER = {name: re.compile(rf"</{name}\b[^<>]*+>") for name in _SKIPPED_NAMES}
_BLOCK_TAG_LOWER = re.compile(rf"</?(?:{_by_first_letter(_BLOCK)})\b[^<>]*+>")
# "</>" and "</ x>" are what a browser drops (or reads as a bogus comment).
_ANY_TAG = re.compile(r"</?[a-zA-Z][^<>]*+>|<![^<>]*+>|<\?[^<>]*+>|</(?![a-zA-Z])[^<>]*+>")
# What is left of a tag that never closed: a browser reads it as a tag up to
# the next ">", so it is markup, not text.
_BROKEN_TAG = re.compile(r"<[a-zA-Z/!?][^<>]*+>?")
_TAG_RE = re.compile(r"<[a-zA-Z/!?]")
_MAX_ROUNDS = 3
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n\s*\n\s*")
# Whitespace that str.split() splits on but _SPACES leaves alone, besides "\n".
_OTHER_SPACE = re.compile(r"[\r\x1c-\x1f\x85\u1680\u2028\u2029]")
# Every whitespace character but " " and "\n": what makes _tidy do more than
# collapse runs of spaces and blank lines.
_UNUSUAL_SPACE_CHARS = (
    "\r\t\f\v\x1c-\x1f\x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_UNUSUAL_SPACE = re.compile(f"[{_UNUSUAL_SPACE_CHARS}]")
_ODD_SPACE = re.compile(r"[\t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_TO_SPACE = {char: " " for char in "\t\f\v\u00a0\u202f\u205f\u3000"}
_TO_SPACE.update({chr(cp): " " for cp in range(0x2000, 0x200B)})
_TO_SPACE_TABLE: dict[int, str | None] = {ord(char): " " for char in _TO_SPACE}
_SPACE_RUN = re.compile(r"  +")
_BLANK_LINES = re.compile(r"\n\n\n+")

# Invisible characters that split a word without showing it ("war\u00adcrimes"
# reads as one word, "war \u2060crimes" as two) are removed; a zero-width
# space is a word break, so it becomes a space; a zero-width (non-)joiner
# is kept between letters (Persian and Indic spelling need it) and removed
# next to whitespace. Bidirectional overrides could make a reviewer read the
# text in another order than the matcher did, so they go too.
_INVISIBLE = {cp: None for cp in (0x00AD, 0x061C, 0x180E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064)}
_INVISIBLE.update({cp: None for cp in (0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB, 0x200E, 0x200F)})
_INVISIBLE.update({cp: None for cp in range(0x202A, 0x202F)})
_INVISIBLE.update({cp: None for cp in range(0x2066, 0x206A)})
_INVISIBLE.update({cp: None for cp in range(0x20) if chr(cp) not in "\t\n\r\f\v"})
_INVISIBLE.update({cp: None for cp in range(0x7F, 0xA0)})
_INVISIBLE[0x85] = "\n"  # NEL is a line break
_INVISIBLE[0x200B] = " "
# A lone surrogate (JSON's "\ud800" from a social API) cannot be written as
# UTF-8 by any sink: it becomes the replacement character.
_INVISIBLE.update({cp: "\ufffd" for cp in range(0xD800, 0xE000)})
_REPLACEMENT = {chr(cp): "" if new is None else new for cp, new in _INVISIBLE.items()}
# One C-speed scan finds whether there is anything to remove at all: most
# texts have nothing, and str.translate with a table costs a lookup per character.
_INVISIBLE_CHARS = (
    "".join(re.escape(chr(cp)) for cp in sorted(_INVISIBLE) if not 0xD800 <= cp < 0xE000)
    + "\ud800-\udfff"
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE_CHARS}]")
_JOINER_AT_SPACE = re.compile(
    r"[\u200c\u200d]+(?=\s)|(?<=\s)[\u200c\u200d]+|^[\u200c\u200d]+|[\u200c\u200d]+$"
)
# Anything remove_invisible or the unusual-space work of _tidy would act on:
# one scan of a text decides that neither has work to do.
_SPECIAL = re.compile(f"[{_INVISIBLE_CHARS}\u200c\u200d{_UNUSUAL_SPACE_CHARS}]")


def _replace_each(
    text: str, found: re.Pattern[str], replacement: dict[str, str], table: dict[int, str | None]
) -> str:
    # One str.replace per distinct character that `found` finds, the first
    # found first: the same as str.translate with the table (no replacement
    # holds a character of the table), without a lookup per character. Text
    # before a match holds none of the characters, so the next search starts
    # there. Past a few distinct characters, translate does the rest.
    match = found.search(text)
    for _ in range(8):
        if not match:
            return text
        char = match.group()
        text = text.replace(char, replacement[char])
        match = found.search(text, match.start())
    return text.translate(table) if match else text


def remove_invisible(text: str) -> str:
    """Remove control and invisible formatting characters (see the table above)."""
    text = _replace_each(text, _INVISIBLE_RE, _REPLACEMENT, _INVISIBLE)
    if "\u200c" in text or "\u200d" in text:
        text = _JOINER_AT_SPACE.sub("", text)
    return text


def _tidy(text: str, plain: bool = False) -> str:
    # plain: the text is known to hold no _UNUSUAL_SPACE character (NFC
    # makes none from other characters; the test suite checks every code point).
    text = unicodedata.normalize("NFC", text)
    if not plain and _UNUSUAL_SPACE.search(text):
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if _OTHER_SPACE.search(text):
            text = _SPACES.sub(" ", text)
            lines = [line.strip() for line in text.split("\n")]
            return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
        text = _replace_each(text, _ODD_SPACE, _TO_SPACE, _TO_SPACE_TABLE)
    # Only " " and "\n" are left: collapsing runs of spaces, then dropping
    # the space at either end of a line and the third and later line breaks
    # of a run, is what collapsing and stripping each line, joining them and
    # keeping at most one blank line does; a few C scans instead of a split
    # and a join per line.
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    if " \n" in text:
        text = text.replace(" \n", "\n")
    if "\n " in text:
        text = text.replace("\n ", "\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _drop_skipped(markup: str, lower: bool = False) -> str:
    # Each search starts where the last one ended: linear in the markup.
    # lower: _COMMENT_OR_CASED found no tag name that needs the case-blind pass.
    opener, closers = (
        (_SKIPPED_OPEN_LOWER, _SKIPPED_CLOSE_LOWER) if lower else (_SKIPPED_OPEN, _SKIPPED_CLOSE)
    )
    out: list[str] = []
    position = 0
    while True:
        opening = opener.search(markup, position)
        if not opening:
            break
        out.append(markup[position : opening.start()])
        out.append(" ")
        position = opening.end()
        if opening.group(0).endswith("/>"):
            continue
        closing = closers[opening.group(1).lower()].search(markup, position)
        if not closing:  # unclosed: everything after it is script
            return "".join(out)
        position = closing.end()
    out.append(markup[position:])
    return "".join(out)


def _strip_tags(markup: str) -> str:
    # One scan usually finds both whether there is a comment and whether a
    # tag name needs the case-blind pass. Removing comments and skipped
    # elements only removes text and puts spaces in, so it makes no tag name
    # that this scan of the input did not see.
    comment = False
    found = _COMMENT_OR_CASED.search(markup)
    if found and found.group(1):
        comment = True
        found = _CASED_TAG.search(markup, found.end())
    lower = found is None
    if comment or "]]>" in markup or (not lower and "<!" in markup):
        markup = _COMMENT.sub(" ", markup)  # "<!" or "]]>" starts every match
    markup = _drop_skipped(markup, lower)
    markup = (_BLOCK_TAG_LOWER if lower else _BLOCK_TAG).sub("\n", markup)
    return _ANY_TAG.sub("", markup)


def html_to_text(markup: str) -> str:
    """Plain text from HTML or from text with entities.

    Block elements become line breaks, scripts, styles and frames vanish with
    their content, entities are decoded, invisible and control characters are
    removed, whitespace is collapsed and the result is NFC-normalised, so
    that character spans computed on it are stable. Markup that only appears
    once entities are decoded (``&lt;script&gt;``), or once tags are removed
    (``<scr<b></b>ipt>``), is removed too: no markup survives. Linear time.
    """
    if not markup:
        return ""
    plain = tagged = False
    for _ in range(_MAX_ROUNDS):
        if _TAG_RE.search(markup):
            markup = _strip_tags(markup)
        # Invisible characters go with the entities, before any tag test:
        # "<\u00adscript>" is a tag once the soft hyphen is gone.
        decoded = html.unescape(markup)
        plain = not _SPECIAL.search(decoded)
        if not plain:
            decoded = remove_invisible(decoded)
        unchanged = decoded == markup
        markup = decoded
        tagged = _TAG_RE.search(markup) is not None
        if unchanged or not tagged:
            break
    # From here on text is only removed, or replaced by " " and "\n": a plain
    # text stays plain.
    if tagged:
        for _ in range(_MAX_ROUNDS):
            markup = _BROKEN_TAG.sub("", _strip_tags(markup))
            if not _TAG_RE.search(markup):
                break
        else:  # text built to rejoin into a tag round after round
            markup = _TAG_RE.sub(lambda match: match.group(0)[1:], markup)
    return _tidy(markup, plain)


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


def normalise_item(item: Item) -> Item:
    """Plain text, canonical URL, safe links and id for a raw item.

    A raw item whose id is :data:`transforms.item.COLLISION_MARK` reused
    another entry's guid with different content (the reader saw it): it gets
    an id derived from its content instead.
    """
    title = html_to_text(item.title).replace("\n", " ")
    text = html_to_text(item.text)
    url_unsafe = is_unsafe_url(item.url)
    unsafe = [item.url] if url_unsafe else []
    unsafe.extend(u for u in item.links if is_unsafe_url(u))
    unsafe.extend(m.url for m in item.media if is_unsafe_url(m.url))
    url = None if url_unsafe else item.url
    canonical = canonical_url(url)
    content = title + "\n" + text
    identity = item_id(item.source, item.guid, canonical, content)
    if item.id == COLLISION_MARK:
        identity = collision_id(identity, content)
    changes = {}
    if unsafe:
        changes = {
            "url": url,
            "links": tuple(u for u in item.links if not is_unsafe_url(u)),
            "media": tuple(m for m in item.media if not is_unsafe_url(m.url)),
            "unsafe_urls": tuple(dict.fromkeys((*item.unsafe_urls, *unsafe))),
        }
    author = html_to_text(item.author).replace("\n", " ") or None if item.author else None
    return item.replace(
        title=title,
        text=text,
        author=author,
        canonical_url=canonical,
        id=identity,
        **changes,
    )


def normalise_or_reason(item: Item) -> Item | str:
    """:func:`normalise_item`, or the reason the item cannot be one (for a dead letter).

    Any exception is a reason: one odd entry must never end the batch.
    """
    try:
        out = normalise_item(item)
    except Exception as exc:  # noqa: BLE001 - e.g. a URL urllib cannot split, RecursionError
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if not (out.title or out.text or out.url or out.guid):
        return "entry is empty after removing markup"
    return out
