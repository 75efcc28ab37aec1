"""The SQLite catalog's schema and its migrations: a catalog written by an older newsbot is brought up to date in place,
never rebuilt for nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from retrieval.errors import IndexDamaged

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, url TEXT, published_at TEXT, source TEXT,
    length INTEGER NOT NULL, author TEXT, published_kind TEXT NOT NULL DEFAULT 'ingested'
);
CREATE INDEX IF NOT EXISTS documents_url ON documents(url);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS doc_paths (
    doc_id TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', PRIMARY KEY (path, doc_id, source)
);
CREATE INDEX IF NOT EXISTS doc_paths_doc ON doc_paths(doc_id);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, position INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, subs INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
CREATE TABLE IF NOT EXISTS published (
    doc_id TEXT PRIMARY KEY, published_at TEXT NOT NULL, ts REAL NOT NULL, estimated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS published_ts ON published(ts);
CREATE TABLE IF NOT EXISTS stories (doc_id TEXT PRIMARY KEY, story TEXT NOT NULL, signature BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS stories_story ON stories(story);
CREATE TABLE IF NOT EXISTS story_bands (band INTEGER NOT NULL, key INTEGER NOT NULL, doc_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS story_bands_key ON story_bands(band, key);
"""

MIGRATE_TO_2 = [
    "ALTER TABLE documents RENAME COLUMN date TO published_at",
    "ALTER TABLE documents ADD COLUMN author TEXT",
    "ALTER TABLE documents ADD COLUMN published_kind TEXT NOT NULL DEFAULT 'ingested'",
    "UPDATE documents SET published_kind='published' WHERE published_at IS NOT NULL",
    "CREATE TABLE doc_paths (doc_id TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', "
    "PRIMARY KEY (path, doc_id, source))",
]


def migrate(db: sqlite3.Connection, path: Path, target: int) -> None:
    """Bring a catalog written by an older newsbot up to schema ``target`` in place, or refuse one from a newer newsbot."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone():
        return  # a new file
    row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    version = int(row[0]) if row else target
    if version > target:
        raise IndexDamaged(f"{path} was written by a newer newsbot (catalog schema {version}); upgrade newsbot or rebuild it",
                           remedy="rebuild")
    if version == target:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if version < 2:  # v1 kept one path per document: each document's file becomes its first origin
            for statement in MIGRATE_TO_2:
                db.execute(statement)
            db.execute("INSERT OR IGNORE INTO doc_paths SELECT doc_id, path, coalesce(source, '') FROM documents WHERE path != ''")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(target),))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
