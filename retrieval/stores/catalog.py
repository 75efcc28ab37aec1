"""The catalog: one SQLite file holding files, documents, chunks and the FTS5 lexical index, kept in step with the vector store."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

from retrieval.chunking import Chunk, vector_ids
from retrieval.documents import Document
from retrieval.errors import IndexDamaged, disk_problem, one_line
from retrieval.fusion import DEFAULT_BODY_WEIGHT as BODY_WEIGHT, DEFAULT_TITLE_WEIGHT as TITLE_WEIGHT
from retrieval.textnorm import fts_query, fts_text, terms

SCHEMA_VERSION = 1
# A query term in more than this share of the passages is left out of the FTS query (measured: docs/benchmarks.md).
COMMON_SHARE = 0.2
KEEP_WHEN_ALL_COMMON = 3
SKIP_FROM_ROWS = 10_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, url TEXT, date TEXT, source TEXT,
    length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, position INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, subs INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
"""


def db_error(path: Path, exc: sqlite3.Error) -> IndexDamaged:
    """A one-line IndexDamaged naming the file: disk full, read-only, or damaged (rebuild it)."""
    text = str(exc).lower()
    problem = disk_problem(exc)
    if problem == "full":
        return IndexDamaged(f"{path}: the disk is full; free some space and run the command again")
    if problem == "read-only" or "unable to open" in text:
        return IndexDamaged(f"{path} is read-only or cannot be opened; make it and its folder writable by this user", remedy="writable")
    if "locked" in text or "busy" in text:
        return IndexDamaged(f"{path} is locked by another process; stop it and run the command again")
    return IndexDamaged(f"{path} is damaged ({one_line(exc)[:160]})", remedy="rebuild")


