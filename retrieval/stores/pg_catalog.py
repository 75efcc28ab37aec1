"""The catalog in PostgreSQL (NEWSBOT_DATABASE_URL): the same tables as the SQLite file, and full-text search for FTS5.

Each passage carries a generated ``tsvector``: its title (weight A) and text (weight B), each through a French and an
English configuration that fold accents first (``unaccent``), and one ``postings`` row per lexeme made from it. A
query ORs its words in both configurations and is ranked by BM25 computed in SQL over those lexemes' postings, the
title weighted above the body, so its scores have the range
the fusion and the abstention threshold were tuned on with FTS5 (docs/retrieval.md). Several processes share the database: every
write is one transaction, and inserts that meet a row another process just wrote leave it alone (``ON CONFLICT``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Sequence

from retrieval.chunking import Chunk
from retrieval.documents import Document
from retrieval.errors import IndexDamaged
from retrieval.fusion import DEFAULT_BODY_WEIGHT, DEFAULT_TITLE_WEIGHT, PG_DENSE_WEIGHT
from retrieval.stores.catalog import COMMON_SHARE, KEEP_WHEN_ALL_COMMON, SKIP_FROM_ROWS, Catalog
from retrieval.stores.pg import Database, describe, pg_sql
from retrieval.textnorm import clean_text

# BM25 (k1 1.2, b 0.75, as FTS5) over the postings of the query's lexemes: each is one (lexeme, passage) row holding
# the lexeme's title and body occurrences and the passage's length, read from the covering primary key alone. Every
# passage holding a query lexeme is among those rows, so each lexeme's document frequency and the matches' average
# length are counted there; a title occurrence (weight A) counts as TITLE/BODY body ones. ts_rank, which has no IDF,
# measured 0.54 lexical hit@1 on the PIAF subset against 0.72 for this and FTS5's 0.74 (docs/retrieval.md). The IDF is
# computed once a lexeme, in float8 (numeric ln() on every matching row cost 85 ms of 150 at 100,000 passages); the
# top ``k`` by score (ties kept) are ranked again by chunk id for a stable order. The passage length is cast to float8
# too: ``0.75 * len`` on an integer is numeric arithmetic, 1.7 ms of a 13 ms query at 100,000 passages.
BM25 = """
WITH p AS (SELECT lexeme, passage, title * ?::float8 + body AS tf, len FROM postings WHERE lexeme = ANY(?::text[]){dated}),
df AS (SELECT lexeme, count(*)::float8 AS df FROM p GROUP BY lexeme),
idf AS (SELECT lexeme, ln(1 + (greatest((SELECT max(df) FROM df), ?::float8) - df + 0.5) / (df + 0.5)) AS idf FROM df),
stats AS (SELECT avg(len)::float8 AS avglen FROM (SELECT DISTINCT passage, len FROM p) h),
top AS (SELECT p.passage, sum(idf.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * p.len::float8 / stats.avglen))) AS score
        FROM p JOIN idf USING (lexeme), stats GROUP BY p.passage ORDER BY score DESC FETCH FIRST ? ROWS WITH TIES)
