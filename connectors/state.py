"""The poller's state: per-source health, schedule and cursor, in one embedded SQLite file.

One row per source (by name) holds its health (last success, consecutive
failures, last error), its schedule (next poll, current interval), its
cursor and its running counts. The poller keeps the rows in memory and
writes a batch of them in one transaction after that batch's items are
durably in the outputs, so a cursor never points past an item that was not
delivered (at-least-once: after a crash the same items come again, with the
same ids).

The file uses SQLite's write-ahead log, so ``newswatch sources status`` can
read it while a poller writes. A commit lost with the machine (not with the
process: WAL survives SIGKILL) only moves cursors back, which re-emits and
never skips.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from connectors.base import SourceConfig

__all__ = ["SCHEMA", "SourceHealth", "State", "config_hash", "default_state_path"]

SCHEMA = 1

_COLUMNS = (
    "name",
    "kind",
    "url",
    "config_hash",
    "cursor",
    "next_poll",
    "interval",
    "last_attempt",
    "last_success",
    "last_new",
    "consecutive_failures",
    "last_error",
    "last_status",
    "polls",
    "not_modified",
    "items",
    "dead_letters",
    "errors",
)

_CREATE = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    url TEXT,
    config_hash TEXT NOT NULL,
    cursor TEXT,
    next_poll REAL NOT NULL DEFAULT 0,
    interval REAL,
    last_attempt REAL,
    last_success REAL,
    last_new REAL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_status TEXT,
    polls INTEGER NOT NULL DEFAULT 0,
    not_modified INTEGER NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,
    dead_letters INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA}');
"""


def default_state_path() -> Path:
    """``poll.sqlite`` under the user's state directory (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("newswatch")) / "poll.sqlite"


def config_hash(config: SourceConfig) -> str:
    """A hash of what decides what a source fetches: kind, URL and the kind's keys."""
    key = {"kind": config.kind, "url": config.url, "options": dict(config.options)}
    data = json.dumps(key, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One source's row. Times are Unix seconds (UTC); None means never.

    Attributes:
        name: the source's name in the sources file.
        kind: its kind.
        url: its URL, if it has one.
        config_hash: :func:`config_hash` of the configuration the row belongs to.
        cursor: the connector's cursor after the last delivered poll.
        next_poll: when the source is due.
        interval: the current adaptive interval, seconds (None before the first success).
        last_attempt: when it was last polled.
        last_success: when a poll last succeeded (a 304 is a success).
        last_new: when a poll last found new items.
        consecutive_failures: failed polls since the last success.
        last_error: the last failure, one line (kept after a success, for the record).
        last_status: ``new``, ``unchanged``, ``not_modified`` or ``error``.
        polls, not_modified, items, dead_letters, errors: running counts.
    """

    name: str
    kind: str
    url: str | None
    config_hash: str
    cursor: str | None = None
    next_poll: float = 0.0
    interval: float | None = None
    last_attempt: float | None = None
    last_success: float | None = None
    last_new: float | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_status: str | None = None
    polls: int = 0
    not_modified: int = 0
    items: int = 0
    dead_letters: int = 0
    errors: int = 0

    def replace(self, **changes: object) -> SourceHealth:
        return dataclasses.replace(self, **changes)

    @classmethod
    def fresh(cls, config: SourceConfig) -> SourceHealth:
        """A row for a source never polled: due at once."""
        return cls(
            name=config.name, kind=config.kind, url=config.url, config_hash=config_hash(config)
        )


class State:
    """The state file. Use as ``with State(path) as state:``.

    Args:
        path: the SQLite file; its directory is created if missing.

    Raises:
        ValueError: the file is not a newswatch state file (or of a newer schema).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against a killed process in WAL mode; a commit lost
            # with the machine only re-emits items (see the module docstring).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_CREATE)
            (version,) = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{self.path}: not a newswatch state file ({exc})") from None
        if int(version) > SCHEMA:
            self._db.close()
            raise ValueError(
                f"{self.path}: state schema {version} is newer than this newswatch reads ({SCHEMA})"
            )

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def all(self) -> list[SourceHealth]:
        """Every row, by name."""
        rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM source ORDER BY name")
        return [SourceHealth(*row) for row in rows]

    def get(self, name: str) -> SourceHealth | None:
        row = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM source WHERE name = ?", (name,)
        ).fetchone()
        return SourceHealth(*row) if row else None

    def sync(self, configs: Sequence[SourceConfig]) -> dict[str, SourceHealth]:
        """Rows for the configured sources, adding the new ones.

        A source whose kind, URL or keys changed starts afresh (its cursor
        belonged to the old configuration, and its failures may have been the
        configuration's fault): due at once, failures reset, counts kept.
        Rows of sources no longer configured are kept, untouched.
        """
        known = {h.name: h for h in self.all()}
        rows: dict[str, SourceHealth] = {}
        changed: list[SourceHealth] = []
        for config in configs:
            row = known.get(config.name)
            digest = config_hash(config)
            if row is None:
                row = SourceHealth.fresh(config)
                changed.append(row)
            elif row.config_hash != digest:
                row = row.replace(
                    kind=config.kind,
                    url=config.url,
                    config_hash=digest,
                    cursor=None,
                    next_poll=0.0,
                    interval=None,
                    consecutive_failures=0,
                )
                changed.append(row)
            rows[config.name] = row
        self.save(changed)
        return rows

    def save(self, rows: Iterable[SourceHealth]) -> None:
        """Write rows in one transaction."""
        values = [dataclasses.astuple(row) for row in rows]
        if not values:
            return
        marks = ", ".join("?" * len(_COLUMNS))
        with self._transaction():
            self._db.executemany(
                f"INSERT OR REPLACE INTO source ({', '.join(_COLUMNS)}) VALUES ({marks})", values
            )

    def bump(self, key: str) -> int:
        """Add one to a counter in the meta table (e.g. ``rounds``); return the new value."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO meta VALUES (?, '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                (key,),
            )
            (value,) = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(value)

    def counter(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _transaction(self) -> _Tx:
        return _Tx(self._db)


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on error), on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
