"""Shared fixtures: settings in a temporary data directory, and the fakes wired into a real catalog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from bot.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator, MemoryStore

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "meta-scale-ai-investissement.txt"
SEED_DATE_LINE = "Publié le 10 juin 2025"  # the seed article's own date, on the line under its title

# Shared 2-core machines stall a test now and then: property tests bound their examples, not their wall time.
hypothesis_settings.register_profile("newsbot", deadline=None)
hypothesis_settings.load_profile("newsbot")

# Tests never reach the network: model downloads go to a dead local port unless a test starts a fake server.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
# `make test` sets it so CI fails, rather than skips, the PostgreSQL tests when the server cannot start (tests/postgres.py).
REQUIRE_POSTGRES = os.environ.get("NEWSBOT_REQUIRE_POSTGRES") == "1"
for key in list(os.environ):
    if key.startswith("NEWSBOT_"):
        del os.environ[key]


# A module or test marked with this runs once on the SQLite files and once on a fresh PostgreSQL database.
both_backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def database_url(request) -> str | None:
    """None (the SQLite files, the default), or a fresh PostgreSQL database's URL under ``both_backends``."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("pg_url")
    return None


@pytest.fixture
def settings(tmp_path: Path, database_url) -> Settings:
    """Settings with a fresh data directory and the bundled model (and the test's database, under ``both_backends``)."""
    return Settings(data_dir=tmp_path / "data", model="bundled", database_url=database_url, _env_file=None)


@pytest.fixture
def catalog(tmp_path: Path, database_url):
    """A fresh catalog: a SQLite file, or the test's PostgreSQL database under ``both_backends``."""
    from retrieval.stores.catalog import open_catalog

    opened = open_catalog(tmp_path / "catalog.sqlite3", database_url)
    yield opened
    opened.close()


@pytest.fixture
def fake_index(settings):
    """An index over the fake embedder and an in-memory vector store, with the real catalog and indexer."""
    from bot.app import open_index

    index = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    yield index
    index.close()


def undated_seed_text() -> str:
    """The seed file's text without its date line: the same articles, which only the ingestion time can date."""
    from retrieval.dates.extract import date_in_text

    lines = SEED_FILE.read_text(encoding="utf-8").split("\n")
    text = "\n".join(line for i, line in enumerate(lines) if not (i < 4 and line.strip() == SEED_DATE_LINE))
    assert date_in_text(text) is None, "the seed file has a date line that undated_seed_text does not strip"
    return text


@pytest.fixture
def undated_seed(tmp_path: Path) -> Path:
    """The seed file without its date line, alone in a folder of its own under the same name (for `ingest`)."""
    folder = tmp_path / "undated-seed"
    folder.mkdir()
    path = folder / SEED_FILE.name
    path.write_text(undated_seed_text(), encoding="utf-8")
    return path


@pytest.fixture
def fake_generator() -> FakeGenerator:
    """A generator that streams canned answers."""
    return FakeGenerator()


def make_answerer(settings: Settings, searcher, generator, clock=None, **overrides):
    """The real answer loop with the settings' knobs (``overrides`` replace some, e.g. abstain_threshold=0.0), on ``clock``."""
    import dataclasses

    from bot.app import answer_config
    from bot.core.answer import Answerer
    from bot.core.prompting import Templates

    return Answerer(searcher, generator, Templates.load(), dataclasses.replace(answer_config(settings), **overrides), clock)


@pytest.fixture
def answerer(settings, fake_index, fake_generator):
    """The real answer loop over the seed articles, with the fake embedder, store and generator; never abstains."""
    fake_index.indexer.ingest([SEEDS])
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, top_k=3, abstain_threshold=0.0)
    yield answerer
    answerer.close()


from tests.postgres import pg_cluster, pg_url  # noqa: E402,F401  (the PostgreSQL fixtures, for every test folder)


def pytest_unconfigure(config):
    """Close the /dev/null files llama-cpp-python opens at import and never closes (a ResourceWarning at exit)."""
    import sys

    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        handle = getattr(utils, name, None)
        if handle is not None:
            handle.close()
