"""Search with a date range (both rankers filtered), recency only when asked, one passage per story with 'also in'."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from retrieval.dates.expressions import DateRange, resolve, window
from retrieval.dates.extract import timestamp
from retrieval.documents import Document, read_documents
from retrieval.quality.dated import evaluate_dated, grouping, load_dated
from retrieval.search import Searcher
from retrieval.stories import shingles, signature, similarity
from tests.fakes import FakeEmbedder, MemoryStore

DATED = Path(__file__).parent.parent / "data" / "dated"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def index(request, tmp_path_factory):
    """The dated corpus in a real catalog (SQLite, then PostgreSQL), with the fake embedder and an in-memory vector store."""
    from bot.app import open_index
    from bot.settings import Settings

    url = None
    if request.param == "postgres":
        cluster = request.getfixturevalue("pg_cluster")
        cluster.execute("CREATE DATABASE dated_search TEMPLATE newsbot_template")
        url = cluster.url("dated_search")
    settings = Settings(data_dir=tmp_path_factory.mktemp("dated"), database_url=url, _env_file=None)
    idx = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    idx.indexer.ingest([DATED / "articles.jsonl"], progress=False)
    yield idx
    idx.close()
    if url:
        cluster.execute("DROP DATABASE dated_search WITH (FORCE)")


def _june(day: int, end: int | None = None) -> DateRange:
    """Days of June 2025 in Paris."""
    return DateRange(datetime(2025, 6, day, tzinfo=PARIS), datetime(2025, 6, (end or day) + 1, tzinfo=PARIS))


def _in(rng: DateRange, chunk) -> bool:
    """Whether a chunk was published in the range."""
    return not chunk.estimated and rng.start.timestamp() <= timestamp(chunk.published_at) < rng.end.timestamp()


def test_both_rankers_are_filtered(index):
    """The lexical query and the dense candidates each keep only passages of the range."""
    rng = _june(5)
    lexical = index.catalog.search("BCE taux Lagarde", 20, (rng.start.timestamp(), rng.end.timestamp()))
    unfiltered = index.catalog.search("BCE taux Lagarde", 20)
    rows = index.catalog.chunks([c for c, _ in unfiltered])
    assert any(not _in(rng, rows[c]) for c, _ in unfiltered)  # the April decision matches the words
    assert lexical and all(_in(rng, r) for r in index.catalog.chunks([c for c, _ in lexical]).values())
    from retrieval.search import dated

    dense = index.store.query(index.embedder.embed_query("BCE taux Lagarde"), 200)
    kept = dated(index.catalog, dense, (rng.start.timestamp(), rng.end.timestamp()))
    assert kept and len(kept) < len(dense)
    assert all(_in(rng, r) for r in index.catalog.chunks([c.split("#")[0] for c, _ in kept if "#" not in c]).values())
    hits = index.searcher.search("BCE taux Lagarde", 3, within=rng)
    assert hits and all(_in(rng, h.chunk) for h in hits)


def test_an_empty_range_finds_nothing_and_undated_articles_never_count(index):
    """Nothing was published in 2023; an article known only by its ingestion time matches no range."""
    assert index.searcher.search("Mistral AI", 3, within=DateRange(datetime(2023, 1, 1, tzinfo=PARIS), datetime(2024, 1, 1, tzinfo=PARIS))) == []
    everything = DateRange(datetime(1970, 1, 2, tzinfo=PARIS), datetime(2100, 1, 1, tzinfo=PARIS))
    assert all(not h.chunk.estimated for h in index.searcher.search("What Scale AI does", 5, within=everything))
    assert any(h.chunk.estimated for h in index.searcher.search("What Scale AI does", 5))


def test_recency_only_when_asked(index):
    """'latest' puts the newest on-topic article first; the same words without it keep the relevance order."""
    now = datetime(2025, 6, 12, 10, tzinfo=PARIS)
    latest = resolve("Dernières nouvelles de Mistral AI", now)
    plain = resolve("Mistral AI", now)
    assert latest.recency and not plain.recency
    newest = index.searcher.search(latest.text, 3, within=window(latest, now), recency=True)
    relevant = index.searcher.search(plain.text, 3, within=window(plain, now))
    assert newest[0].chunk.title == "Mistral AI et Nvidia lancent Mistral Compute"
    times = [timestamp(h.chunk.published_at) for h in newest if "Mistral" in h.chunk.title]
    assert times == sorted(times, reverse=True)
    assert [h.score for h in relevant] == sorted((h.score for h in relevant), reverse=True)


def test_a_replay_sees_nothing_after_now(index):
    """'latest' asked at --now 2025-06-12 does not see the article of June 13."""
    now = datetime(2025, 6, 12, 10, tzinfo=PARIS)
    q = resolve("latest on Scale AI", now)
    assert all(timestamp(h.chunk.published_at) <= now.timestamp() for h in index.searcher.search(q.text, 5, within=window(q, now), recency=True))


def test_one_passage_per_story_the_newest_version_and_also_in(index):
    """Three copies of the Scale AI story give one hit, its updated text, and the other outlets as 'also'."""
    hits = index.searcher.search("Meta invest 14.3 billion Scale AI Alexandr Wang", 5)
    meta = [h for h in hits if "14.3 billion" in h.chunk.title]
    assert len(meta) == 1
    assert "interim chief executive" in meta[0].chunk.text  # the update, not the first version
    assert sorted(c.source for c in meta[0].also) == ["Reuters", "Yahoo Finance"]
    stories = [h.chunk.story for h in hits]
    assert len(stories) == len(set(stories))


def test_look_alike_stories_are_not_merged():
    """Two ECB rate cuts in different months, and a strike and its update, measured apart and together."""
    docs = {d.title: d for d in read_documents(DATED / "articles.jsonl")}
    sig = lambda t: signature(shingles(t, docs[t].text))  # noqa: E731
    assert similarity(sig("La BCE abaisse ses taux pour la huitième fois"), sig("La BCE abaisse ses taux face aux droits de douane")) < 0.2
    copy = Document(title="X", text=docs["La BCE abaisse ses taux pour la huitième fois"].text + " Source : AFP.")
    assert similarity(signature(shingles("La BCE abaisse ses taux pour la huitième fois", copy.text)),
                      sig("La BCE abaisse ses taux pour la huitième fois")) > 0.6


def test_grouping_and_dated_targets_on_the_corpus(index):
    """The measured targets: grouping precision 1.0 / recall >= 0.9; every range right and nothing outside it."""
    g = grouping(index.catalog, DATED / "articles.jsonl")
    assert g["grouping_precision"] == 1.0 and g["grouping_recall"] >= 0.9
    result = evaluate_dated(index.searcher, load_dated(DATED / "questions.jsonl", PARIS))
    right, total = map(int, result["ranges_right"].split("/"))
    assert right == total >= 30
    assert result["outside_range"].startswith("0/") and result["empty_range_abstained"] == "2/2"
