"""The database schema, one upgrade step per version (PRAGMA user_version)."""

from __future__ import annotations

import aiosqlite

_V1 = """
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    label TEXT
);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    content_type TEXT,
    title TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    stage TEXT NOT NULL,
    state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    parent_id INTEGER REFERENCES items(id),
    attempts INTEGER NOT NULL DEFAULT 0,
    stage_attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    not_before REAL,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    bytes_total INTEGER,
    validator TEXT,
    final_url TEXT,
    content_type TEXT,
    file_name TEXT,
    sha256 TEXT,
    dest_path TEXT,
    entry_id INTEGER REFERENCES entries(id),
    title TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
-- Claiming the next item reads this index from its front: flat however long the queue.
CREATE INDEX items_claim ON items(stage, priority DESC, id) WHERE state = 'queued';
CREATE INDEX items_retry ON items(not_before) WHERE state = 'retry_wait';
CREATE INDEX items_state ON items(state, stage);
CREATE INDEX items_batch ON items(batch_id, stage, state);
CREATE INDEX items_parent ON items(parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE provenance (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    requested_url TEXT NOT NULL,
    final_url TEXT,
    final_key TEXT,
    item_id INTEGER,
    batch_id INTEGER,
    parent_id INTEGER,
    added_at REAL NOT NULL,
    UNIQUE (entry_id, item_id)
);
CREATE INDEX provenance_final_key ON provenance(final_key);
CREATE INDEX provenance_entry ON provenance(entry_id);
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    stage TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT,
    error TEXT
);
CREATE INDEX attempts_item ON attempts(item_id);
CREATE TABLE item_log (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    at REAL NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX item_log_item ON item_log(item_id, id);
CREATE TABLE lanes (
    stage TEXT PRIMARY KEY,
    cap INTEGER NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE control (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_V2 = """
ALTER TABLE items ADD COLUMN media_url TEXT;
ALTER TABLE items ADD COLUMN description TEXT;
ALTER TABLE items ADD COLUMN cover_url TEXT;
ALTER TABLE items ADD COLUMN details TEXT;
ALTER TABLE entries ADD COLUMN description TEXT;
ALTER TABLE entries ADD COLUMN page_url TEXT;
ALTER TABLE entries ADD COLUMN thumbnail TEXT;
-- Claiming takes batches in turn within a priority, so one long listing cannot starve
-- the others; this index serves that order from its front.
DROP INDEX items_claim;
CREATE INDEX items_claim ON items(stage, priority DESC, batch_id, id) WHERE state = 'queued';
"""

_V3 = """
-- A host that answered 429/503 gets no new request until `until` (epoch seconds). The
-- engine writes these; `haul status` from any process reads them.
CREATE TABLE host_cooldowns (
    host TEXT PRIMARY KEY,
    until REAL NOT NULL,
    why TEXT NOT NULL
);
"""

UPGRADES: tuple[str, ...] = (_V1, _V2, _V3)
"""UPGRADES[n] takes a database from version n to n + 1; append, never edit."""

SCHEMA_VERSION = len(UPGRADES)


async def upgrade(db: aiosqlite.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION, one committed step at a time."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the database was written by a newer haul (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade haul"
        )
    for step in range(version, SCHEMA_VERSION):
        await db.executescript(
            f"BEGIN;\n{UPGRADES[step]}\nPRAGMA user_version = {step + 1};\nCOMMIT;"
        )
