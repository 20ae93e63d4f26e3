"""The desk's queries over the review store (:mod:`connectors.store`).

The queue and its filters, search, counts and facets, and the exports.
Decisions are recorded and undone in :mod:`connectors.store_decisions`;
the decision names in ``__all__`` are importable from here too.

Every query here is fixed SQL with bound parameters: nothing a reviewer
types becomes SQL, and a search is turned into quoted FTS5 terms
(:func:`fts_query`), so FTS syntax in a search box is searched for, not run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.store import ReviewStore
from connectors.store_decisions import (
    Decision,
    _decision,
    current_decision,
    decision_history,
    record_decision,
    undo,
)
from connectors.store_rows import StoredItem, stored_item
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
