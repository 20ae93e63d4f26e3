"""The review store: flagged items, dedup updates and reviewers' decisions in one SQLite file.

``newswatch consume`` and ``newswatch replay --store`` write it; the review
desk reads it and records decisions in it; ``newswatch labels export`` turns
the decisions into evaluation data. All of them go through :class:`ReviewStore`.

The file opens in WAL mode, so the desk reads (and writes decisions) while a
consumer writes items. Tables (the names are a contract)::

    flagged          one row per item id: the columns the desk filters and shows,
                     the full item JSON (``item_json``, with ``also_reported_by``
                     merged), and a cached copy of the current decision
    flag_categories  (item_id, category, score) per flagged category
    decisions        every decision ever made (history); the latest row is current
    pending_updates  dedup updates that arrived before their item
    dead_letters     messages that could not be read, with the reason
    flagged_fts      FTS5 index over flagged.title and flagged.text

Idempotence: an item is upserted by id, so a redelivered message never makes a
second row; an update adds a report to ``also_reported_by`` once per report id;
an upsert never writes a decision column. Decisions are in
:mod:`connectors.store_decisions`, the desk's queries in
:mod:`connectors.store_queries`, an item's row form in
:mod:`connectors.store_rows`, and loading a replay's ``flagged.jsonl`` in
:mod:`connectors.store_load`; this module keeps the connection, its
transactions and the writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from connectors.store_load import load_flagged_jsonl
from connectors.store_rows import (
    _ITEM_COLUMNS,
    StoredItem,
    _compact_json,
    _item_values,
    _merge_reports,
    stored_item,
    to_dict_report,
    utc_now,
)
from connectors.store_schema import SCHEMA, STORE_VERSION
from transforms.item import Item, ReportUpdate, to_dict

__all__ = [
    "ReviewStore",
    "StoredItem",
    "load_flagged_jsonl",
    "stored_item",
    "to_dict_report",
    "utc_now",
]


class ReviewStore:
    """The review store in one SQLite file (created with its schema when missing).

    One instance holds one connection; use one instance per thread.

    Args:
        path: the SQLite file.
        timeout: seconds to wait for another writer's lock.

    Raises:
        sqlite3.DatabaseError: the file is not a review store this code can open.
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        # Autocommit mode: transactions are explicit (:meth:`transaction`).
        self._db = sqlite3.connect(
            str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; WAL-safe
        self._db.execute("PRAGMA foreign_keys = ON")
        self._create()

    def _create(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > STORE_VERSION:
            raise sqlite3.DatabaseError(
                f"{self.path} is a review store of version {version}; this code reads "
                f"up to {STORE_VERSION}"
            )
        if version == STORE_VERSION:
            return  # opening a store takes no write lock: readers never wait for a writer
        self._db.executescript(
            f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {STORE_VERSION}; COMMIT;"
        )

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection, for :mod:`connectors.store_queries`."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: all of it is committed, or none of it."""
        if self._db.in_transaction:  # nested: the outer one commits
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writes by consume and replay -----------------------------------------------------

    def upsert_item(
        self,
        item: Item,
        *,
        text_truncated: Mapping[str, Any] | None = None,
        received_at: str | None = None,
    ) -> str:
        """Writes a flagged item, keyed by its id, and applies updates waiting for it.

        A row that exists keeps its decision and the reports it already has
        (the new item's ``also_reported_by`` is merged in, not substituted).

        Returns:
            ``new``, ``changed`` or ``unchanged``.

        Raises:
            ValueError: the item has no id.
        """
        if not item.id:
            raise ValueError("an item without an id cannot be stored")
        now = received_at or utc_now()
        with self.transaction():
            row = self._db.execute(
                "SELECT item_json, also_reported_by, first_seen FROM flagged WHERE item_id = ?",
                (item.id,),
            ).fetchone()
            body = to_dict(item)
            reports = body["also_reported_by"]
            if row is not None:
                reports = _merge_reports(json.loads(row["also_reported_by"]), reports)
            pending = self._db.execute(
                "SELECT report_json FROM pending_updates WHERE item_id = ? ORDER BY received_at",
                (item.id,),
            ).fetchall()
            reports = _merge_reports(reports, [json.loads(p[0]) for p in pending])
            body["also_reported_by"] = reports
            truncated = json.dumps(text_truncated, sort_keys=True) if text_truncated else None
            if truncated:
                body["text_truncated"] = dict(text_truncated)
            item_json = _compact_json(body)
            if pending:
                self._db.execute("DELETE FROM pending_updates WHERE item_id = ?", (item.id,))
            if row is not None and row["item_json"] == item_json:
                return "unchanged"
            first_seen = now if row is None else row["first_seen"]
            values = self._item_values(item, reports, truncated, item_json, first_seen, now)
            if row is None:
                self._insert(item.id, values, first_seen)
            else:
                sets = ", ".join(f"{c} = :{c}" for c in _ITEM_COLUMNS)
                self._db.execute(
                    f"UPDATE flagged SET {sets} WHERE item_id = :item_id",
                    {**values, "item_id": item.id},
                )
            self._db.execute("DELETE FROM flag_categories WHERE item_id = ?", (item.id,))
            self._db.executemany(
                "INSERT INTO flag_categories (item_id, category, score, sort_time) "
                "VALUES (?, ?, ?, ?)",
                [(item.id, f.category, f.score, values["sort_time"]) for f in item.flags],
            )
        return "new" if row is None else "changed"

    def _insert(self, item_id: str, values: dict[str, Any], now: str) -> None:
        columns = ", ".join(_ITEM_COLUMNS)
        params = ", ".join(f":{c}" for c in _ITEM_COLUMNS)
        # A decision recorded before the row existed (a store rebuilt from a
        # replay) is taken over; afterwards only the decisions trigger sets it.
        self._db.execute(
            f"INSERT INTO flagged (item_id, first_seen, {columns}, decision, decision_reviewer, "
            f"decision_at, decision_note) SELECT :item_id, :first_seen, {params}, "
            "CASE d.decision WHEN 'undecided' THEN NULL ELSE d.decision END, d.reviewer, "
            "d.decided_at, d.note FROM (SELECT 1) LEFT JOIN (SELECT * FROM decisions "
            "WHERE item_id = :item_id ORDER BY id DESC LIMIT 1) AS d",
            {**values, "item_id": item_id, "first_seen": now},
        )

    # Defined with the other column mappings in connectors.store_rows.
    _item_values = staticmethod(_item_values)

    def apply_update(self, update: ReportUpdate, *, received_at: str | None = None) -> str:
        """Adds a report to its representative's ``also_reported_by``, once per report id.

        Returns:
            ``applied``; ``duplicate`` when the report is already listed (or
            already waiting); ``pending`` when the representative has not
            arrived yet: the update is kept and applied when it does.
        """
        report = to_dict_report(update)
        now = received_at or utc_now()
        with self.transaction():
            row = self._db.execute(
                "SELECT also_reported_by, item_json FROM flagged WHERE item_id = ?",
                (update.representative_id,),
            ).fetchone()
            if row is None:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO pending_updates VALUES (?, ?, ?, ?)",
                    (update.representative_id, report["id"], _compact_json(report), now),
                )
                return "pending" if cursor.rowcount else "duplicate"
            old = json.loads(row["also_reported_by"])
            merged = _merge_reports(old, [report])
            if len(merged) == len(old):
                return "duplicate"
            body = json.loads(row["item_json"])
            body["also_reported_by"] = merged
            self._db.execute(
                "UPDATE flagged SET also_reported_by = ?, item_json = ?, updated_at = ? "
                "WHERE item_id = ?",
                (
                    _compact_json(merged),
                    _compact_json(body),
                    now,
                    update.representative_id,
                ),
            )
        return "applied"

    def expire_pending(self, before: str) -> int:
        """Drops waiting updates received before ``before`` (RFC 3339 UTC); returns how many.

        The stream publishes updates only for flagged representatives, but
        one whose item never arrives (dedup state written before the stream
        recorded whether a representative was flagged, or an item message
        dead-lettered) would otherwise wait forever. The consumer calls this
        with the dedup TTL, past which no item can still be on its way for them.
        """
        with self.transaction():
            cursor = self._db.execute(
                "DELETE FROM pending_updates WHERE received_at < ?", (before,)
            )
        return cursor.rowcount

    def add_dead_letter(
        self,
        reason: str,
        data: bytes,
        attributes: Mapping[str, str],
        *,
        message_id: str | None = None,
        stage: str = "consume",
    ) -> None:
        """Keeps a message that could not be read, with the reason (once per message id)."""
        with self.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO dead_letters "
                "(received_at, stage, reason, message_id, attributes, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (utc_now(), stage, reason, message_id, json.dumps(dict(attributes)), bytes(data)),
            )

    # -- reads ----------------------------------------------------------------------------

    def item(self, item_id: str) -> StoredItem | None:
        """The stored item with this id, or None."""
        row = self._db.execute("SELECT * FROM flagged WHERE item_id = ?", (item_id,)).fetchone()
        return stored_item(row) if row is not None else None

    def item_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT item_id FROM flagged ORDER BY item_id")]

    def counts(self) -> dict[str, int]:
        """Rows per table, for summaries and tests."""
        tables = ("flagged", "decisions", "pending_updates", "dead_letters")
        return {t: self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    def dead_letters(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM dead_letters ORDER BY id").fetchall()
        return [dict(r) | {"attributes": json.loads(r["attributes"])} for r in rows]
