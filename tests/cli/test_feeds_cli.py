"""`newsbot feeds`: add, list, import OPML, refresh --json (fake embedder), remove, and the doctor naming a failing feed."""

import json

import pytest

from bot.cli.main import main
from tests.news_site import FR_ITEMS, RSS, NewsSite, rss


@pytest.fixture
def env(settings, monkeypatch):
    import bot.app
    from tests.fakes import FakeEmbedder, MemoryStore

    original = bot.app.open_index
    monkeypatch.setattr(bot.app, "open_index", lambda s, **kw: original(s, embedder=FakeEmbedder(), store=MemoryStore(), **kw))
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE", "true")
    return settings


@pytest.fixture
def site():
    server = NewsSite().start()
    yield server
    server.stop()


def test_feeds_add_list_refresh_remove(env, site, capsys, tmp_path):
    from bot.cli.doctor import check_feeds

    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
    opml = tmp_path / "export.opml"
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body><outline text="News">'
                    f'<outline text="Le Fil" type="rss" xmlUrl="{site.url}/feeds/fr.xml"/>'
                    f'<outline text="Cassé" type="rss" xmlUrl="{site.url}/status/500"/></outline></body></opml>', encoding="utf-8")
    assert main(["feeds", "import", str(opml)]) == 0
    assert "following 2 new feed(s): Le Fil, Cassé" in capsys.readouterr().out
    assert main(["feeds", "refresh", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {k: report[k] for k in ("feeds", "items", "added", "updated", "unchanged")} == {
        "feeds": 2, "items": 2, "added": 2, "updated": 0, "unchanged": 0}
    assert report["failed"] == [{"feed": "Cassé", "item": None, "reason": f"{site.url}/status/500: HTTP 500"}]
    assert main(["feeds", "list", "--json"]) == 0
    listed = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert listed["Le Fil"]["items"] == 2 and listed["Le Fil"]["last_error"] is None and listed["Le Fil"]["last_fetch"]
    assert listed["Cassé"]["last_error"].endswith("HTTP 500")
    ok, detail = check_feeds(env.data_dir)
    assert not ok and "1 of 2 feeds failing" in detail and "Cassé" in detail
    assert main(["feeds", "remove", "Cassé"]) == 0 and main(["feeds", "list"]) == 0
    out = capsys.readouterr().out
    assert "no longer following Cassé" in out and "Cassé\t" not in out and "Le Fil\t" in out


def test_feeds_add_refuses_a_non_http_address_and_a_duplicate(env, capsys):
    assert main(["feeds", "add", "file:///etc/passwd"]) == 1
    assert "starts with http:// or https://" in capsys.readouterr().err
    assert main(["feeds", "add", "https://news.example/rss", "--name", "ex"]) == 0
    assert main(["feeds", "add", "https://news.example/rss"]) == 1
    assert "already followed" in capsys.readouterr().err
