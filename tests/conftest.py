"""Shared fixtures: settings in a temporary data directory, and the fakes wired into a real catalog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator, MemoryStore

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "meta-scale-ai-investissement.txt"

# Tests never reach the network: model downloads go to a dead local port unless a test starts a fake server.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
for key in list(os.environ):
    if key.startswith("NEWSBOT_"):
        del os.environ[key]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh data directory and the bundled model."""
    return Settings(data_dir=tmp_path / "data", model="bundled", _env_file=None)


@pytest.fixture
def fake_index(settings):
    """An index over the fake embedder and an in-memory vector store, with the real catalog and indexer."""
    from bot.app import open_index

    index = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    yield index
    index.close()


@pytest.fixture
def fake_generator() -> FakeGenerator:
    """A generator that streams canned answers."""
    return FakeGenerator()


def make_answerer(settings: Settings, searcher, generator, **overrides):
    """The real answer loop with the settings' knobs (``overrides`` replace some, e.g. abstain_threshold=0.0)."""
    import dataclasses

    from bot.app import answer_config
    from bot.core.answer import Answerer
    from bot.core.prompting import Templates

    return Answerer(searcher, generator, Templates.load(), dataclasses.replace(answer_config(settings), **overrides))


@pytest.fixture
def answerer(settings, fake_index, fake_generator):
    """The real answer loop over the seed articles, with the fake embedder, store and generator; never abstains."""
    fake_index.indexer.ingest([SEEDS])
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, top_k=3, abstain_threshold=0.0)
    yield answerer
    answerer.close()


def pytest_unconfigure(config):
    """Close the /dev/null files llama-cpp-python opens at import and never closes (a ResourceWarning at exit)."""
    import sys

    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        handle = getattr(utils, name, None)
        if handle is not None:
            handle.close()
