"""Fixtures for the news-source tests: the loopback news site and a fetcher allowed to reach it."""

import pytest

from retrieval.sources.fetch import FetchConfig, Fetcher
from tests.news_site import NewsSite


@pytest.fixture
def site():
    """A fresh news site on loopback."""
    server = NewsSite().start()
    yield server
    server.stop()


@pytest.fixture
def fetcher():
    """A fetcher allowed to reach loopback (the test site), with short limits so the slow cases stay short."""
    f = Fetcher(FetchConfig(allow_private=True, connect_timeout_s=2, read_timeout_s=1.5, deadline_s=3, max_bytes=1024 * 1024),
                sleep=lambda s: None)
    yield f
    f.close()
