"""/latest and /digest, and the digest pushed to the allowed chats every day at NEWSBOT_DIGEST_TIME."""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import timedelta

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes

from bot.core.dated import ALSO, origin
from bot.core.digest import adigest, next_run, parse_since
from bot.core.events import Done
from bot.telegram.formatting import answer_html, pack
from bot.telegram.services import Services
from bot.telegram.streaming import NO_PREVIEW
from retrieval.errors import InputError
from retrieval.timeline import latest

log = logging.getLogger(__name__)
COMMANDS = [
    BotCommand("latest", "the newest articles: /latest [N]"),
    BotCommand("digest", "a short summary of the recent stories: /digest [24h|3d]"),
]
LATEST_DEFAULT, LATEST_MAX = 5, 20
DIGEST_LANGUAGE = "en"  # the scheduled digest's language in a chat where no question has been asked yet
NONE_YET = {"fr": "Aucun article daté pour l'instant.", "en": "No dated article yet."}


def chat_language(update: Update) -> str:
    """'fr' for a user whose Telegram is in French, else 'en'."""
    code = (update.effective_user.language_code or "") if update.effective_user else ""
    return "fr" if code.lower().startswith("fr") else "en"


def latest_html(stories, lang: str, tz) -> list[str]:
    """Each story as date · source, linked title, and the other outlets that carried it."""
    blocks = []
    for s in stories:
        title = html.escape(s.lead.title, quote=False)
        if s.lead.url:
            title = f'<a href="{html.escape(s.lead.url, quote=True)}">{title}</a>'
        also = f"\n<i>{html.escape(ALSO[lang] + '; '.join(dict.fromkeys(origin(c, lang, tz) for c in s.also)))}</i>" if s.also else ""
        blocks.append(f"<b>{title}</b>\n{html.escape(origin(s.lead, lang, tz))}{also}")
    return pack(blocks)


async def latest_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newest articles, one per story."""
    svc: Services = context.bot_data["services"]
    lang = chat_language(update)
    arg = context.args[0] if context.args else str(LATEST_DEFAULT)
    n = min(LATEST_MAX, max(1, int(arg))) if arg.isdigit() else LATEST_DEFAULT
    stories = await asyncio.to_thread(latest, svc.catalog, n)
    if not stories:
        await update.message.reply_text(NONE_YET[lang])
        return
    for part in latest_html(stories, lang, svc.answerer.clock.now().tzinfo):
        await update.message.reply_text(part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)


async def _digest_messages(svc: Services, since: timedelta, lang: str) -> list[str]:
    """The digest as HTML messages, generated through the answer loop's worker."""
    done = None
    async for event in adigest(svc.answerer, since, lang):
        if isinstance(event, Done):
            done = event
    return answer_html(done)


async def digest_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A short summary of the period's stories (default the last 24 hours), each point cited."""
    svc: Services = context.bot_data["services"]
    lang = chat_language(update)
    try:
        since = parse_since(context.args[0]) if context.args else timedelta(hours=24)
    except InputError:
        await update.message.reply_text("Usage: /digest 24h (or 3d, 1w)")
        return
    await context.bot.send_chat_action(update.effective_chat.id, "typing")
    for part in await _digest_messages(svc, since, lang):
        await update.message.reply_text(part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)


async def scheduled_digests(app: Application, sleep=asyncio.sleep) -> None:
    """Every day at NEWSBOT_DIGEST_TIME (the clock's zone), push the last 24 hours' digest to each allowed chat, in the
    language of the chat's last question (English where nobody has asked yet); one generation per language."""
    svc: Services = app.bot_data["services"]
    last = None
    while not svc.stopping:
        now = svc.answerer.clock.now()
        # from the run just made, never before it: a clock read a moment early must not push the same digest twice
        due = next_run(max(now, last) if last else now, svc.settings.digest_time)
        await sleep(max(1.0, (due - now).total_seconds()))
        last = due
        chats: dict[str, list[int]] = {}
        for chat_id in svc.settings.allowed_chats:
            lang = await asyncio.to_thread(svc.history.language, chat_id)
            chats.setdefault(lang or DIGEST_LANGUAGE, []).append(chat_id)
        for lang, chat_ids in chats.items():
            try:
                parts = await _digest_messages(svc, timedelta(hours=24), lang)
                for chat_id in chat_ids:
                    for part in parts:
                        await app.bot.send_message(chat_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
            except Exception:  # one failed digest must not end the schedule; the reason is logged without a traceback
                log.warning("the scheduled digest (%s) failed", lang, exc_info=False)


HANDLERS = {"latest": latest_cmd, "digest": digest_cmd}