def _guarded(method):
    """Turn the SQLite errors of a Catalog method into a one-line IndexDamaged naming the file."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from exc

    return wrapper


class Catalog:
    """Files, documents and chunks in SQLite, with an FTS5 table ranked by BM25 over normalised terms."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._count_cache: tuple[tuple[int, int], int] | None = None
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            found = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise db_error(path, exc) from exc
        if found != str(SCHEMA_VERSION):  # written by another version of newsbot: its tables may not be ours
            self._db.close()
            raise IndexDamaged(f"{path} has catalog schema {found}, this newsbot reads schema {SCHEMA_VERSION}", remedy="rebuild")

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @_guarded
    def docs_for_paths(self, paths: Iterable[str]) -> dict[str, list[str]]:
        """Document ids stored for each file path."""
        out: dict[str, list[str]] = {}
        for p in paths:
            out[p] = [r[0] for r in self._db.execute("SELECT doc_id FROM documents WHERE path=?", (p,))]
        return out

    @_guarded
    def paths_under(self, folder: str) -> list[str]:
        """Stored file paths inside a folder."""
        prefix = folder.rstrip("/") + "/"
        rows = self._db.execute("SELECT DISTINCT path FROM documents WHERE substr(path, 1, ?) = ?", (len(prefix), prefix))
        return [r[0] for r in rows]

    @_guarded
    def chunk_ids(self, doc_ids: Sequence[str] | None = None) -> set[str]:
        """Chunk ids of some documents, or of all."""
        if doc_ids is None:
            return {r[0] for r in self._db.execute("SELECT chunk_id FROM chunks")}
        out: set[str] = set()
        for d in doc_ids:
            out.update(r[0] for r in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (d,)))
        return out

    @_guarded
    def vector_ids(self, doc_ids: Sequence[str] | None = None) -> set[str]:
        """The vector ids (passages and their sub-chunks) of some documents, or of all."""
        if doc_ids is None:
            rows = self._db.execute("SELECT chunk_id, subs FROM chunks").fetchall()
        else:
            rows = [r for d in doc_ids for r in self._db.execute("SELECT chunk_id, subs FROM chunks WHERE doc_id=?", (d,))]
        return {v for cid, subs in rows for v in vector_ids(cid, subs)}

    @_guarded
    def add(self, docs: Sequence[Document], chunks: Sequence[Chunk]) -> None:
        """Add documents and their chunks (FTS included) in one transaction; existing chunk ids are skipped."""
        with self._tx():
            for d in docs:
                self._db.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?)",
                    (d.doc_id, d.path, d.title, d.url, d.date, d.source, len(d.text)),
                )
            for c in chunks:
                cur = self._db.execute(
                    'INSERT OR IGNORE INTO chunks (chunk_id, doc_id, position, start, "end", text, subs) VALUES (?,?,?,?,?,?,?)',
                    (c.chunk_id, c.doc_id, c.position, c.start, c.end, c.text, c.subs),
                )
                if cur.rowcount:
                    self._db.execute(
                        "INSERT INTO fts (rowid, title, body) VALUES (?,?,?)",
                        (cur.lastrowid, fts_text(c.title), fts_text(c.text)),
                    )

    @_guarded
    def remove_docs(self, doc_ids: Sequence[str]) -> None:
        """Remove documents, their chunks and their FTS rows in one transaction."""
        with self._tx():
            for d in doc_ids:
                for (rowid,) in self._db.execute("SELECT rowid FROM chunks WHERE doc_id=?", (d,)).fetchall():
                    self._db.execute("DELETE FROM fts WHERE rowid=?", (rowid,))
                self._db.execute("DELETE FROM chunks WHERE doc_id=?", (d,))
                self._db.execute("DELETE FROM documents WHERE doc_id=?", (d,))

    @_guarded
    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """BM25 top ``k`` (title weighted with body); scores are negated bm25(), higher is better."""
        match = fts_query(query, self._common_terms(query))
        if not match:
            return []
        rows = self._db.execute(
            f"SELECT c.chunk_id, -bm25(fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) FROM fts JOIN chunks c ON c.rowid = fts.rowid "
            f"WHERE fts MATCH ? ORDER BY bm25(fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) LIMIT ?",
            (match, k),
        )
        return [(cid, float(s)) for cid, s in rows]

    def _common_terms(self, query: str) -> set[str]:
        """Query terms found in more than COMMON_SHARE of the passages (all but the rarest few when every term is)."""
        words = sorted(set(terms(query)))
        if not words:
            return set()
        total = self._chunk_count()
        if total < SKIP_FROM_ROWS:  # small collections: posting lists are short, and BM25's IDF weighs common terms
            return set()
        df = dict(self._db.execute(f"SELECT term, doc FROM fts_vocab WHERE term IN ({','.join('?' * len(words))})", words))
        common = {w for w in words if df.get(w, 0) > COMMON_SHARE * total}
        if len(common) == len(words):  # nothing rare: keep the rarest few rather than nothing
            common -= set(sorted(words, key=lambda w: df.get(w, 0))[:KEEP_WHEN_ALL_COMMON])
        return common

    def _chunk_count(self) -> int:
        """COUNT(*) of the chunks, recounted only when this or another connection has written since (1 ms at 100k rows)."""
        version = (self._db.execute("PRAGMA data_version").fetchone()[0], self._db.total_changes)
        if self._count_cache is None or self._count_cache[0] != version:
            self._count_cache = (version, self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
        return self._count_cache[1]

    @_guarded
    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks with their document metadata, by id."""
        out = {}
        for cid in chunk_ids:
            row = self._db.execute(
                'SELECT c.chunk_id, c.doc_id, d.title, c.text, c.position, c.start, c."end", d.url, d.source, d.date '
                "FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id=?",
                (cid,),
            ).fetchone()
            if row:
                out[cid] = Chunk(*row[:7], url=row[7], source=row[8], date=row[9])
        return out

    @_guarded
    def documents(self) -> list[tuple[str, str, str, int]]:
        """Every document as (doc_id, title, path, number of chunks)."""
        return self._db.execute(
            "SELECT d.doc_id, d.title, d.path, COUNT(c.chunk_id) FROM documents d LEFT JOIN chunks c USING (doc_id) "
            "GROUP BY d.doc_id ORDER BY d.path, d.title"
        ).fetchall()

    @_guarded
    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return docs, chunks

    @_guarded
    def fts_rows(self) -> int:
        """Rows in the FTS5 index (one per chunk when the catalog is whole)."""
        return self._db.execute("SELECT COUNT(*) FROM fts").fetchone()[0]

    @_guarded
    def check(self) -> str | None:
        """SQLite's quick_check of the file: None when it is sound, else the first problem."""
        row = self._db.execute("PRAGMA quick_check(1)").fetchone()
        return None if row and row[0] == "ok" else (row[0] if row else "no answer from quick_check")

    def _tx(self):
        """A write transaction (IMMEDIATE, so concurrent writers queue on the busy timeout)."""
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
