"""The queue's filters as they appear in the page's URL, and back.

The same parameters select the queue page and its CSV/JSONL export, so an
export is exactly what the reviewer is looking at (all pages of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlencode

from connectors.store_queries import QueueFilter
from connectors.store_schema import DECISIONS, UNDECIDED

__all__ = ["DECISION_CHOICES", "FILTER_KEYS", "View", "parse_view"]

DECISION_CHOICES = (UNDECIDED, *DECISIONS, "any")
FILTER_KEYS = (
    "decision", "category", "language", "source", "affiliation", "country", "since", "until", "q",
)  # fmt: skip
_MAX_FIELD = 500


@dataclass(frozen=True, slots=True)
class View:
    """What the reviewer asked to see: the filter values as typed, and the page."""

    values: Mapping[str, str]
    page: int = 1

    def query_filter(self) -> QueueFilter:
        """The store's filter; ``until`` as a day includes that day.

        Raises:
            ValueError: a decision, date or time the store refuses.
        """
        v = self.values
        until = v.get("until") or None
        if until and len(until) == 10:
            try:
                until = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
            except ValueError:
                raise ValueError(f"until must be a date or an ISO 8601 time (got {until!r})")
        return QueueFilter(
            decision=v.get("decision") or UNDECIDED,
            category=v.get("category") or None,
            language=v.get("language") or None,
            source=v.get("source") or None,
            affiliation=v.get("affiliation") or None,
            country=v.get("country") or None,
            since=v.get("since") or None,
            until=until,
            query=v.get("q") or None,
        )

    def url(self, path: str = "/", **changes: str | int | None) -> str:
        """This view's URL with some values changed (``page`` resets unless given)."""
        values = {k: v for k, v in self.values.items() if v}
        page = changes.pop("page", 1)
        for key, value in changes.items():
            if value:
                values[key] = str(value)
            else:
                values.pop(key, None)
        if page and int(page) > 1:
            values["page"] = str(page)
        return path + ("?" + urlencode(values) if values else "")

    def with_page(self, page: int) -> View:
        return replace(self, page=page)


def parse_view(params: Mapping[str, str]) -> View:
    """The view a request's query parameters ask for (unknown parameters ignored).

    Raises:
        ValueError: a page number that is not a positive integer.
    """
    values = {}
    for key in FILTER_KEYS:
        value = (params.get(key) or "").strip()[:_MAX_FIELD]
        if value:
            values[key] = value
    raw_page = params.get("page") or "1"
    try:
        page = int(raw_page)
    except ValueError:
        page = 0
    if page < 1:
        raise ValueError(f"page must be a positive integer (got {raw_page!r})")
    return View(values, page)
