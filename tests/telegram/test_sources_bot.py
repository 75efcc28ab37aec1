"""The running bot follows news sources: scheduled feed refreshes, the inbox, admins' links, and the CLI handing work over."""

import asyncio
import json

import pytest

from retrieval.sources.feeds import FEEDS_FILE, FeedStore
from tests.fakes import QUOTE_FIRST
from tests.fake_telegram import RunningBot, message, until
from tests.news_site import FR_ITEMS, RSS, NewsSite, article_html, rss
from tests.telegram.world import ADMIN, ALICE, finals, make_settings


@pytest.fixture
def site():
    server = NewsSite().start()
    yield server
    server.stop()


def _titles(index):
    return {t for _, t, _, _ in index.catalog.documents()}


LATE = {"title": "Éruption de l'Etna", "link": "http://fr.example/etna", "guid": "fr-3", "content": article_html("Éruption de l'Etna", [
    "L'Etna est entré en éruption dans la nuit, projetant des fontaines de lave à plusieurs centaines de mètres de hauteur.",
    "L'aéroport de Catane a été fermé par précaution et les vols ont été détournés vers Palerme jusqu'à nouvel ordre.",
    "Les vulcanologues de l'INGV surveillent un nuage de cendres qui se dirige vers l'est de la Sicile."])}


async def test_the_bot_refreshes_feeds_on_schedule_and_answers_about_a_late_item(tmp_path, tg, site, answerer, fake_index,
                                                                                fake_generator):
    fake_generator.default = QUOTE_FIRST  # an answer the feed's passage supports, so the checked answer keeps its source
    settings = make_settings(tmp_path, tg, feed_interval_min=0.05, fetch_allow_private=True)
    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
    FeedStore(settings.data_dir / FEEDS_FILE).add(f"{site.url}/feeds/fr.xml", "le-fil")
    running = RunningBot(settings, answerer, fake_index)
    running.app.bot_data["inbox_poll_s"] = 0.2
    async with running:
        await until(lambda: "Inondations dans le Gard" in _titles(fake_index), what="the first refresh")
        site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", [LATE, *FR_ITEMS]))
        await until(lambda: "Éruption de l'Etna" in _titles(fake_index), timeout=30, what="the scheduled refresh")
        tg.push(message(ALICE, ALICE, "Pourquoi l'aéroport de Catane est-il fermé ?"))
        await until(lambda: finals(tg, ALICE), what="the answer")
        prompt = fake_generator.history[-1][-1]["content"]
        assert "aéroport de Catane a été fermé" in prompt
        assert "le-fil" in finals(tg, ALICE)[0]["text"]  # the source line names the feed


