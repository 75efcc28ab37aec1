"""The index on a real Chroma server (`chroma run` on loopback): ingestion and answers, two writing processes, outages.

The catalog (SQLite, FTS5) stays in the data directory, shared by the processes of one host (docs/deploy.md).
"""

import http.server
import json
import os
import random
import subprocess
import sys
import threading

import pytest

from bot.app import build_answerer, open_index
from bot.core.events import Done, Token
from bot.settings import Settings
from retrieval.errors import IndexDamaged
from retrieval.stores.chroma import ChromaStore
from tests.conftest import ROOT, SEEDS
from tests.fakes import FakeEmbedder, FakeGenerator
from tests.servers import chroma, chroma_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow
QUESTION = "Combien Meta prévoit-il d'investir dans Scale AI ?"
N_ARTICLES = 15  # per process


def _settings(tmp_path, url, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", model="bundled", chroma_url=url, _env_file=None, **kw)


def test_ingest_and_answer_through_the_server(tmp_path, chroma_server):  # noqa: F811
    settings = _settings(tmp_path, chroma_server.url)
    index = open_index(settings)
    try:
        assert index.lock is None  # a server is shared: no data-directory lock
        report = index.indexer.ingest([SEEDS], progress=False)
        assert report.added == report.chunks > 3
        assert index.store.ids() == index.catalog.vector_ids()
        answerer = build_answerer(settings, index, FakeGenerator())
        events = list(answerer.answer_sync(QUESTION))
        answerer.close()
    finally:
        index.close()
    done = events[-1]
    assert isinstance(done, Done) and any(isinstance(e, Token) for e in events)
    assert done.sources and all("Scale AI" in s.title for s in done.sources)


def _articles(folder, tag: str, n: int) -> None:
    """``n`` made-up articles of a few paragraphs each."""
    rng = random.Random(tag)
    words = "marché banque énergie élection climat usine startup contrat budget réseau satellite récolte".split()
    folder.mkdir(parents=True)
    for i in range(n):
        paras = [" ".join(rng.choice(words) for _ in range(70)) + "." for _ in range(3)]
        (folder / f"{tag}-{i:03d}.txt").write_text(f"Article {tag} {i}\n\n" + "\n\n".join(paras), encoding="utf-8")


def test_two_processes_ingest_into_one_server_at_once(tmp_path, chroma_server):  # noqa: F811
    _articles(tmp_path / "a", "alpha", N_ARTICLES)
    _articles(tmp_path / "b", "beta", N_ARTICLES)
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(tmp_path / "data"), "NEWSBOT_CHROMA_URL": chroma_server.url}
    procs = [
        subprocess.Popen([sys.executable, "-m", "bot", "ingest", "--json", str(tmp_path / f), str(SEEDS)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for f in ("a", "b")
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    reports = [json.loads(out) for out, _ in outs]
    assert all(r["added"] >= N_ARTICLES for r in reports)  # each wrote its own folder (and the seeds, which both saw as new)
    index = open_index(_settings(tmp_path, chroma_server.url), embedder=_e5())
    try:
        docs, chunks = index.catalog.counts()
        seeds = len(list(SEEDS.glob("*"))) and 3  # the seed file holds three articles
        assert docs == 2 * N_ARTICLES + seeds
        vectors = index.catalog.vector_ids()
        assert index.store.ids() == vectors and index.store.count() == len(vectors) >= chunks
        titles = {t for _, t, _, _ in index.catalog.documents()}
        assert {f"Article alpha {i}" for i in range(N_ARTICLES)} | {f"Article beta {i}" for i in range(N_ARTICLES)} <= titles
    finally:
        index.close()


def _e5():
    from retrieval.embedding.e5 import E5Embedder

    return E5Embedder()


def test_server_going_away_is_one_line_and_the_index_recovers(tmp_path):
    server = chroma(tmp_path / "chroma", tmp_path).start()
    try:
        settings = _settings(tmp_path, server.url, abstain_threshold=-1.0)
        index = open_index(settings, embedder=FakeEmbedder())
        index.indexer.ingest([SEEDS], progress=False)
        answerer = build_answerer(settings, index, FakeGenerator())
        assert list(answerer.answer_sync(QUESTION))[-1].sources
        server.kill()
        with pytest.raises(IndexDamaged) as err:
            list(answerer.answer_sync(QUESTION))
        msg = str(err.value)
        assert msg.startswith(f"cannot reach the Chroma server at {server.url}") and "\n" not in msg
        server.start()
        done = list(answerer.answer_sync(QUESTION))[-1]
        assert isinstance(done, Done) and done.sources
        answerer.close()
        index.close()
    finally:
        server.stop()


def test_unreachable_server_at_start_is_one_line(tmp_path):
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(IndexDamaged) as err:
        open_index(_settings(tmp_path, url), embedder=FakeEmbedder())
    assert str(err.value).startswith(f"cannot reach the Chroma server at {url} (") and "\n" not in str(err.value)


class _OldChroma(http.server.BaseHTTPRequestHandler):
    """A server that answers the version check like a Chroma of another generation."""

    version = "0.6.3"

    def do_GET(self):  # noqa: N802
        if self.path == "/api/v2/version" and self.version:
            body = json.dumps(self.version).encode()
            self.send_response(200)
        else:
            body = b'{"detail":"Not Found"}'
            self.send_response(404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("version, expected", [("0.6.3", "(server API 0.6.3)"), (None, "(it has no /api/v2: an older server)")])
def test_version_mismatch_is_one_line(version, expected):
    handler = type("Handler", (_OldChroma,), {"version": version})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with pytest.raises(IndexDamaged) as err:
            ChromaStore.http(url, {}, "fake-embedder", 64)
    finally:
        httpd.shutdown()
        httpd.server_close()
    msg = str(err.value)
    assert msg.startswith(f"the Chroma server at {url} is not compatible with newsbot's chromadb 1.") and msg.endswith(expected)
    assert "\n" not in msg
