"""Several processes on one PostgreSQL catalog: concurrent ingestion loses and duplicates nothing; the database going away
mid-answer is one clear error, and the next question works once it is back."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bot.core.events import Done
from retrieval.errors import DatabaseError
from retrieval.ingest import Indexer
from retrieval.stores.catalog import open_catalog
from tests.conftest import ROOT, SEEDS, make_answerer
from tests.fakes import FakeEmbedder, MemoryStore
from tests.servers import chroma_server  # noqa: F401  (fixture)

INGEST = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bot.app import open_index
    from bot.settings import Settings
    from tests.fakes import FakeEmbedder, MemoryStore

    url, data, folder = sys.argv[1:4]
    index = open_index(Settings(data_dir=Path(data), database_url=url, _env_file=None), embedder=FakeEmbedder(), store=MemoryStore())
    index.indexer.ingest([Path(folder)], progress=False)
    index.close()
""")


def _articles(folder, numbers):
    """One small article per number, the same text wherever it is written (so two folders hold copies)."""
    folder.mkdir()
    for n in numbers:
        paragraphs = [f"Article {n}, paragraphe {p} : la commune numéro {n} vote le budget {p} du port." for p in range(6)]
        (folder / f"{n:03d}.txt").write_text(f"Nouvelles {n}\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    return folder


def _snapshot(catalog):
    """What the catalog holds, comparable across back ends."""
    docs = sorted((d, t, n) for d, t, _, n in catalog.documents())
    origins = sorted((d, p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1]) for d, *_ in catalog.documents() for p, _ in catalog.origins(d))
    stories = catalog.rows("SELECT COUNT(*), COUNT(DISTINCT doc_id) FROM stories")[0]
    published = catalog.rows("SELECT COUNT(*), COUNT(DISTINCT doc_id) FROM published")[0]
    return docs, origins, sorted(catalog.chunk_ids()), tuple(stories), tuple(published), catalog.fts_rows()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_processes_ingesting_at_once_lose_and_duplicate_nothing(tmp_path, database_url):
    one = _articles(tmp_path / "one", range(0, 40))
    two = _articles(tmp_path / "two", range(20, 60))  # 20 articles in both folders: the same documents, two origins
    procs = [subprocess.Popen([sys.executable, "-c", INGEST, database_url, str(tmp_path / f"data{i}"), str(folder)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i, folder in enumerate((one, two))]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    shared = open_catalog(tmp_path / "unused.sqlite3", database_url)
    baseline = open_catalog(tmp_path / "baseline.sqlite3")  # the same two ingestions, one after the other, in SQLite
    try:
        indexer = Indexer(FakeEmbedder(), MemoryStore(), baseline, 1000, 1)
        for folder in (one, two):
            indexer.ingest([folder], progress=False)
        got, want = _snapshot(shared), _snapshot(baseline)
    finally:
        shared.close()
        baseline.close()
    assert len(got[0]) == 60 and got[3] == (60, 60) and got[4] == (60, 60)  # one row each, no duplicate
    assert got == want


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_database_going_away_is_one_clear_error_and_answers_resume_when_it_is_back(settings, fake_index, fake_generator,
                                                                                      pg_cluster):
    fake_index.indexer.ingest([SEEDS])
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, abstain_threshold=0.0)
    try:
        fake_generator.enqueue("Dix milliards [1].")
        assert isinstance(list(answerer.answer_sync("Combien Meta investit-il ?"))[-1], Done)
        pg_cluster.stop("immediate")  # a crash, as far as the bot can tell
        try:
            with pytest.raises(DatabaseError) as err:
                list(answerer.answer_sync("Qui a fondé Scale AI ?"))
            text = str(err.value)
            assert "unavailable" in text and "\n" not in text and str(pg_cluster.port) not in text and "127.0.0.1" not in text
        finally:
            pg_cluster.start()
        fake_generator.enqueue("Plus de 10 milliards de dollars [1].")
        done = list(answerer.answer_sync("Combien Meta prévoit-il d'investir dans Scale AI ?"))[-1]
        assert isinstance(done, Done) and done.said == "Plus de 10 milliards de dollars [1]." and done.sources
    finally:
        answerer.close()


REPLICA = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from bot.app import open_index
    from bot.settings import Settings
    from tests.fakes import FakeEmbedder

    url, chroma, data, folder, question = sys.argv[1:6]
    settings = Settings(data_dir=Path(data), database_url=url, chroma_url=chroma, _env_file=None)
    index = open_index(settings, embedder=FakeEmbedder())
    if folder != "-":
        index.indexer.ingest([Path(folder)], progress=False)
    hits = index.searcher.search(question, 1) if question != "-" else []
    print(json.dumps({"top": hits[0].chunk.title if hits else None, "lock": index.lock is not None}))
    index.close()
""")


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_on_one_database_and_one_chroma_server_answer_from_each_others_articles(tmp_path, database_url,
                                                                                            chroma_server):  # noqa: F811
    import json

    def replica(name, folder, question):
        done = subprocess.run([sys.executable, "-c", REPLICA, database_url, chroma_server.url, str(tmp_path / name), folder, question],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    for name, title, words in (("a", "Le port de Brest", "chalutiers criée marée"), ("b", "Vendanges en Alsace", "raisin vignerons cépage")):
        folder = tmp_path / f"articles-{name}"
        folder.mkdir()
        (folder / "x.txt").write_text(f"{title}\n\n{' '.join([words] * 8)}.", encoding="utf-8")
        assert replica(name, str(folder), "-") == {"top": None, "lock": False}  # no data-directory lock in this mode
    assert replica("a", "-", "raisin vignerons cépage")["top"] == "Vendanges en Alsace"  # ingested by b
    assert replica("b", "-", "chalutiers criée marée")["top"] == "Le port de Brest"  # ingested by a
