"""Reviewers' decisions in the review store (:mod:`connectors.store`): record, undo, read.

Decisions are appended, never changed: ``decisions`` keeps the history and
its latest row per item is current (a trigger copies it to ``flagged``'s
``decision*`` columns, which the queue filters on). An undo appends a row
that restores the state before the decision it undoes.

Every statement here is fixed SQL with bound parameters, as in
:mod:`connectors.store_queries`, which reads decisions together with items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.store import ReviewStore
from connectors.store_rows import utc_now
from connectors.store_schema import DECISIONS, UNDECIDED

__all__ = [
    "Decision",
    "current_decision",
    "decision_history",
    "record_decision",
    "undo",
]


@dataclass(frozen=True, slots=True)
class Decision:
    """One row of ``decisions``.

    Attributes:
        decision: ``confirmed`` or ``dismissed``; ``undecided`` only on an undo
            that goes back past an item's first decision.
        categories: categories the reviewer set, or None to keep the pipeline's.
        undoes: the id of the decision this row undoes, for undo rows.
    """

    id: int
    item_id: str
    decision: str
    note: str
    reviewer: str
    decided_at: str
    categories: tuple[str, ...] | None
    undoes: int | None


def _decision(row: Any) -> Decision:
    categories = json.loads(row["categories"]) if row["categories"] is not None else None
    return Decision(
        id=row["id"],
        item_id=row["item_id"],
        decision=row["decision"],
        note=row["note"],
        reviewer=row["reviewer"],
        decided_at=row["decided_at"],
        categories=tuple(categories) if categories is not None else None,
        undoes=row["undoes"],
    )


def decision_history(store: ReviewStore, item_id: str) -> list[Decision]:
    """Every decision on an item, oldest first."""
    rows = store.connection.execute(
        "SELECT * FROM decisions WHERE item_id = ? ORDER BY id", (item_id,)
    ).fetchall()
    return [_decision(r) for r in rows]


def current_decision(store: ReviewStore, item_id: str) -> Decision | None:
    """The latest decision on an item, or None when nobody decided it."""
    row = store.connection.execute(
        "SELECT * FROM decisions WHERE item_id = ? ORDER BY id DESC LIMIT 1", (item_id,)
    ).fetchone()
    return _decision(row) if row is not None else None


def _append(store: ReviewStore, values: dict[str, Any]) -> Decision:
    cursor = store.connection.execute(
        "INSERT INTO decisions (item_id, decision, note, reviewer, decided_at, categories, undoes) "
        "VALUES (:item_id, :decision, :note, :reviewer, :decided_at, :categories, :undoes)",
        values,
    )
    row = store.connection.execute(
        "SELECT * FROM decisions WHERE id = ?", (cursor.lastrowid,)
    ).fetchone()
    return _decision(row)


def _check_categories(decision: str, categories: Sequence[str]) -> None:
    from transforms.rulepack import CATEGORIES, FLAG_CATEGORIES

    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"categories must be among {CATEGORIES} (got {unknown})")
    flagged = bool(set(categories) & set(FLAG_CATEGORIES))
    if flagged != (decision == "confirmed"):
        raise ValueError(
            f"a {decision} item must {'' if decision == 'confirmed' else 'not '}have one of "
            f"{FLAG_CATEGORIES} among its categories (got {list(categories)})"
        )


def record_decision(
    store: ReviewStore,
    item_id: str,
    decision: str,
    *,
    reviewer: str,
    note: str = "",
    categories: Sequence[str] | None = None,
    decided_at: str | None = None,
) -> Decision:
    """Appends a reviewer's decision on a flagged item; it becomes the current one.

    Args:
        decision: ``confirmed`` or ``dismissed``.
        categories: the categories the reviewer judges right, when they differ
            from the pipeline's (used by the labels export): a confirmed item
            has at least one flag category, a dismissed one none.

    Raises:
        ValueError: an unknown decision or category, categories that contradict
            the decision, no reviewer, or no flagged item with this id.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS} (got {decision!r})")
    if not reviewer or not reviewer.strip():
        raise ValueError(f"a decision needs the reviewer's name (got {reviewer!r})")
    if categories is not None:
        _check_categories(decision, categories)
    with store.transaction():
        if (
            store.connection.execute(
                "SELECT 1 FROM flagged WHERE item_id = ?", (item_id,)
            ).fetchone()
            is None
        ):
            raise ValueError(f"no flagged item with id {item_id!r}")
        return _append(
            store,
            {
                "item_id": item_id,
                "decision": decision,
                "note": note,
                "reviewer": reviewer.strip(),
                "decided_at": decided_at or utc_now(),
                "categories": json.dumps(list(categories)) if categories is not None else None,
                "undoes": None,
            },
        )


def undo(store: ReviewStore, item_id: str, *, reviewer: str, decided_at: str | None = None):
    """Appends a row that restores the state before the latest decision still in force.

    Undos stack: undoing twice goes back two decisions. The history keeps
    every row, the undo rows included.

    Returns:
        The new :class:`Decision`, or None when there is nothing to undo.
    """
    if not reviewer or not reviewer.strip():
        raise ValueError(f"an undo needs the reviewer's name (got {reviewer!r})")
    with store.transaction():
        in_force: list[Decision] = []
        for row in decision_history(store, item_id):
            if row.undoes is None:
                in_force.append(row)
            elif in_force:
                in_force.pop()
        if not in_force:
            return None
        undone = in_force.pop()
        restored = in_force[-1] if in_force else None
        return _append(
            store,
            {
                "item_id": item_id,
                "decision": restored.decision if restored else UNDECIDED,
                "note": restored.note if restored else "",
                "reviewer": reviewer.strip(),
                "decided_at": decided_at or utc_now(),
                "categories": (
                    json.dumps(list(restored.categories))
                    if restored and restored.categories is not None
                    else None
                ),
                "undoes": undone.id,
            },
        )
