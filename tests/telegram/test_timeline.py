"""/latest and /digest through the fake Bot API server, over the dated corpus with a frozen clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.digest import next_run, parse_since
from tests.conftest import make_answerer
from retrieval.dates.clock import FixedClock
from retrieval.errors import InputError
from bot.telegram.timeline import scheduled_digests
from tests.fake_telegram import BOT, RunningBot, message, until
from tests.telegram.world import ALICE, BOB, GROUP, OTHER_GROUP, make_settings

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
    assert "From the articles" not in answer  # a digest is not followed by quoted evidence, as answers are
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


QUIET_GROUP = -1003  # an allowed group where nobody has asked anything yet


@pytest.fixture
async def groups_bot(tmp_path, tg, fake_index, fake_generator):
    """The bot in three allowed groups with a daily digest at 09:00, its clock on Wednesday June 11, 2025 at 08:00 in Paris."""
    fake_index.indexer.ingest([DATED], progress=False)
    settings = make_settings(tmp_path, tg, allowed_chats=[GROUP, OTHER_GROUP, QUIET_GROUP], digest_time="09:00")
    clock = FixedClock(datetime(2025, 6, 11, 8, tzinfo=PARIS))
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, clock, top_k=3, abstain_threshold=0.0)
    async with RunningBot(settings, answerer, fake_index) as running:
        yield running, clock
    answerer.close()


async def test_the_scheduled_digest_is_in_each_groups_language(groups_bot, tg, fake_generator):
    """At 09:00 each allowed group gets the last 24 hours' digest in the language of its last question (French in the
    group that asked in French, even after an English one before it; English in the other and in the quiet group), one
    generation per language, dated in that language; the next one is due a day later."""
    running, clock = groups_bot
    asked = [(GROUP, "How much is Meta investing in Scale AI?"), (OTHER_GROUP, "What did Meta pay for its stake in Scale AI?"),
             (GROUP, "Combien Meta investit-elle dans Scale AI ?")]
    for n, (chat, question) in enumerate(asked, 1):
        tg.push(message(chat, BOB, f"@{BOT['username']} {question}"))
        await until(lambda: len(fake_generator.history) == n and not running.services.flights, what=f"answer {n}")
    before = {chat: len(html_texts(tg, chat)) for chat in (GROUP, OTHER_GROUP, QUIET_GROUP)}
    fake_generator.enqueue("- Meta investit 14,3 milliards de dollars dans Scale AI [1].", "- Meta invests $14.3 billion in Scale AI [1].")
    slept: list[float] = []
    later = asyncio.Event()

    async def sleep(seconds: float) -> None:
        """The schedule's timer: the first wait moves the clock to the due time at once; the next one never ends."""
        slept.append(seconds)
        if len(slept) > 1:
            await later.wait()
        clock.at += timedelta(seconds=seconds)

    schedule = asyncio.create_task(scheduled_digests(running.app, sleep=sleep))
    try:
        await until(lambda: all(len(html_texts(tg, c)) > before[c] for c in before) and len(slept) == 2, what="the digests")
    finally:
        schedule.cancel()
    assert slept == [3600.0, 86400.0]  # 08:00 -> 09:00, then 09:00 the next day
    digests = {c: html_texts(tg, c)[before[c]:] for c in before}
    assert all(len(d) == 1 for d in digests.values())  # one message each, sent once
    french, english = digests[GROUP][0], digests[OTHER_GROUP][0]
    assert french.startswith("- Meta investit 14,3 milliards") and "juin 2025" in french and "June" not in french
    assert english.startswith("- Meta invests $14.3 billion") and "June 10, 2025" in english
    assert digests[QUIET_GROUP][0] == english
    prompts = [h[-1]["content"] for h in fake_generator.history[3:]]
    assert len(prompts) == 2  # one generation per language, not one per group
    assert "Fais un court résumé en français des nouvelles" in prompts[0] and "Write a short digest of the news" in prompts[1]


async def test_reset_forgets_the_chats_language(groups_bot, tg, fake_generator):
    """/reset forgets the conversation and the language with it: the chat's digest falls back to English."""
    running, _ = groups_bot
    tg.push(message(GROUP, BOB, f"@{BOT['username']} Combien Meta investit-elle dans Scale AI ?"))
    await until(lambda: fake_generator.history and not running.services.flights, what="the answer")
    assert running.services.history.language(GROUP) == "fr" and running.services.history.language(OTHER_GROUP) is None
    tg.push(message(GROUP, BOB, "/reset"))
    await until(lambda: any("forgotten" in t for t in tg.texts(GROUP)), what="the reset")
    assert running.services.history.language(GROUP) is None
