"""Normalise raw items: plain text from HTML, canonical URLs, identity.

Pure functions only, free of Beam, so that the poller normalises live items
with exactly the code a replay uses; the Beam stage is
:mod:`transforms.normalise_stage`. The text work is in
:mod:`transforms.htmltext` and the URL work in :mod:`transforms.urls`; their
public names are re-exported here, where the rest of the code imports them.
"""

from __future__ import annotations

from transforms.htmltext import html_to_text, remove_invisible
from transforms.item import COLLISION_MARK, Item, collision_id, item_id
from transforms.urls import TRACKING_PARAMS, UNSAFE_SCHEMES, canonical_url, is_unsafe_url, url_key

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
