"""/latest and /digest through the fake Bot API server, over the dated corpus with a frozen clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.digest import next_run, parse_since
from tests.conftest import make_answerer
from retrieval.dates.clock import FixedClock
from retrieval.errors import InputError
from tests.fake_telegram import RunningBot, message, until
from tests.telegram.test_bot import ALICE, make_settings

DATED = Path(__file__).parent.parent / "data" / "dated" / "articles.jsonl"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def bot(tmp_path, tg, fake_index, fake_generator):
    """The bot over the dated corpus, its clock stopped on Thursday June 12, 2025 at 09:00 in Paris."""
    fake_index.indexer.ingest([DATED], progress=False)
    settings = make_settings(tmp_path, tg)
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, FixedClock(datetime(2025, 6, 12, 9, tzinfo=PARIS)), top_k=3, abstain_threshold=0.0)
    async with RunningBot(settings, answerer, fake_index) as running:
        yield running
    answerer.close()


def html_texts(tg, chat_id):
    """The HTML messages sent to a chat."""
    return [c.params["text"] for c in tg.of("sendMessage", chat_id) if c.params.get("parse_mode") == "HTML"]


async def test_latest_lists_the_newest_stories_with_date_source_and_link(bot, tg):
    """/latest 3: three stories, newest first, each linked, with 'source · date', copies named once as 'also in'."""
    tg.push(message(ALICE, ALICE, "/latest 3"))
    await until(lambda: html_texts(tg, ALICE), what="the latest list")
    text = html_texts(tg, ALICE)[0]
    assert text.count("<b><a href=") == 3
    assert text.index("Tesla launches robotaxi") < text.index("UK issues amber") < text.index("Canicule")
    assert "Reuters · June 23, 2025" in text  # 23:00 UTC on the 22nd is the 23rd in Paris
    assert '<a href="https://news.example/reuters/ts-1">' in text


async def test_digest_is_generated_through_the_worker_from_the_periods_stories_cited(bot, tg, fake_generator):
    """/digest 3d: one passage per story of June 9-12 (copies left out), sources with dates, and the model's text."""
    fake_generator.enqueue("- Meta invests in Scale AI [1].")
    tg.push(message(ALICE, ALICE, "/digest 3d"))
    await until(lambda: html_texts(tg, ALICE), what="the digest")
    text = html_texts(tg, ALICE)[0]
    answer, sources = text.split("<b>Sources</b>")
    n = answer.split("[")[1].split("]")[0]  # the marker, attributed to the Meta passage whatever number the model gave it
    assert answer.startswith("- Meta invests in Scale AI [") and f"[{n}] <b>" in sources and "Meta to inve" in sources
    prompt = fake_generator.history[-1][-1]["content"]
    assert "Write a short digest of the news from June 9, 2025 to June 12, 2025" in prompt
    assert prompt.count("Meta to invest $14.3 billion in Scale AI") == 1  # three copies, one passage
    assert "Tesla" not in prompt and "Nvidia revenue jumps" not in prompt  # outside the period
    assert "also in: " in text


async def test_digest_of_an_empty_period_and_a_bad_period(bot, tg, fake_generator):
    """Nothing in the last 90 minutes: said without the model; a bad period gets the usage line."""
    tg.push(message(ALICE, ALICE, "/digest 90m"))
    await until(lambda: html_texts(tg, ALICE), what="the empty digest")
    assert "No article was published" in html_texts(tg, ALICE)[0] and not fake_generator.history
    tg.push(message(ALICE, ALICE, "/digest soon"))
    await until(lambda: any("Usage: /digest" in t for t in tg.texts(ALICE)), what="the usage line")


def test_periods_and_the_schedule():
    """--since durations, and the next HH:MM today or tomorrow."""
    assert parse_since("24h").total_seconds() == 86400 and parse_since("1w").days == 7
    with pytest.raises(InputError):
        parse_since("0h")
    now = datetime(2025, 6, 12, 9, tzinfo=PARIS)
    assert next_run(now, "08:00") == datetime(2025, 6, 13, 8, tzinfo=PARIS)
    assert next_run(now, "18:30") == datetime(2025, 6, 12, 18, 30, tzinfo=PARIS)
