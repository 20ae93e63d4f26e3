"""The dedup benchmark's positives: copies of a real item as another outlet would carry them.

Each eligible base item (see :mod:`benchmarks.dedup_data`) gets one copy of
each kind in :data:`VARIANT_KINDS`, each from its own source with its own
guid, one hour later: the URL kinds (tracking parameters, scheme, ``www.``,
AMP forms) carry a teaser at a variant of the base's URL; the text kinds
(title edited, lead rewritten, text truncated, boilerplate added, Unicode
forms changed) need :data:`MIN_BASE_WORDS` words. Everything is
deterministic: one seed per item.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from transforms.item import Item, Source, item_id
from transforms.neardup import tokens
from transforms.normalise import canonical_url

__all__ = [
    "MIN_BASE_WORDS",
    "TEXT_KINDS",
    "URL_KINDS",
    "VARIANT_KINDS",
    "Variant",
    "make_variants",
]

URL_KINDS = ("tracking", "http_https", "www", "amp")
TEXT_KINDS = ("title_edit", "lead_changed", "truncated", "boilerplate", "unicode")
VARIANT_KINDS = URL_KINDS + TEXT_KINDS
# A base item needs this many words of title and text for the text variants:
# below it, an edited title or a changed lead leaves nothing that is the same.
MIN_BASE_WORDS = 25

_SENTENCE = re.compile(r"(?<=[.!?…。！？])\s+")
_BOILERPLATE = (
    "The post {title} appeared first on {outlet}.",
    "Read more on {outlet}: subscribe to our newsletter to get the day's top stories in your inbox "
    "every morning.",
    "© 2026 {outlet}. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed.",
    "Follow {outlet} on Telegram, Facebook and X for the latest news. "
    "Support independent journalism.",
    "Подписывайтесь на наш канал в Telegram, чтобы первыми узнавать главные новости.",
    "Читайте також: найважливіші новини дня на нашому сайті та в Telegram-каналі.",
    "تابعونا على تلغرام وفيسبوك للاطلاع على آخر الأخبار.",
)
_TITLE_PREFIX = ("UPDATE: ", "BREAKING: ", "Exclusive: ", "Watch: ", "Live: ")
_TITLE_SUFFIX = (" | World News", " - Reuters", " (updated)", " (video)", " — report")
_DATELINE = ("KYIV, ", "LONDON (Reuters) — ", "YEREVAN — ", "BEIRUT, ", "GENEVA (AP) — ")


@dataclass(frozen=True, slots=True)
class Variant:
    """A generated copy of ``base``."""

    kind: str
    detail: str
    base: Item
    item: Item


def _later(stamp: str | None) -> str | None:
    try:
        moment = datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%SZ") + timedelta(hours=1)
    except ValueError:  # no date, or one strptime cannot read (year 1): keep it
        return stamp
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _copy(
    base: Item,
    n: int,
    kind: str,
    *,
    url: str | None = None,
    title: str | None = None,
    text: str | None = None,
) -> Item:
    """``base`` as another outlet carries it (at its own URL unless given).

    The copy is built already normalised, not normalised again: a second pass
    would change the base's own text too (double-escaped markup in a few
    feeds), and the copy must differ from its base only as intended.
    """
    outlet = Source(
        kind="feed", name=f"Syndicator {kind}", url=f"https://syndicator-{kind}.example/rss"
    )
    url = f"https://syndicator-{kind}.example/story/{n}" if url is None else url
    title = base.title if title is None else title
    text = base.text if text is None else text
    canonical = canonical_url(url)
    guid = f"{kind}-{n}"
    return base.replace(
        source=outlet,
        guid=guid,
        url=url,
        title=title,
        text=text,
        published=_later(base.published),
        fetched=_later(base.fetched),
        canonical_url=canonical,
        id=item_id(outlet, guid, canonical, title + "\n" + text),
        duplicate=None,
        also_reported_by=(),
    )


def _amp(url: str, form: int) -> tuple[str, str]:
    parts = urlsplit(url)
    host, path = parts.netloc, parts.path or "/"
    if form == 0:
        return "path /amp", urlunsplit(
            (parts.scheme, host, path.rstrip("/") + "/amp", parts.query, "")
        )
    if form == 1:
        return "path /amp/", urlunsplit(
            (parts.scheme, host, path.rstrip("/") + "/amp/", parts.query, "")
        )
    if form == 2:
        query = (parts.query + "&" if parts.query else "") + "amp=1"
        return "query amp=1", urlunsplit((parts.scheme, host, path, query, ""))
    if form == 3:
        bare = host.removeprefix("www.")
        return "amp. host", urlunsplit((parts.scheme, "amp." + bare, path, parts.query, ""))
    if path.endswith(".html"):
        return ".amp.html", urlunsplit(
            (parts.scheme, host, path[:-5] + ".amp.html", parts.query, "")
        )
    return "path /amp", urlunsplit((parts.scheme, host, path.rstrip("/") + "/amp", parts.query, ""))


def _teaser(text: str) -> str:
    # What another feed of the same URL often carries: a shorter summary.
    words = text.split()
    return " ".join(words[:20]) + (" …" if len(words) > 20 else "")


def _edit_title(title: str, rng: random.Random, other_words: list[str]) -> tuple[str, str]:
    words = title.split()
    plain = [i for i, w in enumerate(words) if not any(c.isdigit() for c in w)]
    ops = ["prefix", "suffix", "case"]
    if len(plain) >= 4:
        ops += ["drop", "replace", "swap"]
    done = []
    for op in rng.sample(ops, k=min(2, len(ops))):
        if op == "prefix":
            words = rng.choice(_TITLE_PREFIX).split() + words
        elif op == "suffix":
            words = words + rng.choice(_TITLE_SUFFIX).split()
        elif op == "case":
            words = [w.upper() if rng.random() < 0.5 else w.lower() for w in words]
        elif op == "drop":
            plain = [i for i, w in enumerate(words) if not any(c.isdigit() for c in w)]
            del words[rng.choice(plain)]
        elif op == "replace" and other_words:
            plain = [i for i, w in enumerate(words) if not any(c.isdigit() for c in w)]
            words[rng.choice(plain)] = rng.choice(other_words)
        elif op == "swap":
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        done.append(op)
    return "+".join(done), " ".join(words)


def _rewrite(passage: str, rng: random.Random) -> str:
    """An editor's rewrite: same facts (every figure kept), other wording and order."""
    words = passage.split()
    keep = [w for w in words if any(c.isdigit() for c in w) or rng.random() >= 0.3]
    chunks = [keep[i : i + 4] for i in range(0, len(keep), 4)]
    rng.shuffle(chunks)
    return rng.choice(_DATELINE) + " ".join(w for chunk in chunks for w in chunk)