SELECT c.chunk_id, top.score FROM top JOIN chunks c ON c.rowid = top.passage ORDER BY top.score DESC, c.chunk_id LIMIT ?
"""
_DATED = (" AND passage IN (SELECT c.rowid FROM chunks c JOIN published d ON d.doc_id = c.doc_id AND d.estimated = 0 "
          "AND d.ts >= ? AND d.ts < ?)")
MAX_QUERY_WORDS = 32
# A write that adds at least ANALYZE_FROM passages and ANALYZE_SHARE of those stored before refreshes the planner's
# statistics at once (ANALYZE, 2 s at 100,000 passages). Autovacuum would do it within a minute of the commit, but
# until then BM25 is planned for the empty or small table: 65 ms a query at 100,000 passages against 14 ms.
ANALYZE_FROM = 1000
ANALYZE_SHARE = 0.1
ANALYZED = ("chunks", "postings", "lexemes", "documents", "doc_paths", "published", "stories", "story_bands")
COUNT_BELOW = 20_000  # passages: under this the IDF's passage count is COUNT(*), above it PostgreSQL's estimate
# As in the FTS5 catalog (COMMON_SHARE, SKIP_FROM_ROWS, KEEP_WHEN_ALL_COMMON): from SKIP_FROM_ROWS passages on, a lexeme
# in more than COMMON_SHARE of them is left out of the query; their matches cost the time, their IDF is near 0.
SCHEMA_LOCK = 0x6E657773  # pg_advisory_xact_lock key while the schema is created or migrated ("news")
# The PostgreSQL catalog's own schema version, apart from the SQLite file's (catalog.SCHEMA_VERSION): 2 was the first
# (the SQLite file's number then), 3 added the postings. A change to one back end's tables leaves the other's alone.
SCHEMA_VERSION = 3

# The postings' primary key also holds the rest of the row, so BM25 reads them by index-only scan.
POSTINGS_KEY = """DO $$ BEGIN IF to_regclass('postings_pkey') IS NULL THEN
    ALTER TABLE postings ADD PRIMARY KEY (lexeme, passage) INCLUDE (title, body, len);
  END IF; END $$"""
# The postings: one row per lexeme of each passage, for BM25 (its title and body occurrences, the passage's length),
# made from the passage's generated tsvector so the lexemes are PostgreSQL's own normalisation (inserted in key order).
_POSTINGS_TABLE = ("CREATE TABLE IF NOT EXISTS postings (lexeme TEXT NOT NULL, passage BIGINT NOT NULL, "
                   "title SMALLINT NOT NULL, body SMALLINT NOT NULL, len INTEGER NOT NULL)")
_POSTINGS = ("INSERT INTO postings SELECT u.lexeme, c.rowid, cardinality(array_positions(u.weights, 'A')), "
             "cardinality(u.weights) - cardinality(array_positions(u.weights, 'A')), length(c.tsv) "
             "FROM chunks c, unnest(c.tsv) u WHERE {where} ORDER BY 1, 2")
_TSV = ("setweight(to_tsvector('newsbot_fr', title), 'A') || setweight(to_tsvector('newsbot_en', title), 'A') || "
        "setweight(to_tsvector('newsbot_fr', text), 'B') || setweight(to_tsvector('newsbot_en', text), 'B')")
SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    *(f"""DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'newsbot_{lang}') THEN
         CREATE TEXT SEARCH CONFIGURATION newsbot_{lang} (COPY = {name});
         ALTER TEXT SEARCH CONFIGURATION newsbot_{lang} ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {name}_stem;
       END IF; END $$""" for lang, name in (("fr", "french"), ("en", "english"))),
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS documents (
        doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, url TEXT, published_at TEXT, source TEXT,
        length BIGINT NOT NULL, author TEXT, published_kind TEXT NOT NULL DEFAULT 'ingested')""",
    "CREATE INDEX IF NOT EXISTS documents_url ON documents(url)",
    "CREATE INDEX IF NOT EXISTS documents_path ON documents(path)",
    """CREATE TABLE IF NOT EXISTS doc_paths (
        doc_id TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', PRIMARY KEY (path, doc_id, source))""",
    "CREATE INDEX IF NOT EXISTS doc_paths_doc ON doc_paths(doc_id)",
    f"""CREATE TABLE IF NOT EXISTS chunks (
        rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL,
        position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
        subs INTEGER NOT NULL DEFAULT 0, title TEXT NOT NULL DEFAULT '', tsv tsvector GENERATED ALWAYS AS ({_TSV}) STORED)""",
    "CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id)",
    """CREATE TABLE IF NOT EXISTS published (
        doc_id TEXT PRIMARY KEY, published_at TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, estimated INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS published_ts ON published(ts)",
    "CREATE TABLE IF NOT EXISTS stories (doc_id TEXT PRIMARY KEY, story TEXT NOT NULL, signature BYTEA NOT NULL)",
    "CREATE INDEX IF NOT EXISTS stories_story ON stories(story)",
    """CREATE TABLE IF NOT EXISTS story_bands (
        band INTEGER NOT NULL, key BIGINT NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (band, key, doc_id))""",
    "CREATE INDEX IF NOT EXISTS story_bands_doc ON story_bands(doc_id)",
    # Passages holding each lexeme, kept by add and remove: the query leaves the commonest lexemes out.
    "CREATE TABLE IF NOT EXISTS lexemes (lexeme TEXT PRIMARY KEY, df INTEGER NOT NULL)",
    _POSTINGS_TABLE,
    POSTINGS_KEY,
]
_COUNT_LEXEMES = ("SELECT lex, count(*) FROM chunks c, unnest(tsvector_to_array(c.tsv)) lex WHERE {where} GROUP BY lex ORDER BY lex")
# Migrations from schema N to N+1, run in the schema lock's transaction (SCHEMA runs after them, adding what is new).
MIGRATIONS: dict[int, list[str]] = {
    # 2 → 3: the postings, filled from every stored passage before their key is built (faster than row by row); the
    # GIN index on the tsvector served only the old ranking query.
    2: [_POSTINGS_TABLE, _POSTINGS.format(where="TRUE"), POSTINGS_KEY, "DROP INDEX IF EXISTS chunks_tsv", "ANALYZE postings"],
}
_QUERY_WORD = re.compile(r"[^\W_]+")


def create_schema(conn, target: int = SCHEMA_VERSION) -> int:
    """Create the tables (one process at a time, under an advisory lock), migrate an older schema, refuse a newer one.

    Returns the schema version found before (0 for a new database).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
        exists = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() if exists else None
        found = int(row[0]) if row else 0
        if found > target:
            raise IndexDamaged(f"the PostgreSQL catalog was written by a newer newsbot (schema {found}); upgrade newsbot")
        for version in range(found, target) if found else ():
            for statement in MIGRATIONS.get(version, []):
                conn.execute(statement)
        if found < target:
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         (str(target),))
    return found


