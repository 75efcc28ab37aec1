"""Article links: fetched from the loopback news site, extracted without boilerplate, one document per canonical URL."""

import pytest

from retrieval.errors import FetchError
from retrieval.sources.links import read_link, read_links
from tests.news_site import HTML


def test_a_french_page_gives_its_article_without_boilerplate(site, fetcher):
    doc = read_link(fetcher, f"{site.url}/articles/greve-sncf?utm_source=x")
    assert doc.title == "Grève à la SNCF : le trafic très perturbé mardi"
    assert "un TGV sur trois" in doc.text
    for junk in ("cookies", "PUBLICITÉ", "Accueil", "Jean75", "Réforme des retraites : ce qui change", "Mentions légales"):
        assert junk not in doc.text
    assert (doc.url, doc.published_at, doc.author, doc.source) == (
        f"{site.url}/articles/greve-sncf", "2025-06-10T07:30:00+02:00", "Claire Dubois", "Le Quotidien")


def test_an_english_page_with_article_published_time(site, fetcher):
    doc = read_link(fetcher, f"{site.url}/news/council-budget")
    assert doc.published_at == "2025-05-02T14:15:00+00:00" and doc.author == "Sam Patel" and doc.source == "The Daily Courier"
    assert "31 votes to 12" in doc.text and "meal kits" not in doc.text and "reader42" not in doc.text


def test_a_latin1_page_declared_in_meta_with_only_a_visible_date(site, fetcher):
    doc = read_link(fetcher, f"{site.url}/vendanges")
    assert doc.title == "Vendanges précoces en Bourgogne" and "Côte-d'Or" in doc.text
    assert doc.published_at == "2025-08-28"


def test_a_page_without_an_article_is_one_line_naming_the_url(site, fetcher):
    with pytest.raises(FetchError, match=rf"^{site.url}/no-article: no article text found on the page$"):
        read_link(fetcher, f"{site.url}/no-article")


def test_links_are_keyed_by_canonical_url_and_an_edit_replaces_the_passages(site, fetcher, fake_index):
    urls = [f"{site.url}/articles/greve-sncf", f"{site.url}/articles/greve-sncf?ref=home", f"{site.url}/status/404"]
    found, failed = read_links(fetcher, urls)
    assert failed == [(f"{site.url}/status/404", "HTTP 404")]
    first = fake_index.indexer.ingest_keyed(found)
    assert first.documents == 1 and first.added > 0
    again = fake_index.indexer.ingest_keyed(read_links(fetcher, urls[:1])[0])
    assert (again.added, again.removed, again.documents) == (0, 0, 1)
    ctype, body = site.pages["/articles/greve-sncf"]
    site.pages["/articles/greve-sncf"] = (HTML, body.replace(b"un TGV sur trois", b"un TGV sur quatre"))
    edited = fake_index.indexer.ingest_keyed(read_links(fetcher, urls[:1])[0])
    assert edited.documents == 1 and edited.removed == first.added and edited.added == first.added
    hits = fake_index.searcher.search("TGV sur quatre", 1)
    assert "quatre" in hits[0].chunk.text and hits[0].chunk.url == f"{site.url}/articles/greve-sncf"
    assert fake_index.store.ids() == fake_index.catalog.vector_ids()


def test_cli_ingest_takes_links_beside_files(site, settings, monkeypatch, capsys):
    import json

    import bot.app
    from bot.cli.main import main
    from tests.fakes import FakeEmbedder, MemoryStore

    original = bot.app.open_index
    monkeypatch.setattr(bot.app, "open_index", lambda s, **kw: original(s, embedder=FakeEmbedder(), store=MemoryStore(), **kw))
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE", "true")
    assert main(["ingest", "--json", f"{site.url}/news/council-budget", f"{site.url}/no-article"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 1 and out["added"] > 0
    assert out["skipped"] == [{"path": f"{site.url}/no-article", "reason": "no article text found on the page"}]
    monkeypatch.delenv("NEWSBOT_FETCH_ALLOW_PRIVATE")
    assert main(["ingest", f"{site.url}/news/council-budget"]) == 1  # loopback is refused by default
    assert "refused, 127.0.0.1 is a loopback address" in capsys.readouterr().err


def test_an_html_file_is_read_by_the_extractor_without_boilerplate(tmp_path):
    from retrieval.documents import read_documents
    from tests.news_site import FIXTURES

    path = tmp_path / "greve.html"
    path.write_bytes((FIXTURES / "greve-fr.html").read_bytes().replace(b"{base}", b"https://quotidien.example"))
    (doc,) = read_documents(path)
    assert doc.title.startswith("Grève à la SNCF") and "un TGV sur trois" in doc.text
    assert "cookies" not in doc.text and "Jean75" not in doc.text and doc.author == "Claire Dubois"
    assert doc.published_at == "2025-06-10T07:30:00+02:00" and doc.source == "greve.html"
