"""The bot's queue, limits and /cancel against the fake Bot API server, with the fake generator."""

import re

from tests.conftest import make_answerer
from tests.fake_telegram import RunningBot, message, until
from tests.telegram.world import ALICE, BOB, QUESTION, finals, make_settings


def queued_bot(tmp_path, tg, fake_index, fake_generator, queue_size):
    """A bot whose answer loop lets ``queue_size`` questions wait."""
    settings = make_settings(tmp_path, tg, queue_size=queue_size)
    return RunningBot(settings, make_answerer(settings, fake_index.searcher, fake_generator, abstain_threshold=0.0), fake_index)


async def test_thirty_users_at_once_all_answered_in_queue_order_and_start_stays_fast(tmp_path, tg, answerer, fake_index, fake_generator):
    fake_generator.release.clear()  # hold the first answer until everyone is queued
    users = list(range(1000, 1030))
    async with queued_bot(tmp_path, tg, fake_index, fake_generator, 64) as bot:
        for uid in users:
            tg.push(message(uid, uid, f"{QUESTION} Question {uid}."))
        await until(lambda: len(tg.of("sendMessage", ok=True)) >= 29 and fake_generator.started.is_set(), what="queue notices")
        tg.push(message(ALICE, ALICE, "/start"))
        await until(lambda: tg.texts(ALICE), timeout=10, what="/start while the queue is full")
        first_notice = {}
        for c in tg.of("sendMessage"):
            if "ahead of you" in c.params["text"]:
                first_notice.setdefault(c.params["chat_id"], int(c.params["text"].split()[1]))
        assert sorted(first_notice.values()) == list(range(1, 30))
        fake_generator.release.set()
        await until(lambda: all(finals(tg, u) for u in users), timeout=60, what="all answers")
        for uid in first_notice:  # each waiting user's notice ends by saying generation started
            assert tg.texts(uid)[-2].startswith("✍️ Your turn")
    bot.services.answerer.close()
    # The model took the questions in the order of their places: the one told "n ahead" was generated (n+1)th.
    generated = [int(re.search(r"Question (\d+)\.", h[-1]["content"]).group(1)) for h in fake_generator.history]
    assert generated[1:] == sorted(first_notice, key=first_notice.get)


async def test_full_queue_says_busy_and_one_question_per_user(tmp_path, tg, answerer, fake_index, fake_generator):
    fake_generator.release.clear()
    async with queued_bot(tmp_path, tg, fake_index, fake_generator, 1) as bot:
        await _busy_and_one_question_per_user(bot, tg, fake_generator)
    bot.services.answerer.close()


async def _busy_and_one_question_per_user(bot, tg, fake_generator):
    """The scenario of the test above, on a bot whose queue holds one question."""
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: fake_generator.started.is_set())
    tg.push(message(ALICE, ALICE, "Encore une question ?"))
    await until(lambda: any("in progress" in t for t in tg.texts(ALICE)))
    tg.push(message(1000, 1000, QUESTION))  # waits in the one place of the queue
    await until(lambda: tg.texts(1000))
    tg.push(message(BOB, BOB, QUESTION))
    await until(lambda: tg.texts(BOB))
    assert tg.texts(BOB) == ["I'm busy answering other questions; please try again in a minute."]
    fake_generator.release.set()
    await until(lambda: finals(tg, ALICE) and finals(tg, 1000))


async def test_per_minute_limit(tmp_path, tg, answerer, fake_index):
    async with RunningBot(make_settings(tmp_path, tg, per_user_per_minute=2), answerer, fake_index) as running:
        for _ in range(2):
            tg.push(message(ALICE, ALICE, QUESTION))
            await until(lambda n=len(finals(tg, ALICE)): len(finals(tg, ALICE)) == n + 1)
            assert not running.services.limits.busy(ALICE)  # released before the final message went out
        tg.push(message(ALICE, ALICE, QUESTION))
        await until(lambda: any("this minute" in t for t in tg.texts(ALICE)))


async def test_cancel_stops_generation_at_the_next_token(bot, tg, fake_generator):
    fake_generator.enqueue(" ".join(f"mot{i}" for i in range(400)))
    fake_generator.delay_s = 0.01
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: tg.of("sendMessageDraft", ALICE))
    tg.push(message(ALICE, ALICE, "/cancel"))
    await until(lambda: finals(tg, ALICE))
    text = finals(tg, ALICE)[0]["text"]
    assert "Stopped by /cancel." in text and "mot399" not in text
    assert "Stopping the answer." in tg.texts(ALICE)
    assert bot.services.history.recent(ALICE) == []  # a cancelled answer is not remembered


async def test_cancel_while_queued_drops_the_question(bot, tg, fake_generator):
    fake_generator.release.clear()
    tg.push(message(BOB, BOB, QUESTION))
    await until(lambda: fake_generator.started.is_set())
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: any("ahead of you" in t for t in tg.texts(ALICE)))
    tg.push(message(ALICE, ALICE, "/cancel"))
    await until(lambda: "Cancelled." in tg.texts(ALICE))
    assert bot.services.answerer.waiting() == 1
    fake_generator.release.set()
    await until(lambda: finals(tg, BOB))
    assert len(fake_generator.history) == 1
