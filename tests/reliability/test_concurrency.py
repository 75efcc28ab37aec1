"""Two writers and a killed writer: the data-directory lock and batched, reconciled ingestion keep the index whole."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.stores.catalog import Catalog
from retrieval.embedding.e5 import E5Embedder
from retrieval.stores.chroma import ChromaStore
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
WORDS = "marché prix énergie banque emploi climat récolte port usine élection budget transport".split()


def _articles(folder: Path, n: int, paragraphs: int = 1) -> Path:
    """``n`` distinct generated articles of a few paragraphs each."""
    folder.mkdir()
    for i in range(n):
        paras = [
            " ".join(f"Le {WORDS[(i + j + k) % len(WORDS)]} numéro {i}-{j}-{k} a changé." for k in range(12))
            for j in range(paragraphs)
        ]
        (folder / f"article-{i:03d}.txt").write_text(f"Article {i}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")
    return folder


def _start(args, data_dir) -> subprocess.Popen:
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(data_dir)}
    return subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _state(data_dir: Path) -> tuple[set[str], set[str], int]:
    """(vector ids the catalog expects, ids in Chroma, FTS rows)."""
    catalog = Catalog(data_dir / "catalog.sqlite3")
    store = ChromaStore.persistent(data_dir / "chroma", E5Embedder.name, E5Embedder.dim)
    try:
        return catalog.vector_ids(), store.ids(), catalog.fts_rows()  # vector ids: passages and their sub-chunks
    finally:
        catalog.close()


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """A folder of 200 articles and the chunk ids a single clean ingestion gives."""
    base = tmp_path_factory.mktemp("clean")
    folder = _articles(base / "articles", 200)
    proc = _start(["ingest", str(folder)], base / "data")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    ids, vectors, fts = _state(base / "data")
    assert ids == vectors and fts >= 200
    return folder, ids, fts


def test_two_concurrent_ingests_one_refused_or_waiting_and_no_duplicates(clean_run, tmp_path):
    folder, expected, fts_expected = clean_run
    data = tmp_path / "data"
    a, b = _start(["ingest", str(folder)], data), _start(["ingest", str(folder)], data)
    (_, err_a), (_, err_b) = a.communicate(timeout=600), b.communicate(timeout=600)
    codes = sorted([a.returncode, b.returncode])
    refused = [err for proc, err in ((a, err_a), (b, err_b)) if proc.returncode != 0]
    assert codes in ([0, 0], [0, 1]), (err_a, err_b)
    for err in refused:
        assert "newsbot: error: another newsbot process (pid " in err and f"is using {data}" in err
        assert "newsbot ingest --wait SECONDS" in err and "Traceback" not in err
    ids, vectors, fts = _state(data)
    assert ids == vectors == expected and fts == fts_expected
    # With --wait, the second writer queues behind the first and both succeed.
    c, d = _start(["ingest", "--wait", "300", str(folder)], data), _start(["ingest", "--wait", "300", str(folder)], data)
    c.communicate(timeout=600), d.communicate(timeout=600)
    assert c.returncode == 0 and d.returncode == 0
    ids, vectors, fts = _state(data)
    assert ids == vectors == expected and fts == fts_expected


def test_kill_9_during_ingestion_then_a_rerun_completes_without_duplicates(clean_run, tmp_path):
    folder, expected, fts_expected = clean_run
    data = tmp_path / "data"
    proc = _start(["ingest", str(folder)], data)
    db = data / "catalog.sqlite3"
    deadline = time.monotonic() + 300
    written = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                    written = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            except sqlite3.Error:
                written = 0
            if written:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the ingestion finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert 0 < written < fts_expected
    rerun = _start(["ingest", str(folder)], data)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    ids, vectors, fts = _state(data)
    assert ids == vectors == expected and fts == fts_expected
    assert f"{fts_expected} passages in the index" in out
