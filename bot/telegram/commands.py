"""The commands: /start /help /reset /sources /cancel, and /latest /digest (bot/telegram/timeline.py)."""

from __future__ import annotations

import asyncio

from telegram import BotCommand, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ContextTypes

from bot.telegram.formatting import sources_message
from bot.telegram.services import Services
from bot.telegram.streaming import NO_PREVIEW

COMMANDS = [
    BotCommand("start", "what this bot is and how to ask"),
    BotCommand("help", "how to ask, and the commands"),
    BotCommand("reset", "forget this chat's conversation"),
    BotCommand("sources", "the sources of the last answer"),
    BotCommand("cancel", "stop the answer in progress"),
]


def _how_to_ask(update: Update, username: str) -> str:
    """One sentence on asking, for a private chat or a group."""
    if update.effective_chat.type == ChatType.PRIVATE:
        return "Just send me a question, in English or French."
    return f"Mention me (@{username}) with your question, or reply to one of my messages."


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot is, how many articles it knows, how to ask."""
    svc: Services = context.bot_data["services"]
    documents, chunks = await asyncio.to_thread(svc.catalog.counts)
    await update.message.reply_text(
        f"I answer questions about {documents} news article{'s' if documents != 1 else ''} ({chunks} passages), "
        f"citing my sources. {_how_to_ask(update, context.bot.username)} /help lists the commands."
    )


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to ask, and the commands."""
    svc: Services = context.bot_data["services"]
    lines = [_how_to_ask(update, context.bot.username), ""]
    lines += [f"/{c.command} — {c.description}" for c in COMMANDS]
    if update.effective_user.id in svc.access.admin_users:
        lines += ["", "Admins: send a .txt, .md, .html or .json article file to add it."]
    await update.message.reply_text("\n".join(lines))


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget this chat's conversation."""
    svc: Services = context.bot_data["services"]
    await asyncio.to_thread(svc.history.reset, update.effective_chat.id)  # a database write: off the event loop
    await update.message.reply_text("Done: I have forgotten this conversation.")


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sources of the last answer, with titles and quotes."""
    svc: Services = context.bot_data["services"]
    found = await asyncio.to_thread(svc.history.last_sources, update.effective_chat.id)
    if not found:
        await update.message.reply_text("No sources yet: the last answer (if any) quoted none.")
        return
    for part in sources_message(found):
        await update.message.reply_text(part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop this chat's answers in progress (generation stops at the next token)."""
    svc: Services = context.bot_data["services"]
    flights = svc.in_chat(update.effective_chat.id)
    for flight in flights:
        svc.cancel(flight)
    await update.message.reply_text("Stopping the answer." if flights else "Nothing to cancel.")


from bot.telegram import timeline  # noqa: E402  (its commands join the list /help shows)

COMMANDS += timeline.COMMANDS
HANDLERS = {"start": start, "help": help_, "reset": reset, "sources": sources, "cancel": cancel, **timeline.HANDLERS}
