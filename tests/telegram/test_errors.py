"""What a user reads when something fails: one plain sentence, never a URL, a path or a raw error; the log has the details."""

import logging

import pytest
from telegram.error import BadRequest, NetworkError

from bot.telegram.errors import INTERNAL, user_text
from retrieval.errors import GenerationError, IndexDamaged, InputError, LockedError, QueueFull
from tests.fake_telegram import message, until
from tests.telegram.world import ALICE, QUESTION

LEAKY = [
    GenerationError("the LLM server at http://10.0.0.5:8080/v1 is not answering (ConnectError: refused)"),
    GenerationError("generation failed (RuntimeError)"),
    IndexDamaged("/var/lib/newsbot/catalog.sqlite3 is damaged (file is not a database); run `newsbot ingest --rebuild`"),
    LockedError("another newsbot process (pid 12) is using /var/lib/newsbot; stop it first"),
    InputError("I could not read report.txt: /var/lib/newsbot/uploads/report.txt is not UTF-8"),
]


@pytest.mark.parametrize("error", LEAKY, ids=lambda e: type(e).__name__)
def test_internal_details_never_reach_the_user(error):
    text = user_text(error)
    assert not INTERNAL.search(text), text
    for detail in ("http", "10.0.0.5", "8080", "/var/lib", "sqlite3", "pid", "Error"):
        assert detail not in text


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (InputError("the question is 4096 characters long; the limit is 2000"),
         "Sorry: the question is 4096 characters long; the limit is 2000."),
        (GenerationError("the answer took longer than 30 s and was stopped"), "The answer took longer than 30 s and was stopped."),
        (QueueFull("queue full"), "I'm busy answering other questions; please try again in a minute."),
    ],
)
def test_messages_written_for_people_are_shown(error, shown):
    assert user_text(error) == shown


def test_a_bad_request_is_not_called_a_network_failure():
    assert issubclass(BadRequest, NetworkError)  # why BadRequest must be handled first
    assert "refused" in user_text(BadRequest("Message is too long"))
    assert "not answering" in user_text(NetworkError("connection reset"))


async def test_a_server_url_in_a_generation_error_is_logged_not_sent(bot, tg, fake_generator, caplog):
    fake_generator.fail_with = GenerationError("the LLM server at http://10.0.0.5:8080/v1 is not answering")
    with caplog.at_level(logging.WARNING, logger="bot.telegram.errors"):
        tg.push(message(ALICE, ALICE, QUESTION))
        await until(lambda: any("answer" in t for t in tg.texts(ALICE)), what="the error message")
    assert not any("10.0.0.5" in t for t in tg.texts(ALICE))
    assert "I could not write an answer just now" in tg.texts(ALICE)[-1]
    assert "10.0.0.5" in caplog.text


async def test_telegram_refusing_the_answer_is_reported_as_such(bot, tg):
    tg.fail("sendMessage", 400, times=5, when=lambda p: p.get("parse_mode") == "HTML")
    tg.fail("editMessageText", 400, times=5, when=lambda p: p.get("parse_mode") == "HTML")
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: any("refused" in t for t in tg.texts(ALICE)), what="the refusal message")
    assert not any("not answering" in t for t in tg.texts(ALICE))
