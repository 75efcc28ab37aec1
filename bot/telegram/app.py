"""Wiring: the python-telegram-bot Application, its handlers in order, and polling or webhook runs with a graceful stop."""

from __future__ import annotations

import asyncio
import logging
import base64
import hashlib
import signal
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, TypeHandler, filters

from bot.core.answer import Answerer
from bot.settings import Settings
from retrieval.stores.private import private_dir
from bot.telegram import commands, feeds, links
from bot.telegram.access import Access, gate
from bot.telegram.ask import on_question
from bot.telegram.errors import on_error
from bot.telegram.history import ConversationStore
from bot.telegram.limits import UserLimits
from bot.telegram.services import Services
from bot.telegram.upload import on_document
from retrieval.stores.catalog import Catalog
from retrieval.ingest import Indexer

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
ALLOWED_UPDATES = [Update.MESSAGE]


def file_url(base_url: str) -> str:
    """The file-download base URL that goes with a Bot API base URL (…/bot → …/file/bot)."""
    base = base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def build_services(settings: Settings, answerer: Answerer, catalog: Catalog, indexer: Indexer) -> Services:
    """The handlers' collaborators; the conversation store lives in the data directory."""
    data_dir = settings.data_dir.expanduser()
    private_dir(data_dir)
    return Services(
        settings=settings,
        answerer=answerer,
        catalog=catalog,
        indexer=indexer,
        history=ConversationStore(data_dir / "conversations.sqlite3", settings.history_turns, settings.database_url),
        access=Access(set(settings.allowed_users), set(settings.allowed_chats), set(settings.admin_users)),
        limits=UserLimits(settings.per_user_per_minute),
    )


def build_application(settings: Settings, services: Services) -> Application:
    """The Application: concurrent updates, the access gate in group -1, the commands, questions, uploads and one error handler."""
    app = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(file_url(settings.telegram_base_url))
        .concurrent_updates(True)
        .connection_pool_size(64)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["services"] = services
    app.add_handler(TypeHandler(object, gate), group=-1)
    for name, callback in commands.HANDLERS.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(CommandHandler("add", links.add_command))
    app.add_handler(CommandHandler("feeds", feeds.feeds_command))
    app.add_handler(CommandHandler("feed", feeds.feed_command))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & links.BARE_URL, links.on_link))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_question))
    app.add_error_handler(on_error)
    return app


async def _post_init(app: Application) -> None:
    """Register the commands and make SIGTERM/Ctrl-C stop generation before polling stops."""
    await app.bot.set_my_commands(commands.COMMANDS)
    if app.bot_data.get("stop_signals"):
        install_stop_signals(app)
    services: Services = app.bot_data["services"]
    if services.settings.digest_time:  # off by default; a task, so it never blocks the loop
        from bot.telegram.timeline import scheduled_digests

        app.bot_data["digests"] = asyncio.get_running_loop().create_task(scheduled_digests(app))
    if services.settings.health_port:
        from bot.telegram.health import start_health_server

        app.bot_data["health"] = await start_health_server(services, services.settings.health_listen, services.settings.health_port)
    feeds.start_sources(app)


async def _post_shutdown(app: Application) -> None:
    """Close the health server and the conversation store; the answer loop is closed by whoever built it."""
    services: Services = app.bot_data["services"]
    if digests := app.bot_data.pop("digests", None):
        digests.cancel()
    await feeds.stop_sources(app)
    if health := app.bot_data.pop("health", None):
        health.close()
        await health.wait_closed()
    services.history.close()


def install_stop_signals(app: Application) -> None:
    """On SIGINT/SIGTERM: cancel generation at the next token, tell waiting users, then stop the application."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        log.warning("stopping: finishing the answers in progress")
        app.bot_data["services"].shut_down()
        app.stop_running()

    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows: Ctrl-C still ends the run
            pass


def shared_secret(token: str) -> str:
    """A webhook secret derived from the bot token: every replica of one bot computes the same one.

    A secret drawn at random by each replica made the last one to call setWebhook the only one Telegram's
    updates could reach (the others answered 403). The token is the bot's master secret already; a one-way
    hash of it reveals nothing of it, and A-Z a-z 0-9 _ - is what Telegram accepts.
    """
    digest = hashlib.sha256(b"newsbot webhook secret\0" + token.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def webhook_args(settings: Settings) -> dict:
    """The run_webhook arguments from the settings; the secret token, when not set, is derived from the bot token."""
    url = settings.webhook_url
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(url).path.lstrip("/"),
        "webhook_url": url,
        "secret_token": settings.webhook_secret or shared_secret(settings.telegram_token or ""),
        "allowed_updates": ALLOWED_UPDATES,
        "stop_signals": None,
    }


def run(app: Application, settings: Settings) -> str | None:
    """Run until stopped; returns why the bot refused to go on (another instance polling: see errors.on_error), or None."""
    app.bot_data["stop_signals"] = True
    if settings.webhook_url:
        app.run_webhook(**webhook_args(settings))
    else:
        app.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=None)
    return app.bot_data.get("refused")
