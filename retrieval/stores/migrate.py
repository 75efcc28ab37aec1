"""Catalog migrations: a catalog written by an older newsbot is brought up to date in place, never rebuilt for nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from retrieval.errors import IndexDamaged

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
