"""The PostgreSQL catalog's schema migration: a database written before the postings (schema 2) is migrated in place."""

from __future__ import annotations

import psycopg
import pytest

from retrieval.chunking import Chunk
from retrieval.documents import Document
from retrieval.errors import IndexDamaged
from retrieval.stores.pg_catalog import SCHEMA_VERSION, PgCatalog

# The schema 2 tables as newsbot wrote them before the postings (kept here, not in the product, to test the migration).
_TSV = ("setweight(to_tsvector('newsbot_fr', title), 'A') || setweight(to_tsvector('newsbot_en', title), 'A') || "
        "setweight(to_tsvector('newsbot_fr', text), 'B') || setweight(to_tsvector('newsbot_en', text), 'B')")
SCHEMA_2 = [
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
    "CREATE INDEX IF NOT EXISTS chunks_tsv ON chunks USING GIN (tsv)",
    """CREATE TABLE IF NOT EXISTS published (
        doc_id TEXT PRIMARY KEY, published_at TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, estimated INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS published_ts ON published(ts)",
    "CREATE TABLE IF NOT EXISTS stories (doc_id TEXT PRIMARY KEY, story TEXT NOT NULL, signature BYTEA NOT NULL)",
    "CREATE INDEX IF NOT EXISTS stories_story ON stories(story)",
    """CREATE TABLE IF NOT EXISTS story_bands (
        band INTEGER NOT NULL, key BIGINT NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (band, key, doc_id))""",
    "CREATE INDEX IF NOT EXISTS story_bands_doc ON story_bands(doc_id)",
    "CREATE TABLE IF NOT EXISTS lexemes (lexeme TEXT PRIMARY KEY, df INTEGER NOT NULL)",
    "INSERT INTO meta VALUES ('schema', '2')",
]
DAY = 86_400.0
ARTICLES = [  # doc id, title, passages, publication (UNIX days)
    ("grève", "Grève à la SNCF", ["Le trafic reprend lundi sur les lignes du sud.", "Les syndicats appellent à une nouvelle grève."], 10),
    ("rail", "Transports", ["Une grève touche la SNCF, le trafic des trains reprend lundi.", "Les usagers attendent en gare."], 11),
    ("vote", "Politique", ["Les élections législatives ont été avancées par le président.", "Le vote aura lieu en juin."], 20),
    ("chips", "Markets", ["Investors invested heavily in the chip makers this quarter.", "Chip shares rose on the news."], 21),
    ("trains", "Rail strike", ["Train drivers strike again; the trains stop on Monday.", "The strike ends when talks resume."], 30),
]
QUESTIONS = ["grève SNCF lundi", "trains strike Monday", "élections législatives", "chip investors", "gare usagers trafic"]


def _chunks(doc_id: str, title: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(f"{doc_id}-{i}", doc_id, title, text, i, 0, len(text)) for i, text in enumerate(texts)]


def _write_schema_2(url: str) -> None:
    """A schema 2 catalog holding the articles, written as newsbot wrote them then (chunks, dates, lexeme counts)."""
    with psycopg.connect(url) as conn:
        for statement in SCHEMA_2:
            conn.execute(statement)
        for doc_id, title, texts, day in ARTICLES:
            conn.execute("INSERT INTO documents (doc_id, path, title, length, published_at, published_kind) "
                         "VALUES (%s, '', %s, %s, '', 'published')", (doc_id, title, sum(map(len, texts))))
            conn.execute("INSERT INTO published VALUES (%s, '', %s, 0)", (doc_id, day * DAY))
            for c in _chunks(doc_id, title, texts):
                conn.execute('INSERT INTO chunks (chunk_id, doc_id, position, start, "end", text, title) VALUES (%s,%s,%s,%s,%s,%s,%s)',
                             (c.chunk_id, c.doc_id, c.position, c.start, c.end, c.text, c.title))
        conn.execute("INSERT INTO lexemes SELECT lex, count(*) FROM chunks c, unnest(tsvector_to_array(c.tsv)) lex GROUP BY lex")


def _fresh(url: str) -> PgCatalog:
    catalog = PgCatalog(url)
    for doc_id, title, texts, day in ARTICLES:
        catalog.add([Document(title=title, text=" ".join(texts), doc_id=doc_id, published_at=f"1970-01-{day + 1:02d}T00:00:00+00:00")],
                    _chunks(doc_id, title, texts))
    return catalog


@pytest.fixture
def two_databases(pg_cluster, pg_url):
    """Two empty databases: one written by the old schema, one built fresh."""
    other = pg_url.rsplit("/", 1)[1] + "_fresh"
    pg_cluster.execute(f"CREATE DATABASE {other} TEMPLATE newsbot_template")
    yield pg_url, pg_cluster.url(other)
    pg_cluster.execute(f"DROP DATABASE IF EXISTS {other} WITH (FORCE)")


def test_a_schema_2_catalog_is_migrated_in_place_and_searches_as_a_fresh_one(two_databases):
    old_url, fresh_url = two_databases
    _write_schema_2(old_url)
    migrated, fresh = PgCatalog(old_url), _fresh(fresh_url)
    try:
        assert migrated.schema_version() == SCHEMA_VERSION == 3 and migrated.check() is None
        assert migrated.counts() == fresh.counts() == (5, 10)
        week = (9 * DAY, 16 * DAY)
        for q in QUESTIONS:
            found = migrated.search(q, 10)
            assert found and found == fresh.search(q, 10), q
            assert migrated.search(q, 10, within=week) == fresh.search(q, 10, within=week), q
        assert [cid for cid, _ in migrated.search("grève", 10, within=week)] == ["grève-1", "grève-0", "rail-0"]
        with psycopg.connect(old_url) as conn:  # the GIN index served only the old ranking and is gone
            assert conn.execute("SELECT to_regclass('chunks_tsv')").fetchone()[0] is None
        migrated.remove_docs(["grève"])  # the migrated postings go with their passages
        fresh.remove_docs(["grève"])
        for q in QUESTIONS:
            assert migrated.search(q, 10) == fresh.search(q, 10), q
        assert migrated.rows("SELECT COUNT(*) FROM postings") == fresh.rows("SELECT COUNT(*) FROM postings")
    finally:
        migrated.close()
        fresh.close()
    again = PgCatalog(old_url)  # a second start finds schema 3 and migrates nothing
    assert again.schema_version() == SCHEMA_VERSION
    again.close()


def test_a_schema_newer_than_this_newsbot_is_refused_and_left_alone(pg_url):
    _write_schema_2(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(IndexDamaged, match="newer newsbot"):
        PgCatalog(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('postings'), to_regclass('chunks_tsv') IS NOT NULL").fetchone() == (None, True)
