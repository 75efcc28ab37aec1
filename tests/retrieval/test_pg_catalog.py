"""The PostgreSQL catalog's own parts: full-text search in French and English, its schema and version check, its errors."""

from __future__ import annotations

import threading

import psycopg
import pytest

from bot.hints import explain
from retrieval.chunking import Chunk
from retrieval.documents import Document
from retrieval.errors import DatabaseError, IndexDamaged
from retrieval.stores.pg_catalog import SCHEMA_VERSION
from retrieval.stores.pg_catalog import PgCatalog
from tests.servers import free_port

PASSAGES = {
    "fr": ("Politique", "Les élections législatives ont été avancées par le président."),
    "en": ("Markets", "Investors invested heavily in the chip makers this quarter."),
    "title": ("Grève à la SNCF", "Le trafic reprend lundi."),
    "body": ("Transports", "Une grève touche la SNCF, le trafic reprend lundi."),
}


@pytest.fixture
def pg(pg_url):
    """A PostgreSQL catalog holding the four passages above, one document each."""
    catalog = PgCatalog(pg_url)
    for cid, (title, text) in PASSAGES.items():
        catalog.add([Document(title=title, text=text, doc_id=f"d-{cid}")], [Chunk(cid, f"d-{cid}", title, text, 0, 0, len(text))])
    yield catalog
    catalog.close()


def _ids(catalog, query):
    return [cid for cid, _ in catalog.search(query, 5)]


def test_french_words_match_their_other_forms_with_or_without_accents(pg):
    assert _ids(pg, "election legislative") == ["fr"]  # plural, feminine, accents folded
    assert _ids(pg, "ÉLECTIONS avancée") == ["fr"]


def test_english_words_match_their_other_forms(pg):
    assert _ids(pg, "investment investing investor") == ["en"]


def test_the_title_weighs_more_than_the_body_and_scores_are_positive(pg):
    found = pg.search("grève SNCF", 5)
    assert [cid for cid, _ in found] == ["title", "body"] and found[0][1] > found[1][1] > 0


def test_questions_without_words_ask_nothing_and_operators_are_only_words(pg):
    assert pg.search("?!  …", 5) == []
    assert _ids(pg, "grève & | ! <-> (SNCF") == ["title", "body"]  # tsquery syntax in a question is just punctuation


def test_postings_are_read_from_a_covering_key_and_every_chunk_is_searchable(pg, pg_url):
    with psycopg.connect(pg_url) as conn:
        (definition,) = conn.execute("SELECT pg_get_indexdef('postings_pkey'::regclass)").fetchone()
        mismatched = conn.execute("SELECT c.chunk_id FROM chunks c WHERE length(c.tsv) <> "
                                  "(SELECT count(*) FROM postings p WHERE p.passage = c.rowid AND p.len = length(c.tsv))").fetchall()
        (title, body) = conn.execute("SELECT p.title, p.body FROM postings p JOIN chunks c ON c.rowid = p.passage "
                                     "WHERE c.chunk_id = 'title' AND p.lexeme = 'sncf'").fetchone()
        gin = conn.execute("SELECT to_regclass('chunks_tsv')").fetchone()[0]
    assert "btree (lexeme, passage) INCLUDE (title, body, len)" in definition and gin is None
    assert mismatched == [] and (title, body) == (2, 0)  # "SNCF" in the title, through both configurations
    assert pg.fts_rows() == pg.counts()[1] == 4


def test_removing_a_document_removes_it_from_search(pg):
    pg.remove_docs(["d-title"])
    assert _ids(pg, "grève SNCF") == ["body"] and pg.counts() == (3, 3)


def test_schema_version_is_stored_and_a_newer_one_is_refused(pg_url):
    PgCatalog(pg_url).close()
    again = PgCatalog(pg_url)  # a second start finds its schema and changes nothing
    assert again.schema_version() == SCHEMA_VERSION and again.check() is None
    again.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(IndexDamaged, match="newer newsbot"):
        PgCatalog(pg_url)


def test_processes_starting_at_once_create_the_schema_once(pg_url):
    errors, opened = [], []

    def start():
        try:
            opened.append(PgCatalog(pg_url))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(opened) == 4
    for c in opened:
        c.close()


