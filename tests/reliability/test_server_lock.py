"""With a Chroma server: processes share the data directory, `ingest --rebuild` never runs under them and rebuilds both sides."""

from __future__ import annotations

import pytest

from bot.app import open_index
from bot.cli.main import _wipe_index
from bot.settings import Settings
from retrieval.errors import IndexDamaged, LockedError
from tests.conftest import SEEDS
from tests.fakes import FakeEmbedder, MemoryStore
from tests.servers import chroma_server  # noqa: F401  (fixture)

DEAD = "http://127.0.0.1:9"  # never contacted: the store is given, and the lock is refused before any call


def _settings(tmp_path, url=DEAD) -> Settings:
    return Settings(data_dir=tmp_path / "data", model="bundled", chroma_url=url, _env_file=None)


def test_bots_share_the_data_directory_but_rebuild_waits_for_them(tmp_path):
    settings = _settings(tmp_path)
    bot = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    replica = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())  # a second replica: allowed
    try:
        bot.indexer.ingest([SEEDS])
        catalog = settings.data_dir / "catalog.sqlite3"
        with pytest.raises(LockedError, match="another newsbot process"):
            _wipe_index(settings)
        assert catalog.exists() and bot.catalog.counts()[1] > 0  # the running bot's catalog was not unlinked
    finally:
        bot.close()
        replica.close()


def test_rebuild_is_refused_then_allowed_once_the_bot_stops(tmp_path):
    settings = _settings(tmp_path)
    bot = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    with pytest.raises(LockedError):
        _wipe_index(settings)
    bot.close()
    with pytest.raises(IndexDamaged, match="127.0.0.1:9"):  # now it gets as far as the server (dead here)
        _wipe_index(settings)


@pytest.mark.slow
def test_rebuild_drops_the_servers_collection_so_an_embedder_change_is_repaired(tmp_path, chroma_server):  # noqa: F811
    from retrieval.stores.chroma import ChromaStore

    settings = _settings(tmp_path, chroma_server.url)
    old = ChromaStore.http(chroma_server.url, {}, "old-embedder", 8)
    old.upsert(["a"], __import__("numpy").ones((1, 8), dtype="float32"))
    old.close()
    with pytest.raises(IndexDamaged, match="built with embedder 'old-embedder'"):
        ChromaStore.http(chroma_server.url, {}, "new-embedder", 16)
    _wipe_index(settings)
    new = ChromaStore.http(chroma_server.url, {}, "new-embedder", 16)
    try:
        assert new.count() == 0
    finally:
        new.close()
