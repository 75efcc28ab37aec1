"""Damaged files and hostile machines: bad models, corrupted indexes, read-only data, full disks. One line, a remedy, exit 1."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.backends.model_files import bundled_model_path
from retrieval.stores.catalog import Catalog
from retrieval.chunking import Chunk
from retrieval.documents import Document
from bot.hints import explain
from retrieval.errors import IndexDamaged
from retrieval.stores.chroma import ChromaStore
from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow
QUESTION = "Combien Meta investit-il dans Scale AI ?"


def _cli(args, data_dir, user: int | None = None, **env):
    """Run `python -m bot ARGS` in its own data directory, as ``user`` when given."""
    full = {**os.environ, "NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_MODEL": "bundled", **env}
    if user is not None:
        full["HOME"] = str(data_dir.parent)
    # The interpreter lives under /root (mode 700): the user keeps CAP_DAC_READ_SEARCH to read it, and nothing to write.
    prefix = [] if user is None else [
        "setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
        "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
    ]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bot", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=300
    )


def _one_line_error(run, *fragments: str) -> None:
    """Exit 1, stderr one `newsbot: error:` line holding every fragment, no traceback."""
    assert run.returncode == 1, (run.returncode, run.stderr)
    lines = [line for line in run.stderr.splitlines() if line.startswith("newsbot: error:")]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A data directory with seeds/ ingested by the real CLI, copied by each test."""
    data = tmp_path_factory.mktemp("template") / "data"
    run = _cli(["ingest", str(SEEDS)], data)
    assert run.returncode == 0, run.stderr
    return data


@pytest.fixture
def data(template, tmp_path) -> Path:
    """A private copy of the template data directory."""
    return Path(shutil.copytree(template, tmp_path / "data"))


# --- model files -------------------------------------------------------------------------------


def test_missing_truncated_and_random_model_files(data, tmp_path):
    missing = tmp_path / "nope.gguf"
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(bundled_model_path().read_bytes()[: 3 * 1024 * 1024])
    random_bytes = tmp_path / "random.gguf"
    random_bytes.write_bytes(os.urandom(256 * 1024))
    for path, what in [(missing, "not found"), (truncated, "truncated"), (random_bytes, "not a GGUF")]:
        _one_line_error(_cli(["ask", QUESTION], data, NEWSBOT_MODEL=str(path)), str(path), what)


# --- damaged index -----------------------------------------------------------------------------


def _scribble(path: Path) -> None:
    """Overwrite 16 KiB in the middle of a file with random bytes."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2 - 8192)
        f.write(os.urandom(16384))


@pytest.mark.parametrize("damage", ["scribble", "truncate"])
def test_corrupted_chroma_sqlite_gives_the_remedy_and_rebuild_recovers(data, damage):
    db = data / "chroma" / "chroma.sqlite3"
    if damage == "scribble":
        _scribble(db)
    else:
        os.truncate(db, db.stat().st_size // 3)
    _one_line_error(_cli(["ask", QUESTION], data), str(db), "damaged", "newsbot ingest --rebuild")
    _one_line_error(_cli(["ingest", str(SEEDS)], data), str(db), "newsbot ingest --rebuild")
    run = _cli(["ingest", "--rebuild", str(SEEDS)], data)
    assert run.returncode == 0, run.stderr
    assert "3 documents, 9 passages in the index (added 9" in run.stdout


def test_corrupted_catalog_gives_the_remedy(data):
    db = data / "catalog.sqlite3"
    with db.open("r+b") as f:  # every page but the header's: whichever tables this command reads, it meets the damage
        f.seek(4096)
        f.write(os.urandom(db.stat().st_size - 4096))
    run = _cli(["ingest", str(SEEDS)], data)
    _one_line_error(run, str(db), "newsbot ingest --rebuild")


def test_catalog_damage_becomes_index_error_naming_the_file(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    with pytest.raises(IndexDamaged, match=rf"^{path} is damaged \(.*\)$") as err:
        Catalog(path).counts()
    assert explain(err.value).endswith("; run `newsbot ingest --rebuild`")  # the edges add the command


# --- read-only data directory, as a user who is not root ---------------------------------------


NOBODY = 65534


def test_read_only_data_directory_as_a_non_root_user(data):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv (util-linux) to run as the 'nobody' user")
    for root, dirs, files in os.walk(data):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), NOBODY, NOBODY)
    os.chown(data, NOBODY, NOBODY)
    os.chown(data.parent, NOBODY, NOBODY)
    for root, dirs, files in os.walk(data):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o555)
    os.chmod(data, 0o555)
    run = _cli(["ingest", str(SEEDS)], data, user=NOBODY)
    _one_line_error(run, str(data), "writable")
    run = _cli(["ask", QUESTION], data, user=NOBODY)
    _one_line_error(run, str(data), "writable")


# --- full disk ---------------------------------------------------------------------------------


def _doc(i: int) -> tuple[Document, Chunk]:
    doc = Document(title=f"Titre {i}", text="mot " * 2000, path=f"/a/{i}.txt")
    return doc, Chunk(f"{doc.doc_id}-c", doc.doc_id, doc.title, doc.text, 0, 0, len(doc.text))


def test_full_disk_in_the_catalog_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    catalog = Catalog(path)
    used = catalog._db.execute("PRAGMA page_count").fetchone()[0]
    catalog._db.execute(f"PRAGMA max_page_count={used + 8}")  # SQLITE_FULL, as on a full disk
    with pytest.raises(IndexDamaged, match=rf"^{path}: the disk is full; free some space"):
        for i in range(50):
            doc, chunk = _doc(i)
            catalog.add([doc], [chunk])
    catalog.close()


class _FullDiskCollection:
    """A Chroma collection whose writes fail with ENOSPC."""

    metadata = {"embedder": "fake", "dim": 2}

    def upsert(self, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")


class _Client:
    def get_or_create_collection(self, *args, **kwargs):
        return _FullDiskCollection()


def test_full_disk_in_chroma_is_one_line_naming_the_folder(tmp_path):
    store = ChromaStore(_Client(), "fake", 2, path=tmp_path / "chroma")
    with pytest.raises(IndexDamaged, match=rf"^the Chroma index {tmp_path / 'chroma'}: the disk is full"):
        store.upsert(["a"], np.zeros((1, 2), dtype=np.float32))


def test_sqlite_full_error_text_is_recognised():
    from retrieval.stores.catalog import db_error

    err = db_error(Path("/d/catalog.sqlite3"), sqlite3.OperationalError("database or disk is full"))
    assert str(err) == "/d/catalog.sqlite3: the disk is full; free some space and run the command again"
    err = db_error(Path("/d/catalog.sqlite3"), sqlite3.OperationalError("attempt to write a readonly database"))
    assert str(err).startswith("/d/catalog.sqlite3 is read-only")


def test_a_catalog_of_another_schema_version_is_refused_with_the_remedy(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '999' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(IndexDamaged, match=rf"^{path} was written by a newer newsbot \(catalog schema 999\); upgrade newsbot or rebuild it$") as err:
        Catalog(path)
    assert explain(err.value).endswith("; run `newsbot ingest --rebuild`")
