"""The searcher over its three seams (embedder, vector store, lexical index), with the fakes: fusion, ranking, gaps."""

from __future__ import annotations

from retrieval.search import LEAD_TIE, Hit, Searcher, with_lead
from retrieval.stores.catalog import StoredChunk
from tests.fakes import FakeEmbedder, MemoryLexicalIndex, MemoryStore

TEXTS = {
    "a": "Meta investit dans Scale AI, fondée par Alexandr Wang.",
    "b": "Le chocolat suisse s'exporte bien en Asie.",
    "c": "Scale AI étiquette des données pour les modèles.",
}


def _chunk(cid: str, text: str) -> StoredChunk:
    return StoredChunk(cid, f"doc-{cid}", f"Titre {cid}", text, 0, 0, len(text), None, None, None)


def _searcher(**kw):
    embedder, store, lexical = FakeEmbedder(), MemoryStore(), MemoryLexicalIndex([_chunk(c, t) for c, t in TEXTS.items()])
    store.upsert(list(TEXTS), embedder.embed_passages(list(TEXTS.values())))
    return Searcher(embedder, store, lexical, candidates=5, **kw), store, lexical


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
    del lexical.stored["a"]  # an interrupted delete: the vector stayed, the chunk did not
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


def test_a_repeated_question_is_embedded_once_and_searched_again():
    """The question's vector comes from the cache the second time; both rankers still run, with the same hits."""
    searcher, store, lexical = _searcher()
    try:
        first = searcher.search("Qui a fondé Scale AI ?", 2)
        again = searcher.search("  Qui a fondé Scale AI ?", 2)  # the same question once cleaned
        other = searcher.search("Le chocolat suisse ?", 2)
    finally:
        searcher.close()
    assert searcher.embedder.queries == ["Qui a fondé Scale AI ?", "Le chocolat suisse ?"]
    assert [(h.chunk.chunk_id, h.score) for h in again] == [(h.chunk.chunk_id, h.score) for h in first]
    assert len(lexical.queries) == 3 and sum(c[0] == "query" for c in store.calls) == 3
    assert other[0].chunk.chunk_id == "b"


def test_the_question_cache_keeps_the_most_recent_and_can_be_off():
    """With room for two questions the least recently asked is embedded again; with none, every search embeds."""
    searcher, _, _ = _searcher(query_cache=2)
    off, _, _ = _searcher(query_cache=0)
    try:
        for q in ("Scale AI ?", "chocolat ?", "Scale AI ?", "Asie ?", "chocolat ?", "Scale AI ?"):
            searcher.search(q, 1)
            off.search(q, 1)
    finally:
        searcher.close()
        off.close()
    # "Scale AI" asked again moves ahead of "chocolat", so "Asie" pushes out "chocolat", which then pushes out "Scale AI"
    assert searcher.embedder.queries == ["Scale AI ?", "chocolat ?", "Asie ?", "chocolat ?", "Scale AI ?"]
    assert len(off.embedder.queries) == 6



def _hit(cid: str, doc: str, position: int, score: float, title: str = "Meta prépare un investissement record de plus de 10 milliards dans Scale AI") -> Hit:
    return Hit(StoredChunk(cid, doc, title, "…", position, 0, 1, None, None, None), score, score, None)


def test_a_news_lead_that_nearly_made_the_cut_joins_its_articles_passages():
    """The best article's lead passage follows the k hits when it scores within LEAD_TIE of that article's lowest one;
    not when it is clearly below, already in, of another article, or under an encyclopedia's title (a name)."""
    ranked = [_hit("why", "d1", 4, 0.7539), _hit("about", "d1", 2, 0.7532), _hit("other", "d2", 0, 0.7520), _hit("lead", "d1", 0, 0.7515)]
    assert [h.chunk.chunk_id for h in with_lead(ranked[:3], ranked)] == ["why", "about", "other", "lead"]
    far = ranked[:3] + [_hit("lead", "d1", 0, 0.7532 - LEAD_TIE - 0.001)]
    assert [h.chunk.chunk_id for h in with_lead(far[:3], far)] == ["why", "about", "other"]
    led = [_hit("lead", "d1", 0, 0.76), _hit("why", "d1", 4, 0.75), _hit("x", "d1", 1, 0.749)]
    assert with_lead(led[:2], led) == led[:2]
    second = [_hit("other", "d2", 3, 0.76), _hit("why", "d1", 4, 0.7539), _hit("lead", "d1", 0, 0.7535)]
    assert with_lead(second[:2], second) == second[:2]  # only the best hit's article
    named = [_hit("b", "d1", 3, 0.75, "Sicile"), _hit("a", "d1", 0, 0.749, "Sicile")]
    assert with_lead(named[:1], named) == named[:1]