def schema_version(conn) -> int | None:
    """The schema version stored in the database, None when it has no catalog."""
    if not conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return int(row[0]) if row else None


def ts_query(text: str) -> str:
    """A to_tsquery expression ORing the query's words ("" when none): each word is letters and digits only."""
    words = list(dict.fromkeys(w.casefold() for w in _QUERY_WORD.findall(clean_text(text))))[:MAX_QUERY_WORDS]
    return " | ".join(words)


class PgCatalog(Catalog):
    """The catalog's documents, chunks, dates and story groups in PostgreSQL, searched with its full-text search."""

    where = "the PostgreSQL catalog"
    dense_weight = PG_DENSE_WEIGHT  # the fusion weight tuned for this lexical ranker (retrieval.fusion)

    def __init__(self, url: str) -> None:
        import psycopg
        import psycopg_pool

        self.driver_errors = (psycopg.Error, psycopg_pool.PoolTimeout)
        self.path = None
        self._count_cache = None
        self.database = Database(url)
        try:
            with self.database.session() as conn:
                create_schema(conn)
        except BaseException:
            self.database.close()
            raise

    @property
    def _db(self):
        """The connection lent to this thread for the current method."""
        return self.database.conn

    def close(self) -> None:
        """Close the pool's connections."""
        self.database.close()

    def _session(self):
        """Borrow a pooled connection for the method (nested calls share it)."""
        return self.database.session()

    def _failure(self, exc: BaseException) -> Exception:
        """A one-line DatabaseError: the server gone, the disk full, or a refused statement (never the URL)."""
        return describe(exc)

    def _tx(self):
        """A write transaction on the borrowed connection."""
        return self._db.transaction()

    def among(self, column: str, values: Sequence) -> tuple[str, list]:
        """``column = ANY(?)`` with the values as one array: 240 chunk ids as an IN list of parameters took 11 ms a
        query at 100,000 passages, as an array 3.5 ms (the plan itself runs in under 1 ms either way)."""
        return f"{column} = ANY(?)", [list(values)]

    def add(self, docs: Sequence[Document], chunks: Sequence[Chunk], ingested: datetime | None = None) -> None:
        """Add documents and chunks in one transaction (Catalog.add); after a batch that is large for the table, ANALYZE."""
        before = self.passages_estimate() if len(chunks) >= ANALYZE_FROM else None
        super().add(docs, chunks, ingested)
        if before is not None and len(chunks) >= ANALYZE_SHARE * before:
            self.analyze()

    def passages_estimate(self) -> int:
        """The planner's estimate of the stored passages (0 before the first ANALYZE)."""
        return max(0, int(self.rows("SELECT reltuples::bigint FROM pg_class WHERE oid = 'chunks'::regclass")[0][0]))

    def analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the catalog's tables (autocommit: outside any transaction)."""
        try:
            with self._session() as conn:
                for table in ANALYZED:
                    conn.execute(f"ANALYZE {table}")
        except self.driver_errors as exc:
            raise self._failure(exc) from exc

    def _add_chunks(self, chunks: Sequence[Chunk]) -> None:
        """Store new chunks (the tsvector is generated from title and text) with their postings and count their
        lexemes; a chunk id already stored (by this or another process) is left alone and not counted again."""
        if not chunks:
            return
        with self._db.conn.cursor() as cur:
            cur.executemany(
                pg_sql('INSERT INTO chunks (chunk_id, doc_id, position, start, "end", text, subs, title) VALUES (?,?,?,?,?,?,?,?) '
                       "ON CONFLICT (chunk_id) DO NOTHING RETURNING chunk_id"),
                [(c.chunk_id, c.doc_id, c.position, c.start, c.end, c.text, c.subs, c.title) for c in chunks], returning=True,
            )
            added = []
            while True:
                added += [r[0] for r in cur.fetchall()]
                if not cur.nextset():
                    break
        if added:  # in lexeme order, so two writers lock the rows they share in the same order (no deadlock)
            self._db.execute(_POSTINGS.format(where="c.chunk_id = ANY(?)"), (added,))
            self._db.execute("INSERT INTO lexemes " + _COUNT_LEXEMES.format(where="c.chunk_id = ANY(?)") +
                             " ON CONFLICT (lexeme) DO UPDATE SET df = lexemes.df + excluded.df", (added,))

    def _remove_chunks(self, doc_id: str) -> None:
        """Delete a document's chunks and their postings (found by the primary key) and uncount their lexemes."""
        self._db.execute("DELETE FROM postings p USING chunks c, unnest(tsvector_to_array(c.tsv)) l "
                         "WHERE c.doc_id = ? AND p.lexeme = l AND p.passage = c.rowid", (doc_id,))
        self._db.execute("UPDATE lexemes l SET df = l.df - x.n FROM (" + _COUNT_LEXEMES.format(where="c.doc_id = ?") +
                         ") AS x(lex, n) WHERE l.lexeme = x.lex", (doc_id,))
        self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))

    def search(self, query: str, k: int, within: tuple[float, float] | None = None) -> list[tuple[str, float]]:
        """Full-text top ``k`` (title weighted above body), published in [start, end) UNIX time when ``within`` is given
        (ingestion times never count); scores are positive, higher is better, on the scale of FTS5's BM25."""
        if not ts_query(query):
            return []
        text = clean_text(query)
        found = self.rows("SELECT l, coalesce(x.df, 0) FROM unnest(tsvector_to_array(to_tsvector('newsbot_fr', ?) || "
                          "to_tsvector('newsbot_en', ?))) l LEFT JOIN lexemes x ON x.lexeme = l", (text, text))
        n = self._passages()
        lexemes = [lex for lex, df in found if df > 0]
        if n >= SKIP_FROM_ROWS:
            df = dict(found)
            common = {lex for lex in lexemes if df[lex] > COMMON_SHARE * n}
            if len(common) == len(lexemes):  # nothing rare: keep the rarest few rather than nothing
                common -= set(sorted(lexemes, key=lambda lex: df[lex])[:KEEP_WHEN_ALL_COMMON])
            lexemes = [lex for lex in lexemes if lex not in common]
        if not lexemes:
            return []
        rows = self.rows(BM25.format(dated=_DATED if within else ""),
                         (DEFAULT_TITLE_WEIGHT / DEFAULT_BODY_WEIGHT, lexemes, *(within or ()), n, k, k))
        return [(cid, float(s)) for cid, s in rows]

    def _passages(self) -> int:
        """The number of passages, for BM25's IDF: PostgreSQL's own estimate on a large table (COUNT(*) took 80 ms at
        100,000 passages), counted on a small one, where the estimate may lag and a count costs nothing."""
        estimate = self.passages_estimate()
        if estimate >= COUNT_BELOW:
            return int(estimate)
        return self.rows("SELECT COUNT(*) FROM chunks")[0][0]

    def fts_rows(self) -> int:
        """Passages with a search vector (one per chunk: it is generated with the row)."""
        return self.rows("SELECT COUNT(*) FROM chunks WHERE tsv IS NOT NULL")[0][0]

    def check(self) -> str | None:
        """None when the database answers and holds this newsbot's schema, else the problem."""
        try:
            with self._session() as conn:
                version = schema_version(conn)
        except self.driver_errors as exc:
            return str(self._failure(exc))
        return None if version == SCHEMA_VERSION else f"schema version {version}, this newsbot needs {SCHEMA_VERSION}"

    def schema_version(self) -> int | None:
        """The schema version stored in the database."""
        with self._session() as conn:
            return schema_version(conn)

    def wipe(self) -> None:
        """Empty every table of the catalog in one transaction (`ingest --rebuild`); the schema stays."""
        with self._session(), self._tx():
            self._db.execute("TRUNCATE documents, doc_paths, chunks, published, stories, story_bands, lexemes, postings")

    def _sound(self) -> bool:
        """PostgreSQL checks its own pages: a refused statement is never damage to rebuild."""
        return True
