"""The running bot's news sources: a background task that empties the inbox and refreshes the feeds, and /feeds, /feed."""

from __future__ import annotations

import asyncio
import logging
import random
import time

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.telegram.services import Services
from retrieval.errors import InputError, NewsbotError
from retrieval.sources.feeds import FEEDS_FILE, FeedStore
from retrieval.sources.fetch import Fetcher
from retrieval.sources.inbox import Inbox, mark_bot, unmark_bot
from retrieval.sources.service import Sources

log = logging.getLogger(__name__)
INBOX_POLL_S = 10.0  # files dropped into the inbox are searchable within a minute
JITTER = 0.1  # up to 10% later, so that many bots never hit a site at the same second


def start_sources(app: Application) -> None:
    """Open the sources over the bot's indexer (embedding yields to answers) and start the background task."""
    svc: Services = app.bot_data["services"]
    settings = svc.settings
    data_dir = settings.data_dir.expanduser()
    inbox = Inbox(settings.inbox.expanduser())
    inbox.path.mkdir(parents=True, exist_ok=True)
    sources = Sources(svc.indexer, Fetcher(settings.fetch_config()), FeedStore(data_dir / FEEDS_FILE, settings.database_url), inbox,
                      settings.feed_interval_min * 60)
    svc.indexer.background(svc.answerer.busy)  # questions go first; idle, every core embeds
    app.bot_data["sources"] = sources
    mark_bot(inbox.path)
    app.bot_data["sources_task"] = asyncio.get_running_loop().create_task(
        _run(svc, sources, app.bot_data.get("inbox_poll_s", INBOX_POLL_S)))


async def stop_sources(app: Application) -> None:
    """Stop the background task and close the sources."""
    task = app.bot_data.pop("sources_task", None)
    if task:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    if sources := app.bot_data.pop("sources", None):
        unmark_bot(sources.inbox.path)
        await asyncio.to_thread(sources.close)  # waits, off the loop, for a refresh still running in its thread


async def _run(svc: Services, sources: Sources, poll_s: float) -> None:
    """Every ``poll_s``: the inbox; every feed interval (with jitter): the feeds, one at a time. All off the event loop."""
    interval = svc.settings.feed_interval_min * 60
    next_refresh = time.monotonic()  # the first refresh right after start-up
    while not svc.stopping:
        async with svc.ingesting:
            await _guarded("inbox", sources.process_inbox)
            if time.monotonic() >= next_refresh:
                report = await _guarded("feed refresh", sources.refresh_due)
                if report is not None and (report.added or report.updated or report.failed):
                    log.info("feeds: %d added, %d updated, %d failed", report.added, report.updated, len(report.failed))
                next_refresh = time.monotonic() + interval * (1 + random.uniform(0, JITTER))
        await asyncio.sleep(poll_s)


async def _guarded(what: str, work):
    """Run blocking work in a thread; a failure is logged and the loop lives on."""
    try:
        return await asyncio.to_thread(work)
    except NewsbotError as exc:
        log.warning("%s failed: %s", what, exc)
    except Exception as exc:  # a bug must not stop the bot's ingestion for good
        log.error("%s failed: %s", what, type(exc).__name__, exc_info=exc)
    return None


def _admin(update: Update, svc: Services) -> bool:
    """Whether the sender is one of the bot's admins."""
    return update.effective_user is not None and update.effective_user.id in svc.access.admin_users


async def feeds_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feeds: the followed feeds with their last fetch and error (admins only)."""
    svc: Services = context.bot_data["services"]
    if not _admin(update, svc):
        raise InputError("only the bot's admins manage its feeds")
    feeds = context.bot_data["sources"].feeds.all()
    lines = [f"{f.name}: {f.url} — {f.items} items" + (f", error: {f.last_error}" if f.last_error else "") for f in feeds]
    await update.message.reply_text("\n".join(lines) or "No feeds yet: /feed add URL", disable_web_page_preview=True)


async def feed_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feed add URL, /feed remove NAME (admins only)."""
    svc: Services = context.bot_data["services"]
    if not _admin(update, svc):
        raise InputError("only the bot's admins manage its feeds")
    args = context.args or []
    sources: Sources = context.bot_data["sources"]
    if len(args) == 2 and args[0] == "add":
        async with svc.ingesting:
            feed, report = await asyncio.to_thread(sources.add_feed, args[1])
        failed = f"; {len(report.failed)} failed: {report.failed[0]['reason']}" if report.failed else ""
        await update.message.reply_text(f"Following {feed.name}: {report.added} new articles{failed}.", disable_web_page_preview=True)
    elif len(args) == 2 and args[0] == "remove":
        if sources.feeds.find(args[1]) is None:  # the store's own message names a CLI command
            raise InputError(f"no feed named {args[1][:100]}; the feeds command lists them")
        feed = await asyncio.to_thread(sources.feeds.remove, args[1])
        await update.message.reply_text(f"No longer following {feed.name}; its articles stay.")
    else:  # the usage, as a reply: the error handler would hide a message that names commands
        await update.message.reply_text("Write /feed add URL or /feed remove NAME.")
