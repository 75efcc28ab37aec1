"""Feeds from the loopback news site: RSS and Atom, conditional GET, edits, failures reported by name, back-off."""

import time

import pytest

from retrieval.errors import FetchError
from retrieval.sources.feeds import FeedStore, parse_feed
from retrieval.sources.refresh import MAX_ITEMS, Refresher
from tests.conftest import both_backends
from tests.news_site import ATOM, FR_ITEMS, RSS, article_html, atom, rss


@pytest.fixture
def feeds(tmp_path, database_url):
    store = FeedStore(tmp_path / "feeds.sqlite3", database_url)
    yield store
    store.close()


@pytest.fixture
def refresher(feeds, fetcher, fake_index):
    return Refresher(feeds, fetcher, fake_index.indexer, interval_s=60)


def _serve_standard(site):
    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
    site.pages["/feeds/en.atom"] = (ATOM, atom("Courier", [
        {"title": "Council budget", "link": f"{site.url}/news/council-budget", "summary": "A record budget."},
        {"title": "Gone", "link": f"{site.url}/status/404", "summary": "This page was removed."}]))


@both_backends
def test_rss_with_content_and_atom_with_links_then_a_second_refresh_adds_nothing(site, feeds, refresher, fake_index):
    _serve_standard(site)
    feeds.add(f"{site.url}/feeds/fr.xml", "le-fil")
    feeds.add(f"{site.url}/feeds/en.atom", "courier")
    first = refresher.refresh_all()
    assert (first.feeds, first.items, first.added, first.updated) == (2, 4, 3, 0)
    assert first.failed == [{"feed": "courier", "item": f"{site.url}/status/404", "reason": f"{site.url}/status/404: HTTP 404"}]
    hit = fake_index.searcher.search("inondations Gard Alès", 1)[0].chunk
    assert hit.source == "le-fil" and hit.published_at == "2025-06-10T06:00:00+00:00" and hit.published_kind == "feed"
    budget = fake_index.searcher.search("council budget tram", 1)[0].chunk
    assert budget.published_at == "2025-05-02T14:15:00+00:00" and budget.published_kind == "published"
    docs = fake_index.catalog.counts()
    again = refresher.refresh_all()
    assert (again.added, again.updated, again.passages, again.not_modified) == (0, 0, 0, 2)
    assert fake_index.catalog.counts() == docs
    assert site.hits["/news/council-budget"] == 1  # a 304 feed costs one request, no page and no embedding


@both_backends
def test_an_edited_item_replaces_its_passages(site, feeds, refresher, fake_index):
    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
    feeds.add(f"{site.url}/feeds/fr.xml", "le-fil")
    refresher.refresh_all()
    before = fake_index.catalog.counts()
    edited = [dict(FR_ITEMS[0], content=FR_ITEMS[0]["content"].replace("une cinquantaine", "plus de deux cents")), FR_ITEMS[1]]
    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", edited))
    report = refresher.refresh_all()
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert fake_index.catalog.counts() == before
    text = fake_index.searcher.search("évacué habitants Alès", 1)[0].chunk.text
    assert "plus de deux cents" in text and "cinquantaine" not in text


@both_backends
def test_broken_feeds_are_named_and_the_rest_goes_in(site, feeds, refresher, fake_index):
    _serve_standard(site)
    for name, path in [("html", "/feeds/html"), ("broken", "/feeds/broken.xml"), ("missing", "/status/404"),
                       ("error", "/status/500"), ("slow", "/slow"), ("trickle", "/trickle"), ("good", "/feeds/fr.xml")]:
        feeds.add(site.url + path, name)
    report = refresher.refresh_all()
    reasons = {f["feed"]: f["reason"] for f in report.failed}
    assert set(reasons) == {"html", "broken", "missing", "error", "slow", "trickle"}
    assert "an HTML page, not a feed" in reasons["html"] and "not a valid feed" in reasons["broken"]
    assert "HTTP 404" in reasons["missing"] and "HTTP 500" in reasons["error"]
    assert "no answer in time" in reasons["slow"] and "too slow" in reasons["trickle"]
    assert report.added == 2 and fake_index.catalog.counts()[0] == 2
    listed = {f.name: f for f in feeds.all()}
    assert listed["html"].last_error == reasons["html"] and listed["html"].next_try > time.time() + 60
    assert listed["good"].last_error is None and listed["good"].items == 2
    assert [f.name for f in feeds.due()] == ["good"]  # failing feeds are backed off, not retried in a loop


def test_a_feed_with_5000_items_reads_the_newest_few_hundred(site, feeds, fake_index):
    from retrieval.sources.fetch import FetchConfig, Fetcher

    refresher = Refresher(feeds, Fetcher(FetchConfig(allow_private=True)), fake_index.indexer)
    items = [{"title": f"Dépêche {i}", "link": f"http://fr.example/d{i}", "guid": f"d{i}",
              "content": article_html(f"Dépêche {i}", [f"Le conseil municipal numéro {i} a voté le budget de la commune " * 4])}
             for i in range(5000)]
    site.pages["/feeds/big.xml"] = (RSS, rss("Archive", items))
    feeds.add(f"{site.url}/feeds/big.xml", "archive")
    report = refresher.refresh_all()
    assert report.items == report.added == MAX_ITEMS and report.failed == []
    assert feeds.find("archive").items == 5000


def test_xml_entity_expansion_and_external_entities_are_refused():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><rss version="2.0"><channel><title>&c;</title></channel></rss>')
    external = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<rss version="2.0"><channel><title>&x;</title><item><title>&x;</title></item></channel></rss>')
    for body in (laughs, external):
        with pytest.raises(FetchError, match="declares XML entities"):
            parse_feed(body, "http://feed.example/rss")


@both_backends
def test_feed_names_are_unique_and_a_feed_is_followed_once(feeds):
    a = feeds.add("http://news.example/rss")
    b = feeds.add("http://news.example/other.rss")
    assert (a.name, b.name) == ("news.example", "news.example-2")
    with pytest.raises(Exception, match="already followed"):
        feeds.add("http://news.example/rss")
    assert feeds.remove("news.example-2").url == "http://news.example/other.rss"
    assert [f.name for f in feeds.all()] == ["news.example"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_sharing_the_database_refresh_one_at_a_time(site, feeds, fetcher, fake_index, tmp_path, database_url):
    _serve_standard(site)
    feeds.add(f"{site.url}/feeds/fr.xml", "le-fil")
    other = FeedStore(tmp_path / "other.sqlite3", database_url)  # another replica: its own pool, the same tables
    try:
        assert [f.name for f in other.all()] == ["le-fil"]
        mine, theirs = Refresher(feeds, fetcher, fake_index.indexer), Refresher(other, fetcher, fake_index.indexer)
        with other.refresh_turn() as held:  # the other replica is refreshing
            assert held
            skipped = mine.refresh_all()
        assert skipped.skipped and skipped.feeds == 0 and site.hits.get("/feeds/fr.xml", 0) == 0
        done = mine.refresh_all()  # its turn was given back
        assert not done.skipped and done.added == 2
        again = theirs.refresh_all()  # the other replica sees the items already read
        assert (again.added, again.not_modified) == (0, 1)
    finally:
        other.close()
