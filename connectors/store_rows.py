"""The review store's row form of an item: the ``flagged`` columns, and a row read back.

How :class:`connectors.store.ReviewStore` turns an item into the values of
its ``flagged`` row (:func:`_item_values`; JSON columns in one compact form,
times as RFC 3339 UTC), merges ``also_reported_by`` lists, and how a row
becomes a :class:`StoredItem` again (:func:`stored_item`). Pure functions
over records and rows: no connection is opened here.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from transforms.item import Item, ReportUpdate, from_dict

__all__ = ["StoredItem", "stored_item", "to_dict_report", "utc_now"]


_ITEM_COLUMNS = (
    "title", "text", "url", "canonical_url",
    "source_kind", "source_name", "source_url", "source_country", "source_affiliation",
    "language", "categories", "max_score", "published", "fetched", "sort_time",
    "story_id", "also_reported_by", "text_truncated", "item_json", "updated_at",
)  # fmt: skip


def utc_now() -> str:
    """The wall clock as RFC 3339 UTC with milliseconds (store times sort as text)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _utc(value: str | None) -> str | None:
    if not value:
        return None
    from connectors.pubsub import rfc3339

    try:
        return rfc3339(value)
    except ValueError:  # a feed's own date string: kept, sorts wherever it falls
        return value


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A row of ``flagged``: the item (with ``also_reported_by`` merged) and its state.

    Attributes:
        text_truncated: ``{kept_chars, total_chars, terms_dropped}`` when the
            message carried a truncated text, else None.
        snippet: the text around the search terms, with matches between
            :data:`connectors.store_queries.MATCH_START` and ``MATCH_END``
            (only in search results).
    """

    item: Item
    decision: str | None
    decision_reviewer: str | None
    decision_at: str | None
    decision_note: str | None
    sort_time: str
    first_seen: str
    updated_at: str
    text_truncated: Mapping[str, Any] | None = None
    snippet: str | None = None


def _compact_json(value: Any) -> str:
    # One form for every JSON column, so an unchanged item compares equal as text.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _merge_reports(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {r["id"] for r in old}
    merged = list(old)
    for report in new:
        if report["id"] not in seen:
            seen.add(report["id"])
            merged.append(report)
    return merged


def _item_values(
    item: Item,
    reports: list[dict[str, Any]],
    truncated: str | None,
    item_json: str,
    first_seen: str,
    now: str,
) -> dict[str, Any]:
    fetched, published = _utc(item.fetched), _utc(item.published)
    return {
        "title": item.title,
        "text": item.text,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "source_kind": item.source.kind,
        "source_name": item.source.name,
        "source_url": item.source.url,
        "source_country": item.source.country,
        "source_affiliation": item.source.affiliation,
        "language": item.language or "und",
        "categories": " ".join(sorted(f.category for f in item.flags)),
        "max_score": max((f.score for f in item.flags), default=0.0),
        "published": published,
        "fetched": fetched,
        "sort_time": fetched or published or first_seen,
        "story_id": item.story_id,
        "also_reported_by": _compact_json(reports),
        "text_truncated": truncated,
        "item_json": item_json,
        "updated_at": now,
    }


def to_dict_report(update: ReportUpdate) -> dict[str, Any]:
    """The report of an update in the item record's JSON form."""
    return dataclasses.asdict(update.report)


def stored_item(row: sqlite3.Row, snippet: str | None = None) -> StoredItem:
    """A ``flagged`` row as a :class:`StoredItem`."""
    body = json.loads(row["item_json"])
    truncated = body.pop("text_truncated", None)
    return StoredItem(
        item=from_dict(body),
        decision=row["decision"],
        decision_reviewer=row["decision_reviewer"],
        decision_at=row["decision_at"],
        decision_note=row["decision_note"],
        sort_time=row["sort_time"],
        first_seen=row["first_seen"],
        updated_at=row["updated_at"],
        text_truncated=truncated,
        snippet=snippet,
    )
