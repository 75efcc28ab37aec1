"""The same article twice (two files, two JSONL records, a copy of the seed file) is stored once, with every origin."""

import json
import sqlite3
import shutil

import pytest

from retrieval.documents import Document
from retrieval.stores.catalog import Catalog
from tests.conftest import SEED_FILE, both_backends


def _origins(index, title):
    """The (file name, source) pairs recorded for the document with this title."""
    doc_id = next(d for d, t, _, _ in index.catalog.documents() if t == title)
    return sorted((p.rsplit("/", 1)[-1], s) for p, s in index.catalog.origins(doc_id))


@both_backends
def test_two_files_with_the_same_article_are_stored_once(fake_index, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    text = "Grève à la SNCF\n\nLes cheminots ont cessé le travail mardi à Lyon.\n"
    (folder / "one.txt").write_text(text, encoding="utf-8")
    (folder / "two.txt").write_text(text, encoding="utf-8")
    report = fake_index.indexer.ingest([folder])
    assert report.skipped == [] and report.documents == 1 and report.added == report.chunks == 1
    assert _origins(fake_index, "Grève à la SNCF") == [("one.txt", "one.txt"), ("two.txt", "two.txt")]
    again = fake_index.indexer.ingest([folder])
    assert (again.added, again.removed, again.unchanged) == (0, 0, 1)
    (folder / "one.txt").unlink()
    kept = fake_index.indexer.ingest([folder])  # the other copy still holds the article
    assert (kept.removed, kept.documents) == (0, 1)
    assert _origins(fake_index, "Grève à la SNCF") == [("two.txt", "two.txt")]
    (folder / "two.txt").unlink()
    gone = fake_index.indexer.ingest([folder])
    assert (gone.removed, gone.documents, gone.chunks) == (1, 0, 0)
    assert fake_index.store.ids() == set()


@both_backends
def test_identical_jsonl_records_from_two_outlets_keep_both_sources(fake_index, tmp_path):
    record = {"title": "Dépêche", "text": "Le gouvernement a annoncé un plan pour l'hôpital public."}
    lines = [json.dumps({**record, "source": "AFP"}), json.dumps({**record, "source": "Reuters"}), json.dumps(record)]
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = fake_index.indexer.ingest([path])
    assert report.skipped == [] and report.documents == 1 and report.added == 1
    assert _origins(fake_index, "Dépêche") == [("wire.jsonl", "AFP"), ("wire.jsonl", "Reuters"), ("wire.jsonl", "wire.jsonl")]
    assert fake_index.store.ids() == fake_index.catalog.vector_ids()


@both_backends
def test_a_copy_of_the_seed_file_adds_nothing_and_renaming_keeps_the_passages(fake_index, tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / "seed.txt")
    first = fake_index.indexer.ingest([folder])
    shutil.copy(SEED_FILE, folder / "copie.txt")
    report = fake_index.indexer.ingest([folder])
    assert report.skipped == [] and (report.added, report.removed, report.documents) == (0, 0, first.documents)
    (folder / "seed.txt").rename(folder / "renamed.txt")
    (folder / "copie.txt").unlink()
    moved = fake_index.indexer.ingest([folder])
    assert (moved.removed, moved.documents, moved.chunks) == (0, first.documents, first.chunks)
    assert fake_index.store.ids() == fake_index.catalog.vector_ids()


def test_a_v1_catalog_is_migrated_in_place(tmp_path):
    import sqlite3

    path = tmp_path / "catalog.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema', '1');"
        "CREATE TABLE documents (doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, url TEXT, date TEXT,"
        " source TEXT, length INTEGER NOT NULL);"
        "INSERT INTO documents VALUES ('d1', '/x/a.txt', 'Titre', 'https://ex.org/a', '2025-06-10', 'a.txt', 10);"
    )
    db.commit()
    db.close()
    catalog = Catalog(path)
    assert catalog.rows("SELECT value FROM meta WHERE key = 'schema'") == [("2",)]
    assert catalog.docs_for_paths(["/x/a.txt"]) == {"/x/a.txt": ["d1"]}
    assert catalog.origins("d1") == [("/x/a.txt", "a.txt")]
    catalog.close()


def test_a_catalog_from_a_newer_newsbot_is_refused_with_a_remedy(tmp_path):
    from retrieval.errors import IndexDamaged

    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(IndexDamaged, match="newer newsbot") as refused:
        Catalog(path)
    assert refused.value.remedy == "rebuild"  # the CLI and Telegram edges turn it into `newsbot ingest --rebuild`


def test_a_refused_write_is_not_called_damage(tmp_path):
    from retrieval.errors import IndexDamaged

    catalog = Catalog(tmp_path / "catalog.sqlite3")
    with pytest.raises(IndexDamaged) as caught:
        catalog.add([Document(title=None, text="x", path="/x")], [])  # NOT NULL, refused by SQLite in a sound file
    assert "damaged" not in str(caught.value) and "nothing was lost" in str(caught.value)


def test_ingest_json_prints_its_object_when_it_fails(settings, monkeypatch, capsys, tmp_path):
    from bot.app import ensure_data_dir
    from bot.cli.main import main
    from retrieval.stores.lock import DataDirLock

    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(settings.data_dir))
    lock = DataDirLock(ensure_data_dir(settings)).acquire()
    try:
        assert main(["ingest", "--json", str(tmp_path)]) == 1
    finally:
        lock.release()
    out, err = capsys.readouterr()
    assert "another newsbot process" in json.loads(out)["error"] and err.startswith("newsbot: error:")


@pytest.mark.slow
def test_a_refused_chroma_batch_is_not_reported_as_damage(tmp_path):
    import numpy as np

    from retrieval.errors import IndexDamaged
    from retrieval.stores.chroma import ChromaStore

    store = ChromaStore.persistent(tmp_path / "chroma", "fake", 4)
    try:
        with pytest.raises(IndexDamaged) as caught:
            store.upsert(["a", "a"], np.ones((2, 4), dtype=np.float32))
        assert "damaged" not in str(caught.value) and "nothing was lost" in str(caught.value)
        store.upsert(["a"], np.ones((1, 4), dtype=np.float32))
        assert store.count() == 1
    finally:
        store.close()
