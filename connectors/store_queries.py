"""Decisions and the desk's queries over the review store (:mod:`connectors.store`).

Decisions are appended, never changed: ``decisions`` keeps the history and
its latest row per item is current (a trigger copies it to ``flagged``'s
``decision*`` columns, which the queue filters on). An undo appends a row
that restores the state before the decision it undoes.

Every query here is fixed SQL with bound parameters: nothing a reviewer
types becomes SQL, and a search is turned into quoted FTS5 terms
(:func:`fts_query`), so FTS syntax in a search box is searched for, not run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.store import ReviewStore, StoredItem, stored_item, utc_now
from connectors.store_schema import DECISIONS, UNDECIDED

__all__ = [
    "MATCH_END",
    "MATCH_START",
    "Decision",
    "QueueFilter",
    "count_queue",
    "counts_by_decision",
    "current_decision",
    "daily_counts",
    "decided_items",
    "decision_history",
    "export_rows",
    "facets",
    "fts_query",
    "queue",
    "record_decision",
    "top_sources",
    "undo",
]

# Around matched terms in search snippets: control characters survive HTML
# escaping, so the desk escapes first and then turns these into <mark>.
MATCH_START = "\x02"
MATCH_END = "\x03"


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


def fts_query(text: str) -> str | None:
    """A search box's text as an FTS5 query: every word quoted, all required.

    A trailing ``*`` on a word keeps its meaning (prefix search). Returns None
    for a text with no words.
    """
    terms = []
    for word in text.split():
        prefix = word.endswith("*")
        word = word.rstrip("*").replace('"', '""')
        if word:
            terms.append(f'"{word}"' + ("*" if prefix else ""))
    return " ".join(terms) or None


def _time_bound(name: str, value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date or an ISO 8601 time (got {value!r})") from None
    return value


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows; every field left None is not filtered on.

    Attributes:
        decision: ``undecided`` (default), ``confirmed``, ``dismissed`` or ``any``.
        since: inclusive lower bound on the item's time (fetched, else
            published), as ``YYYY-MM-DD`` or RFC 3339 UTC.
        until: exclusive upper bound, same forms.
        query: full-text search over title and text.
    """

    decision: str = UNDECIDED
    category: str | None = None
    language: str | None = None
    source: str | None = None
    affiliation: str | None = None
    country: str | None = None
    since: str | None = None
    until: str | None = None
    query: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition over ``flagged f`` and its parameters.

        Raises:
            ValueError: an unknown decision or a malformed time bound.
        """
        clauses, params = [], []
        if self.decision == UNDECIDED:
            clauses.append("f.decision IS NULL")
        elif self.decision in DECISIONS:
            clauses.append("f.decision = ?")
            params.append(self.decision)
        elif self.decision != "any":
            choices = (UNDECIDED, *DECISIONS, "any")
            raise ValueError(f"decision filter must be one of {choices} (got {self.decision!r})")
        if self.category:
            clauses.append(
                "EXISTS (SELECT 1 FROM flag_categories c "
                "WHERE c.item_id = f.item_id AND c.category = ?)"
            )
            params.append(self.category)
        for column, value in (
            ("language", self.language),
            ("source_name", self.source),
            ("source_affiliation", self.affiliation),
            ("source_country", self.country),
        ):
            if value:
                clauses.append(f"f.{column} = ?")
                params.append(value)
        if self.since:
            clauses.append("f.sort_time >= ?")
            params.append(_time_bound("since", self.since))
        if self.until:
            clauses.append("f.sort_time < ?")
            params.append(_time_bound("until", self.until))
        return " AND ".join(clauses) or "1", params


def _from(filters: QueueFilter) -> tuple[str, list[Any], bool]:
    where, params = filters.where()
    match = fts_query(filters.query or "")
    if match is None:
        return f"flagged f WHERE {where}", params, False
    return (
        (
            "flagged_fts JOIN flagged f ON f.seq = flagged_fts.rowid "
            f"WHERE flagged_fts MATCH ? AND {where}"
        ),
        [match, *params],
        True,
    )


def queue(
    store: ReviewStore, filters: QueueFilter = QueueFilter(), *, limit: int = 50, offset: int = 0
) -> list[StoredItem]:
    """One page of the queue, newest first (by fetched time, else published)."""
    source, params, searching = _from(filters)
    snippet = (
        f"snippet(flagged_fts, 1, '{MATCH_START}', '{MATCH_END}', '…', 32)" if searching else "NULL"
    )
    rows = store.connection.execute(
        f"SELECT f.*, {snippet} AS snippet FROM {source} "
        "ORDER BY f.sort_time DESC, f.item_id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [stored_item(r, r["snippet"]) for r in rows]


def count_queue(
    store: ReviewStore, filters: QueueFilter = QueueFilter(), *, at_most: int | None = None
) -> int:
    """How many items the filters select.

    Args:
        at_most: stop counting there (a category or search filter checks each
            row, so an exact count of a large queue costs a scan of it).
    """
    source, params, _ = _from(filters)
    if at_most is not None:
        return store.connection.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT ?)", [*params, at_most]
        ).fetchone()[0]
    return store.connection.execute(f"SELECT count(*) FROM {source}", params).fetchone()[0]


def counts_by_decision(store: ReviewStore) -> dict[str, int]:
    """The queue's size by current decision (``undecided``, ``confirmed``, ``dismissed``)."""
    out = dict.fromkeys((UNDECIDED, *DECISIONS), 0)
    for decision, n in store.connection.execute(
        "SELECT coalesce(decision, ?), count(*) FROM flagged GROUP BY 1", (UNDECIDED,)
    ):
        out[decision] = n
    return out


