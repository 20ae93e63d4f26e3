"""Feed files of any size generated from the real feeds, for the replay and memory benchmarks.

    python -m benchmarks.realgen OUT_DIR --items N [--corpora DIR]

Every entry of ``../shared/corpora/feeds/real`` (8,359, mean text about
2,200 characters) is a template. Variant ``k`` of an entry keeps its length,
markup and language, and changes what dedup keys on, so that variants are
different stories rather than copies: its guid and URL carry ``k``, its date
moves ``k`` days, two title words and every fourth word of the text (at an
offset that depends on ``k``) are replaced by other words of the same entry,
so that a variant stays in its entry's language (words drawn from the whole
corpus made every text a mix of languages and scripts, which real items are
not: twice as many of them went to the slow language model). Two variants
then share almost no 3-word shingle, so no dedup pass merges them; the real
copies that the corpus itself holds stay copies.

Variants are written as RSS 2.0 files of at most :data:`PER_FILE` items,
one source per file.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from connectors.feeds import parse_feed
from pipelines.commands.common import corpora_dir
from transforms.item import Item

__all__ = ["GENERATION", "PER_FILE", "Template", "load_templates", "variant", "write_feeds"]

PER_FILE = 50
# Changes whenever the same count would generate other items: benchmarks name
# the folders they keep with it, so a folder from an older generator is not
# taken for this one's (2: replacement words from the entry itself).
GENERATION = 2
_TAGS = re.compile(r"(<[^>]*>)")
_WORD = re.compile(r"\w{2,}")


@dataclass(frozen=True, slots=True)
class Template:
    """A real entry as its feed file held it (markup kept)."""

    source: str
    title: str
    text: str
    url: str
    guid: str
    published: str | None


def load_templates(corpora: Path) -> list[Template]:
    """Every entry of the real feeds, in file order.

    Raises:
        ValueError: the corpora folder holds no real feed entries (a wrong ``--corpora``).
    """
    real = Path(corpora) / "feeds" / "real"
    templates = []
    for path in sorted(p for p in real.rglob("*") if p.is_file()):
        outcome = parse_feed(str(path.relative_to(real)), path.read_bytes())
        for n, item in enumerate(outcome.items):
            templates.append(_template(item, f"{path.name}-{n}"))
    if not templates:
        raise ValueError(f"no real feed entries under {real} (is --corpora right?)")
    return templates


def _template(item: Item, fallback: str) -> Template:
    return Template(
        source=item.source.name or item.source.url,
        title=item.title,
        text=item.text,
        url=item.url or f"https://generated.example/{fallback}",
        guid=item.guid or item.url or fallback,
        published=item.published,
    )


def _vocabulary(template: Template) -> list[str]:
    """The entry's own words (outside markup), sorted: what its variants' words are drawn from."""
    text = " ".join(p for p in _TAGS.split(template.text) if not p.startswith("<"))
    words = sorted(set(_WORD.findall(template.title)) | set(_WORD.findall(text)))
    return words or ["word"]


def _pick(vocabulary: list[str], *keys: object) -> str:
    digest = hashlib.blake2b(repr(keys).encode(), digest_size=8).digest()
    return vocabulary[int.from_bytes(digest, "little") % len(vocabulary)]


def _replace_words(text: str, vocabulary: list[str], k: int, every: int, salt: str) -> str:
    count = 0

    def swap(match: re.Match) -> str:
        nonlocal count
        count += 1
        if (count + k) % every:
            return match.group(0)
        return _pick(vocabulary, salt, k, count)

    parts = _TAGS.split(text)
    return "".join(part if part.startswith("<") else _WORD.sub(swap, part) for part in parts)


def variant(template: Template, k: int, vocabulary: list[str] | None = None) -> dict[str, str]:
    """The RSS fields of variant ``k`` of a template.

    Replacement words come from ``vocabulary``, by default the template's own.
    """
    if vocabulary is None:
        vocabulary = _vocabulary(template)
    title_words = len(_WORD.findall(template.title))
    title = _replace_words(
        template.title, vocabulary, k, max(2, title_words // 2), "t" + template.guid
    )
    return {
        "title": title,
        "text": _replace_words(template.text, vocabulary, k, 4, template.guid),
        "link": f"{template.url.split('#')[0]}{'&' if '?' in template.url else '?'}variant={k}",
        "guid": f"{template.guid}#variant-{k}",
        "published": _shift(template.published, k),
    }


def _shift(published: str | None, k: int) -> str:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        if published:
            when = datetime.fromisoformat(published.replace("Z", "+00:00"))
        return format_datetime(when + timedelta(days=k), usegmt=True)
    except (ValueError, OverflowError):  # a year 1 or 9999 date, as some feeds give
        return format_datetime(datetime(2026, 1, 1, tzinfo=timezone.utc), usegmt=True)


def _variants(templates: list[Template], count: int) -> Iterator[tuple[int, Template, dict]]:
    for n in range(count):
        k, index = divmod(n, len(templates))
        template = templates[index]
        yield k, template, variant(template, k)


def _rss(source: str, k: int, entries: list[dict]) -> str:
    items = "".join(
        f"<item><title>{escape(e['title'])}</title><link>{escape(e['link'])}</link>"
        f"<guid isPermaLink=\"false\">{escape(e['guid'])}</guid>"
        f"<description>{escape(e['text'])}</description><pubDate>{e['published']}</pubDate></item>"
        for e in entries
    )
    slug = hashlib.blake2b(f"{source}|{k}".encode(), digest_size=6).hexdigest()
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(source)} ({k})</title><link>https://{slug}.generated.example/</link>"
        f"{items}</channel></rss>\n"
    )


def write_feeds(templates: list[Template], out_dir: Path, count: int) -> list[Path]:
    """Write ``count`` generated items as RSS files under ``out_dir``; their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    batch: list[dict] = []
    key: tuple[str, int] | None = None

    def flush() -> None:
        if batch and key is not None:
            path = out_dir / f"feed-{len(paths):06d}.xml"
            path.write_text(_rss(key[0], key[1], batch), encoding="utf-8")
            paths.append(path)
        batch.clear()

    for k, template, fields in _variants(templates, count):
        if (template.source, k) != key or len(batch) >= PER_FILE:
            flush()
            key = (template.source, k)
        batch.append(fields)
    flush()
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--corpora", default=str(corpora_dir()))
    args = parser.parse_args(argv)
    try:
        templates = load_templates(Path(args.corpora))
    except ValueError as exc:
        parser.error(str(exc))
    paths = write_feeds(templates, Path(args.out_dir), args.items)
    print(f"{args.items} items from {len(templates)} real entries in {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
