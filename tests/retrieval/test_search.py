"""The searcher over its three seams (embedder, vector store, lexical index), with the fakes: fusion, ranking, gaps."""

from __future__ import annotations

from retrieval.search import Searcher
from retrieval.chunking import Chunk
from tests.fakes import FakeEmbedder, MemoryLexicalIndex, MemoryStore

TEXTS = {
    "a": "Meta investit dans Scale AI, fondée par Alexandr Wang.",
    "b": "Le chocolat suisse s'exporte bien en Asie.",
    "c": "Scale AI étiquette des données pour les modèles.",
}


def _chunk(cid: str, text: str) -> Chunk:
    return Chunk(cid, f"doc-{cid}", f"Titre {cid}", text, 0, 0, len(text))


def _searcher():
    embedder, store, lexical = FakeEmbedder(), MemoryStore(), MemoryLexicalIndex([_chunk(c, t) for c, t in TEXTS.items()])
    store.upsert(list(TEXTS), embedder.embed_passages(list(TEXTS.values())))
    return Searcher(embedder, store, lexical, candidates=5), store, lexical


def test_both_rankers_are_asked_and_the_best_passage_comes_first():
    searcher, store, lexical = _searcher()
    try:
        hits = searcher.search("Qui a fondé Scale AI ?", 2)
    finally:
        searcher.close()
    assert [h.chunk.chunk_id for h in hits] == ["a", "c"]
    assert hits[0].dense is not None and hits[0].lexical == 2.0  # "scale", "ai" ("fondé" is not "fondée") and hits[0].score >= hits[1].score
    assert lexical.queries == [("Qui a fondé Scale AI ?", 5)] and ("query", 15) in store.calls


def test_a_vector_whose_chunk_is_gone_is_never_shown():
    searcher, store, lexical = _searcher()
    del lexical.rows["a"]  # an interrupted delete: the vector stayed, the chunk did not
    try:
        hits = searcher.search("Qui a fondé Scale AI ?", 3)
    finally:
        searcher.close()
    assert "a" not in [h.chunk.chunk_id for h in hits] and hits


def test_a_blank_query_asks_nothing():
    searcher, store, lexical = _searcher()
    calls = len(store.calls)
    try:
        assert searcher.search(" \u200b ", 3) == []
    finally:
        searcher.close()
    assert lexical.queries == [] and len(store.calls) == calls
