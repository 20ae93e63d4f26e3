"""The review store's SQL schema (see :mod:`connectors.store` for what each table is for).

The table and column names are a contract: the desk, the labels export and
operators' own queries read them. A change that old code cannot read raises
``STORE_VERSION`` (kept in SQLite's ``user_version``).
"""

from __future__ import annotations

__all__ = ["DECISIONS", "SCHEMA", "STORE_VERSION", "UNDECIDED"]

STORE_VERSION = 1
DECISIONS = ("confirmed", "dismissed")
# What an undo back past the first decision restores; never a reviewer's choice.
UNDECIDED = "undecided"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flagged (
    -- Small columns first: SQLite reads a long text's overflow pages only for
    -- the columns after it, so filters and sorts never touch text or JSON.
    seq INTEGER PRIMARY KEY,           -- arrival order; a stable rowid for the FTS index
    item_id TEXT NOT NULL UNIQUE,
    sort_time TEXT NOT NULL,           -- fetched, else published, else first_seen: newest first
    decision TEXT,                     -- cache of the current decision (NULL: undecided),
    decision_reviewer TEXT,            -- kept by a trigger on decisions, never by an upsert
    decision_at TEXT,
    decision_note TEXT,
    language TEXT NOT NULL,
    categories TEXT NOT NULL,          -- flagged categories, space-separated, sorted
    max_score REAL NOT NULL,
    source_kind TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source_url TEXT NOT NULL,
    source_country TEXT,
    source_affiliation TEXT,
    published TEXT,                    -- RFC 3339 UTC when parseable, else as received
    fetched TEXT,
    first_seen TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    story_id TEXT,
    url TEXT,
    canonical_url TEXT,
    text_truncated TEXT,               -- JSON {kept_chars, total_chars, terms_dropped} or NULL
    title TEXT NOT NULL,
    also_reported_by TEXT NOT NULL,    -- JSON array of reports, merged from updates
    text TEXT NOT NULL,
    item_json TEXT NOT NULL            -- the item record, also_reported_by merged
);
-- Each filter's index ends in the queue's order, so a page reads 25 entries, not all matches.
CREATE INDEX IF NOT EXISTS flagged_time ON flagged (sort_time DESC, item_id DESC);
CREATE INDEX IF NOT EXISTS flagged_decision ON flagged (decision, sort_time DESC, item_id DESC);
CREATE INDEX IF NOT EXISTS flagged_language ON flagged (language, sort_time DESC, item_id DESC);
CREATE INDEX IF NOT EXISTS flagged_source ON flagged (source_name, sort_time DESC, item_id DESC);
CREATE INDEX IF NOT EXISTS flagged_affiliation
    ON flagged (source_affiliation, sort_time DESC, item_id DESC);
CREATE INDEX IF NOT EXISTS flagged_country
    ON flagged (source_country, sort_time DESC, item_id DESC);
-- Covering indexes for the overview's counts: rows are wide (text, JSON), indexes are not.
CREATE INDEX IF NOT EXISTS flagged_day_language ON flagged (sort_time, language);
CREATE INDEX IF NOT EXISTS flagged_sources
    ON flagged (source_url, source_name, source_affiliation, source_country);
CREATE TABLE IF NOT EXISTS flag_categories (
    item_id TEXT NOT NULL REFERENCES flagged (item_id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    score REAL NOT NULL,
    sort_time TEXT NOT NULL,           -- the item's, so per-day counts need not read flagged
    PRIMARY KEY (item_id, category)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS flag_categories_category ON flag_categories (category, item_id);
CREATE INDEX IF NOT EXISTS flag_categories_day ON flag_categories (sort_time, category);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'dismissed', 'undecided')),
    note TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    categories TEXT,                   -- JSON array set by the reviewer, NULL: the pipeline's
    undoes INTEGER REFERENCES decisions (id)
);
CREATE INDEX IF NOT EXISTS decisions_item ON decisions (item_id, id);
CREATE TRIGGER IF NOT EXISTS decisions_current AFTER INSERT ON decisions BEGIN
    UPDATE flagged SET
        decision = CASE NEW.decision WHEN 'undecided' THEN NULL ELSE NEW.decision END,
        decision_reviewer = NEW.reviewer,
        decision_at = NEW.decided_at,
        decision_note = NEW.note
    WHERE item_id = NEW.item_id;
END;
CREATE TABLE IF NOT EXISTS pending_updates (
    item_id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    report_json TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (item_id, report_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    stage TEXT NOT NULL,
    reason TEXT NOT NULL,
    message_id TEXT UNIQUE,            -- Pub/Sub's: a redelivered message is kept once
    attributes TEXT NOT NULL,          -- JSON object
    data BLOB NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS flagged_fts USING fts5 (
    title, text, content = 'flagged', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS flagged_fts_insert AFTER INSERT ON flagged BEGIN
    INSERT INTO flagged_fts (rowid, title, text) VALUES (NEW.seq, NEW.title, NEW.text);
END;
CREATE TRIGGER IF NOT EXISTS flagged_fts_delete AFTER DELETE ON flagged BEGIN
    INSERT INTO flagged_fts (flagged_fts, rowid, title, text)
    VALUES ('delete', OLD.seq, OLD.title, OLD.text);
END;
CREATE TRIGGER IF NOT EXISTS flagged_fts_update AFTER UPDATE OF title, text ON flagged BEGIN
    INSERT INTO flagged_fts (flagged_fts, rowid, title, text)
    VALUES ('delete', OLD.seq, OLD.title, OLD.text);
    INSERT INTO flagged_fts (rowid, title, text) VALUES (NEW.seq, NEW.title, NEW.text);
END;
"""
