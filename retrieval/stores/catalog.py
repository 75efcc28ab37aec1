"""The catalog: one SQLite file holding files, documents, chunks and the FTS5 lexical index, kept in step with the vector store."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from retrieval.chunking import Chunk, vector_ids
from retrieval.dates.backfill import backfill
from retrieval.dates.extract import publication
from retrieval.documents import INGESTED, PUBLISHED, Document, now_iso
from retrieval.errors import IndexDamaged, disk_problem, one_line
from retrieval.stores.migrate import SCHEMA, SCHEMA_VERSION, migrate
from retrieval.fusion import DEFAULT_BODY_WEIGHT as BODY_WEIGHT, DEFAULT_DENSE_WEIGHT, DEFAULT_TITLE_WEIGHT as TITLE_WEIGHT
from retrieval.textnorm import fts_query, fts_text, terms
from retrieval.stores.private import private_file

# A query term in more than this share of the passages is left out of the FTS query (measured: docs/benchmarks.md).
COMMON_SHARE = 0.2
KEEP_WHEN_ALL_COMMON = 3
SKIP_FROM_ROWS = 10_000
CHUNKS_PER_QUERY = 500  # ids in one query of `chunks` (SQLite allows 32,766 parameters to a statement)


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
    """Run a Catalog method in a database session, its driver's errors turned into one line (``Catalog._failure``)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            with self._session():
                return method(self, *args, **kwargs)
        except self.driver_errors as exc:
            raise self._failure(exc) from exc

    return wrapper


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the catalog returns it, with its document's metadata."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    position: int
    start: int
    end: int
    url: str | None
    source: str | None
    published_at: str | None
    author: str | None = None
    published_kind: str = "published"
    estimated: bool = False  # published_at is only the ingestion time: never shown as a publication date
    story: str | None = None  # the story group (retrieval.stories): copies and updates of one story share it


def open_catalog(path: Path, database_url: str | None = None) -> "Catalog":
    """The catalog in PostgreSQL when ``database_url`` names one (retrieval.stores.pg_catalog), else the SQLite file ``path``."""
    if database_url:
        from retrieval.stores.pg_catalog import PgCatalog

        return PgCatalog(database_url)
    return Catalog(path)


