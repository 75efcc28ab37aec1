"""End to end with the real embedder and a real Chroma: a feed and a link from the loopback site become searchable."""

import pytest

from retrieval.sources.feeds import FeedStore
from retrieval.sources.refresh import Refresher
from retrieval.sources.links import read_links
from tests.news_site import FR_ITEMS, RSS, rss

pytestmark = pytest.mark.slow


def test_a_feed_and_a_link_are_found_by_real_search(site, fetcher, settings, tmp_path):
    from bot.app import open_index

    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
    index = open_index(settings)
    feeds = FeedStore(tmp_path / "feeds.sqlite3")
    try:
        feeds.add(f"{site.url}/feeds/fr.xml", "le-fil")
        report = Refresher(feeds, fetcher, index.indexer).refresh_all()
        assert report.added == 2 and report.failed == []
        index.indexer.ingest_keyed(read_links(fetcher, [f"{site.url}/news/council-budget"])[0], progress=False)
        top = index.searcher.search("Combien coûte la baguette ?", 1)[0].chunk
        assert top.title == "Le prix du pain augmente" and top.source == "le-fil"
        top = index.searcher.search("How many votes did the transport budget get?", 1)[0].chunk
        assert top.title.startswith("City council approves") and top.author == "Sam Patel"
        assert Refresher(feeds, fetcher, index.indexer).refresh_all().not_modified == 1
    finally:
        feeds.close()
        index.close()