def test_an_unreachable_database_is_one_line_naming_neither_host_nor_password():
    url = f"postgresql://newsbot:s3cret@127.0.0.1:{free_port()}/newsbot"
    with pytest.raises(DatabaseError) as err:
        PgCatalog(url)
    text = explain(err.value)
    assert "unavailable" in text and "NEWSBOT_DATABASE_URL" in text and "\n" not in text
    assert "s3cret" not in text and "127.0.0.1" not in text and "newsbot:" not in text


def test_large_catalogs_leave_very_common_lexemes_out_and_counts_follow_removals(pg_url, monkeypatch):
    import retrieval.stores.pg_catalog as pg_module

    catalog = PgCatalog(pg_url)
    doc = Document(title="T", text="x", doc_id="d")
    catalog.add([doc], [Chunk(f"c{i}", "d", "T", f"commun mot{i} " + ("rare" if i == 7 else ""), i, 0, 1) for i in range(20)])
    catalog.add([doc], [Chunk("c0", "d", "T", "commun mot0", 0, 0, 1)])  # stored already: counted once
    counted = dict(catalog.rows("SELECT lexeme, df FROM lexemes WHERE lexeme IN ('commun', 'rar', 'rare')"))
    assert counted == {"commun": 20, "rar": 1, "rare": 1}  # French and English stems of "rare"
    assert len(catalog.search("commun rare", 40)) == 20  # a small catalog keeps every lexeme
    monkeypatch.setattr(pg_module, "SKIP_FROM_ROWS", 10)
    assert [cid for cid, _ in catalog.search("commun rare", 40)] == ["c7"]
    assert len(catalog.search("commun", 40)) == 20  # nothing rare: the rarest lexemes are kept
    catalog.remove_docs(["d"])
    assert catalog.rows("SELECT COUNT(*) FROM lexemes WHERE df <> 0") == [(0,)]
    catalog.close()


def test_a_batch_large_for_the_table_refreshes_the_planners_statistics(pg_url, monkeypatch):
    # Until autovacuum gets to it, a bulk load leaves BM25 planned for an empty table (docs/benchmarks.md).
    import retrieval.stores.pg_catalog as pg_module

    monkeypatch.setattr(pg_module, "ANALYZE_FROM", 30)
    catalog = PgCatalog(pg_url)

    def analyzed() -> set[str]:  # reltuples is -1 until a table is first analyzed
        return {r[0] for r in catalog.rows("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= 0")}

    def batch(doc_id: str, n: int):
        doc = Document(title="T", text="x", doc_id=doc_id)
        return [doc], [Chunk(f"{doc_id}-{i}", doc_id, "T", f"mot{i} commun", i, 0, 1) for i in range(n)]

    catalog.add(*batch("small", 29))  # under ANALYZE_FROM: left to autovacuum
    assert catalog.passages_estimate() == 0 and "chunks" not in analyzed()
    catalog.add(*batch("bulk", 300))
    assert catalog.passages_estimate() == 329  # ANALYZE counted the table
    assert analyzed() >= set(pg_module.ANALYZED)
    catalog.add(*batch("more", 31))  # 31 < 10% of 329: no ANALYZE of its own
    assert catalog.passages_estimate() == 329
    catalog.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_chunks_come_in_the_asked_order_across_several_queries(backend, pg_url, tmp_path, monkeypatch):
    import retrieval.stores.catalog as catalog_module
    from retrieval.stores.catalog import Catalog

    monkeypatch.setattr(catalog_module, "CHUNKS_PER_QUERY", 2)
    catalog = PgCatalog(pg_url) if backend == "postgres" else Catalog(tmp_path / "catalog.sqlite3")
    doc = Document(title="T", text="x", doc_id="d")
    catalog.add([doc], [Chunk(f"c{i}", "d", "T", f"mot{i}", i, 0, 1) for i in range(5)])
    asked = ["c4", "gone", "c1", "c4", "c0", "c3"]
    got = catalog.chunks(asked)
    assert list(got) == ["c4", "c1", "c0", "c3"]  # the asked order, duplicates once, a missing id left out
    assert {cid: c.text for cid, c in got.items()} == {"c4": "mot4", "c1": "mot1", "c0": "mot0", "c3": "mot3"}
    assert catalog.chunks([]) == {}
    catalog.close()
