"""Private data: the data folder 0700 and its files 0600, nothing stored with history off, no users' text in debug logs."""

from __future__ import annotations

import logging
import sqlite3
import stat

import pytest

from bot.core.events import Source
from bot.telegram.history import ConversationStore


def _mode(path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """A permissive umask, as on a default system, so the modes come from newsbot and not from the test run."""
    import os

    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_data_folder_and_its_files_are_the_owners_only(settings, open_umask):
    from bot.app import open_index
    from tests.fakes import FakeEmbedder, MemoryStore

    index = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    try:
        data = settings.data_dir
        assert _mode(data) == 0o700 and _mode(data / "models") == 0o700
        assert _mode(data / "catalog.sqlite3") == 0o600 and _mode(data / "newsbot.lock") == 0o600
    finally:
        index.close()


def test_an_existing_world_readable_data_folder_is_tightened(settings, open_umask):
    from bot.app import ensure_data_dir

    settings.data_dir.mkdir(mode=0o755)
    (settings.data_dir / "catalog.sqlite3").touch(mode=0o644)
    ensure_data_dir(settings)
    from retrieval.stores.catalog import Catalog

    Catalog(settings.data_dir / "catalog.sqlite3").close()
    assert _mode(settings.data_dir) == 0o700 and _mode(settings.data_dir / "catalog.sqlite3") == 0o600


def test_a_chats_language_survives_a_restart_when_history_is_kept(tmp_path):
    """The language of a chat's last question is kept beside its turns, the newest one winning."""
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path, keep=2)
    store.set_language(-5, "en")
    store.set_language(-5, "fr")
    store.close()
    store = ConversationStore(path, keep=2)
    assert store.language(-5) == "fr" and store.language(-6) is None
    store.close()


def test_conversations_are_the_owners_only_wal_included(tmp_path, open_umask):
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path, keep=2)
    store.add(1, "q", "a", [])
    for file in tmp_path.iterdir():
        assert _mode(file) == 0o600, file.name
    store.close()


def test_with_history_off_no_message_is_stored(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path, keep=0)
    source = Source(1, "d1", "Meta et Scale AI", "c1", "Meta investit.", 0.9, 0, 14, url="https://example.org/a")
    store.add(7, "ma question secrète", "la réponse", [source])
    store.set_language(7, "fr")
    assert store.recent(7) == []
    assert store.last_sources(7) == [source]  # /sources still works, from memory
    assert store.language(7) == "fr"  # so does the scheduled digest's language
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM chat_languages").fetchone()[0] == 0
    assert "secrète".encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


@pytest.mark.parametrize("verbose", [False, True])
def test_the_telegram_library_never_logs_below_info(verbose):
    from bot.cli.main import configure_logging

    configure_logging(verbose)
    for name in ("telegram", "telegram.ext", "httpx"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
