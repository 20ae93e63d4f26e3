"""Loading a replay's ``flagged.jsonl`` into the review store (``newswatch replay --store``).

Kept apart from :class:`connectors.store.ReviewStore`: this reads a file and
goes through the store's public writes only, as ``newswatch consume`` does
for messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.store import ReviewStore

__all__ = ["load_flagged_jsonl"]


def load_flagged_jsonl(store: ReviewStore, path: str | Path) -> dict[str, int]:
    """Writes the items of a ``flagged.jsonl`` file (as replay writes it) into the store.

    Each line is upserted by item id, as ``newswatch consume`` does, so loading
    a file twice (or a later replay of the same archives) changes nothing and
    decisions stay. A line that is not an item is kept in ``dead_letters``
    (stage ``replay``) with the reason. One transaction for the whole file.

    Returns:
        Counts: ``new``, ``changed``, ``unchanged``, ``dead_letters``.

    Raises:
        OSError: the file cannot be read.
    """
    from transforms.item import from_json

    counts = {"new": 0, "changed": 0, "unchanged": 0, "dead_letters": 0}
    with open(path, "rb") as handle, store.transaction():
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = from_json(line)
                outcome = store.upsert_item(item)
            except (ValueError, TypeError, KeyError) as exc:
                reason = f"{path}:{number}: not a flagged item: {type(exc).__name__}: {exc}"
                store.add_dead_letter(reason, line, {"file": str(path)}, stage="replay")
                counts["dead_letters"] += 1
                continue
            counts[outcome] += 1
    return counts
