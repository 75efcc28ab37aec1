"""Ingestion with the fake embedder and store over the real catalog: idempotence, edits, deletions, repairs."""

import shutil

from retrieval.ingest import Indexer
from tests.conftest import SEED_FILE, SEEDS, both_backends
from tests.fakes import FakeEmbedder, MemoryStore


def _folder(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / "seed.txt")
    (folder / "other.md").write_text("# Autre\n\nUn article sur la pêche en Bretagne.\n", encoding="utf-8")
    return folder


@both_backends
def test_first_ingest_adds_everything_and_a_rerun_adds_nothing(fake_index, tmp_path):
    folder = _folder(tmp_path)
    first = fake_index.indexer.ingest([folder])
    assert first.documents == 4 and first.added == first.chunks > 4 and first.unchanged == 0
    assert fake_index.store.ids() == fake_index.catalog.vector_ids()
    assert fake_index.store.count() > first.chunks  # long passages also have sub-chunk vectors
    again = fake_index.indexer.ingest([folder])
    assert (again.added, again.removed, again.unchanged, again.chunks) == (0, 0, first.chunks, first.chunks)


@both_backends
def test_edited_file_replaces_its_passages(fake_index, tmp_path):
    folder = _folder(tmp_path)
    fake_index.indexer.ingest([folder])
    (folder / "other.md").write_text("# Autre\n\nUn article sur la pêche à Lorient.\n", encoding="utf-8")
    report = fake_index.indexer.ingest([folder])
    assert report.added == 1 and report.removed == 1 and report.documents == 4
    hits = fake_index.searcher.search("pêche Lorient", 1)
    assert "Lorient" in hits[0].chunk.text
    assert fake_index.store.ids() == fake_index.catalog.vector_ids()


@both_backends
def test_deleted_file_goes_when_its_folder_is_ingested_again(fake_index, tmp_path):
    folder = _folder(tmp_path)
    fake_index.indexer.ingest([folder])
    (folder / "other.md").unlink()
    assert fake_index.indexer.ingest([folder / "seed.txt"]).removed == 0  # a file alone says nothing of its folder
    report = fake_index.indexer.ingest([folder])
    assert report.removed == 1 and report.documents == 3
    assert fake_index.store.ids() == fake_index.catalog.vector_ids()


@both_backends
def test_unreadable_files_are_reported_and_the_rest_goes_in(fake_index, tmp_path):
    folder = _folder(tmp_path)
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (folder / "vide.txt").write_text("", encoding="utf-8")
    report = fake_index.indexer.ingest([folder, tmp_path / "missing"])
    skipped = {p.rsplit("/", 1)[-1]: reason for p, reason in report.skipped}
    assert set(skipped) == {"photo.txt", "vide.txt", "missing"}
    assert "binary" in skipped["photo.txt"] and "empty" in skipped["vide.txt"]
    assert report.documents == 4


@both_backends
def test_embedding_is_batched(fake_index):
    fake_index.indexer.ingest([SEEDS])
    assert fake_index.embedder.calls == [len(fake_index.catalog.vector_ids())]


@both_backends
def test_interrupted_ingestion_is_completed_by_a_rerun(catalog, tmp_path):
    folder = _folder(tmp_path)
    store, embedder = MemoryStore(), FakeEmbedder()
    indexer = Indexer(embedder, store, catalog, chunk_chars=200)
    full = indexer.ingest([folder])
    # Simulate a crash between the vector write and the catalog write, and one between a delete's two halves.
    lost = sorted(catalog.chunk_ids())[:3]
    store.delete(lost)
    store.upsert(["orphan-1"], embedder.embed_passages(["x"]))
    report = indexer.ingest([folder])
    assert report.added == 3 and report.chunks == full.chunks
    assert store.ids() == catalog.vector_ids()


def test_large_catalogs_leave_very_common_terms_out_of_the_lexical_query(tmp_path, monkeypatch):
    import retrieval.stores.catalog as catalog_module
    from retrieval.stores.catalog import Catalog
    from retrieval.chunking import Chunk
    from retrieval.documents import Document

    catalog = Catalog(tmp_path / "c.sqlite3")
    doc = Document(title="T", text="x", doc_id="d")
    chunks = [Chunk(f"c{i}", "d", "T", f"commun mot{i} " + ("rare" if i == 7 else ""), i, 0, 1) for i in range(20)]
    catalog.add([doc], chunks)
    assert catalog._common_terms("commun rare") == set()  # a small catalog keeps every term
    monkeypatch.setattr(catalog_module, "SKIP_FROM_ROWS", 10)
    assert catalog._common_terms("commun rare") == {"commun"}
    assert [cid for cid, _ in catalog.search("commun rare", 5)] == ["c7"]
    assert catalog._common_terms("commun") == set()  # nothing rare: the rarest terms are kept


def test_the_cached_chunk_count_follows_writes_from_this_and_other_connections(tmp_path):
    from retrieval.stores.catalog import Catalog
    from retrieval.chunking import Chunk
    from retrieval.documents import Document

    path = tmp_path / "c.sqlite3"
    catalog, other = Catalog(path), Catalog(path)

    def add(into, doc_id, n):
        into.add([Document(title="T", text="x", doc_id=doc_id)], [Chunk(f"{doc_id}-{i}", doc_id, "T", f"mot{i}", i, 0, 1) for i in range(n)])

    add(catalog, "a", 3)
    assert catalog._chunk_count() == 3 and catalog._chunk_count() == 3  # the second call is served from the cache
    add(catalog, "b", 2)
    assert catalog._chunk_count() == 5  # this connection wrote
    add(other, "c", 4)
    assert catalog._chunk_count() == 9  # another connection (another process, in real use) wrote
    other.remove_docs(["a"])
    assert catalog._chunk_count() == 6
    catalog.close()
    other.close()
