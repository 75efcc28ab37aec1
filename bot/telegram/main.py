"""`newsbot telegram`: check the token, open the index, load the model, and run the bot until stopped."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.core.answer import Answerer
from bot.settings import Settings
from retrieval.stores.catalog import Catalog
from retrieval.errors import ConfigError, NewsbotError
from retrieval.ingest import Indexer

log = logging.getLogger(__name__)


class RedactToken(logging.Filter):
    """Replaces the bot token in any log record, in case a library ever prints a request URL."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the token."""
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def add_parser(sub) -> None:
    """Register the `telegram` sub-command."""
    p = sub.add_parser("telegram", help="run the Telegram bot (polling; webhook when NEWSBOT_WEBHOOK_URL is set)")
    p.set_defaults(func=cmd_telegram)


def cmd_telegram(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot with the real index and model."""
    from bot.app import build_answerer, load_generator, open_index

    if not settings.telegram_token:
        raise ConfigError("NEWSBOT_TELEGRAM_TOKEN is not set: create a bot with @BotFather and set its token (see docs/telegram.md)")
    quiet_logs(settings.telegram_token)
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # durations such as RetryAfter.retry_after as timedelta, without deprecation warnings
    asyncio.run(check_token(settings))
    index = open_index(settings)
    try:
        if index.catalog.counts()[1] == 0:
            log.warning("the index is empty: add articles with `newsbot ingest FOLDER` or send files as an admin")
        answerer = build_answerer(settings, index, load_generator(settings, interactive=False))
        return run_bot(settings, answerer, index.catalog, index.indexer)
    finally:
        index.close()


def quiet_logs(token: str) -> None:
    """Keep httpx's request lines (which hold the token) out of the logs, and redact the token from everything else."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("psycopg").setLevel(logging.ERROR)  # its reconnection warnings name the database server's address
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


async def check_token(settings: Settings) -> None:
    """Fail fast, before loading the model, when Telegram rejects the token or cannot be reached."""
    from bot.telegram.app import file_url

    bot = Bot(settings.telegram_token, base_url=settings.telegram_base_url, base_file_url=file_url(settings.telegram_base_url))
    try:
        async with bot:
            pass  # initialising the bot calls getMe
    except InvalidToken:
        raise ConfigError("NEWSBOT_TELEGRAM_TOKEN was rejected by Telegram (401 Unauthorized): copy it again from @BotFather") from None
    except NetworkError as exc:
        raise NewsbotError(f"cannot reach the Telegram Bot API ({exc})") from None


def run_bot(settings: Settings, answerer: Answerer, catalog: Catalog, indexer: Indexer) -> int:
    """Build the application over a ready answer loop and run it until SIGTERM/Ctrl-C; 1 when another instance polls."""
    from bot.telegram.app import build_application, build_services, run

    app = build_application(settings, build_services(settings, answerer, catalog, indexer))
    try:
        refused = run(app, settings)
    except InvalidToken:
        raise ConfigError("NEWSBOT_TELEGRAM_TOKEN was rejected by Telegram (401 Unauthorized)") from None
    except RuntimeError as exc:
        if "webhooks" in str(exc):
            raise ConfigError("webhook mode needs tornado: pip install 'python-telegram-bot[webhooks]==22.8'") from None
        raise
    finally:
        answerer.close(timeout=3.0)
    if refused:
        raise NewsbotError(refused)
    log.warning("stopped")
    return 0
