"""Links in Telegram: an admin's bare URL (or /add URL) is fetched and ingested; anyone else's link is a question."""

from __future__ import annotations

import asyncio
import re

from telegram import Update
from telegram.ext import ContextTypes, filters

from bot.telegram.ask import on_question
from bot.telegram.services import Services
from retrieval.errors import InputError

BARE_URL = filters.Regex(re.compile(r"^\s*https?://\S+\s*$", re.IGNORECASE))


async def on_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message that is just a URL: an admin's is added to the index, anyone else's is answered as a question."""
    svc: Services = context.bot_data["services"]
    if update.effective_user is None or update.effective_user.id not in svc.access.admin_users:
        await on_question(update, context)
        return
    await _add(update, context, update.message.text.strip())


async def add_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add URL (admins only)."""
    svc: Services = context.bot_data["services"]
    if update.effective_user is None or update.effective_user.id not in svc.access.admin_users:
        raise InputError("only the bot's admins can add articles")
    if len(context.args or []) != 1:
        raise InputError("write /add URL")
    await _add(update, context, context.args[0])


async def _add(update: Update, context: ContextTypes.DEFAULT_TYPE, url: str) -> None:
    """Fetch and ingest one link off the event loop, then say what went in."""
    svc: Services = context.bot_data["services"]
    async with svc.ingesting:
        added = await asyncio.to_thread(context.bot_data["sources"].add_link, url)
    when = (added.published_at or "date unknown")[:10]
    what = f"{added.added} new passage{'s' if added.added != 1 else ''}" if added.added else "already in the index, unchanged"
    await update.message.reply_text(f"Added “{added.title}” ({added.source or 'unknown source'}, {when}): {what}.",
                                    disable_web_page_preview=True)
