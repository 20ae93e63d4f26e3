"""An item's identity: its stable id, content hashes, and the id of a colliding entry.

Ids are hashes, so they are the same on every worker and every run; they are
kept apart from the record classes (:mod:`transforms.item_records`) because
normalisation and the connectors make them, while every stage reads records.
"""

from __future__ import annotations

import hashlib

from transforms.item_records import Source

__all__ = ["COLLISION_MARK", "collision_id", "item_id", "sha256_hex"]


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        # surrogatepass: a lone surrogate must not stop an item from being hashed.
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def item_id(source: Source, guid: str | None, canonical_url: str | None, content: str) -> str:
    """Stable id of an item.

    A guid alone is not an identity: bare guids such as ``1`` or ``?p=123``
    recur across feeds, so the guid is always hashed with the source URL.
    Without a guid the canonical URL identifies the item; without either,
    the normalised content does (scoped to the source, so that two feeds'
    one-word test entries are not one item — cross-source copies are found
    by the content dedup stage instead).
    """
    if guid:
        key = "guid\x1f" + source.url + "\x1f" + guid
    elif canonical_url:
        key = "url\x1f" + canonical_url
    else:
        key = "content\x1f" + source.url + "\x1f" + content
    return sha256_hex(key)[:32]


# Joins a colliding entry's own id to its content hash; also, as a raw item's
# whole id, asks normalisation for such an id (see collision_id).
COLLISION_MARK = "~"


def collision_id(base_id: str, content: str) -> str:
    """A distinct id for an entry whose id another entry with different content already has.

    Two different stories must never share an id, or the id dedup pass marks
    one a copy of the other. The new id keeps the original as its prefix (so
    the collision stays visible) and adds a hash of the content; it contains
    :data:`COLLISION_MARK`, which plain ids never do, so summaries count it.
    """
    return base_id[:32] + COLLISION_MARK + sha256_hex(content)[:12]