def _change_lead(text: str, rng: random.Random) -> tuple[str, str] | None:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if len(paragraphs) >= 3:
        return "first paragraph", "\n\n".join([_rewrite(paragraphs[0], rng), *paragraphs[1:]])
    sentences = _SENTENCE.split(text.strip())
    if len(sentences) >= 3:
        return "first sentence", " ".join([_rewrite(sentences[0], rng), *sentences[1:]])
    words = text.split()
    cut = max(1, len(words) // 4)
    return "first quarter", _rewrite(" ".join(words[:cut]), rng) + " " + " ".join(words[cut:])


def _truncate(text: str, rng: random.Random) -> tuple[str, str]:
    words = text.split()
    share = rng.uniform(0.3, 0.7)
    keep = max(1, int(len(words) * share))
    return f"{share:.0%} kept", " ".join(words[:keep]) + " …"


def _unicode(text: str, rng: random.Random) -> tuple[str, str]:
    forms = rng.sample(["nfd", "nbsp", "zwsp", "quotes", "spaces", "newlines"], k=3)
    out = text
    if "nfd" in forms:
        out = unicodedata.normalize("NFD", out)
    if "nbsp" in forms:
        out = re.sub(r" ", lambda m: "\u00a0" if rng.random() < 0.3 else " ", out)
    if "zwsp" in forms:
        out = re.sub(
            r"(\w{4})(\w{4})", lambda m: m[1] + ("\u200b" if rng.random() < 0.1 else "") + m[2], out
        )
    if "quotes" in forms:
        out = out.replace('"', "\u201c").replace("'", "\u2019")
    if "spaces" in forms:
        out = re.sub(r" ", lambda m: "  " if rng.random() < 0.2 else " ", out)
    if "newlines" in forms:
        out = out.replace("\n\n", "\n \n").replace(". ", ".\n", 3)
    return "+".join(forms), out


def _words(item: Item) -> int:
    return len(tokens(item.title)) + len(tokens(item.text))


def make_variants(items: list[Item], seed: int = 7) -> Iterator[Variant]:
    """Every variant of every eligible item (see :data:`VARIANT_KINDS`)."""
    title_words = [w for item in items for w in item.title.split() if w.isalpha()]
    for n, base in enumerate(items):
        rng = random.Random(f"{seed}:{base.id}:{base.raw_sha256}")
        if base.canonical_url:
            url = base.url.strip()
            teaser = _teaser(base.text)
            params = (
                "utm_source=twitter&utm_medium=social&utm_campaign=feed&fbclid=IwAR0x" + base.id[:8]
            )
            sep = "&" if urlsplit(url).query else "?"
            flip = (
                ("http://" + url[8:])
                if url.startswith("https://")
                else ("https://" + url.split("://", 1)[1])
            )
            host = urlsplit(url).netloc
            www = url.replace(host, host[4:] if host.startswith("www.") else "www." + host, 1)
            detail, amp = _amp(url, n % 5)
            for kind, detail_, new_url in (
                ("tracking", "utm_* + fbclid", url + sep + params),
                ("http_https", "scheme flipped", flip),
                ("www", "www. toggled", www),
                ("amp", detail, amp),
            ):
                yield Variant(kind, detail_, base, _copy(base, n, kind, url=new_url, text=teaser))
        if _words(base) < MIN_BASE_WORDS or len(base.text.split()) < 12:
            continue
        detail, title = _edit_title(base.title, rng, title_words)
        yield Variant("title_edit", detail, base, _copy(base, n, "title_edit", title=title))
        detail, text = _change_lead(base.text, rng)
        yield Variant("lead_changed", detail, base, _copy(base, n, "lead_changed", text=text))
        detail, text = _truncate(base.text, rng)
        yield Variant("truncated", detail, base, _copy(base, n, "truncated", text=text))
        boiler = rng.choice(_BOILERPLATE).format(
            title=base.title, outlet=base.source.name or "the outlet"
        )
        yield Variant(
            "boilerplate",
            boiler[:30],
            base,
            _copy(base, n, "boilerplate", text=base.text + "\n\n" + boiler),
        )
        detail, text = _unicode(base.text, rng)
        _, title = _unicode(base.title, rng)
        yield Variant("unicode", detail, base, _copy(base, n, "unicode", title=title, text=text))
