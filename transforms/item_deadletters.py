"""Dead letters of items: the tag every Beam stage sends them to, and their reasons.

A record that fails a stage is never dropped in silence: the stage turns it
into a :class:`~transforms.item_records.DeadLetter` with one line naming why
(:func:`failure_reason`) and the item's JSON (:func:`item_dead_letter`).
"""

from __future__ import annotations

from transforms.item_json import to_json
from transforms.item_records import DeadLetter, Item

__all__ = ["DEAD_LETTER_TAG", "failure_reason", "item_dead_letter"]

# The tagged output every Beam stage sends its DeadLetter records to; the
# graph flattens them into one collection.
DEAD_LETTER_TAG = "dead_letter"


def failure_reason(exc: BaseException) -> str:
    """One line naming an exception, for a dead letter's reason."""
    lines = f"{type(exc).__name__}: {exc}".splitlines() or [type(exc).__name__]
    return lines[0][:500]


def item_dead_letter(stage: str, item: Item, reason: str) -> DeadLetter:
    """The dead letter of an item that ``stage`` could not process.

    Args:
        stage: the stage that rejected it (``normalise``, ``language``, ``flag``).
        item: the item as the stage received it (kept as JSON, truncated).
        reason: why, one line.
    """
    return DeadLetter(
        stage=stage,
        reason=reason,
        path=item.origin or item.source.url,
        raw=to_json(item)[:2000],
    )
