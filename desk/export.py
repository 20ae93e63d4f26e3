"""The queue's filtered rows as CSV or JSONL (all pages of what the reviewer sees).

CSV cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return) get a leading apostrophe: item
titles come from hostile sources.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from connectors.store import StoredItem
from transforms.item import to_dict

__all__ = ["CSV_COLUMNS", "csv_lines", "csv_safe", "jsonl_lines", "review_fields"]

CSV_COLUMNS = (
    "item_id", "decision", "decision_reviewer", "decision_at", "decision_note", "time",
    "published", "fetched", "language", "categories", "title", "url", "source_name",
    "source_url", "source_country", "source_affiliation", "also_reported_by",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """A cell's text, defused if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def review_fields(stored: StoredItem) -> dict[str, Any]:
    """The current decision of a stored item (``undecided`` when there is none)."""
    return {
        "decision": stored.decision or "undecided",
        "reviewer": stored.decision_reviewer,
        "decided_at": stored.decision_at,
        "note": stored.decision_note,
    }


def _row(stored: StoredItem) -> list[str]:
    item = stored.item
    review = review_fields(stored)
    values = [
        item.id, review["decision"], review["reviewer"], review["decided_at"], review["note"],
        stored.sort_time, item.published, item.fetched, item.language,
        " ".join(f"{f.category}:{f.score:g}" for f in item.flags), item.title, item.url,
        item.source.name, item.source.url, item.source.country, item.source.affiliation,
        " ".join(r.url or "" for r in item.also_reported_by),
    ]  # fmt: skip
    return [csv_safe(v) for v in values]


def csv_lines(rows: Iterable[StoredItem]) -> Iterator[str]:
    """A header line, then one CSV line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for stored in rows:
        writer.writerow(_row(stored))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_lines(rows: Iterable[StoredItem]) -> Iterator[str]:
    """One JSON object per row: the item record and its current ``review``."""
    for stored in rows:
        body = to_dict(stored.item)
        body["review"] = review_fields(stored)
        yield json.dumps(body, ensure_ascii=False, sort_keys=True) + "\n"