class Catalog:
    """Files, documents and chunks in SQLite, with an FTS5 table ranked by BM25 over normalised terms.

    The SQL that is not about the lexical index is shared with :class:`~retrieval.stores.pg_catalog.PgCatalog`: it uses
    ``?`` placeholders and the ``ON CONFLICT`` forms both databases know.
    """

    driver_errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    dense_weight = DEFAULT_DENSE_WEIGHT  # the fusion weight tuned for FTS5's BM25 (retrieval.fusion)
    where = "the catalog"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._count_cache: tuple[tuple[int, int], int] | None = None
        try:
            private_file(path)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            migrate(self._db, path, SCHEMA_VERSION)
            self._db.executescript(SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            backfill(self._db)  # an index from before publication dates and story groups: fill them in once
        except sqlite3.DatabaseError as exc:
            raise db_error(path, exc) from exc
        except OSError as exc:
            raise db_error(path, sqlite3.OperationalError(f"unable to open ({exc.strerror or exc})")) from exc

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _session(self):
        """The block in which a method uses ``self._db`` (one SQLite connection: nothing to borrow)."""
        return contextlib.nullcontext()

    def _failure(self, exc: BaseException) -> Exception:
        """A one-line IndexDamaged naming the file for a SQLite error.

        A failed statement is called damage only when SQLite's own check of the file agrees: a refused write
        (a constraint, a bug of ours) must never send the user to `--rebuild` for nothing.
        """
        err = db_error(self.path, exc)
        if str(err).startswith(f"{self.path} is damaged") and self._sound():
            err = IndexDamaged(f"{self.path} refused an operation ({str(exc).splitlines()[0][:160]}); "
                              "the file itself checks out and nothing was lost")
        return err

    @_guarded
    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Rows of a read query (the timeline and story modules use it)."""
        return self._db.execute(sql, params).fetchall()

    @_guarded
    def docs_for_paths(self, paths: Iterable[str]) -> dict[str, list[str]]:
        """Document ids stored for each file path (a document read from two files is listed under both)."""
        out: dict[str, list[str]] = {}
        for p in paths:
            out[p] = [r[0] for r in self._db.execute("SELECT DISTINCT doc_id FROM doc_paths WHERE path=?", (p,))]
        return out

    @_guarded
    def paths_under(self, folder: str) -> list[str]:
        """Stored file paths inside a folder."""
        prefix = folder.rstrip("/") + "/"
        rows = self._db.execute("SELECT DISTINCT path FROM doc_paths WHERE substr(path, 1, ?) = ?", (len(prefix), prefix))
        return [r[0] for r in rows]

    @_guarded
    def origins(self, doc_id: str) -> list[tuple[str, str]]:
        """Every (path, source) a document was read from: identical articles are stored once, with all their origins."""
        return self._db.execute("SELECT path, source FROM doc_paths WHERE doc_id=? ORDER BY path, source", (doc_id,)).fetchall()

    @_guarded
    def unlink(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        """Forget that documents came from these (path, doc_id) pairs; returns the documents no path holds any more."""
        pairs = list(pairs)
        with self._tx():
            for path, doc_id in pairs:
                self._db.execute("DELETE FROM doc_paths WHERE path=? AND doc_id=?", (path, doc_id))
            orphans = {d for _, d in pairs if not self._db.execute("SELECT 1 FROM doc_paths WHERE doc_id=? LIMIT 1", (d,)).fetchone()}
        return sorted(orphans)

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
    def add(self, docs: Sequence[Document], chunks: Sequence[Chunk], ingested: datetime | None = None) -> None:
        """Add documents (their publication and story group too) and their chunks (FTS included) in one transaction."""
        from retrieval.stories import assign_story

        ingested = ingested or datetime.now(timezone.utc)
        with self._tx():
            for d in docs:
                # The first file keeps its place in `path`; every file and source is recorded in doc_paths.
                # With no date known the document is dated when first stored (kind 'ingested'), and keeps that date.
                kind = d.published_kind or (PUBLISHED if d.published_at else INGESTED)
                self._db.execute(
                    "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(doc_id) DO UPDATE SET title=excluded.title, "
                    "url=coalesce(excluded.url, documents.url), source=coalesce(documents.source, excluded.source), "
                    "author=coalesce(excluded.author, documents.author), length=excluded.length, "
                    "published_at=CASE WHEN excluded.published_kind='ingested' THEN documents.published_at ELSE excluded.published_at END, "
                    "published_kind=CASE WHEN excluded.published_kind='ingested' THEN documents.published_kind "
                    "ELSE excluded.published_kind END",
                    (d.doc_id, d.path, d.title, d.url, d.published_at or now_iso(), d.source, len(d.text), d.author, kind),
                )
                if d.path:
                    self._db.execute("INSERT INTO doc_paths VALUES (?,?,?) ON CONFLICT DO NOTHING", (d.doc_id, d.path, d.source or ""))
                if not self._db.execute("SELECT 1 FROM published WHERE doc_id=?", (d.doc_id,)).fetchone():
                    pub = publication(None if kind == INGESTED else d.published_at, d.text, ingested)
                    self._db.execute("INSERT INTO published VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                                     (d.doc_id, pub.published_at, pub.ts, int(pub.estimated)))
                    if kind == INGESTED and not pub.estimated:  # a date line at the top of the text: the article's own date
                        self._db.execute("UPDATE documents SET published_at=?, published_kind=? WHERE doc_id=? AND published_kind=?",
                                         (pub.published_at, PUBLISHED, d.doc_id, INGESTED))
                assign_story(self._db, d.doc_id, d.title, d.text)
            self._add_chunks(chunks)

    def _add_chunks(self, chunks: Sequence[Chunk]) -> None:
        """Store new chunks (a chunk id already stored is left alone) with their FTS5 rows, inside the caller's transaction."""
        for c in chunks:
            cur = self._db.execute(
                'INSERT OR IGNORE INTO chunks (chunk_id, doc_id, position, start, "end", text, subs) VALUES (?,?,?,?,?,?,?)',
                (c.chunk_id, c.doc_id, c.position, c.start, c.end, c.text, c.subs),
            )
            if cur.rowcount:
                self._db.execute("INSERT INTO fts (rowid, title, body) VALUES (?,?,?)", (cur.lastrowid, fts_text(c.title), fts_text(c.text)))

    @_guarded
    def remove_docs(self, doc_ids: Sequence[str]) -> None:
        """Remove documents, their chunks and their FTS rows in one transaction."""
        with self._tx():
            for d in doc_ids:
                self._remove_chunks(d)
                self._db.execute("DELETE FROM documents WHERE doc_id=?", (d,))
                self._db.execute("DELETE FROM doc_paths WHERE doc_id=?", (d,))
                for table in ("published", "stories", "story_bands"):
                    self._db.execute(f"DELETE FROM {table} WHERE doc_id=?", (d,))

    def _remove_chunks(self, doc_id: str) -> None:
        """Delete a document's chunks and their FTS5 rows, inside the caller's transaction."""
        for (rowid,) in self._db.execute("SELECT rowid FROM chunks WHERE doc_id=?", (doc_id,)).fetchall():
            self._db.execute("DELETE FROM fts WHERE rowid=?", (rowid,))
        self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))

    @_guarded
    def search(self, query: str, k: int, within: tuple[float, float] | None = None) -> list[tuple[str, float]]:
        """BM25 top ``k`` (title weighted with body), published in [start, end) UNIX time when ``within`` is given
        (ingestion times never count); scores are negated bm25(), higher is better."""
        match = fts_query(query, self._common_terms(query))
        if not match:
            return []
        dated = "JOIN published p ON p.doc_id = c.doc_id AND p.estimated = 0 AND p.ts >= ? AND p.ts < ? " if within else ""
        rows = self._db.execute(
            f"SELECT c.chunk_id, -bm25(fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) FROM fts JOIN chunks c ON c.rowid = fts.rowid "
            f"{dated}WHERE fts MATCH ? ORDER BY bm25(fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) LIMIT ?",
            (*(within or ()), match, k),
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

    def among(self, column: str, values: Sequence) -> tuple[str, list]:
        """A condition "``column`` is one of ``values``" and its parameters: ``IN (?, …)`` here; PostgreSQL takes the
        values as one array, which is what it plans and adapts fastest (retrieval.stores.pg_catalog)."""
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    @_guarded
    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks with their document metadata, by id, in the ids' order (a query per CHUNKS_PER_QUERY ids)."""
        unique = list(dict.fromkeys(chunk_ids))
        found: dict[str, StoredChunk] = {}
        for i in range(0, len(unique), CHUNKS_PER_QUERY):
            where, params = self.among("c.chunk_id", unique[i : i + CHUNKS_PER_QUERY])
            for row in self._db.execute(
                'SELECT c.chunk_id, c.doc_id, d.title, c.text, c.position, c.start, c."end", d.url, d.source, '
                "coalesce(p.published_at, d.published_at), d.author, d.published_kind, coalesce(p.estimated, 1), s.story "
                "FROM chunks c JOIN documents d USING (doc_id) "
                f"LEFT JOIN published p USING (doc_id) LEFT JOIN stories s USING (doc_id) WHERE {where}",
                params,
            ):
                found[row[0]] = StoredChunk(*row[:12], bool(row[12]), row[13])
        return {cid: found[cid] for cid in unique if cid in found}

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

    def _sound(self) -> bool:
        """Whether SQLite's quick_check finds the file sound (False when the check itself fails)."""
        try:
            row = self._db.execute("PRAGMA quick_check(1)").fetchone()
        except sqlite3.Error:
            return False
        return bool(row) and row[0] == "ok"

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
