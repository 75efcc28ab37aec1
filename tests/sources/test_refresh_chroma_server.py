"""`newsbot feeds refresh` with the index on a real Chroma server (`chroma run` on loopback), as a deployment runs it."""

import json

import pytest

from bot.app import open_index
from bot.settings import Settings
from tests.news_site import FR_ITEMS, RSS, NewsSite, rss
from tests.servers import chroma_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def _refresh(main, capsys) -> dict:
    assert main(["feeds", "refresh", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_feeds_refresh_through_the_server_adds_once_and_replaces_an_edited_item(tmp_path, chroma_server, monkeypatch,  # noqa: F811
                                                                               capsys):
    from bot.cli.main import main

    site = NewsSite().start()
    try:
        for name, value in {"NEWSBOT_DATA_DIR": str(tmp_path / "data"), "NEWSBOT_CHROMA_URL": chroma_server.url,
                            "NEWSBOT_FETCH_ALLOW_PRIVATE": "true"}.items():
            monkeypatch.setenv(name, value)
        site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
        assert main(["feeds", "add", f"{site.url}/feeds/fr.xml", "--name", "le-fil"]) == 0
        capsys.readouterr()
        first = _refresh(main, capsys)
        assert (first["feeds"], first["added"], first["failed"]) == (1, len(FR_ITEMS), [])
        again = _refresh(main, capsys)
        assert (again["not_modified"], again["added"], again["updated"]) == (1, 0, 0)  # one 304, nothing embedded
        edited = [dict(FR_ITEMS[0], content=FR_ITEMS[0]["content"].replace("une cinquantaine", "plus de deux cents")),
                  *FR_ITEMS[1:]]
        site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", edited))
        third = _refresh(main, capsys)
        assert (third["added"], third["updated"], third["unchanged"]) == (0, 1, len(FR_ITEMS) - 1)
    finally:
        site.stop()
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server.url, model="bundled", _env_file=None)
    index = open_index(settings)
    try:
        assert index.store.ids() == index.catalog.vector_ids()  # the old version's vectors left the server
        hit = index.searcher.search("habitants évacués à Alès", 1)[0]
        assert "plus de deux cents" in hit.chunk.text and "cinquantaine" not in hit.chunk.text
    finally:
        index.close()