def daily_counts(store: ReviewStore, by: str, since: str) -> list[tuple[str, str, int]]:
    """Flagged items per day (UTC, by item time) and ``category`` or ``language``,
    from ``since`` (``YYYY-MM-DD``) on: ``(day, key, count)`` rows, oldest first.

    Raises:
        ValueError: ``by`` is neither ``category`` nor ``language``.
    """
    if by == "category":
        sql = (
            "SELECT substr(sort_time, 1, 10) AS day, category, count(*) FROM flag_categories "
            "WHERE sort_time >= ? GROUP BY 1, 2 ORDER BY 1, 2"
        )
    elif by == "language":
        sql = (
            "SELECT substr(sort_time, 1, 10) AS day, language, count(*) FROM flagged "
            "WHERE sort_time >= ? GROUP BY 1, 2 ORDER BY 1, 2"
        )
    else:
        raise ValueError(f"daily counts are by 'category' or 'language' (got {by!r})")
    rows = store.connection.execute(sql, (_time_bound("since", since),))
    return [(day, key, n) for day, key, n in rows]


def top_sources(store: ReviewStore, limit: int = 10) -> list[dict[str, Any]]:
    """The sources with the most flagged items: name, url, affiliation, country, count."""
    rows = store.connection.execute(
        "SELECT source_name, source_url, source_affiliation, source_country, count(*) AS n "
        "FROM flagged GROUP BY source_url ORDER BY n DESC, source_name LIMIT ?",
        (limit,),
    ).fetchall()
    return [dict(r) for r in rows]


def decided_items(store: ReviewStore) -> Iterator[tuple[StoredItem, Decision]]:
    """Every item whose current decision is confirmed or dismissed, with that decision,
    in item id order (for the labels export)."""
    rows = store.connection.execute(
        "SELECT f.*, d.id AS d_id, d.decision AS d_decision, d.note AS d_note, "
        "d.reviewer AS d_reviewer, d.decided_at AS d_decided_at, d.categories AS d_categories, "
        "d.undoes AS d_undoes FROM flagged f JOIN decisions d ON d.id = "
        "(SELECT max(id) FROM decisions WHERE item_id = f.item_id) "
        "WHERE d.decision != ? ORDER BY f.item_id",
        (UNDECIDED,),
    )
    for row in rows:
        fields = {k: row[f"d_{k}"] for k in ("id", "decision", "note", "reviewer", "decided_at")}
        fields.update(
            categories=row["d_categories"], undoes=row["d_undoes"], item_id=row["item_id"]
        )
        yield stored_item(row), _decision(fields)


def export_rows(store: ReviewStore, filters: QueueFilter = QueueFilter()) -> Iterator[StoredItem]:
    """Every item the filters select, in queue order (newest first), for CSV/JSONL export.

    Rows are read as they are written out, so an export of the whole store
    never holds it in memory.
    """
    source, params, _ = _from(filters)
    cursor = store.connection.execute(
        f"SELECT f.* FROM {source} ORDER BY f.sort_time DESC, f.item_id DESC", params
    )
    for row in cursor:
        yield stored_item(row)


# The columns the desk offers as filters, with the table that holds them.
_FACETS = {
    "category": "SELECT category, count(*) FROM flag_categories GROUP BY 1",
    "language": "SELECT language, count(*) FROM flagged GROUP BY 1",
    "source": "SELECT source_name, count(*) FROM flagged GROUP BY 1",
    "affiliation": (
        "SELECT source_affiliation, count(*) FROM flagged "
        "WHERE source_affiliation IS NOT NULL GROUP BY 1"
    ),
    "country": (
        "SELECT source_country, count(*) FROM flagged WHERE source_country IS NOT NULL GROUP BY 1"
    ),
}


def facets(store: ReviewStore) -> dict[str, list[tuple[str, int]]]:
    """The values each filter can take (category, language, source, affiliation,
    country), with how many flagged items have each, most frequent first."""
    out = {}
    for name, sql in _FACETS.items():
        rows = store.connection.execute(sql).fetchall()
        out[name] = sorted(((v, n) for v, n in rows if v), key=lambda r: (-r[1], r[0]))
    return out