async def test_inbox_files_become_searchable_and_bad_ones_are_filed_with_the_reason(tmp_path, tg, answerer, fake_index):
    settings = make_settings(tmp_path, tg)
    running = RunningBot(settings, answerer, fake_index)
    running.app.bot_data["inbox_poll_s"] = 0.2
    inbox = settings.data_dir / "inbox"
    async with running:
        (inbox / "peche.txt").write_text("Pêche à Lorient\n\nLes chalutiers de Lorient restent à quai.\n", encoding="utf-8")
        (inbox / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
        await until(lambda: (inbox / "done" / "peche.txt").exists() and (inbox / "failed" / "photo.txt").exists(), what="the inbox")
    assert "Pêche à Lorient" in _titles(fake_index)
    assert "binary" in (inbox / "failed" / "photo.txt.error.txt").read_text(encoding="utf-8")
    assert fake_index.searcher.search("chalutiers Lorient", 1)[0].chunk.title == "Pêche à Lorient"


async def test_an_admin_link_is_ingested_and_anyone_elses_is_a_question(tmp_path, tg, site, answerer, fake_index):
    settings = make_settings(tmp_path, tg, fetch_allow_private=True)
    async with RunningBot(settings, answerer, fake_index):
        tg.push(message(ADMIN, ADMIN, f"{site.url}/articles/greve-sncf"))
        await until(lambda: any(t.startswith("Added ") for t in tg.texts(ADMIN)), what="the admin's reply")
        reply = next(t for t in tg.texts(ADMIN) if t.startswith("Added "))
        assert reply.startswith("Added “Grève à la SNCF : le trafic très perturbé mardi” (Le Quotidien, 2025-06-10): ")
        assert "new passage" in reply
        tg.push(message(ALICE, ALICE, f"{site.url}/news/council-budget"))
        await until(lambda: finals(tg, ALICE), what="the answer to the non-admin's link")
    assert site.hits.get("/news/council-budget") is None  # a user's link is never fetched
    assert "Grève à la SNCF : le trafic très perturbé mardi" in _titles(fake_index)


async def test_cli_ingest_while_the_bot_runs_is_handed_over(tmp_path, tg, site, answerer, fake_index, monkeypatch, capsys):
    from bot.cli.main import main

    settings = make_settings(tmp_path, tg, fetch_allow_private=True)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE", "true")
    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
    article = tmp_path / "vendanges.md"
    article.write_text("# Vendanges en Alsace\n\nLes vendanges commencent à Riquewihr.\n", encoding="utf-8")
    running = RunningBot(settings, answerer, fake_index)
    running.app.bot_data["inbox_poll_s"] = 0.2
    async with running:
        code = await asyncio.to_thread(main, ["ingest", "--json", str(article)])
        assert code == 0 and len(json.loads(capsys.readouterr().out)["queued"]) == 1
        await until(lambda: "Vendanges en Alsace" in _titles(fake_index), what="the handed-over file")
        assert await asyncio.to_thread(main, ["ingest", str(article)]) == 0
        assert "queued for the running bot; it will be searchable within a minute" in capsys.readouterr().out
        assert await asyncio.to_thread(main, ["ingest", f"{site.url}/news/council-budget"]) == 0
        assert await asyncio.to_thread(main, ["feeds", "add", f"{site.url}/feeds/fr.xml", "--name", "le-fil"]) == 0
        assert "queued for the running bot" in capsys.readouterr().out
        await until(lambda: {"City council approves record budget for public transport", "Inondations dans le Gard"}
                    <= _titles(fake_index), what="the handed-over link and feed")
    assert not list((settings.data_dir / "inbox" / "failed").glob("*"))


async def test_admins_list_follow_and_unfollow_feeds_and_nobody_else_can(tmp_path, tg, site, answerer, fake_index):
    settings = make_settings(tmp_path, tg, fetch_allow_private=True)
    site.pages["/feeds/fr.xml"] = (RSS, rss("Le Fil", FR_ITEMS))
    feeds = FeedStore(settings.data_dir / FEEDS_FILE)

    async def ask(chat: int, text: str, start: str) -> str:
        before = len(tg.texts(chat))
        tg.push(message(chat, chat, text))
        await until(lambda: any(t.startswith(start) for t in tg.texts(chat)[before:]), what=f"the reply to {text}")
        return next(t for t in tg.texts(chat)[before:] if t.startswith(start))

    async with RunningBot(settings, answerer, fake_index):
        assert await ask(ADMIN, "/feeds", "No feeds yet: /feed add URL")
        added = await ask(ADMIN, f"/feed add {site.url}/feeds/fr.xml", "Following ")
        assert added == f"Following 127.0.0.1: {len(FR_ITEMS)} new articles."
        assert "Inondations dans le Gard" in _titles(fake_index)  # the feed is refreshed as it is followed
        listed = await ask(ADMIN, "/feeds", "127.0.0.1: ")
        assert listed == f"127.0.0.1: {site.url}/feeds/fr.xml — {len(FR_ITEMS)} items"
        broken = await ask(ADMIN, f"/feed add {site.url}/status/500", "Following ")
        assert broken.startswith("Following 127.0.0.1-2: 0 new articles; 1 failed: ") and "HTTP 500" in broken
        assert "error: " in await ask(ADMIN, "/feeds", "127.0.0.1: ")  # the failing feed shows its last error

        for text in ("/feeds", "/feed remove 127.0.0.1", f"/feed add {site.url}/feeds/other.xml"):
            assert "admins" in await ask(ALICE, text, "")  # a plain user is refused, and nothing changes
        assert [f.name for f in feeds.all()] == ["127.0.0.1", "127.0.0.1-2"]

        assert await ask(ADMIN, "/feed remove 127.0.0.1", "No longer following ") == "No longer following 127.0.0.1; its articles stay."
        assert "Sorry: no feed named nothing-here; the feeds command lists them." in await ask(ADMIN, "/feed remove nothing-here", "")
        assert await ask(ADMIN, "/feed frobnicate", "Write ") == "Write /feed add URL or /feed remove NAME."
    assert [f.name for f in feeds.all()] == ["127.0.0.1-2"]
    assert "Inondations dans le Gard" in _titles(fake_index)
    assert not any("Traceback" in t or settings.telegram_token in t for t in tg.texts(ADMIN) + tg.texts(ALICE))
