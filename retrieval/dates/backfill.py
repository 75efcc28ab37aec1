"""Dates and story groups for documents indexed before the catalog kept them (an index built by an older newsbot)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from retrieval.dates.extract import publication


def backfill(db: sqlite3.Connection) -> int:
    """Give every document without a publication row its date (metadata, else a date line, else now, marked) and a story."""
    from retrieval.stories import assign_story

    missing = db.execute(
        "SELECT d.doc_id, d.title, CASE WHEN d.published_kind = 'ingested' THEN NULL ELSE d.published_at END "
        "FROM documents d LEFT JOIN published p USING (doc_id) WHERE p.doc_id IS NULL"
    ).fetchall()
    if not missing:
        return 0
    now = datetime.now(timezone.utc)
    db.execute("BEGIN IMMEDIATE")
    try:
        for doc_id, title, date in missing:
            text = "\n".join(r[0] for r in db.execute("SELECT text FROM chunks WHERE doc_id=? ORDER BY position", (doc_id,)))
            pub = publication(date, text, now)
            db.execute("INSERT OR IGNORE INTO published VALUES (?,?,?,?)", (doc_id, pub.published_at, pub.ts, int(pub.estimated)))
            assign_story(db, doc_id, title, text)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(missing)
