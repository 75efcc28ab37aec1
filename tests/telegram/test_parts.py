"""The Telegram package's small parts: limits, the conversation store, the access rules, webhook arguments, log redaction."""

import datetime as dtm
import re
import logging

import pytest
from telegram import Update
from telegram.error import RetryAfter

from bot.core.events import Source
from bot.settings import Settings
from bot.telegram.access import Access, Verdict, strip_mention
from bot.telegram.app import file_url, webhook_args
from bot.telegram.history import ConversationStore
from bot.telegram.limits import UserLimits
from bot.telegram.main import RedactToken
from bot.telegram.streaming import retry_seconds
from tests.fake_telegram import BOT, document, message
from tests.conftest import both_backends


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


def test_one_question_in_flight_and_a_per_minute_limit():
    now = [0.0]
    limits = UserLimits(per_minute=2, clock=lambda: now[0])
    assert limits.begin(1) is None
    assert "in progress" in limits.begin(1)
    assert limits.begin(2) is None  # other users are not held up
    limits.end(1)
    assert limits.begin(1) is None
    limits.end(1)
    assert "2 questions this minute" in limits.begin(1)
    now[0] = 61.0
    assert limits.begin(1) is None


@both_backends
def test_conversations_survive_a_restart_and_keep_the_last_turns(tmp_path, database_url):
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path, keep=2, database_url=database_url)
    src = Source(1, "d", "Titre", "c", "texte", 0.5, 0, 5, None, "Le Monde")
    for i in range(3):
        store.add(7, f"q{i}", f"a{i}", [src])
    store.add(8, "autre", "chat", [])
    store.set_language(7, "en")
    store.set_language(7, "fr")  # the last question's language wins
    store.close()
    store = ConversationStore(path, keep=2, database_url=database_url)  # a restart, or another replica in PostgreSQL
    assert [t.question for t in store.recent(7)] == ["q1", "q2"] and store.last_sources(7) == [src]
    assert store.language(7) == "fr" and store.language(8) is None
    assert store.reset(7) == 2 and store.recent(7) == [] and store.recent(8)[0].answer == "chat"
    assert store.language(7) is None  # /reset forgets the chat's language too
    assert ConversationStore(tmp_path / "none.sqlite3", keep=0).recent(7) == []
    store.close()
    assert not database_url or not path.exists()  # in PostgreSQL nothing is written in the data directory


def verdict(update: dict, users=(1,), chats=(-5,), admins=(9,)) -> Verdict:
    access = Access(set(users), set(chats), set(admins))
    return access.decide(Update.de_json({"update_id": 1, **update}, None), BOT["id"], BOT["username"])


def test_access_rules():
    at = f"@{BOT['username']} question"
    assert verdict(message(1, 1, "hi")) is Verdict.ALLOW
    assert verdict(message(2, 2, "hi")) is Verdict.REFUSE_USER
    assert verdict(message(9, 9, "hi")) is Verdict.ALLOW  # admins may ask too
    assert verdict(message(-5, 2, "hi")) is Verdict.IGNORE  # not addressed
    assert verdict(message(-5, 2, at)) is Verdict.ALLOW
    assert verdict(message(-6, 1, at)) is Verdict.REFUSE_CHAT
    assert verdict(message(-5, 2, "/help@newsbot_test_bot")) is Verdict.ALLOW
    assert verdict(message(1, 1, document=document("f", "a.txt", 3))) is Verdict.REFUSE_UPLOAD
    assert verdict(message(9, 9, document=document("f", "a.txt", 3))) is Verdict.ALLOW
    assert verdict({"edited_message": message(1, 1, "hi")["message"]}) is Verdict.IGNORE
    assert verdict({"channel_post": {"message_id": 1, "date": 0, "chat": {"id": -7, "type": "channel"}, "text": "x"}}) is Verdict.IGNORE
    assert strip_mention(f"@{BOT['username']}, what now?", BOT["username"]) == "what now?"


def test_webhook_arguments_and_file_url():
    s = Settings(telegram_token="t", webhook_url="https://bot.example.org/hook/tg", webhook_port=8080, webhook_listen="0.0.0.0", _env_file=None)
    args = webhook_args(s)
    assert args["url_path"] == "hook/tg" and args["port"] == 8080 and args["listen"] == "0.0.0.0"
    assert args["webhook_url"] == "https://bot.example.org/hook/tg" and args["allowed_updates"] == ["message"]
    assert 1 <= len(args["secret_token"]) <= 256 and args["secret_token"] == webhook_args(s)["secret_token"]  # stable: replicas agree
    fixed = Settings(webhook_url="https://x.org/h", webhook_secret="s3cret_-", _env_file=None)
    assert webhook_args(fixed)["secret_token"] == "s3cret_-"
    with pytest.raises(ValueError):
        Settings(webhook_secret="not allowed!", _env_file=None)
    assert file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"


def test_retry_after_seconds_and_token_redaction(caplog):
    assert retry_seconds(RetryAfter(dtm.timedelta(seconds=3))) == 3.0
    log = logging.getLogger("test.redact")
    log.addFilter(RedactToken("123:SECRET"))
    with caplog.at_level(logging.INFO):
        log.info("POST %s", "https://api.telegram.org/bot123:SECRET/getMe")
    assert "SECRET" not in caplog.text and "<token>" in caplog.text


def test_replicas_without_a_set_secret_share_one_derived_from_the_token(tmp_path):
    from bot.telegram.app import shared_secret

    base = dict(data_dir=tmp_path, telegram_token=f"{BOT['id']}:AAAA-secret", webhook_url="https://bot.example.org/hook", _env_file=None)
    one, two = (webhook_args(Settings(**base, webhook_port=p))["secret_token"] for p in (8441, 8442))
    assert one == two == shared_secret(base["telegram_token"])
    assert len(one) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]{1,256}", one) and "AAAA" not in one
    other = webhook_args(Settings(**{**base, "telegram_token": f"{BOT['id']}:BBBB"}))["secret_token"]
    assert other != one  # another bot, another secret
    assert webhook_args(Settings(**base, webhook_secret="chosen"))["secret_token"] == "chosen"
